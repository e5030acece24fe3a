//! Order rules, without storage or GraphQL.

pub mod checkout;
pub mod number;
pub mod status;
pub mod totals;
