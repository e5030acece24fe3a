//! The subgraph scaffold: what a subgraph supplies ([`Subgraph`]) and what the scaffold does
//! with it: settings, the app builder and CLI, GraphQL serving with the viewer's access checks,
//! errors turned into GraphQL errors at one place, Relay pagination, SDL export, signed
//! webhooks, and the test kit (`spawn_app`). The platform beneath it lives in its own crates:
//! `primitives`, `configuration`, `telemetry`, `web`, `event-bus`, `auth`, `storage`, and
//! `commerce` for the shared commerce types.

pub mod access;
pub mod app;
pub mod audit;
pub mod cli;
pub mod error;
pub mod launch;
pub mod pagination;
pub mod schema;
pub mod server;
pub mod settings;
pub mod subgraph;
pub mod testing;
pub mod webhook;

pub use error::ApiError;
pub use subgraph::Subgraph;
