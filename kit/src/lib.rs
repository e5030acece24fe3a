//! The platform every subgraph shares. It holds no domain logic: configuration, storage pools and
//! migrations, bearer-token verification, error mapping, IDs, Money, Relay pagination, SDL export,
//! telemetry and server start-up.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod id;
pub mod money;
pub mod pagination;
pub mod schema;
pub mod server;
pub mod telemetry;

pub use error::ApiError;
