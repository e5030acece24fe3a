//! Router integration tests: fixture subgraphs on random ports, a supergraph composed from
//! their SDLs, queries through the real router, exact expected JSON.

#[path = "../common/mod.rs"]
mod common;

mod abstract_types;
mod binary;
mod dedupe;
mod demand_control;
mod dependencies;
mod errors;
mod federation;
mod fuzz;
mod http;
mod rate_limits;
mod shop;
mod tls;
