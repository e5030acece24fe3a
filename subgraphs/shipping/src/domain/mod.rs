//! Shipping rules, without storage or GraphQL.

pub mod rates;
pub mod status;
pub mod tracking;

/// The variant a line is of: lines from before variants name only their product, which sold
/// its default variant.
pub fn variant_of(line: &events::common::Line) -> String {
    line.variant_id
        .clone()
        .unwrap_or_else(|| commerce::variant::default_variant_id(&line.product_id))
}
