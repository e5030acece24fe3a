//! The audit log: records added once each, read newest first, and removed only by the
//! retention sweep.

use kit::pagination::PageRequest;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{AccountsStore, StoreResult};
use crate::domain::audit::{AuditEntry, AuditFilter};

const COLUMNS: &str = "id, at, actor_id, actor_kind, permission, action, entity_type, entity_id, \
     before_json, after_json, client_address, client, trace_id, source";

/// Where a page of the log starts: the last record seen, newest first.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AuditCursor {
    pub at: i64,
    pub id: String,
}

fn json_column(row: &AnyRow, column: &str) -> StoreResult<Option<serde_json::Value>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|e| sqlx::Error::Decode(format!("audit_log.{column}: {e}").into()).into())
    })
    .transpose()
}

fn entry(row: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor_id: row.try_get("actor_id")?,
        actor_kind: row.try_get("actor_kind")?,
        permission: row.try_get("permission")?,
        action: row.try_get("action")?,
        entity_type: row.try_get("entity_type")?,
        entity_id: row.try_get("entity_id")?,
        before: json_column(row, "before_json")?,
        after: json_column(row, "after_json")?,
        client_address: row.try_get("client_address")?,
        client: row.try_get("client")?,
        trace_id: row.try_get("trace_id")?,
        source: row.try_get("source")?,
    })
}

/// `WHERE` conditions of a filter and their text values, numbered from `$1`; times follow as
/// numbers.
fn conditions(filter: &AuditFilter) -> (Vec<String>, Vec<String>, Vec<i64>) {
    let mut clauses = Vec::new();
    let mut texts = Vec::new();
    for (column, value) in [
        ("actor_id", &filter.actor_id),
        ("entity_type", &filter.entity_type),
        ("entity_id", &filter.entity_id),
        ("action", &filter.action),
    ] {
        if let Some(value) = value {
            texts.push(value.clone());
            clauses.push(format!("{column} = ${}", texts.len()));
        }
    }
    let mut numbers = Vec::new();
    for (operator, value) in [(">=", filter.from), ("<", filter.until)] {
        if let Some(value) = value {
            numbers.push(value);
            clauses.push(format!("at {operator} ${}", texts.len() + numbers.len()));
        }
    }
    (clauses, texts, numbers)
}

impl AccountsStore {
    /// Adds a record; a record already there (a redelivered event) is left as it is.
    pub async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<bool> {
        let json = |value: &Option<serde_json::Value>| value.as_ref().map(|v| v.to_string());
        let done = sqlx::query(&format!(
            "INSERT INTO audit_log ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&entry.id)
        .bind(entry.at)
        .bind(&entry.actor_id)
        .bind(&entry.actor_kind)
        .bind(&entry.permission)
        .bind(&entry.action)
        .bind(&entry.entity_type)
        .bind(&entry.entity_id)
        .bind(json(&entry.before))
        .bind(json(&entry.after))
        .bind(&entry.client_address)
        .bind(&entry.client)
        .bind(&entry.trace_id)
        .bind(&entry.source)
        .execute(self.database().pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records matching `filter`, newest first, keyset-paged (one more than the page when
    /// there are more).
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditCursor>,
    ) -> StoreResult<Vec<AuditEntry>> {
        let (mut clauses, texts, mut numbers) = conditions(filter);
        let mut cursor_id = None;
        if let Some(cursor) = &page.cursor {
            let (older, newer) = (
                texts.len() + numbers.len() + 1,
                texts.len() + numbers.len() + 2,
            );
            // The id follows the numbers: bound last.
            let operator = if page.backward { ">" } else { "<" };
            clauses.push(format!(
                "(at {operator} ${older} OR (at = ${older} AND id {operator} ${newer}))"
            ));
            numbers.push(cursor.at);
            cursor_id = Some(cursor.id.clone());
        }
        let order = if page.backward { "ASC" } else { "DESC" };
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log {filter_sql} ORDER BY at {order}, id {order} LIMIT {}",
            page.limit + 1
        );
        let mut query = sqlx::query(&sql);
        for text in &texts {
            query = query.bind(text);
        }
        for number in &numbers {
            query = query.bind(*number);
        }
        if let Some(id) = &cursor_id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.database().pool()).await?;
        rows.iter().map(entry).collect()
    }

    /// Removes the records older than `before` (the retention sweep); how many went.
    pub async fn forget_audit_before(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(before)
            .execute(self.database().pool())
            .await?;
        Ok(done.rows_affected())
    }
}
