//! A payment provider as the payments service sees it: charges and refunds are requested over
//! HTTP with an idempotency key (a retried call never charges twice); their results arrive later
//! as signed webhooks ([`ProviderEvent`]). A webhook is only a hint: the provider's own state,
//! read with [`PaymentProvider::retrieve`] and [`PaymentProvider::charges`], is the truth.

pub mod http;
pub mod test_provider;

use serde::{Deserialize, Serialize};

/// What the shop asks to be charged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeOrder {
    pub amount_minor: i64,
    pub currency: String,
    /// The provider's token for the card.
    pub token: String,
    /// What the charge is for (the order's id): kept by the provider, so a charge the shop did
    /// not record can be matched to its order.
    pub reference: String,
    /// Who pays (the customer's id), kept the same way.
    pub customer: String,
}

/// A charge as the provider has it: pending in the answer to the request, then succeeded or
/// failed (a webhook tells, and so does [`PaymentProvider::retrieve`]). A card that needs its
/// holder to confirm with their bank (3-D Secure) answers `requires_action` with the page to
/// send them to; the result follows once they did, as for any charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: ChargeStatus,
    /// For failures: `card_declined`, `insufficient_funds`.
    #[serde(default)]
    pub failure_code: Option<String>,
    /// What may be shown of the card: never its number.
    pub method: MethodSummary,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
    /// Unix milliseconds.
    #[serde(default)]
    pub created: i64,
    /// Its refunds so far, oldest first.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// Where the card holder confirms the charge with their bank, while it `requires_action`.
    #[serde(default)]
    pub next_action_url: Option<String>,
}

/// One page of the provider's charges, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargePage {
    pub charges: Vec<Charge>,
    pub has_more: bool,
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
    /// Waits for the card holder to confirm with their bank (`next_action_url`).
    RequiresAction,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub charge: String,
    pub amount_minor: i64,
    /// The merchant's own id of the refund, given with the request.
    #[serde(default)]
    pub reference: Option<String>,
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
    pub currency: String,
    /// For failures: `card_declined`, `insufficient_funds`.
    pub failure_code: Option<String>,
    /// For refunds: the refund.
    #[serde(default)]
    pub refund: Option<Refund>,
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
    /// Requests a charge. A repeat with the same idempotency key (also after a restart of
    /// either side) answers with the first charge.
    async fn charge(
        &self,
        order: &ChargeOrder,
        idempotency_key: &str,
    ) -> Result<Charge, ProviderError>;

    /// Requests a refund of part or all of a succeeded charge; `reference` is the shop's own
    /// id of the refund.
    async fn refund(
        &self,
        charge: &str,
        amount_minor: i64,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError>;

    /// The charge as the provider has it now, with its refunds; `None` when it has no such
    /// charge.
    async fn retrieve(&self, charge: &str) -> Result<Option<Charge>, ProviderError>;

    /// Gives up on a charge still waiting for its holder's confirmation (abandoned): it fails,
    /// and a confirmation coming later captures nothing. A charge that was confirmed (or
    /// failed) meanwhile stays as it is. Answers the charge as it is after; harmless to repeat.
    async fn cancel_action(&self, charge: &str) -> Result<Charge, ProviderError>;

    /// The charges created in `[from, until)` (Unix milliseconds), oldest first, after the charge
    /// `after` (a page's last), at most 100 at a time.
    async fn charges(
        &self,
        from: i64,
        until: i64,
        after: Option<&str>,
    ) -> Result<ChargePage, ProviderError>;
}
