//! Payment storage (PostgreSQL and SQLite). Provider events are applied in one transaction with
//! their "processed" mark, so a webhook delivered five times changes the state once.

use std::sync::Arc;

use kit::db::{now_millis, Database};
use kit::events::{outbox, processed, Event};
use kit::money::CurrencyCode;
use sqlx::any::AnyRow;
use sqlx::Row;
use tokio::sync::watch;

use crate::domain::events::PaymentUpdated;
use crate::domain::{self, PaymentStatus};
use crate::provider::{EventKind, ProviderEvent};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored payment {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
    #[error("event: {0}")]
    Event(#[from] kit::events::EventError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub customer_id: String,
    pub amount_minor: i64,
    pub currency: CurrencyCode,
    pub provider_charge: String,
    pub method_brand: String,
    pub method_last4: String,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub failure_code: Option<String>,
    pub status: PaymentStatus,
    pub created_at: i64,
}

impl Payment {
    /// What may still be refunded, given the refunds requested so far.
    pub fn refundable(&self, requested_minor: i64) -> i64 {
        (self.captured_minor - requested_minor).max(0)
    }

    fn updated(&self) -> PaymentUpdated {
        PaymentUpdated {
            payment_id: self.id.clone(),
            order_id: self.order_id.clone(),
            status: self.status.as_str().into(),
            captured_minor: self.captured_minor,
            refunded_minor: self.refunded_minor,
            currency: self.currency.as_str().into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRow {
    pub id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub provider_refund: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// Why a refund cannot be requested.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefused {
    #[error("no payment with this id")]
    UnknownPayment,
    #[error("at most {refundable} minor units can still be refunded")]
    OverCaptured { refundable: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What applying a provider event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Changed(Box<Payment>),
    /// This event was applied before (a duplicate delivery): nothing changed.
    Duplicate,
    /// No payment has this charge (yet): nothing is marked, so a redelivery can apply it later.
    UnknownCharge,
}

const COLUMNS: &str =
    "id, order_id, customer_id, amount_minor, currency, provider_charge, method_brand, \
    method_last4, captured_minor, refunded_minor, failure_code, status, created_at";

fn payment(row: &AnyRow) -> StoreResult<Payment> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.clone(),
        what,
    };
    let raw: String = row.try_get("status")?;
    let status = PaymentStatus::parse(&raw).ok_or_else(|| corrupt(format!("status {raw:?}")))?;
    let raw: String = row.try_get("currency")?;
    let currency = CurrencyCode::parse(&raw).ok_or_else(|| corrupt(format!("currency {raw:?}")))?;
    Ok(Payment {
        id,
        order_id: row.try_get("order_id")?,
        customer_id: row.try_get("customer_id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency,
        provider_charge: row.try_get("provider_charge")?,
        method_brand: row.try_get("method_brand")?,
        method_last4: row.try_get("method_last4")?,
        captured_minor: row.try_get("captured_minor")?,
        refunded_minor: row.try_get("refunded_minor")?,
        failure_code: row.try_get("failure_code")?,
        status,
        created_at: row.try_get("created_at")?,
    })
}

fn refund(row: &AnyRow) -> StoreResult<RefundRow> {
    Ok(RefundRow {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        amount_minor: row.try_get("amount_minor")?,
        reason: row.try_get("reason")?,
        provider_refund: row.try_get("provider_refund")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

const REQUESTED_REFUNDS: &str =
    "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE payment_id = $1";

const REFUND_COLUMNS: &str =
    "id, payment_id, amount_minor, reason, provider_refund, created_by, created_at";

#[derive(Clone)]
pub struct PaymentStore {
    db: Database,
    /// Counts the payments recorded here, so a webhook that arrived first can wait for its one.
    recorded: Arc<watch::Sender<u64>>,
}

impl PaymentStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            recorded: Arc::new(watch::channel(0).0),
        }
    }

    /// Moves whenever this store records a payment.
    pub fn recorded(&self) -> watch::Receiver<u64> {
        self.recorded.subscribe()
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Records a charge the provider accepted (pending: authorized until its webhook). An
    /// order has one payment: when it has one already, that one is returned.
    pub async fn insert(&self, payment: &Payment) -> StoreResult<Payment> {
        sqlx::query(&format!(
            "INSERT INTO payments ({COLUMNS}, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             ON CONFLICT (order_id) DO NOTHING"
        ))
        .bind(&payment.id)
        .bind(&payment.order_id)
        .bind(&payment.customer_id)
        .bind(payment.amount_minor)
        .bind(payment.currency.as_str())
        .bind(&payment.provider_charge)
        .bind(&payment.method_brand)
        .bind(&payment.method_last4)
        .bind(payment.captured_minor)
        .bind(payment.refunded_minor)
        .bind(&payment.failure_code)
        .bind(payment.status.as_str())
        .bind(payment.created_at)
        .execute(self.db.pool())
        .await?;
        self.recorded.send_modify(|n| *n += 1);
        self.by_order(&payment.order_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                id: payment.id.clone(),
                what: "inserted but not found".into(),
            })
    }

    pub async fn by_order(&self, order_id: &str) -> StoreResult<Option<Payment>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(payment).transpose()
    }

    /// Payments by id or by order id (`column` is one of the two).
    pub async fn by_keys(&self, column: KeyColumn, keys: &[String]) -> StoreResult<Vec<Payment>> {
        let select = format!("SELECT {COLUMNS} FROM payments WHERE {}", column.name());
        let rows = self.db.fetch_any_of(&select, keys, "").await?;
        rows.iter().map(payment).collect()
    }

    /// Records a refund request if the payment's captured amount still covers it (checked under
    /// the payment's lock, so concurrent refunds cannot together exceed it).
    pub async fn request_refund(
        &self,
        payment_id: &str,
        amount_minor: i64,
        reason: &str,
        created_by: &str,
    ) -> Result<(Payment, RefundRow), RefundRefused> {
        let mut tx = self.db.begin().await.map_err(StoreError::from)?;
        let lock = self.db.row_lock("FOR UPDATE");
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE id = $1 {lock}"
        ))
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(RefundRefused::UnknownPayment)?;
        let current = payment(&row)?;
        let requested: i64 = sqlx::query_scalar(REQUESTED_REFUNDS)
            .bind(payment_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let refundable = current.refundable(requested);
        if amount_minor > refundable {
            return Err(RefundRefused::OverCaptured { refundable });
        }
        let refund = RefundRow {
            id: kit::id::new_id("re"),
            payment_id: payment_id.into(),
            amount_minor,
            reason: reason.into(),
            provider_refund: None,
            created_by: created_by.into(),
            created_at: now_millis(),
        };
        sqlx::query(&format!(
            "INSERT INTO refunds ({REFUND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&refund.id)
        .bind(&refund.payment_id)
        .bind(refund.amount_minor)
        .bind(&refund.reason)
        .bind(&refund.provider_refund)
        .bind(&refund.created_by)
        .bind(refund.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((current, refund))
    }

    /// The sum of the refunds requested of the payment.
    pub async fn requested_refunds(&self, payment_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(REQUESTED_REFUNDS)
            .bind(payment_id)
            .fetch_one(self.db.pool())
            .await?)
    }

    /// The provider accepted the refund: its reference.
    pub async fn refund_accepted(&self, refund_id: &str, provider_refund: &str) -> StoreResult<()> {
        sqlx::query("UPDATE refunds SET provider_refund = $1 WHERE id = $2")
            .bind(provider_refund)
            .bind(refund_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The provider refused the refund: the request no longer counts against the captured amount.
    pub async fn refund_refused(&self, refund_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM refunds WHERE id = $1 AND provider_refund IS NULL")
            .bind(refund_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The refunds of `payment_ids`, oldest first.
    pub async fn refunds_of(&self, payment_ids: &[String]) -> StoreResult<Vec<RefundRow>> {
        let select = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id");
        let rows = self
            .db
            .fetch_any_of(&select, payment_ids, "ORDER BY created_at, id")
            .await?;
        rows.iter().map(refund).collect()
    }

    pub async fn by_id(&self, id: &str) -> StoreResult<Option<Payment>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(payment).transpose()
    }

    /// Applies a verified provider event once: its effect and the processed mark commit
    /// together; effects add up the same in any order.
    pub async fn apply(&self, event: &ProviderEvent) -> StoreResult<Applied> {
        let Some(mut tx) = processed::begin_once(&self.db, "provider-webhooks", &event.id).await?
        else {
            return Ok(Applied::Duplicate);
        };
        let lock = self.db.row_lock("FOR UPDATE");
        let Some(row) = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE provider_charge = $1 {lock}"
        ))
        .bind(&event.charge)
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return Ok(Applied::UnknownCharge);
        };
        let before = payment(&row)?;
        let mut current = before.clone();
        match event.kind {
            EventKind::ChargeSucceeded => current.captured_minor = event.amount_minor,
            EventKind::ChargeFailed => current.failure_code = event.failure_code.clone(),
            EventKind::RefundSucceeded => current.refunded_minor += event.amount_minor,
        }
        current.status = domain::status(
            current.captured_minor,
            current.refunded_minor,
            current.failure_code.is_some(),
        );
        sqlx::query(
            "UPDATE payments SET captured_minor = $1, refunded_minor = $2, failure_code = $3, \
             status = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(current.captured_minor)
        .bind(current.refunded_minor)
        .bind(&current.failure_code)
        .bind(current.status.as_str())
        .bind(now_millis())
        .bind(&current.id)
        .execute(&mut *tx)
        .await?;
        if current != before {
            outbox::append(&mut tx, &Event::new("payments", &current.updated())).await?;
        }
        tx.commit().await?;
        Ok(Applied::Changed(Box::new(current)))
    }
}

/// The columns payments can be looked up by in bulk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyColumn {
    Id,
    Order,
}

impl KeyColumn {
    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Order => "order_id",
        }
    }
}
