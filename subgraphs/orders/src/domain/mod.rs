//! Order rules, without storage or GraphQL.

pub mod status;
pub mod totals;
