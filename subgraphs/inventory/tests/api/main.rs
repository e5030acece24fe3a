//! Inventory tests: its GraphQL API alone (`spawn_app` on PostgreSQL), reservations under real
//! concurrency on PostgreSQL and SQLite.

mod api;
mod concurrency;
mod migration;
