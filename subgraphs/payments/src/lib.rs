//! Payments. So far the provider side: the [`provider::PaymentProvider`] trait, its HTTP client,
//! and a built-in test provider that behaves like a real one over HTTP (tokens instead of card
//! numbers, asynchronous results by signed webhooks, retried, sometimes twice), and the payment
//! store applying provider events once each, in any order, and the webhook intake that checks
//! deliveries before applying them. The payments subgraph (its GraphQL API, refunds) comes with
//! checkout (issue 9).

pub mod domain;
pub mod provider;
pub mod store;
pub mod webhooks;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/payments");
