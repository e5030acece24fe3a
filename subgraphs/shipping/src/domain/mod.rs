//! Shipping rules, without storage or GraphQL.

pub mod rates;
pub mod status;
pub mod tracking;
