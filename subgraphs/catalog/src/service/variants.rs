//! Options and variants: an admin defines a product's options, then creates, changes, reorders
//! and archives the variants they make. Every change is one product save (see `modify`), so a
//! variant is never written against options that changed under it.

use commerce::money::{Money, MoneyInput};
use primitives::id::new_id;
use primitives::time::now_millis;

use super::{to_json, CatalogError, CatalogResult, CatalogService, NewProduct};
use crate::domain::product;
use crate::domain::variant::{self, OptionValue, ProductOption, VariantRuleError};
use crate::domain::{default_variant_id, ProductStatus};
use crate::store::{ProductRow, StoreError, VariantRow};

/// A variant as an admin enters it.
#[derive(Clone)]
pub struct NewVariant {
    pub sku: String,
    pub option_values: Vec<OptionValue>,
    pub price: MoneyInput,
    pub compare_at: Option<MoneyInput>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    pub status: ProductStatus,
}

/// A new product with its options and variants (see `CatalogService::create_products`).
pub struct NewListing {
    pub product: NewProduct,
    /// Empty for a simple product, whose one variant is the product itself.
    pub options: Vec<ProductOption>,
    /// Its variants when it has options; none for a simple product.
    pub variants: Vec<NewVariant>,
    /// A simple product's compare-at ("was") price and barcode.
    pub compare_at: Option<MoneyInput>,
    pub barcode: Option<String>,
}

/// Changes to a variant; `None` keeps the current value, `Some(None)` clears it.
#[derive(Default)]
pub struct VariantChanges {
    pub sku: Option<String>,
    pub option_values: Option<Vec<OptionValue>>,
    pub price: Option<MoneyInput>,
    pub compare_at: Option<Option<MoneyInput>>,
    pub weight_grams: Option<Option<i32>>,
    pub barcode: Option<Option<String>>,
    pub status: Option<ProductStatus>,
}

fn options_of(row: &ProductRow) -> CatalogResult<Vec<ProductOption>> {
    serde_json::from_str(&row.options).map_err(|e| corrupt(&row.id, "options", e))
}

fn values_of(row: &VariantRow) -> CatalogResult<Vec<OptionValue>> {
    serde_json::from_str(&row.option_values).map_err(|e| corrupt(&row.id, "option values", e))
}

fn corrupt(id: &str, what: &str, error: serde_json::Error) -> CatalogError {
    CatalogError::Store(StoreError::Corrupt {
        id: id.into(),
        what: format!("{what}: {error}"),
    })
}

fn is_live(row: &VariantRow) -> bool {
    row.status != ProductStatus::Archived.as_str()
}

/// The option values of the product's live variants other than `except`.
fn taken_values(
    variants: &[VariantRow],
    except: Option<&str>,
) -> CatalogResult<Vec<Vec<OptionValue>>> {
    variants
        .iter()
        .filter(|v| is_live(v) && Some(v.id.as_str()) != except)
        .map(values_of)
        .collect()
}

fn check_unique(taken: &[Vec<OptionValue>], values: &[OptionValue]) -> CatalogResult<()> {
    if taken.iter().any(|t| t == values) {
        return Err(VariantRuleError::DuplicateCombination(variant::title(values)).into());
    }
    Ok(())
}

impl CatalogService {
    /// Defines, reorders or extends a product's options. Values sold by a live variant stay;
    /// options cannot be added while such variants exist; variants follow the new order and
    /// spelling. Without options (and without live option variants) the default variant is
    /// sold again.
    pub async fn set_options(
        &self,
        product_id: &str,
        options: Vec<ProductOption>,
    ) -> CatalogResult<ProductRow> {
        let options = variant::parse_options(options)?;
        let (row, _) = self
            .modify(product_id, |row, variants| {
                let live: Vec<&VariantRow> = variants
                    .iter()
                    .filter(|v| is_live(v) && v.option_values != "[]")
                    .collect();
                let used: Vec<Vec<OptionValue>> = live
                    .iter()
                    .map(|v| values_of(v))
                    .collect::<CatalogResult<_>>()?;
                variant::check_options_change(&options, &used)?;
                row.options = to_json(&options);
                let mut changed = Vec::new();
                for (variant, values) in live.into_iter().zip(used) {
                    let respelled = variant::parse_option_values(&options, values)?;
                    let json = to_json(&respelled);
                    if json != variant.option_values {
                        changed.push(VariantRow {
                            option_values: json,
                            updated_at: now_millis(),
                            ..variant.clone()
                        });
                    }
                }
                Ok(changed)
            })
            .await?;
        Ok(row)
    }

    /// Creates variants of a product with options, all or none.
    pub async fn create_variants(
        &self,
        product_id: &str,
        new: Vec<NewVariant>,
    ) -> CatalogResult<(ProductRow, Vec<VariantRow>)> {
        let checked = self.checked_variants(new)?;
        self.modify(product_id, |row, variants| {
            made_variants(row, variants, &checked)
        })
        .await
    }

