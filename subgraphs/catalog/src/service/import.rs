//! A file of products and variants applied to the catalog (CSV, see `domain::import`, or JSON
//! lines, see `domain::json_lines`). The whole file is checked first, against itself and then against the catalog
//! (handles, categories, SKUs of other products); a file with any error changes nothing and
//! gets the list of errors. A valid file changes existing products through the same
//! operations admins use, and creates new ones with `create_products` (the rules of an admin's
//! create, 200 products to a transaction, each with its event), so events, the index and every
//! rule follow. Only what differs is changed: importing a file twice changes nothing the second
//! time, and an import cut off halfway is finished by importing the same file again.

use std::collections::HashMap;
use std::io::Read;

use tokio::sync::watch;

use commerce::money::{Money, MoneyInput};
use commerce::tax::TaxClass;

use super::VariantChanges;
use super::{
    CatalogError, CatalogResult, CatalogService, NewListing, NewProduct, NewVariant, ProductChanges,
};
use crate::domain::import::{self, ImportFormat, ImportedProduct, ImportedVariant, RowError};
use crate::domain::variant::{self, OptionValue, ProductOption};
use crate::domain::{default_variant_id, ProductStatus, Variant};
use crate::store::{ProductRow, StoreError, VariantRow};

/// New products are created this many at a time, in one transaction (and progress is told
/// as often).
const CREATED_AT_ONCE: usize = 200;

/// Where a running import is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImportProgress {
    /// Reading the file and checking it against itself and the catalog.
    #[default]
    Checking,
    /// The file is good: `done` of its `total` products are applied.
    Applying { done: usize, total: usize },
}

/// What an import did, or why it did nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub products_created: u64,
    pub products_updated: u64,
    /// Products the file describes as they are.
    pub products_unchanged: u64,
    pub variants_created: u64,
    pub variants_updated: u64,
    pub variants_unchanged: u64,
    /// Every row and column at fault; when there are any, nothing was imported.
    pub errors: Vec<RowError>,
}

fn input(money: Money) -> MoneyInput {
    MoneyInput {
        amount: money.amount(),
        currency_code: money.currency,
    }
}

fn error(row: u64, column: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        column: Some(column.into()),
        message: message.into(),
    }
}

fn parsed(row: VariantRow) -> CatalogResult<Variant> {
    Ok(Variant::try_from(row)?)
}

fn options_of(row: &ProductRow) -> CatalogResult<Vec<ProductOption>> {
    serde_json::from_str(&row.options).map_err(|e| {
        CatalogError::Store(StoreError::Corrupt {
            id: row.id.clone(),
            what: format!("options: {e}"),
        })
    })
}

/// The product's options with the file's new values added after the ones it has.
fn merged(current: &[ProductOption], file: &[ProductOption]) -> Vec<ProductOption> {
    if current.is_empty() {
        return file.to_vec();
    }
    current
        .iter()
        .zip(file)
        .map(|(have, given)| {
            let mut values = have.values.clone();
            for value in &given.values {
                if !values.iter().any(|v| v.eq_ignore_ascii_case(value)) {
                    values.push(value.clone());
                }
            }
            ProductOption {
                name: have.name.clone(),
                values,
            }
        })
        .collect()
}

