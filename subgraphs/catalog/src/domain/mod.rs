//! Validated catalog values and the rules for product changes.

pub mod product;
pub mod slug;

pub use product::{Attribute, Media, Product, ProductStatus};
