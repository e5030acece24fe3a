//! The test processor's books: charges, refunds and the first answer to each idempotency key,
//! in a database of its own, so ids stay unique and answers stay the same across restarts.

use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;

use crate::provider::{Charge, ChargeStatus, MethodSummary, Refund};

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/payment-test-provider",
    ["0001_ledger.sql"]
);

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored charge {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
}

pub type LedgerResult<T> = Result<T, LedgerError>;

/// The first answer given to an idempotency key.
pub struct Answer {
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
}

/// Why a refund was not made.
pub enum RefundRefusal {
    NoSuchCharge,
    NotSucceeded,
    TooLarge { left: i64 },
}

const CHARGE_COLUMNS: &str = "id, amount_minor, currency, brand, last4, status, failure_code, \
    refunded_minor, sequence, reference, customer, created_at";

fn status(raw: &str) -> Option<ChargeStatus> {
    match raw {
        "pending" => Some(ChargeStatus::Pending),
        "succeeded" => Some(ChargeStatus::Succeeded),
        "failed" => Some(ChargeStatus::Failed),
        "requires_action" => Some(ChargeStatus::RequiresAction),
        _ => None,
    }
}

fn status_str(status: ChargeStatus) -> &'static str {
    match status {
        ChargeStatus::Pending => "pending",
        ChargeStatus::Succeeded => "succeeded",
        ChargeStatus::Failed => "failed",
        ChargeStatus::RequiresAction => "requires_action",
    }
}

/// A stored charge: the charge and its change counter.
pub struct StoredCharge {
    pub charge: Charge,
    pub refunded_minor: i64,
    pub sequence: u64,
}

fn charge(row: &AnyRow) -> LedgerResult<StoredCharge> {
    let id: String = row.try_get("id")?;
    let raw: String = row.try_get("status")?;
    let status = status(&raw).ok_or_else(|| LedgerError::Corrupt {
        id: id.clone(),
        what: format!("status {raw:?}"),
    })?;
    let sequence: i64 = row.try_get("sequence")?;
    Ok(StoredCharge {
        refunded_minor: row.try_get("refunded_minor")?,
        sequence: sequence as u64,
        charge: Charge {
            amount_minor: row.try_get("amount_minor")?,
            currency: row.try_get("currency")?,
            status,
            failure_code: row.try_get("failure_code")?,
            method: MethodSummary {
                brand: row.try_get("brand")?,
                last4: row.try_get("last4")?,
            },
            reference: row.try_get("reference")?,
            customer: row.try_get("customer")?,
            created: row.try_get("created_at")?,
            refunds: Vec::new(),
            next_action_url: None,
            id,
        },
    })
}

fn refund(row: &AnyRow) -> LedgerResult<Refund> {
    Ok(Refund {
        id: row.try_get("id")?,
        charge: row.try_get("charge_id")?,
        amount_minor: row.try_get("amount_minor")?,
        reference: row.try_get("reference")?,
    })
}

#[derive(Clone)]
pub struct Ledger {
    db: Database,
}

