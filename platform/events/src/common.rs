//! Parts several payloads share.

use serde::{Deserialize, Serialize};

/// A variant of a product and how many of it (an order's or a shipment's line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub product_id: String,
    /// What was sold. Absent in events published before variants: the product's default
    /// variant (`commerce::variant::default_variant_id`).
    pub variant_id: Option<String>,
    pub quantity: i64,
}

/// A postal address as checked when it was entered: the country an ISO 3166-1 alpha-2 code, the
/// postal code in its country's format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub phone: Option<String>,
}
