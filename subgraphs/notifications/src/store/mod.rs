//! Notification storage (PostgreSQL and SQLite): names and preferences, orders as placed, every
//! message once by its dedupe key with its delivery state, and admins' templates.

use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;

use crate::domain::kind::Kind;
use crate::domain::template::{Rendered, Template};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored notification {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sent,
    /// Every attempt failed; an admin may send it again.
    Failed,
    /// Not sent: the recipient turned this kind of message off.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub kind: Kind,
    pub user_id: Option<String>,
    pub email: String,
    pub language: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A message to record.
#[derive(Clone, Debug)]
pub struct NewNotification {
    /// The fact it tells, e.g. `order_paid:ord_1`: one message per key.
    pub dedupe_key: String,
    pub kind: Kind,
    pub user_id: Option<String>,
    pub email: String,
    pub language: String,
    pub message: Rendered,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownOrder {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    /// None for orders known from before receipts were kept.
    pub receipt: Option<OrderReceipt>,
}

/// What refund emails show of an order, as `order.placed` told it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderReceipt {
    pub total_minor: i64,
    pub currency: String,
    pub discount_minor: i64,
    pub prices_include_tax: bool,
    pub tax_lines: Vec<events::orders::TaxAmount>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub language: String,
    pub marketing_opt_out: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            language: "en".into(),
            marketing_opt_out: false,
        }
    }
}

/// A list's place: (created_at, id), newest first.
pub type ListCursor = (i64, String);

const COLUMNS: &str = "id, kind, user_id, email, language, subject, text_body, html_body, \
    status, attempts, last_error, created_at, sent_at";

fn notification(row: &AnyRow) -> StoreResult<Notification> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.clone(),
        what,
    };
    let raw: String = row.try_get("kind")?;
    let kind = Kind::parse(&raw).ok_or_else(|| corrupt(format!("kind {raw:?}")))?;
    let raw: String = row.try_get("status")?;
    let status = Status::parse(&raw).ok_or_else(|| corrupt(format!("status {raw:?}")))?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(Notification {
        kind,
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        language: row.try_get("language")?,
        subject: row.try_get("subject")?,
        text_body: row.try_get("text_body")?,
        html_body: row.try_get("html_body")?,
        status,
        attempts: i64::from(attempts),
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
        id,
    })
}

#[derive(Clone)]
pub struct NotificationStore {
    db: Database,
}

