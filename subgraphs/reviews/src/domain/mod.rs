//! Review rules, without storage or GraphQL.

pub mod moderation;
pub mod rating;
