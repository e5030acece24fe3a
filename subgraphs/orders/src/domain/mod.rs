//! Order rules, without storage or GraphQL.

pub mod buyer;
pub mod checkout;
pub mod number;
pub mod order;
pub mod promotion;
pub mod status;
pub mod totals;

pub use order::{
    Checkout, Order, OrderDiscount, OrderLine, OrderTaxLine, PricedOrder, StatusEntry, TaxRate,
};
