//! The audit trail as accounts keeps it: one record per `audit.recorded` event.

use event_bus::Event;
use events::audit::AuditRecorded;

/// One record of the audit log.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor_id: String,
    pub actor_kind: String,
    pub permission: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub client_address: Option<String>,
    pub client: Option<String>,
    /// The trace of the request that made the change.
    pub trace_id: Option<String>,
    /// The service that recorded it.
    pub source: String,
}

impl AuditEntry {
    pub fn from_event(event: &Event, recorded: AuditRecorded) -> Self {
        Self {
            id: recorded.id,
            at: recorded.at,
            actor_id: recorded.actor_id,
            actor_kind: recorded.actor_kind,
            permission: recorded.permission,
            action: recorded.action,
            entity_type: recorded.entity_type,
            entity_id: recorded.entity_id,
            before: recorded.before,
            after: recorded.after,
            client_address: recorded.client_address,
            client: recorded.client,
            trace_id: recorded
                .trace_id
                .or_else(|| event.traceparent.as_deref().and_then(kit::audit::trace_id)),
            source: event.source.clone(),
        }
    }

    /// The record as one line of the JSON lines export.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "at": primitives::time::format_millis(self.at),
            "actorId": self.actor_id,
            "actorKind": self.actor_kind,
            "permission": self.permission,
            "action": self.action,
            "entityType": self.entity_type,
            "entityId": self.entity_id,
            "before": self.before,
            "after": self.after,
            "clientAddress": self.client_address,
            "client": self.client,
            "traceId": self.trace_id,
            "source": self.source,
        })
    }
}

/// What the audit log is searched by; every part optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until: Option<i64>,
}