    /// Creates products with their options and variants, all or none, in one transaction with
    /// an event each: what an import does with the new products of a file.
    pub async fn create_products(&self, new: Vec<NewListing>) -> CatalogResult<Vec<ProductRow>> {
        let tree = self.category_tree().await?;
        let mut products = Vec::with_capacity(new.len());
        let mut variants = Vec::new();
        let mut events = Vec::with_capacity(new.len());
        for listing in new {
            let mut row = self.new_product_row(listing.product, &tree).await?;
            let price = Money {
                minor_units: row.price_minor,
                currency: self.currency,
            };
            let compare_at = listing.compare_at.map(|c| self.price(&c)).transpose()?;
            variant::check_compare_at(price, compare_at)?;
            let barcode = variant::parse_barcode(listing.barcode)?;
            if listing.options.is_empty() {
                if !listing.variants.is_empty() {
                    return Err(VariantRuleError::VariantCount.into());
                }
                // A simple product's one variant is its default one.
                variants.push(VariantRow {
                    compare_at_minor: compare_at.map(|m| m.minor_units),
                    barcode,
                    ..VariantRow::default_of(&row)
                });
            } else {
                row.options = to_json(&variant::parse_options(listing.options)?);
                if listing.variants.is_empty() {
                    return Err(VariantRuleError::VariantCount.into());
                }
                // Its default variant is archived (it has options); the rest are checked a
                // hundred at a time, as `create_variants` takes them.
                variants.push(VariantRow::default_of(&row));
                let mut made: Vec<VariantRow> = Vec::with_capacity(listing.variants.len());
                for chunk in listing.variants.chunks(100) {
                    let checked = self.checked_variants(chunk.to_vec())?;
                    let more = made_variants(&row, &made, &checked)?;
                    made.extend(more);
                }
                variants.extend(made);
            }
            events.push(self.product_changed(&row));
            products.push(row);
        }
        self.store
            .insert_new_products(&products, &variants, &events)
            .await?;
        Ok(products)
    }

    /// New variants checked by the rules that need no product: SKU, prices, weight, barcode.
    fn checked_variants(&self, new: Vec<NewVariant>) -> CatalogResult<Vec<CheckedVariant>> {
        if new.is_empty() || new.len() > 100 {
            return Err(VariantRuleError::VariantCount.into());
        }
        new.into_iter()
            .map(|n| {
                let (price, compare_at) = self.prices(&n.price, n.compare_at.as_ref())?;
                Ok(CheckedVariant {
                    sku: product::parse_sku(&n.sku)?,
                    option_values: n.option_values,
                    price,
                    compare_at,
                    weight_grams: product::parse_weight(n.weight_grams)?,
                    barcode: variant::parse_barcode(n.barcode)?,
                    status: n.status,
                })
            })
            .collect()
    }

    /// Changes one variant. The default variant of a product without options follows the
    /// product: its SKU, price, weight and status change the product's.
    pub async fn update_variant(
        &self,
        id: &str,
        changes: VariantChanges,
    ) -> CatalogResult<(ProductRow, VariantRow)> {
        let product_id = self
            .store
            .variants_by_ids(&[id.to_string()])
            .await?
            .pop()
            .ok_or(CatalogError::VariantNotFound)?
            .product_id;
        let price = changes.price.as_ref().map(|p| self.price(p)).transpose()?;
        let compare_at = match &changes.compare_at {
            Some(Some(was)) => Some(Some(self.price(was)?)),
            Some(None) => Some(None),
            None => None,
        };
        let sku = changes.sku.as_deref().map(product::parse_sku).transpose()?;
        let weight = changes
            .weight_grams
            .map(product::parse_weight)
            .transpose()?;
        let barcode = changes
            .barcode
            .clone()
            .map(variant::parse_barcode)
            .transpose()?;
        let (row, mut changed) = self
            .modify(&product_id, |row, variants| {
                let current = variants
                    .iter()
                    .find(|v| v.id == id)
                    .ok_or(CatalogError::VariantNotFound)?;
                let is_default = current.id == default_variant_id(&row.id);
                let mut updated = current.clone();
                if let Some(values) = &changes.option_values {
                    let values = variant::parse_option_values(&options_of(row)?, values.clone())?;
                    check_unique(&taken_values(variants, Some(id))?, &values)?;
                    updated.option_values = to_json(&values);
                }
                if let Some(sku) = &sku {
                    updated.sku = sku.clone();
                }
                if let Some(price) = price {
                    updated.price_minor = price.minor_units;
                    updated.currency = price.currency.as_str().into();
                }
                if let Some(compare_at) = compare_at {
                    updated.compare_at_minor = compare_at.map(|m| m.minor_units);
                }
                if let Some(weight) = weight {
                    updated.weight_grams = weight;
                }
                if let Some(barcode) = &barcode {
                    updated.barcode = barcode.clone();
                }
                if let Some(status) = changes.status {
                    updated.status = status.as_str().into();
                }
                let price = money(&updated)?;
                variant::check_compare_at(
                    price,
                    updated.compare_at_minor.map(|minor_units| Money {
                        minor_units,
                        currency: price.currency,
                    }),
                )?;
                if is_default {
                    row.sku = updated.sku.clone();
                    row.price_minor = updated.price_minor;
                    row.currency = updated.currency.clone();
                    row.weight_grams = updated.weight_grams;
                    if !row.has_options() {
                        row.status = updated.status.clone();
                    }
                    updated = VariantRow {
                        compare_at_minor: updated.compare_at_minor,
                        barcode: updated.barcode,
                        ..VariantRow::default_of(row)
                    };
                }
                updated.updated_at = now_millis();
                Ok(vec![updated])
            })
            .await?;
        let variant = changed.pop().ok_or(CatalogError::VariantNotFound)?;
        Ok((row, variant))
    }

