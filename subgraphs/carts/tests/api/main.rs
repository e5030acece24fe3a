//! Carts tests: the store contract on Redis and the embedded database (limits, merge, expiry,
//! concurrent changes), and the GraphQL API alone against a real catalog.

mod api;
mod store_contract;
