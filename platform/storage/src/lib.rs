//! Relational storage shared by every subgraph: the pool for PostgreSQL and SQLite
//! ([`db`]), the event outbox and its relay ([`outbox`]), idempotent consumers
//! ([`processed`]), idempotent commands ([`idempotency`]), attempts limited per key and window
//! ([`throttle`]), schema migrations embedded in the binary ([`migrations`]), and the embedded
//! event bus in a
//! SQLite file ([`embedded_bus`], opened with Redis by URL through [`bus::connect`]).

pub mod bus;
pub mod db;
pub mod embedded_bus;
pub mod idempotency;
pub mod migrations;
pub mod outbox;
mod platform_tables;
pub mod processed;
pub mod throttle;