impl CatalogService {
    /// Imports a file; see the module's comment for what is checked and changed. `progress`
    /// follows it: the products to apply once the file is checked, then how many are done.
    pub async fn import(
        &self,
        file: impl Read,
        format: ImportFormat,
        progress: &watch::Sender<ImportProgress>,
    ) -> CatalogResult<ImportReport> {
        let read = match format {
            ImportFormat::Csv => import::read(file, self.currency),
            ImportFormat::JsonLines => crate::domain::json_lines::read(file, self.currency),
        };
        let products = match read {
            Ok(products) => products,
            Err(errors) => {
                return Ok(ImportReport {
                    errors,
                    ..ImportReport::default()
                })
            }
        };
        let existing = self.existing_for_import(&products).await?;
        // Category ids by slug, read once for the checks and the changes.
        let categories: HashMap<String, String> = self
            .store
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.slug, c.id))
            .collect();
        let errors = self
            .check_against_catalog(&products, &existing, &categories)
            .await?;
        if !errors.is_empty() {
            return Ok(ImportReport {
                errors,
                ..ImportReport::default()
            });
        }
        let mut report = ImportReport::default();
        let mut done = 0;
        let total = products.len();
        progress.send_replace(ImportProgress::Applying { done, total });
        let (present, new): (Vec<&ImportedProduct>, Vec<&ImportedProduct>) = products
            .iter()
            .partition(|p| existing.contains_key(&p.handle));
        for product in present {
            let (row, variants) = &existing[&product.handle];
            self.update_imported(product, row, variants, &categories, &mut report)
                .await?;
            done += 1;
            if done % CREATED_AT_ONCE == 0 {
                progress.send_replace(ImportProgress::Applying { done, total });
            }
        }
        for chunk in new.chunks(CREATED_AT_ONCE) {
            let listings = chunk
                .iter()
                .map(|product| listing(product, &categories))
                .collect::<CatalogResult<_>>()?;
            self.create_products(listings).await?;
            for product in chunk {
                report.products_created += 1;
                report.variants_created += product.variants.len() as u64;
            }
            done += chunk.len();
            progress.send_replace(ImportProgress::Applying { done, total });
        }
        Ok(report)
    }

    /// The products the file names that exist, with their variants, by handle.
    async fn existing_for_import(
        &self,
        products: &[ImportedProduct],
    ) -> CatalogResult<HashMap<String, (ProductRow, Vec<Variant>)>> {
        let mut existing = HashMap::new();
        let handles: Vec<String> = products.iter().map(|p| p.handle.clone()).collect();
        for chunk in handles.chunks(500) {
            let rows = self.store.products_by_slugs(chunk).await?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
            for row in self.store.variants_of_products(&ids).await? {
                let variant = parsed(row)?;
                variants
                    .entry(variant.product_id.clone())
                    .or_default()
                    .push(variant);
            }
            for row in rows {
                let of = variants.remove(&row.id).unwrap_or_default();
                existing.insert(row.slug.clone(), (row, of));
            }
        }
        Ok(existing)
    }

    /// What the file asks that the catalog cannot do: a new product without a title or an
    /// existing category, a SKU another product has, options that do not fit the product's.
    async fn check_against_catalog(
        &self,
        products: &[ImportedProduct],
        existing: &HashMap<String, (ProductRow, Vec<Variant>)>,
        categories: &HashMap<String, String>,
    ) -> CatalogResult<Vec<RowError>> {
        let mut errors = Vec::new();
        let skus: Vec<String> = products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
            .collect();
        let mut owners: HashMap<String, String> = HashMap::new();
        for chunk in skus.chunks(500) {
            for row in self.store.variants_by_skus(chunk).await? {
                owners.insert(row.sku, row.product_id);
            }
        }
        for product in products {
            let row = product.first_row;
            let current = existing.get(&product.handle);
            if current.is_none() && product.title.is_none() {
                errors.push(error(row, "Title", "a new product needs a title"));
            }
            match &product.category_slug {
                Some(slug) if !categories.contains_key(slug) => errors.push(error(
                    row,
                    "Category",
                    format!("no category has the slug {slug:?}"),
                )),
                None if current.is_none() => errors.push(error(
                    row,
                    "Category",
                    "a new product needs a category (its slug)",
                )),
                _ => {}
            }
            for variant in &product.variants {
                let owner = owners.get(&variant.sku);
                let ours = current.map(|(p, _)| &p.id);
                if owner.is_some() && owner != ours {
                    errors.push(error(
                        variant.row,
                        "Variant SKU",
                        "another product has this SKU",
                    ));
                }
            }
            let Some((current, _)) = current else {
                continue;
            };
            let options = options_of(current)?;
            let names = |options: &[ProductOption]| -> Vec<String> {
                options.iter().map(|o| o.name.to_lowercase()).collect()
            };
            if !options.is_empty() && names(&options) != names(&product.options) {
                errors.push(error(
                    row,
                    "Option1 Name",
                    format!(
                        "{} has the options {}: name them in that order",
                        product.handle,
                        options
                            .iter()
                            .map(|o| o.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            } else if options.is_empty() && product.options.is_empty() {
                let variant = &product.variants[0];
                if variant.sku != current.sku {
                    errors.push(error(
                        variant.row,
                        "Variant SKU",
                        format!(
                            "{} has no options: its one variant is its SKU {}",
                            product.handle, current.sku
                        ),
                    ));
                }
            }
        }
        errors.sort_by_key(|e| e.row);
        Ok(errors)
    }

    async fn create_imported_variants<'a>(
        &self,
        product_id: &str,
        variants: impl Iterator<Item = &'a ImportedVariant>,
    ) -> CatalogResult<()> {
        let new: Vec<NewVariant> = variants.map(new_variant).collect();
        for chunk in new.chunks(100) {
            self.create_variants(product_id, chunk.to_vec()).await?;
        }
        Ok(())
    }

    async fn update_imported(
        &self,
        product: &ImportedProduct,
        row: &ProductRow,
        variants: &[Variant],
        categories: &HashMap<String, String>,
        report: &mut ImportReport,
    ) -> CatalogResult<()> {
        let mut product_changed = false;
        let mut changes = ProductChanges::default();
        if product.title.as_ref().is_some_and(|t| *t != row.name) {
            changes.name = product.title.clone();
        }
        if product
            .description
            .as_ref()
            .is_some_and(|d| *d != row.description)
        {
            changes.description = product.description.clone();
        }
        if let Some(status) = product.status.filter(|s| s.as_str() != row.status) {
            changes.status = Some(status);
        }
        if let Some(category) = product
            .category_slug
            .as_ref()
            .and_then(|slug| categories.get(slug))
            .filter(|id| **id != row.category_id)
        {
            changes.category_id = Some(category.clone());
        }
        let simple = product.options.is_empty();
        if simple {
            // A product without options is its one variant: price and weight are the product's.
            let variant = &product.variants[0];
            if variant.price.minor_units != row.price_minor {
                changes.price = Some(input(variant.price));
            }
            if variant.weight_grams != row.weight_grams {
                changes.weight_grams = Some(variant.weight_grams.map(|g| g as i32));
            }
        }
        let any = changes.name.is_some()
            || changes.description.is_some()
            || changes.status.is_some()
            || changes.category_id.is_some()
            || changes.price.is_some()
            || changes.weight_grams.is_some();
        if any {
            self.update_product(&row.id, changes).await?;
            product_changed = true;
        }
        if simple {
            let variant = &product.variants[0];
            let default = variants
                .iter()
                .find(|v| v.id == default_variant_id(&row.id))
                .ok_or(CatalogError::VariantNotFound)?;
            let mut changes = VariantChanges::default();
            if default.compare_at != variant.compare_at {
                changes.compare_at = Some(variant.compare_at.map(input));
            }
            if default.barcode != variant.barcode {
                changes.barcode = Some(variant.barcode.clone());
            }
            if changes.compare_at.is_some() || changes.barcode.is_some() {
                self.update_variant(&default.id, changes).await?;
                report.variants_updated += 1;
            } else if any {
                report.variants_updated += 1;
            } else {
                report.variants_unchanged += 1;
            }
            if product_changed {
                report.products_updated += 1;
            } else {
                report.products_unchanged += 1;
            }
            return Ok(());
        }
        let current_options = options_of(row)?;
        let options = merged(&current_options, &product.options);
        if options != current_options {
            self.set_options(&row.id, options.clone()).await?;
            product_changed = true;
        }
        let mut new = Vec::new();
        for imported in &product.variants {
            let values = variant::parse_option_values(&options, imported.option_values.clone())?;
            match variants.iter().find(|v| v.sku == imported.sku) {
                None => new.push(imported),
                Some(current) => {
                    let changes = variant_changes(current, imported, values);
                    if changes.is_empty() {
                        report.variants_unchanged += 1;
                    } else {
                        self.update_variant(&current.id, changes.into_changes())
                            .await?;
                        report.variants_updated += 1;
                    }
                }
            }
        }
        if !new.is_empty() {
            report.variants_created += new.len() as u64;
            self.create_imported_variants(&row.id, new.into_iter())
                .await?;
            product_changed = true;
        }
        if product_changed {
            report.products_updated += 1;
        } else {
            report.products_unchanged += 1;
        }
        Ok(())
    }
}

/// What differs between a variant and its row in the file.
struct Differences {
    option_values: Option<Vec<OptionValue>>,
    price: Option<Money>,
    compare_at: Option<Option<Money>>,
    weight_grams: Option<Option<i64>>,
    barcode: Option<Option<String>>,
}

impl Differences {
    fn is_empty(&self) -> bool {
        self.option_values.is_none()
            && self.price.is_none()
            && self.compare_at.is_none()
            && self.weight_grams.is_none()
            && self.barcode.is_none()
    }

    fn into_changes(self) -> VariantChanges {
        VariantChanges {
            option_values: self.option_values,
            price: self.price.map(input),
            compare_at: self.compare_at.map(|c| c.map(input)),
            weight_grams: self.weight_grams.map(|w| w.map(|g| g as i32)),
            barcode: self.barcode,
            ..VariantChanges::default()
        }
    }
}

fn variant_changes(
    current: &Variant,
    imported: &ImportedVariant,
    values: Vec<OptionValue>,
) -> Differences {
    Differences {
        option_values: (current.option_values != values).then_some(values),
        price: (current.price != imported.price).then_some(imported.price),
        compare_at: (current.compare_at != imported.compare_at).then_some(imported.compare_at),
        weight_grams: (current.weight_grams != imported.weight_grams)
            .then_some(imported.weight_grams),
        barcode: (current.barcode != imported.barcode).then(|| imported.barcode.clone()),
    }
}

/// A new product of the file as `create_products` takes it.
fn listing(
    product: &ImportedProduct,
    categories: &HashMap<String, String>,
) -> CatalogResult<NewListing> {
    let first = &product.variants[0];
    let simple = product.options.is_empty();
    let category = product
        .category_slug
        .as_ref()
        .and_then(|slug| categories.get(slug))
        .ok_or(CatalogError::UnknownCategory)?;
    let new = NewProduct {
        // A product with options keeps its default variant archived under its handle.
        sku: if simple {
            first.sku.clone()
        } else {
            product.handle.to_uppercase()
        },
        name: product
            .title
            .clone()
            .unwrap_or_else(|| product.handle.clone()),
        slug: Some(product.handle.clone()),
        description: product.description.clone().unwrap_or_default(),
        brand_id: None,
        category_id: category.clone(),
        price: input(first.price),
        attributes: Vec::new(),
        media: Vec::new(),
        status: product.status.unwrap_or(ProductStatus::Active),
        weight_grams: if simple {
            first.weight_grams.map(|g| g as i32)
        } else {
            None
        },
        meta_title: None,
        meta_description: None,
        tax_class: TaxClass::default(),
    };
    if simple {
        return Ok(NewListing {
            product: new,
            options: Vec::new(),
            variants: Vec::new(),
            compare_at: first.compare_at.map(input),
            barcode: first.barcode.clone(),
        });
    }
    Ok(NewListing {
        product: new,
        options: product.options.clone(),
        variants: product.variants.iter().map(new_variant).collect(),
        compare_at: None,
        barcode: None,
    })
}

fn new_variant(v: &ImportedVariant) -> NewVariant {
    NewVariant {
        sku: v.sku.clone(),
        option_values: v.option_values.clone(),
        price: input(v.price),
        compare_at: v.compare_at.map(input),
        weight_grams: v.weight_grams.map(|g| g as i32),
        barcode: v.barcode.clone(),
        status: ProductStatus::Active,
    }
}
