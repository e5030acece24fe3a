//! The whole shop through the router, over real HTTP, against PostgreSQL (production storage)
//! unless a test says otherwise.

mod accounts;
mod auth;
mod batching;
mod carts;
mod catalog;
mod checkout;
mod client;
mod crash;
mod edge;
mod emails;
mod embedded;
mod frontend_queries;
mod guests;
mod hardening;
mod inventory;
mod media;
mod metrics;
mod mfa;
mod migration;
mod money;
mod passwords;
mod payment_actions;
mod process;
mod promotions;
mod purchase;
mod query_count;
mod revocation;
mod sessions;
mod shipping;
mod staff;
mod taxes;
mod variants;
