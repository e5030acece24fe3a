//! The platform every subgraph shares. It holds no domain logic: the subgraph scaffold (settings,
//! app builder, CLI, test helpers), storage pools and migrations, the event bus, service calls,
//! bearer-token verification and revocation, idempotent commands, signed webhooks, error mapping,
//! IDs, Money, postal addresses, Relay pagination, SDL export, metrics, telemetry, server
//! start-up and serving with limits against slow clients.

pub mod address;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod fuzz;
pub mod id;
pub mod idempotency;
pub mod metrics;
pub mod money;
pub mod pagination;
pub mod revocation;
pub mod schema;
pub mod serve;
pub mod server;
pub mod settings;
pub mod subgraph;
pub mod telemetry;
pub mod testing;
pub mod webhook;

pub use error::ApiError;
pub use subgraph::Subgraph;
