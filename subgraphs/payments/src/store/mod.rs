//! Payment storage (PostgreSQL and SQLite). Provider events are applied in one transaction with
//! their "processed" mark, so a webhook delivered five times changes the state once; the
//! provider's own state (a retrieved charge) is applied the same way, each provider refund
//! counted once by its id. What does not fit the payment (another amount, currency or charge, a
//! refund beyond the charge) changes nothing and is kept in `payment_reviews` for a person.

use std::sync::Arc;

use commerce::money::CurrencyCode;
use event_bus::Event;
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;
use storage::{outbox, processed};
use tokio::sync::watch;

use crate::domain::{self, PaymentStatus};
use crate::provider::{Charge, ChargeStatus, EventKind, ProviderEvent, Refund};
use events::payments::PaymentUpdated;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored payment {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
    #[error("event: {0}")]
    Event(#[from] event_bus::EventError),
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
    /// Where the customer confirms the charge with their bank while the provider waits for
    /// that (3-D Secure); none once the provider reported a result.
    pub action_url: Option<String>,
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
    /// It does not fit the payment: nothing changed; it is kept for review with this reason.
    Refused(String),
}

/// One thing the provider reports of a charge.
#[derive(Clone, Debug)]
enum Report {
    Captured { amount_minor: i64 },
    Failed { code: Option<String> },
    Refunded(Refund),
}

const COLUMNS: &str =
    "id, order_id, customer_id, amount_minor, currency, provider_charge, method_brand, \
    method_last4, captured_minor, refunded_minor, failure_code, status, created_at, action_url";

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
        action_url: row.try_get("action_url")?,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13) \
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
        .bind(&payment.action_url)
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

    /// The payments of these provider charges.
    pub async fn by_charges(&self, charges: &[String]) -> StoreResult<Vec<Payment>> {
        let select = format!("SELECT {COLUMNS} FROM payments WHERE provider_charge");
        let rows = self.db.fetch_any_of(&select, charges, "").await?;
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
        audit: impl FnOnce(&RefundRow) -> Option<Event>,
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
            id: primitives::id::new_id("re"),
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
        if let Some(record) = audit(&refund) {
            outbox::append(&mut tx, &record)
                .await
                .map_err(StoreError::from)?;
        }
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
        let report = match event.kind {
            EventKind::ChargeSucceeded => Report::Captured {
                amount_minor: event.amount_minor,
            },
            EventKind::ChargeFailed => Report::Failed {
                code: event.failure_code.clone(),
            },
            EventKind::RefundSucceeded => match &event.refund {
                Some(refund) if refund.charge == event.charge => Report::Refunded(refund.clone()),
                _ => {
                    tx.rollback().await?;
                    let reason = "a refund event without its refund".to_string();
                    return self.refuse(&event.id, &event.charge, reason, event).await;
                }
            },
        };
        let applied = self
            .apply_reports(&mut tx, &event.charge, &event.currency, &[report])
            .await?;
        match applied {
            Applied::Changed(_) => {
                tx.commit().await?;
                Ok(applied)
            }
            Applied::Refused(reason) => {
                tx.rollback().await?;
                self.refuse(&event.id, &event.charge, reason, event).await
            }
            Applied::Duplicate | Applied::UnknownCharge => {
                tx.rollback().await?;
                Ok(applied)
            }
        }
    }

    /// Applies the provider's own state of a charge (retrieved when a webhook is late or
    /// missing): its result and every refund, each counted once.
    pub async fn sync(&self, charge: &Charge) -> StoreResult<Applied> {
        let mut reports = Vec::new();
        match charge.status {
            ChargeStatus::Pending | ChargeStatus::RequiresAction => {}
            ChargeStatus::Succeeded => reports.push(Report::Captured {
                amount_minor: charge.amount_minor,
            }),
            ChargeStatus::Failed => reports.push(Report::Failed {
                code: charge.failure_code.clone(),
            }),
        }
        reports.extend(charge.refunds.iter().cloned().map(Report::Refunded));
        let mut tx = self.db.begin().await?;
        let applied = self
            .apply_reports(&mut tx, &charge.id, &charge.currency, &reports)
            .await?;
        match applied {
            Applied::Changed(_) => tx.commit().await?,
            _ => tx.rollback().await?,
        }
        if let Applied::Refused(reason) = &applied {
            let id = format!(
                "sync:{}:{}",
                charge.id,
                primitives::id::sha256_hex(reason.as_bytes())
            );
            return self.refuse(&id, &charge.id, reason.clone(), charge).await;
        }
        Ok(applied)
    }

    /// Records a charge the provider has and the shop does not (its answer was lost before the
    /// payment was stored): by its reference, as the payment of that order, with its state. An
    /// order that has a payment already keeps it; the second charge is kept for review.
    pub async fn record_found(&self, charge: &Charge) -> StoreResult<Applied> {
        let (Some(order_id), Some(customer_id)) = (&charge.reference, &charge.customer) else {
            let reason = "a charge without the order it is for".to_string();
            return self
                .refuse(&format!("found:{}", charge.id), &charge.id, reason, charge)
                .await;
        };
        let Some(currency) = CurrencyCode::parse(&charge.currency) else {
            let reason = format!("a charge in an unknown currency {:?}", charge.currency);
            return self
                .refuse(&format!("found:{}", charge.id), &charge.id, reason, charge)
                .await;
        };
        let recorded = self
            .insert(&Payment {
                id: primitives::id::new_id("pay"),
                order_id: order_id.clone(),
                customer_id: customer_id.clone(),
                amount_minor: charge.amount_minor,
                currency,
                provider_charge: charge.id.clone(),
                method_brand: charge.method.brand.clone(),
                method_last4: charge.method.last4.clone(),
                captured_minor: 0,
                refunded_minor: 0,
                failure_code: None,
                status: PaymentStatus::Authorized,
                created_at: now_millis(),
                action_url: None,
            })
            .await?;
        if recorded.provider_charge != charge.id {
            let reason = format!(
                "a second charge for order {order_id}, which is paid by {}",
                recorded.provider_charge
            );
            return self
                .refuse(&format!("found:{}", charge.id), &charge.id, reason, charge)
                .await;
        }
        tracing::warn!(charge = %charge.id, order = %order_id, "recorded a charge the shop had not recorded");
        match self.sync(charge).await? {
            Applied::Changed(payment) => Ok(Applied::Changed(payment)),
            Applied::Refused(reason) => Ok(Applied::Refused(reason)),
            _ => Ok(Applied::Changed(Box::new(recorded))),
        }
    }

    /// Keeps what the provider reported for a person; nothing else changes.
    async fn refuse(
        &self,
        id: &str,
        charge: &str,
        reason: String,
        body: &impl serde::Serialize,
    ) -> StoreResult<Applied> {
        tracing::error!(charge, %reason, "a provider report does not fit its payment; kept for review");
        sqlx::query(
            "INSERT INTO payment_reviews (id, charge, reason, body, received_at)              VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(charge)
        .bind(&reason)
        .bind(serde_json::to_string(body).expect("reports serialize"))
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(Applied::Refused(reason))
    }

    /// The reports kept for review, newest first.
    pub async fn reviews(&self, limit: i64) -> StoreResult<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT id, charge, reason, received_at FROM payment_reviews              ORDER BY received_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Review {
                    id: row.try_get("id")?,
                    charge: row.try_get("charge")?,
                    reason: row.try_get("reason")?,
                    received_at: row.try_get("received_at")?,
                })
            })
            .collect()
    }

    /// Applies `reports` of `charge` to its payment in `tx` if every one fits it; the payment
    /// after them (`Changed`, also when nothing moved), or why not.
    async fn apply_reports(
        &self,
        tx: &mut storage::db::Transaction,
        charge: &str,
        currency: &str,
        reports: &[Report],
    ) -> StoreResult<Applied> {
        let lock = self.db.row_lock("FOR UPDATE");
        let Some(row) = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE provider_charge = $1 {lock}"
        ))
        .bind(charge)
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(Applied::UnknownCharge);
        };
        let before = payment(&row)?;
        if currency != before.currency.as_str() {
            return Ok(Applied::Refused(format!(
                "reported in {currency}, the payment is in {}",
                before.currency.as_str()
            )));
        }
        let mut current = before.clone();
        for report in reports {
            match report {
                Report::Captured { amount_minor } if *amount_minor != before.amount_minor => {
                    return Ok(Applied::Refused(format!(
                        "captured {amount_minor} of a payment of {}",
                        before.amount_minor
                    )));
                }
                Report::Captured { amount_minor } => current.captured_minor = *amount_minor,
                Report::Failed { .. } if current.captured_minor > 0 => {
                    return Ok(Applied::Refused("a captured charge reported failed".into()));
                }
                Report::Failed { code } => {
                    current.failure_code = Some(code.clone().unwrap_or_else(|| "failed".into()))
                }
                Report::Refunded(refund) => {
                    match self.refund_succeeded(tx, &current, refund).await? {
                        Ok(counted) => current.refunded_minor += counted,
                        Err(reason) => return Ok(Applied::Refused(reason)),
                    }
                }
            }
        }
        // A result ends the wait for the customer's bank.
        if current.captured_minor > 0 || current.failure_code.is_some() {
            current.action_url = None;
        }
        current.status = domain::status(
            current.captured_minor,
            current.refunded_minor,
            current.failure_code.is_some(),
            current.action_url.is_some(),
        );
        if current == before {
            return Ok(Applied::Changed(Box::new(current)));
        }
        sqlx::query(
            "UPDATE payments SET captured_minor = $1, refunded_minor = $2, failure_code = $3, \
             status = $4, updated_at = $5, action_url = $7 WHERE id = $6",
        )
        .bind(current.captured_minor)
        .bind(current.refunded_minor)
        .bind(&current.failure_code)
        .bind(current.status.as_str())
        .bind(now_millis())
        .bind(&current.id)
        .bind(&current.action_url)
        .execute(&mut **tx)
        .await?;
        outbox::append(tx, &Event::new("payments", &current.updated())).await?;
        Ok(Applied::Changed(Box::new(current)))
    }

    /// Counts a refund the provider made, once: the shop's own request (by its reference) or,
    /// for one made at the provider, a new row. The amount newly counted (0 when it was before),
    /// or why it does not fit: never more refunded than the charge.
    async fn refund_succeeded(
        &self,
        tx: &mut storage::db::Transaction,
        payment: &Payment,
        refund: &Refund,
    ) -> StoreResult<Result<i64, String>> {
        let counted: Option<i64> = sqlx::query_scalar(
            "SELECT amount_minor FROM refunds WHERE provider_refund = $1 AND succeeded_at IS NOT NULL",
        )
        .bind(&refund.id)
        .fetch_optional(&mut **tx)
        .await?;
        if counted.is_some() {
            return Ok(Ok(0));
        }
        if refund.amount_minor <= 0
            || payment.refunded_minor + refund.amount_minor > payment.amount_minor
        {
            return Ok(Err(format!(
                "a refund of {} on a payment of {} with {} refunded",
                refund.amount_minor, payment.amount_minor, payment.refunded_minor
            )));
        }
        let now = now_millis();
        let requested = match &refund.reference {
            Some(reference) => sqlx::query(
                "UPDATE refunds SET provider_refund = $1, succeeded_at = $2                  WHERE id = $3 AND payment_id = $4 AND amount_minor = $5 AND succeeded_at IS NULL",
            )
            .bind(&refund.id)
            .bind(now)
            .bind(reference)
            .bind(&payment.id)
            .bind(refund.amount_minor)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
            None => 0,
        };
        if requested == 0 {
            sqlx::query(&format!(
                "INSERT INTO refunds ({REFUND_COLUMNS}, succeeded_at)                  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
            ))
            .bind(primitives::id::new_id("re"))
            .bind(&payment.id)
            .bind(refund.amount_minor)
            .bind("refunded at the provider")
            .bind(&refund.id)
            .bind("provider")
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(Ok(refund.amount_minor))
    }
}

/// A provider report kept for review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub id: String,
    pub charge: String,
    pub reason: String,
    pub received_at: i64,
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
