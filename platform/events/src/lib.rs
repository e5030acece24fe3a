//! The event contract: every topic the shop publishes, declared once, with its version and its
//! payload type. Producers build these types and consumers decode them
//! ([`event_bus::Event::decode`]); no subgraph declares a payload of its own. Topics are named
//! `<aggregate>.<fact in the past tense>` and are public API: partner webhooks will publish
//! them as they are here.
//!
//! # How a payload may change
//!
//! Events outlive the code that wrote them (in outboxes, in streams, in a consumer that has not
//! been deployed yet), so a version's payload only ever grows:
//!
//! - **Allowed in place**: a new field that is optional (`Option<T>`, absent in older events
//!   and ignored by older consumers); a longer doc comment.
//! - **A new version** (`VERSION` + 1, published beside the old one until every consumer reads
//!   it): renaming or removing a field, changing its type or meaning, making an optional field
//!   required, a new required field.
//!
//! `samples/<topic>.v<version>.json` holds a payload of every topic version as published. The
//! contract tests hold every change to that rule: each sample must decode with today's type (a
//! consumer can read what is already in the streams), and what today's producers write must
//! carry every field of the sample with the same JSON type (a consumer built on the sample can
//! read what is published now).
//!
//! [`TOPICS`] lists every topic with its version and, per topic, the services that consume it.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod common;
pub mod inventory;
pub mod orders;
pub mod payments;
pub mod shipping;

pub use event_bus::Fact;

/// A topic of the contract: its name, the version published, who publishes it and who reads it.
#[derive(Clone, Copy, Debug)]
pub struct Topic {
    pub name: &'static str,
    pub version: u32,
    pub producer: &'static str,
    /// Services consuming it in a consumer group, and `auth` for the readers of
    /// `user.access_changed` in every process that verifies tokens.
    pub consumers: &'static [&'static str],
}

const fn topic<F: Fact>(producer: &'static str, consumers: &'static [&'static str]) -> Topic {
    Topic {
        name: F::TOPIC,
        version: F::VERSION,
        producer,
        consumers,
    }
}

/// Every topic, by producer.
pub const TOPICS: &[Topic] = &[
    topic::<accounts::UserRegistered>("accounts", &["notifications"]),
    topic::<accounts::UserAccessChanged>("accounts", &["auth"]),
    topic::<accounts::PasswordResetRequested>("accounts", &["notifications"]),
    topic::<accounts::EmailVerificationRequested>("accounts", &["notifications"]),
    topic::<accounts::EmailVerified>("accounts", &["orders"]),
    topic::<accounts::EmailChanged>("accounts", &["notifications"]),
    topic::<catalog::ProductChanged>("catalog", &["catalog", "recommendations"]),
    topic::<inventory::StockLow>("inventory", &["notifications"]),
    topic::<orders::OrderPlaced>("orders", &["notifications"]),
    topic::<orders::OrderPaid>("orders", &["notifications", "recommendations", "shipping"]),
    topic::<orders::OrderClosed>("orders", &["notifications"]),
    topic::<orders::OrderStatusChanged>("orders", &["notifications"]),
    topic::<orders::ReconciliationNeeded>("orders", &["notifications"]),
    topic::<payments::PaymentUpdated>("payments", &["notifications", "orders"]),
    topic::<shipping::ShipmentUpdated>("shipping", &["notifications", "orders", "reviews"]),
    // Published by every subgraph where staff change something.
    topic::<audit::AuditRecorded>("every subgraph", &["accounts"]),
];

#[cfg(test)]
mod tests;
