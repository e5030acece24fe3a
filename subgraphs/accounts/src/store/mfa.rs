//! Second factors: TOTP secrets, recovery codes and sign-in challenges. Every use of a code or a
//! challenge is one conditional UPDATE, so two requests racing with the same one cannot both
//! succeed.

use event_bus::Event;
use sqlx::Row;

use super::{AccountsStore, StoreResult};

/// A user's TOTP factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpFactor {
    /// Base32.
    pub secret: String,
    /// None while enrolling.
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
}

impl AccountsStore {
    pub async fn totp_factor(&self, user_id: &str) -> StoreResult<Option<TotpFactor>> {
        let row = sqlx::query(
            "SELECT secret, confirmed_at, last_step FROM totp_factors WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.database().pool())
        .await?;
        Ok(match row {
            Some(row) => Some(TotpFactor {
                secret: row.try_get("secret")?,
                confirmed_at: row.try_get("confirmed_at")?,
                last_step: row.try_get("last_step")?,
            }),
            None => None,
        })
    }

    /// Starts enrolling with a new secret (replacing one still pending); false when the user
    /// has a confirmed factor already.
    pub async fn start_totp(&self, user_id: &str, secret: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.database().begin().await?;
        sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO totp_factors (user_id, secret, confirmed_at, last_step, created_at) \
             VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(secret)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes `step` as used if it is later than the last one used: false for a replay (or a
    /// race lost to the same code).
    pub async fn use_totp_step(&self, user_id: &str, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE totp_factors SET last_step = $1 WHERE user_id = $2 AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(self.database().pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Confirms a pending factor whose code for `step` was given, with its recovery codes
    /// (hashes) and `event` (the user's access changed); false when it is not pending or the
    /// step was used.
    pub async fn confirm_totp(
        &self,
        user_id: &str,
        step: i64,
        recovery_hashes: &[String],
        now: i64,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.database().begin().await?;
        let done = sqlx::query(
            "UPDATE totp_factors SET confirmed_at = $1, last_step = $2 \
             WHERE user_id = $3 AND confirmed_at IS NULL AND last_step < $2",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
            )
            .bind(user_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Uses a recovery code once: false when it is unknown or was used.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(hash)
        .execute(self.database().pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn recovery_codes_left(&self, user_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(self.database().pool())
        .await?)
    }

    /// Turns the second factor off (with `event`: the user's access changed).
    pub async fn remove_totp(&self, user_id: &str, event: &Event) -> StoreResult<()> {
        let mut tx = self.database().begin().await?;
        for table in ["totp_factors", "recovery_codes", "mfa_challenges"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_mfa_challenge(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mfa_challenges (token_hash, user_id, expires_at, used_at) \
             VALUES ($1, $2, $3, NULL)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(self.database().pool())
        .await?;
        Ok(())
    }

    /// The user of a challenge that is unused and unexpired.
    pub async fn mfa_challenge_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM mfa_challenges \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.database().pool())
        .await?)
    }

    /// Uses a challenge once: false when it was used (or has expired) meanwhile.
    pub async fn use_mfa_challenge(&self, token_hash: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE mfa_challenges SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash)
        .execute(self.database().pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
