//! Catalog storage: rows, errors, and the SQL store (PostgreSQL and SQLite).

mod collections;
mod imports;
mod sql;

use commerce::tax::TaxClass;
use event_bus::Event;
use serde::{Deserialize, Serialize};

pub use sql::CatalogStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already taken")]
    Duplicate(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the product was changed by someone else since it was read")]
    Conflict,
    #[error("stored product {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
}

impl From<StoreError> for kit::ApiError {
    fn from(error: StoreError) -> Self {
        kit::ApiError::internal(error)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq)]
pub struct BrandRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CategoryRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub slug: String,
    /// Its own attribute definitions (see `tree::attribute_definitions` for those it inherits).
    pub attributes: Vec<crate::domain::attributes::AttributeDefinition>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub id: String,
    pub sku: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub brand_id: Option<String>,
    pub category_id: String,
    pub price_minor: i64,
    pub currency: String,
    /// JSON array of `{name, value}`.
    pub attributes: String,
    /// JSON array of `{url, alt, width?, height?, variantIds?}` (`domain::media::Media`).
    pub media: String,
    pub status: String,
    pub weight_grams: Option<i64>,
    /// JSON array of `{name, values}`; `[]` for a product without options.
    pub options: String,
    /// What search engines and shared links show; the name and description when unset.
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    /// `commerce::tax::TaxClass::as_str`.
    pub tax_class: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ProductRow {
    pub fn has_options(&self) -> bool {
        self.options != "[]"
    }
}

/// A product's variant as stored (`product_variants`).
#[derive(Clone, Debug, PartialEq)]
pub struct VariantRow {
    pub id: String,
    pub product_id: String,
    pub position: i64,
    pub sku: String,
    /// JSON array of `{name, value}`, in the product's option order.
    pub option_values: String,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub currency: String,
    pub weight_grams: Option<i64>,
    pub barcode: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl VariantRow {
    /// The default variant of a product: its SKU, price, weight and status; archived once the
    /// product has options (its option variants are sold instead).
    pub fn default_of(product: &ProductRow) -> Self {
        Self {
            id: crate::domain::default_variant_id(&product.id),
            product_id: product.id.clone(),
            position: 0,
            sku: product.sku.clone(),
            option_values: "[]".into(),
            price_minor: product.price_minor,
            compare_at_minor: None,
            currency: product.currency.clone(),
            weight_grams: product.weight_grams,
            barcode: None,
            status: if product.has_options() {
                crate::domain::ProductStatus::Archived.as_str().into()
            } else {
                product.status.clone()
            },
            created_at: product.created_at,
            updated_at: product.updated_at,
        }
    }
}

impl TryFrom<VariantRow> for crate::domain::Variant {
    type Error = StoreError;

    /// Parsed once; a row that does not parse is an error, never a guessed value.
    fn try_from(row: VariantRow) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            id: row.id.clone(),
            what,
        };
        let currency = commerce::money::CurrencyCode::parse(&row.currency)
            .ok_or_else(|| corrupt(format!("currency {:?}", row.currency)))?;
        let status = crate::domain::ProductStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("status {:?}", row.status)))?;
        let option_values = serde_json::from_str(&row.option_values)
            .map_err(|e| corrupt(format!("option values: {e}")))?;
        let money = |minor_units| commerce::money::Money {
            minor_units,
            currency,
        };
        Ok(Self {
            price: money(row.price_minor),
            compare_at: row.compare_at_minor.map(money),
            id: row.id,
            product_id: row.product_id,
            position: row.position,
            sku: row.sku,
            option_values,
            weight_grams: row.weight_grams,
            barcode: row.barcode,
            status,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<ProductRow> for crate::domain::Product {
    type Error = StoreError;

    /// A row that does not parse is an error (logged, shown as an internal error), never a
    /// product with a made-up currency or status.
    fn try_from(row: ProductRow) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            id: row.id.clone(),
            what,
        };
        let currency = commerce::money::CurrencyCode::parse(&row.currency)
            .ok_or_else(|| corrupt(format!("currency {:?}", row.currency)))?;
        let status = crate::domain::ProductStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("status {:?}", row.status)))?;
        if row.price_minor < 0 {
            return Err(corrupt(format!("price {}", row.price_minor)));
        }
        let attributes = serde_json::from_str(&row.attributes)
            .map_err(|e| corrupt(format!("attributes: {e}")))?;
        let media = serde_json::from_str(&row.media).map_err(|e| corrupt(format!("media: {e}")))?;
        let options =
            serde_json::from_str(&row.options).map_err(|e| corrupt(format!("options: {e}")))?;
        Ok(Self {
            options,
            price: commerce::money::Money {
                minor_units: row.price_minor,
                currency,
            },
            status,
            attributes,
            media,
            meta_title: row.meta_title,
            meta_description: row.meta_description,
            tax_class: TaxClass::parse(&row.tax_class)
                .ok_or_else(|| corrupt(format!("tax class {:?}", row.tax_class)))?,
            id: row.id,
            sku: row.sku,
            slug: row.slug,
            name: row.name,
            description: row.description,
            brand_id: row.brand_id,
            category_id: row.category_id,
            weight_grams: row.weight_grams,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Which products a listing shows.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub status: Option<String>,
    /// Any of these categories (callers expand a category to its subtree).
    pub category_ids: Vec<String>,
    pub brand_ids: Vec<String>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductOrder {
    Newest,
    PriceAscending,
    PriceDescending,
}

/// Keyset position in a listing: the sort value (price, or unused for newest) and the id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductCursor {
    pub price: Option<i64>,
    pub id: String,
}
