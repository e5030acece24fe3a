//! Records for the audit trail ([`events::audit::AuditRecorded`]): who acted, with which
//! permission, on what, from where. A resolver takes the [`Auditor`] of its request and hands
//! it to the service, which appends the record to its outbox in the transaction that makes the
//! change, so the change and its record commit together (the event carries the request's
//! trace).

use async_graphql::Context;
use auth::{Permission, Viewer};
use events::audit::AuditRecorded;
use serde_json::Value;

/// Who is acting in a request, and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auditor {
    actor_id: String,
    actor_kind: &'static str,
    client_address: Option<String>,
    client: Option<String>,
    trace_id: Option<String>,
}

impl Auditor {
    /// The request's actor; none without a token.
    pub fn of(ctx: &Context<'_>) -> Option<Self> {
        let viewer = ctx.data_opt::<Viewer>()?;
        let address = crate::server::client_address(ctx);
        // This process's span when it is traced, else the trace the caller named.
        let traceparent = telemetry::current_traceparent().or_else(|| {
            let headers = &ctx.data_opt::<crate::server::RequestHeaders>()?.0;
            Some(headers.get("traceparent")?.to_str().ok()?.to_string())
        });
        Some(Self {
            trace_id: traceparent.as_deref().and_then(trace_id),
            ..Self::new(viewer, (address != "unknown").then(|| address.to_string()))?
        })
    }

    /// The request's actor holding `permission` (FORBIDDEN without it), for a resolver about
    /// to make a change the audit trail records.
    pub fn require(ctx: &Context<'_>, permission: Permission) -> Result<Self, crate::ApiError> {
        crate::access::viewer(ctx).require_permission(permission)?;
        Self::of(ctx).ok_or(crate::ApiError::Unauthenticated)
    }

    /// A staff member's client is their session (which sign-in acted); a partner's or a
    /// service's is its API client, which is also the actor.
    pub fn new(viewer: &Viewer, client_address: Option<String>) -> Option<Self> {
        let actor_id = viewer.user_id()?.to_string();
        let (actor_kind, client) = if viewer.is_partner() {
            ("partner", Some(actor_id.clone()))
        } else if viewer.has_scope(auth::SERVICE_SCOPE) {
            ("service", Some(actor_id.clone()))
        } else {
            (
                "staff",
                viewer.session_id().map(|sid| format!("session {sid}")),
            )
        };
        Some(Self {
            actor_id,
            actor_kind,
            client_address,
            client,
            trace_id: None,
        })
    }

    /// A staff member acting outside a request (an operator's command, a test).
    pub fn staff(actor_id: &str) -> Self {
        Self {
            actor_id: actor_id.into(),
            actor_kind: "staff",
            client_address: None,
            client: None,
            trace_id: None,
        }
    }

    pub fn actor_id(&self) -> &str {
        &self.actor_id
    }

    /// The record of `action` (the API's name for it) on `entity_type` `entity_id`, needing
    /// `permission`; `before` and `after` where the change matters.
    pub fn record(
        &self,
        permission: Permission,
        action: &str,
        entity: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditRecorded {
        AuditRecorded {
            id: primitives::id::new_id("aud"),
            actor_id: self.actor_id.clone(),
            actor_kind: self.actor_kind.into(),
            permission: Some(permission.scope().into()),
            action: action.into(),
            entity_type: entity.0.into(),
            entity_id: entity.1.into(),
            before,
            after,
            client_address: self.client_address.clone(),
            client: self.client.clone(),
            trace_id: self.trace_id.clone(),
            at: primitives::time::now_millis(),
        }
    }
}

/// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`); none for a
/// malformed one or the all-zero id.
pub fn trace_id(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    let valid = trace.len() == 32
        && trace.bytes().all(|b| b.is_ascii_hexdigit())
        && trace.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_come_from_valid_traceparents_only() {
        assert_eq!(
            trace_id("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id("garbage"), None);
    }
}
