//! Shipping rules, without storage or GraphQL.

pub mod events;
pub mod rates;
pub mod status;
pub mod tracking;
