//! The topics recommendations learns from, one module each (named after the topic): paid
//! orders (what was bought together, and by whom) and the catalog's product changes (what is
//! for sale).

pub mod order_paid;
pub mod product_changed;
