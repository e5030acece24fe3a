//! Shipping rules, without storage or GraphQL.

pub mod rates;