impl NotificationStore {
    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn remember_recipient(
        &self,
        user_id: &str,
        email: &str,
        name: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO recipients (user_id, email, name) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET email = $2, name = $3",
        )
        .bind(user_id)
        .bind(email)
        .bind(name)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The name a user registered with, if notifications heard of it.
    pub async fn name_of(&self, user_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM recipients WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.db.pool())
                .await?,
        )
    }

    pub async fn preferences(&self, user_id: &str) -> StoreResult<Preferences> {
        let row =
            sqlx::query("SELECT language, marketing_opt_out FROM preferences WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(match row {
            Some(row) => Preferences {
                language: row.try_get("language")?,
                marketing_opt_out: row.try_get::<i32, _>("marketing_opt_out")? == 1,
            },
            None => Preferences::default(),
        })
    }

    pub async fn set_preferences(
        &self,
        user_id: &str,
        preferences: &Preferences,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO preferences (user_id, language, marketing_opt_out, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE \
             SET language = $2, marketing_opt_out = $3, updated_at = $4",
        )
        .bind(user_id)
        .bind(&preferences.language)
        .bind(i32::from(preferences.marketing_opt_out))
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn remember_order(&self, order: &KnownOrder) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO known_orders (order_id, number, customer_id, email, receipt) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(&order.order_id)
        .bind(&order.number)
        .bind(&order.customer_id)
        .bind(&order.email)
        .bind(
            order
                .receipt
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("receipts serialize")),
        )
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn known_order(&self, order_id: &str) -> StoreResult<Option<KnownOrder>> {
        let row = sqlx::query(
            "SELECT order_id, number, customer_id, email, receipt FROM known_orders \
             WHERE order_id = $1",
        )
        .bind(order_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let raw: Option<String> = row.try_get("receipt")?;
        let receipt = raw
            .map(|raw| serde_json::from_str(&raw))
            .transpose()
            .map_err(|e| StoreError::Corrupt {
                id: order_id.into(),
                what: format!("receipt: {e}"),
            })?;
        Ok(Some(KnownOrder {
            order_id: row.try_get("order_id")?,
            number: row.try_get("number")?,
            customer_id: row.try_get("customer_id")?,
            email: row.try_get("email")?,
            receipt,
        }))
    }

    /// Records a message unless one with its dedupe key exists; true when recorded.
    pub async fn enqueue(&self, new: &NewNotification) -> StoreResult<bool> {
        let now = now_millis();
        let id = primitives::id::derived_id("ntf", &new.dedupe_key, 13);
        let inserted = sqlx::query(&format!(
            "INSERT INTO notifications ({COLUMNS}, dedupe_key, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL, $10, NULL, $11, $10) \
             ON CONFLICT (dedupe_key) DO NOTHING"
        ))
        .bind(&id)
        .bind(new.kind.as_str())
        .bind(&new.user_id)
        .bind(&new.email)
        .bind(&new.language)
        .bind(&new.message.subject)
        .bind(&new.message.text)
        .bind(&new.message.html)
        .bind(new.status.as_str())
        .bind(now)
        .bind(&new.dedupe_key)
        .execute(self.db.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Takes up to `limit` messages due now, each held by this sender until `lease_until` (a
    /// sender that dies lets them go when it runs out).
    pub async fn claim_due(
        &self,
        lease_until: i64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let now = now_millis();
        let skip_locked = self.db.row_lock("FOR UPDATE SKIP LOCKED");
        let rows = sqlx::query(&format!(
            "UPDATE notifications SET lease_until = $1 WHERE id IN (SELECT id FROM notifications \
             WHERE status = 'pending' AND next_attempt_at <= $2 AND lease_until < $2 \
             ORDER BY next_attempt_at LIMIT $3 {skip_locked}) RETURNING {COLUMNS}"
        ))
        .bind(lease_until)
        .bind(now)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(notification).collect()
    }

    pub async fn mark_sent(&self, id: &str, attempts: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notifications SET status = 'sent', attempts = $1, sent_at = $2, \
             lease_until = 0, last_error = NULL WHERE id = $3",
        )
        .bind(attempts as i32)
        .bind(now_millis())
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// A failed attempt: tried again at `retry_at`, or marked failed when `None`.
    pub async fn mark_attempt_failed(
        &self,
        id: &str,
        attempts: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()> {
        let status = if retry_at.is_some() {
            Status::Pending
        } else {
            Status::Failed
        };
        sqlx::query(
            "UPDATE notifications SET status = $1, attempts = $2, last_error = $3, \
             next_attempt_at = $4, lease_until = 0 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(attempts as i32)
        .bind(error)
        .bind(retry_at.unwrap_or(0))
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Sends a failed message again from its first attempt; false when it is not failed.
    /// Puts a failed message back to pending; returns it as the retry left it (the sender may
    /// send it the moment after), or none when it was not failed.
    pub async fn retry(&self, id: &str) -> StoreResult<Option<Notification>> {
        let row = sqlx::query(&format!(
            "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = $1 \
             WHERE id = $2 AND status = 'failed' RETURNING {COLUMNS}"
        ))
        .bind(now_millis())
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(notification).transpose()
    }

    pub async fn by_id(&self, id: &str) -> StoreResult<Option<Notification>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(notification).transpose()
    }

    /// Messages newest first after `cursor`: a user's (any status but skipped), or all of one
    /// status (admins).
    pub async fn list(
        &self,
        filter: ListFilter<'_>,
        cursor: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let (condition, value) = match filter {
            ListFilter::User(id) => ("user_id = $1 AND status <> 'skipped'", id),
            ListFilter::Status(status) => ("status = $1", status.as_str()),
        };
        let (at, id) = cursor.cloned().unwrap_or((i64::MAX, "\u{10ffff}".into()));
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE {condition} \
             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .bind(value)
        .bind(at)
        .bind(id)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(notification).collect()
    }

    /// An admin's template of `kind` in `language`, if they stored one.
    pub async fn template(&self, kind: Kind, language: &str) -> StoreResult<Option<Template>> {
        let row = sqlx::query(
            "SELECT subject, text_body, html_body FROM templates WHERE kind = $1 AND language = $2",
        )
        .bind(kind.as_str())
        .bind(language)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|row| {
            Ok(Template {
                subject: row.try_get("subject")?,
                text: row.try_get("text_body")?,
                html: row.try_get("html_body")?,
            })
        })
        .transpose()
    }

    pub async fn set_template(
        &self,
        kind: Kind,
        language: &str,
        template: &Template,
        admin_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO templates (kind, language, subject, text_body, html_body, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, language) DO UPDATE \
             SET subject = $3, text_body = $4, html_body = $5, updated_by = $6, updated_at = $7",
        )
        .bind(kind.as_str())
        .bind(language)
        .bind(&template.subject)
        .bind(&template.text)
        .bind(&template.html)
        .bind(admin_id)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

/// Whose messages a list holds.
#[derive(Clone, Copy, Debug)]
pub enum ListFilter<'a> {
    User(&'a str),
    Status(Status),
}
