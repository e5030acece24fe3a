//! The topics the catalog consumes, one module each (named after the topic).

pub mod product_changed;
