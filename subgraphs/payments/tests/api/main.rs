//! Payments tests: the subgraph alone through its API; the built-in test provider over real HTTP, its signed webhooks received by a
//! real endpoint; provider events applied to stored payments on every database.

mod graphql;
mod provider;
mod store;
mod webhooks;