impl Ledger {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn answer(&self, key: &str) -> LedgerResult<Option<Answer>> {
        let row = sqlx::query(
            "SELECT fingerprint, status, body FROM provider_answers WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|row| {
            let status: i64 = row.try_get("status")?;
            Ok(Answer {
                fingerprint: row.try_get("fingerprint")?,
                status: status as u16,
                body: row.try_get("body")?,
            })
        })
        .transpose()
    }

    /// Records a new charge (settled as `settled`: its webhook tells it) and the answer to its
    /// idempotency key, together.
    pub async fn insert_charge(
        &self,
        settled: &Charge,
        key: &str,
        answer: &Answer,
    ) -> LedgerResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO provider_charges ({CHARGE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, $8, $9, $10)"
        ))
        .bind(&settled.id)
        .bind(settled.amount_minor)
        .bind(&settled.currency)
        .bind(&settled.method.brand)
        .bind(&settled.method.last4)
        .bind(status_str(settled.status))
        .bind(&settled.failure_code)
        .bind(&settled.reference)
        .bind(&settled.customer)
        .bind(settled.created)
        .execute(&mut *tx)
        .await?;
        remember(&mut tx, key, answer).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refunds part of a succeeded charge if enough is left (one statement, so concurrent
    /// refunds cannot together exceed it), with the answer to its key; the charge after it.
    pub async fn refund(
        &self,
        refund: &Refund,
        key: &str,
        answer: &Answer,
    ) -> LedgerResult<Result<StoredCharge, RefundRefusal>> {
        let mut tx = self.db.begin().await?;
        let taken = sqlx::query(
            "UPDATE provider_charges SET refunded_minor = refunded_minor + $1, \
             sequence = sequence + 1 \
             WHERE id = $2 AND status = 'succeeded' AND amount_minor - refunded_minor >= $1",
        )
        .bind(refund.amount_minor)
        .bind(&refund.charge)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() == 0 {
            tx.rollback().await?;
            let refusal = match self.charge(&refund.charge).await? {
                None => RefundRefusal::NoSuchCharge,
                Some(c) if c.charge.status != ChargeStatus::Succeeded => {
                    RefundRefusal::NotSucceeded
                }
                Some(c) => RefundRefusal::TooLarge {
                    left: c.charge.amount_minor - c.refunded_minor,
                },
            };
            return Ok(Err(refusal));
        }
        sqlx::query(
            "INSERT INTO provider_refunds (id, charge_id, amount_minor, reference, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&refund.id)
        .bind(&refund.charge)
        .bind(refund.amount_minor)
        .bind(&refund.reference)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        remember(&mut tx, key, answer).await?;
        tx.commit().await?;
        let charge = self.charge(&refund.charge).await?;
        Ok(charge.ok_or(RefundRefusal::NoSuchCharge))
    }

    /// Ends a charge's wait for its holder (`requires_action`) as `status`, in one conditional
    /// statement: the charge after it, or `None` when it was not waiting (so a second
    /// completion, or one after an abandonment, changes nothing).
    pub async fn finish_action(
        &self,
        id: &str,
        status: ChargeStatus,
        failure_code: Option<&str>,
    ) -> LedgerResult<Option<StoredCharge>> {
        let finished = sqlx::query(
            "UPDATE provider_charges SET status = $1, failure_code = $2, sequence = sequence + 1 \
             WHERE id = $3 AND status = 'requires_action'",
        )
        .bind(status_str(status))
        .bind(failure_code)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        if finished.rows_affected() == 0 {
            return Ok(None);
        }
        self.charge(id).await
    }

    /// A charge with its refunds.
    pub async fn charge(&self, id: &str) -> LedgerResult<Option<StoredCharge>> {
        let row = sqlx::query(&format!(
            "SELECT {CHARGE_COLUMNS} FROM provider_charges WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut stored = charge(&row)?;
        stored.charge.refunds = self.refunds_of(&[stored.charge.id.clone()]).await?;
        Ok(Some(stored))
    }

    /// Charges created in `[from, until)`, oldest first, after `after`, at most `limit`.
    pub async fn charges(
        &self,
        from: i64,
        until: i64,
        after: Option<&str>,
        limit: i64,
    ) -> LedgerResult<Vec<Charge>> {
        let after = match after {
            Some(id) => match self.charge(id).await? {
                Some(c) => Some((c.charge.created, id.to_string())),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(&format!(
            "SELECT {CHARGE_COLUMNS} FROM provider_charges \
             WHERE created_at >= $1 AND created_at < $2 \
             AND (created_at > $3 OR (created_at = $3 AND id > $4)) \
             ORDER BY created_at, id LIMIT $5"
        ))
        .bind(from)
        .bind(until)
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut charges: Vec<Charge> = rows
            .iter()
            .map(|r| charge(r).map(|c| c.charge))
            .collect::<LedgerResult<_>>()?;
        let ids: Vec<String> = charges.iter().map(|c| c.id.clone()).collect();
        let refunds = self.refunds_of(&ids).await?;
        for charge in &mut charges {
            charge.refunds = refunds
                .iter()
                .filter(|r| r.charge == charge.id)
                .cloned()
                .collect();
        }
        Ok(charges)
    }

    async fn refunds_of(&self, charge_ids: &[String]) -> LedgerResult<Vec<Refund>> {
        let rows = self
            .db
            .fetch_any_of(
                "SELECT id, charge_id, amount_minor, reference FROM provider_refunds \
                 WHERE charge_id",
                charge_ids,
                "ORDER BY created_at, id",
            )
            .await?;
        rows.iter().map(refund).collect()
    }
}

async fn remember(
    tx: &mut storage::db::Transaction,
    key: &str,
    answer: &Answer,
) -> LedgerResult<()> {
    sqlx::query(
        "INSERT INTO provider_answers (idempotency_key, fingerprint, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key)
    .bind(&answer.fingerprint)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
