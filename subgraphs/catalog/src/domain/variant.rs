//! What is sold: a product's variants. A product without options has exactly one, its default
//! variant, which follows the product's SKU, price, weight and status; options and the
//! variants they make come with the admin's variant editor.

use async_graphql::SimpleObject;
use commerce::money::Money;
use serde::{Deserialize, Serialize};

use super::ProductStatus;

/// One option's value of a variant ("Size": "M").
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionValue {
    pub name: String,
    pub value: String,
}

/// A variant, every field valid (parsed from storage once, see `TryFrom<VariantRow>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    /// Its place among the product's variants.
    pub position: i64,
    pub sku: String,
    /// In the product's option order; empty for a default variant.
    pub option_values: Vec<OptionValue>,
    pub price: Money,
    /// The "was" price, above `price` when set.
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub barcode: Option<String>,
    pub status: ProductStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The id of a product's default variant (the migration that made variants uses the same).
pub fn default_variant_id(product_id: &str) -> String {
    format!("var_{product_id}")
}
