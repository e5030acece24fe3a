//! The audit trail: what staff (and partners) changed. Every subgraph publishes these from the
//! transaction that made the change, so a change and its record commit together; accounts keeps
//! them in its append-only audit log.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// `audit.recorded`: someone with a staff permission (or a partner's client) changed something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecorded {
    /// The record's own id: a redelivered event is recorded once.
    pub id: String,
    /// The user (or API client) who acted.
    pub actor_id: String,
    /// `staff`, `partner` or `service`.
    pub actor_kind: String,
    /// The permission the action needed (`orders:refund`), when it needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// The operation, as the API names it (`refundPayment`).
    pub action: String,
    /// What it changed: a type (`Refund`) and its id.
    pub entity_type: String,
    pub entity_id: String,
    /// The entity before and after, where that matters (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// The client's address as the router saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    /// The client program (its User-Agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The trace of the request that made the change (when the event's own `traceparent`
    /// cannot name it: nothing traced in the process that recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
}

impl Fact for AuditRecorded {
    const TOPIC: &'static str = "audit.recorded";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.entity_id.clone()
    }
}
