//! Validated catalog values and the rules for product changes.

pub mod import;
pub mod json_lines;
pub mod product;
pub mod slug;
pub mod variant;

pub use product::{Attribute, Media, Product, ProductStatus};
pub use variant::{default_variant_id, OptionValue, ProductOption, Variant, VariantRuleError};
