//! Confirming addresses: verification links (by their hash), and what a confirmed one changes.
//! Using a link is one conditional UPDATE in the transaction that applies it, so a link works
//! once.

use event_bus::Event;
use sqlx::Row;

use super::sql::is_unique_violation;
use super::{AccountsStore, StoreError, StoreResult};

/// A link that can still be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingVerification {
    pub user_id: String,
    pub email: String,
    /// A new address for the account, not the one signed up with.
    pub change: bool,
}

/// A link about to be sent: stored by its hash, with the email that carries it.
pub struct NewVerification {
    pub token_hash: String,
    pub pending: PendingVerification,
    pub created_at: i64,
    pub expires_at: i64,
    /// The email to send, appended to the outbox with the link.
    pub event: Event,
}

impl AccountsStore {
    /// A new link, with its email appended to the outbox atomically.
    pub async fn insert_email_verification(&self, link: &NewVerification) -> StoreResult<()> {
        let mut tx = self.database().begin().await?;
        insert_verification(&mut tx, link).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn pending_verification(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<PendingVerification>> {
        let row = sqlx::query(
            "SELECT user_id, email, is_change FROM email_verifications \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.database().pool())
        .await?;
        Ok(match row {
            Some(row) => Some(PendingVerification {
                user_id: row.try_get("user_id")?,
                email: row.try_get("email")?,
                change: row.try_get::<i64, _>("is_change")? == 1,
            }),
            None => None,
        })
    }

    pub async fn email_verified(&self, user_id: &str) -> StoreResult<bool> {
        let at: Option<Option<i64>> =
            sqlx::query_scalar("SELECT email_verified_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.database().pool())
                .await?;
        Ok(at.flatten().is_some())
    }

    /// Uses the link and confirms its address: the account's own (false when the account's
    /// address is no longer the link's), or the new one, which replaces the account's
    /// ([`StoreError::DuplicateEmail`] when another account took it, or one like it, meanwhile).
    /// `events` are appended with it. False when the link was used meanwhile.
    pub async fn confirm_email(
        &self,
        token_hash: &str,
        pending: &PendingVerification,
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.database().begin().await?;
        let used = sqlx::query(
            "UPDATE email_verifications SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        let result = if pending.change {
            sqlx::query(
                "UPDATE users SET email = $1, email_skeleton = $2, email_verified_at = $3, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(&pending.email)
            .bind(commerce::email::skeleton(&pending.email))
            .bind(now)
            .bind(&pending.user_id)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query(
                "UPDATE users SET email_verified_at = $1, updated_at = $1 \
                 WHERE id = $2 AND email = $3",
            )
            .bind(now)
            .bind(&pending.user_id)
            .bind(&pending.email)
            .execute(&mut *tx)
            .await
        };
        let done = match result {
            Ok(done) => done,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateEmail),
            Err(e) => return Err(e.into()),
        };
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Stores `link` and appends its email to the outbox, in the caller's transaction.
pub(super) async fn insert_verification(
    tx: &mut storage::db::Transaction,
    link: &NewVerification,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_verifications \
         (token_hash, user_id, email, is_change, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(&link.token_hash)
    .bind(&link.pending.user_id)
    .bind(&link.pending.email)
    .bind(i64::from(link.pending.change))
    .bind(link.created_at)
    .bind(link.expires_at)
    .execute(&mut **tx)
    .await?;
    storage::outbox::append(tx, &link.event).await?;
    Ok(())
}
