//! A payment provider as the payments service sees it: charges and refunds are requested over
//! HTTP with an idempotency key (a retried call never charges twice); their results arrive later
//! as signed webhooks ([`ProviderEvent`]).

pub mod http;
pub mod test_provider;

use serde::{Deserialize, Serialize};

/// A charge as the provider answers the request: pending until a webhook says how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: ChargeStatus,
    /// What may be shown of the card: never its number.
    pub method: MethodSummary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodSummary {
    pub brand: String,
    pub last4: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub charge: String,
    pub amount_minor: i64,
}

/// What a webhook tells: an event id (for deduplication), its type, and the object it is about
/// with a per-object sequence number (so an older state arriving late is recognised).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Unix seconds.
    pub created: i64,
    pub charge: String,
    /// Increases with every state change of the charge (and its refunds).
    pub sequence: u64,
    pub amount_minor: i64,
    /// For failures: `card_declined`, `insufficient_funds`.
    pub failure_code: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "charge.succeeded")]
    ChargeSucceeded,
    #[serde(rename = "charge.failed")]
    ChargeFailed,
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered 5xx: whether it acted is unknown, so the
    /// caller retries with the same idempotency key.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request itself (e.g. a refund over what was captured).
    #[error("the payment provider refused the request: {0}")]
    Refused(String),
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Requests a charge of `amount_minor` on the card behind `token`.
    async fn charge(
        &self,
        amount_minor: i64,
        currency: &str,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Charge, ProviderError>;

    /// Requests a refund of part or all of a succeeded charge.
    async fn refund(
        &self,
        charge: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError>;
}