    /// Puts a product's live variants in the given order (archived ones after them).
    pub async fn reorder_variants(
        &self,
        product_id: &str,
        order: Vec<String>,
    ) -> CatalogResult<ProductRow> {
        let (row, _) = self
            .modify(product_id, |_, variants| {
                let live: Vec<&VariantRow> = variants.iter().filter(|v| is_live(v)).collect();
                let mut given = order.clone();
                given.sort();
                given.dedup();
                let mut ids: Vec<String> = live.iter().map(|v| v.id.clone()).collect();
                ids.sort();
                if given.len() != order.len() || given != ids {
                    return Err(VariantRuleError::InvalidOrder.into());
                }
                let archived = variants.iter().filter(|v| !is_live(v));
                let ordered = order
                    .iter()
                    .filter_map(|id| variants.iter().find(|v| &v.id == id))
                    .chain(archived);
                Ok(ordered
                    .enumerate()
                    .map(|(place, v)| VariantRow {
                        position: place as i64 + 1,
                        ..v.clone()
                    })
                    .collect())
            })
            .await?;
        Ok(row)
    }

    /// A price and an optional "was" price above it, both in the shop's currency.
    fn prices(
        &self,
        price: &MoneyInput,
        compare_at: Option<&MoneyInput>,
    ) -> CatalogResult<(Money, Option<Money>)> {
        let price = self.price(price)?;
        let compare_at = compare_at.map(|was| self.price(was)).transpose()?;
        variant::check_compare_at(price, compare_at)?;
        Ok((price, compare_at))
    }
}

fn money(row: &VariantRow) -> CatalogResult<Money> {
    let currency = commerce::money::CurrencyCode::parse(&row.currency).ok_or_else(|| {
        CatalogError::Store(StoreError::Corrupt {
            id: row.id.clone(),
            what: format!("currency {:?}", row.currency),
        })
    })?;
    Ok(Money {
        minor_units: row.price_minor,
        currency,
    })
}

/// A new variant whose own values passed the rules (see `checked_variants`).
struct CheckedVariant {
    sku: String,
    option_values: Vec<OptionValue>,
    price: Money,
    compare_at: Option<Money>,
    weight_grams: Option<i64>,
    barcode: Option<String>,
    status: ProductStatus,
}

/// The rows of new variants of `row`, after its `existing` ones: their option values must fit
/// the product's options and differ from every live variant's, and their SKUs from each other.
fn made_variants(
    row: &ProductRow,
    existing: &[VariantRow],
    checked: &[CheckedVariant],
) -> CatalogResult<Vec<VariantRow>> {
    let options = options_of(row)?;
    let mut taken = taken_values(existing, None)?;
    let last = existing.iter().map(|v| v.position).max().unwrap_or(0);
    let now = now_millis();
    let mut made: Vec<VariantRow> = Vec::with_capacity(checked.len());
    for (position, new) in (last + 1..).zip(checked) {
        let values = variant::parse_option_values(&options, new.option_values.clone())?;
        check_unique(&taken, &values)?;
        if made.iter().any(|m| m.sku == new.sku) {
            return Err(CatalogError::SkuTaken);
        }
        made.push(VariantRow {
            id: new_id("var"),
            product_id: row.id.clone(),
            position,
            sku: new.sku.clone(),
            option_values: to_json(&values),
            price_minor: new.price.minor_units,
            compare_at_minor: new.compare_at.map(|m| m.minor_units),
            currency: new.price.currency.as_str().into(),
            weight_grams: new.weight_grams,
            barcode: new.barcode.clone(),
            status: new.status.as_str().into(),
            created_at: now,
            updated_at: now,
        });
        taken.push(values);
    }
    Ok(made)
}
