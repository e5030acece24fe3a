//! Validated catalog values and the rules for product changes.

pub mod attributes;
pub mod collection;
pub mod import;
pub mod import_job;
pub mod json_lines;
pub mod media;
pub mod product;
pub mod slug;
pub mod variant;

pub use media::Media;
pub use product::{Attribute, Product, ProductStatus};
pub use variant::{default_variant_id, OptionValue, ProductOption, Variant, VariantRuleError};
