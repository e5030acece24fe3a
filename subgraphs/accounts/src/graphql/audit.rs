//! The audit log for staff with `staff:manage`: searched and paged, or exported as JSON lines.
//! Nothing here edits or deletes a record.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::{service, viewer};
use crate::domain::audit::{AuditEntry as Entry, AuditFilter};
use crate::store::AuditCursor;

/// The most records one export holds: narrow the time range for more.
pub const EXPORT_LIMIT: usize = 10_000;

/// A change staff (or a partner) made.
#[derive(SimpleObject, Clone, Debug)]
pub struct AuditEntry {
    pub id: ID,
    /// When, RFC 3339.
    pub at: String,
    /// The user (or API client) who acted.
    pub actor_id: ID,
    /// STAFF, PARTNER or SERVICE, lower-cased.
    pub actor_kind: String,
    /// The permission the action needed.
    pub permission: Option<String>,
    /// The operation (`refundPayment`).
    pub action: String,
    pub entity_type: String,
    pub entity_id: ID,
    /// The entity before and after, as JSON, where that matters.
    pub before: Option<String>,
    pub after: Option<String>,
    pub client_address: Option<String>,
    /// A staff member's session, or a partner's API client.
    pub client: Option<String>,
    /// The trace of the request that made the change.
    pub trace_id: Option<String>,
    /// The service that recorded it.
    pub source: String,
}

impl From<Entry> for AuditEntry {
    fn from(entry: Entry) -> Self {
        Self {
            id: ID(entry.id),
            at: primitives::time::format_millis(entry.at),
            actor_id: ID(entry.actor_id),
            actor_kind: entry.actor_kind,
            permission: entry.permission,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: ID(entry.entity_id),
            before: entry.before.map(|v| v.to_string()),
            after: entry.after.map(|v| v.to_string()),
            client_address: entry.client_address,
            client: entry.client,
            trace_id: entry.trace_id,
            source: entry.source,
        }
    }
}

/// Records of the audit log as JSON lines.
#[derive(SimpleObject, Clone, Debug)]
pub struct AuditExport {
    /// One JSON object per line, newest first.
    pub json_lines: String,
    pub count: i32,
    /// More records matched than one export holds: narrow the time range for the rest.
    pub truncated: bool,
}

/// Every part optional; all given must hold.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    pub actor_id: Option<ID>,
    pub entity_type: Option<String>,
    pub entity_id: Option<ID>,
    pub action: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    pub until: Option<String>,
}

impl AuditFilterInput {
    fn parse(self) -> Result<AuditFilter, ApiError> {
        let time = |text: Option<String>, name: &str| {
            text.map(|text| {
                primitives::time::parse_millis(&text).ok_or_else(|| {
                    ApiError::BadUserInput(format!("`{name}` must be an RFC 3339 time"))
                })
            })
            .transpose()
        };
        Ok(AuditFilter {
            actor_id: self.actor_id.map(|id| id.0),
            entity_type: self.entity_type,
            entity_id: self.entity_id.map(|id| id.0),
            action: self.action,
            from: time(self.from, "from")?,
            until: time(self.until, "until")?,
        })
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first.
    #[graphql(requires_scopes = "staff:manage")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        viewer(ctx).require_permission(Permission::StaffManage)?;
        let filter = filter.unwrap_or_default().parse()?;
        let page = PageRequest::<AuditCursor>::from_args(first, after, last, before)?;
        let rows = service(ctx)
            .store
            .audit_entries(&filter, &page)
            .await
            .map_err(ApiError::from)?;
        Ok(connection(
            &page,
            rows,
            |entry| AuditCursor {
                at: entry.at,
                id: entry.id.clone(),
            },
            AuditEntry::from,
        ))
    }

    /// The records matching `filter` as JSON lines, newest first, at most 10,000 (narrow the
    /// time range for more).
    #[graphql(requires_scopes = "staff:manage")]
    async fn audit_log_export(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
    ) -> async_graphql::Result<AuditExport> {
        viewer(ctx).require_permission(Permission::StaffManage)?;
        let filter = filter.unwrap_or_default().parse()?;
        let page = PageRequest {
            cursor: None,
            limit: EXPORT_LIMIT,
            backward: false,
        };
        let mut rows = service(ctx)
            .store
            .audit_entries(&filter, &page)
            .await
            .map_err(ApiError::from)?;
        let truncated = rows.len() > EXPORT_LIMIT;
        rows.truncate(EXPORT_LIMIT);
        let mut json_lines = String::new();
        for entry in &rows {
            json_lines.push_str(&entry.to_json().to_string());
            json_lines.push('\n');
        }
        Ok(AuditExport {
            json_lines,
            count: rows.len() as i32,
            truncated,
        })
    }
}
