//! Payment storage (PostgreSQL and SQLite). Provider events are applied in one transaction with
//! their "processed" mark, so a webhook delivered five times changes the state once.

use kit::db::{now_millis, Backend, Database};
use kit::events::processed;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::domain::{self, PaymentStatus};
use crate::provider::{EventKind, ProviderEvent};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored payment {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub provider_charge: String,
    pub method_brand: String,
    pub method_last4: String,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub failure_code: Option<String>,
    pub status: PaymentStatus,
}

/// What applying a provider event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Changed(Payment),
    /// This event was applied before (a duplicate delivery): nothing changed.
    Duplicate,
    /// No payment has this charge (yet): nothing is marked, so a redelivery can apply it later.
    UnknownCharge,
}

const COLUMNS: &str = "id, order_id, amount_minor, currency, provider_charge, method_brand, \
    method_last4, captured_minor, refunded_minor, failure_code, status";

fn payment(row: &AnyRow) -> StoreResult<Payment> {
    let id: String = row.try_get("id")?;
    let raw: String = row.try_get("status")?;
    let status = PaymentStatus::parse(&raw).ok_or_else(|| StoreError::Corrupt {
        id: id.clone(),
        what: format!("status {raw:?}"),
    })?;
    Ok(Payment {
        id,
        order_id: row.try_get("order_id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        provider_charge: row.try_get("provider_charge")?,
        method_brand: row.try_get("method_brand")?,
        method_last4: row.try_get("method_last4")?,
        captured_minor: row.try_get("captured_minor")?,
        refunded_minor: row.try_get("refunded_minor")?,
        failure_code: row.try_get("failure_code")?,
        status,
    })
}

#[derive(Clone)]
pub struct PaymentStore {
    db: Database,
}

impl PaymentStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Records a charge the provider accepted (pending: authorized until its webhook).
    pub async fn insert(&self, payment: &Payment) -> StoreResult<()> {
        let now = now_millis();
        sqlx::query(&format!(
            "INSERT INTO payments ({COLUMNS}, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
        ))
        .bind(&payment.id)
        .bind(&payment.order_id)
        .bind(payment.amount_minor)
        .bind(&payment.currency)
        .bind(&payment.provider_charge)
        .bind(&payment.method_brand)
        .bind(&payment.method_last4)
        .bind(payment.captured_minor)
        .bind(payment.refunded_minor)
        .bind(&payment.failure_code)
        .bind(payment.status.as_str())
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
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
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE",
            Backend::Sqlite => "",
        };
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
        let mut current = payment(&row)?;
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
        tx.commit().await?;
        Ok(Applied::Changed(current))
    }
}
