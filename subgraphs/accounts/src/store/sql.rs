//! One SQL implementation for both backends (see `storage::db`).

use kit::pagination::PageRequest;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;

use super::*;
use crate::domain::Role;

#[derive(Clone)]
pub struct AccountsStore {
    db: Database,
}

impl AccountsStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }
}

async fn insert_user(tx: &mut storage::db::Transaction, user: &UserRow) -> StoreResult<()> {
    let result = sqlx::query(&format!(
        "INSERT INTO users ({USER_COLUMNS}, email_skeleton) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(&user.name)
    .bind(&user.roles)
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(user.disabled_at)
    .bind(commerce::email::skeleton(&user.email))
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => Ok(()),
        // The same address, or one that looks the same.
        Err(e) if is_unique_violation(&e) => Err(StoreError::DuplicateEmail),
        Err(e) => Err(e.into()),
    }
}

/// A new password hash for the user, and every refresh token of theirs revoked.
async fn set_password(
    tx: &mut storage::db::Transaction,
    user_id: &str,
    password_hash: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const USER_COLUMNS: &str =
    "id, email, password_hash, name, roles, created_at, updated_at, disabled_at";

fn user_row(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        name: row.try_get("name")?,
        roles: row.try_get("roles")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

const ADDRESS_COLUMNS: &str = "id, user_id, full_name, line1, line2, city, region, postal_code, country_code, phone, created_at";

fn address_row(row: &AnyRow) -> Result<AddressRow, sqlx::Error> {
    Ok(AddressRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        full_name: row.try_get("full_name")?,
        line1: row.try_get("line1")?,
        line2: row.try_get("line2")?,
        city: row.try_get("city")?,
        region: row.try_get("region")?,
        postal_code: row.try_get("postal_code")?,
        country_code: row.try_get("country_code")?,
        phone: row.try_get("phone")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// `WHERE` conditions and their values for a user filter, numbered from `$start`.
fn user_filter_sql(filter: &UserFilter, start: usize) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    match filter.role {
        // Staff are the users holding a staff role; every user is a customer.
        Some(Role::Staff) => clauses
            .push("EXISTS (SELECT 1 FROM staff_members m WHERE m.user_id = users.id)".to_string()),
        Some(Role::Customer) | None => {}
    }
    if let Some(query) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
        let escaped = query
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let n = start + values.len();
        clauses.push(format!(
            "(email LIKE ${n} ESCAPE '\\' OR LOWER(name) LIKE ${n} ESCAPE '\\')"
        ));
        values.push(format!("%{escaped}%"));
    }
    (clauses.join(" AND "), values)
}

impl AccountsStore {
    pub async fn insert_user(&self, user: &UserRow) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a user who registered, with `event` (`user.registered`) in the outbox and the
    /// link confirming its address (with the email carrying it), all in one transaction, so no
    /// account is left without its link.
    pub async fn insert_registered(
        &self,
        user: &UserRow,
        event: &Event,
        link: &super::NewVerification,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_user(&mut tx, user).await?;
        storage::outbox::append(&mut tx, event).await?;
        super::verification::insert_verification(&mut tx, link).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(user_row).transpose()?)
    }

    /// Gives every account from before email skeletons were kept its skeleton. Two existing
    /// accounts whose addresses look alike both stay; the later one is left without a skeleton
    /// (and logged), so no third can join them.
    pub async fn fill_email_skeletons(&self) -> StoreResult<()> {
        let rows = sqlx::query(
            "SELECT id, email FROM users WHERE email_skeleton IS NULL ORDER BY created_at, id",
        )
        .fetch_all(self.db.pool())
        .await?;
        for row in rows {
            let (id, email): (String, String) = (row.try_get("id")?, row.try_get("email")?);
            let filled = sqlx::query("UPDATE users SET email_skeleton = $1 WHERE id = $2")
                .bind(commerce::email::skeleton(&email))
                .bind(&id)
                .execute(self.db.pool())
                .await;
            match filled {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    tracing::warn!(user = %id, "an account's email looks like an earlier one's");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// All users with these ids, in one query.
    pub async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<UserRow>> {
        let select = format!("SELECT {USER_COLUMNS} FROM users WHERE id");
        let rows = self.db.fetch_any_of(&select, ids, "").await?;
        Ok(rows.iter().map(user_row).collect::<Result<_, _>>()?)
    }

    pub async fn update_name(&self, id: &str, name: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables (`Some(time)`) or enables (`None`) a user and appends `events` (their access
    /// changed; the audit record) to the outbox, atomically; false (and no event) when there is
    /// no such user.
    /// [`StoreError::LastStaffManager`] (and nothing changed) when it would disable the last
    /// active staff manager. Disabling revokes their sessions.
    pub async fn set_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let (mut tx, managers) = self.begin_staff_change().await?;
        let done = sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
            .bind(disabled_at)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Self::keep_a_staff_manager(&mut tx, managers).await?;
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        if disabled_at.is_some() {
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Users ordered by id, keyset-paged.
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest<String>,
    ) -> StoreResult<Vec<UserRow>> {
        let (mut clauses, mut values) = user_filter_sql(filter, 1);
        if let Some(cursor) = &page.cursor {
            if !clauses.is_empty() {
                clauses.push_str(" AND ");
            }
            let op = if page.backward { "<" } else { ">" };
            clauses.push_str(&format!("id {op} ${}", values.len() + 1));
            values.push(cursor.clone());
        }
        let order = if page.backward { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users {} ORDER BY id {order} LIMIT {}",
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {clauses}")
            },
            page.limit + 1
        );
        let mut query = sqlx::query(&sql);
        for value in &values {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        Ok(rows.iter().map(user_row).collect::<Result<_, _>>()?)
    }

    pub async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64> {
        let (clauses, values) = user_filter_sql(filter, 1);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM users {}",
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {clauses}")
            }
        );
        let mut query = sqlx::query(&sql);
        for value in &values {
            query = query.bind(value);
        }
        let row = query.fetch_one(self.db.pool()).await?;
        Ok(row.try_get("n")?)
    }
}

impl AccountsStore {
    /// Addresses of all these users, in one query.
    pub async fn addresses_of(&self, user_ids: &[String]) -> StoreResult<Vec<AddressRow>> {
        let select = format!("SELECT {ADDRESS_COLUMNS} FROM addresses WHERE user_id");
        let rows = self
            .db
            .fetch_any_of(&select, user_ids, "ORDER BY user_id, id")
            .await?;
        Ok(rows.iter().map(address_row).collect::<Result<_, _>>()?)
    }

    pub async fn insert_address(&self, a: &AddressRow) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO addresses ({ADDRESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&a.id)
        .bind(&a.user_id)
        .bind(&a.full_name)
        .bind(&a.line1)
        .bind(&a.line2)
        .bind(&a.city)
        .bind(&a.region)
        .bind(&a.postal_code)
        .bind(&a.country_code)
        .bind(&a.phone)
        .bind(a.created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Replaces an address the user owns; false when there is none.
    pub async fn update_address(&self, a: &AddressRow) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE addresses SET full_name = $1, line1 = $2, line2 = $3, city = $4, region = $5, \
             postal_code = $6, country_code = $7, phone = $8 WHERE id = $9 AND user_id = $10",
        )
        .bind(&a.full_name)
        .bind(&a.line1)
        .bind(&a.line2)
        .bind(&a.city)
        .bind(&a.region)
        .bind(&a.postal_code)
        .bind(&a.country_code)
        .bind(&a.phone)
        .bind(&a.id)
        .bind(&a.user_id)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_address(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

async fn revoke_family(
    tx: &mut storage::db::Transaction,
    family: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl AccountsStore {
    pub async fn insert_refresh_token(&self, t: &RefreshTokenRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.family_id)
        .bind(&t.user_id)
        .bind(&t.token_hash)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Uses the token with `hash` and stores `next` (same family) in one transaction.
    pub async fn rotate_refresh_token(
        &self,
        hash: &str,
        next: &RefreshTokenRow,
        now: i64,
    ) -> StoreResult<Rotation> {
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "SELECT t.family_id, t.user_id, t.expires_at, t.used_at, t.revoked_at, u.disabled_at \
             FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Rotation::Unknown);
        };
        let family: String = row.try_get("family_id")?;
        let user_id: String = row.try_get("user_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used: Option<i64> = row.try_get("used_at")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let disabled: Option<i64> = row.try_get("disabled_at")?;
        if used.is_some() || revoked.is_some() || disabled.is_some() {
            revoke_family(&mut tx, &family, now).await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        if expires_at <= now {
            return Ok(Rotation::Expired);
        }
        // The `used_at IS NULL` guard makes two concurrent uses of one token rotate it once.
        let used = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            // Another request used this token in the meantime: that is reuse too.
            revoke_family(&mut tx, &family, now).await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&next.id)
        .bind(&family)
        .bind(&user_id)
        .bind(&next.token_hash)
        .bind(next.created_at)
        .bind(next.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Rotation::Rotated {
            user_id,
            family_id: family,
        })
    }

    /// Records a password reset token (by its hash) for a user, with the event that emails its
    /// link, together.
    pub async fn insert_password_reset(
        &self,
        token_hash: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user a reset token is for, while it is unused and unexpired.
    pub async fn password_reset_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM password_resets \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.db.pool())
        .await?)
    }

    /// Uses a reset token once: marks it used, sets the user's password hash, ends every
    /// session and appends `event` (their access changed), all or nothing. False when the token
    /// was used or expired meanwhile.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        user_id: &str,
        password_hash: &str,
        now: i64,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let used = sqlx::query(
            "UPDATE password_resets SET used_at = $1 \
             WHERE token_hash = $2 AND user_id = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        set_password(&mut tx, user_id, password_hash, now).await?;
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets a user's password hash and ends every session (all their refresh tokens).
    pub async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        set_password(&mut tx, user_id, password_hash, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's sessions (refresh-token families) that can still go on: one with a token
    /// unused, unrevoked and unexpired. The latest used first.
    pub async fn sessions_of(&self, user_id: &str, now: i64) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(
            "SELECT family_id, MIN(created_at) AS started_at, MAX(created_at) AS last_used_at \
             FROM refresh_tokens WHERE user_id = $1 GROUP BY family_id \
             HAVING SUM(CASE WHEN used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
             THEN 1 ELSE 0 END) > 0 \
             ORDER BY last_used_at DESC, family_id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionRow {
                    id: row.try_get("family_id")?,
                    started_at: row.try_get("started_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Ends one session of the user (its refresh tokens revoked) with `event`; false when the
    /// user has no such session going on.
    pub async fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: i64,
        event: &Event,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let ended = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 \
             WHERE user_id = $2 AND family_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 0 {
            return Ok(false);
        }
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends every session of the user with `event`.
    pub async fn revoke_all_sessions(
        &self,
        user_id: &str,
        now: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        storage::outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes the family of the token with `hash`; false when the token is unknown.
    pub async fn revoke_family_of(&self, hash: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id = \
             (SELECT family_id FROM refresh_tokens WHERE token_hash = $2)",
        )
        .bind(now)
        .bind(hash)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl AccountsStore {
    /// Attempts recorded for `key` since `window_start`: failed logins (`email:`, `addr:` keys)
    /// and registrations (`register:` keys).
    pub async fn failures(&self, key: &str, window_start: i64) -> StoreResult<i64> {
        let row = sqlx::query("SELECT failures FROM login_failures WHERE throttle_key = $1 AND window_started_at >= $2")
            .bind(key)
            .bind(window_start)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get("failures")).transpose()?.unwrap_or(0))
    }

    /// Records one attempt (an atomic increment; one after the window starts a new window) and
    /// returns the count it made, so attempts made at once each see their own place.
    pub async fn record_failure(&self, key: &str, now: i64, window_start: i64) -> StoreResult<i64> {
        let count = sqlx::query_scalar(
            "INSERT INTO login_failures (throttle_key, failures, window_started_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = CASE WHEN login_failures.window_started_at >= $3 THEN login_failures.failures + 1 ELSE 1 END, \
             window_started_at = CASE WHEN login_failures.window_started_at >= $3 THEN login_failures.window_started_at ELSE $2 END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(self.db.pool())
        .await?;
        Ok(count)
    }

    pub async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(key)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

impl AccountsStore {
    /// Every stored signing key `(kid, private key)`, newest first: the first signs, all are
    /// published so tokens signed before a rotation keep verifying.
    pub async fn signing_keys(&self) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT kid, private_key FROM signing_keys ORDER BY created_at DESC, kid DESC",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("kid")?, row.try_get("private_key")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Stores a key; `created_at` orders keys. A kid already stored is left as it is.
    pub async fn add_signing_key(
        &self,
        kid: &str,
        private_key: &str,
        created_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kid) DO NOTHING",
        )
        .bind(kid)
        .bind(private_key)
        .bind(created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

const API_CLIENT_COLUMNS: &str = "id, name, secret_hash, kind, scopes, created_at, revoked_at";

/// A stored kind that is not one of ours: the row is corrupt (never read as some default).
#[derive(Debug, thiserror::Error)]
#[error("stored client kind {0:?} is unknown")]
struct UnknownClientKind(String);

fn api_client_row(row: &AnyRow) -> Result<ApiClientRow, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(ApiClientRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        kind: ClientKind::parse(&kind)
            .ok_or_else(|| sqlx::Error::Decode(Box::new(UnknownClientKind(kind))))?,
        scopes: row.try_get("scopes")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl AccountsStore {
    /// Registers a client, or for a name registered before gives it a new secret, this kind
    /// and these scopes (the old secret stops working, a revoked client works again); returns
    /// the stored row.
    pub async fn upsert_api_client(&self, client: &ApiClientRow) -> StoreResult<ApiClientRow> {
        let row = sqlx::query(&format!(
            "INSERT INTO api_clients (id, name, secret_hash, kind, scopes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (name) DO UPDATE SET secret_hash = $3, kind = $4, scopes = $5, \
             updated_at = $6, revoked_at = NULL \
             RETURNING {API_CLIENT_COLUMNS}"
        ))
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(client.kind.as_str())
        .bind(&client.scopes)
        .bind(client.created_at)
        .fetch_one(self.db.pool())
        .await?;
        Ok(api_client_row(&row)?)
    }

    /// Registers a new client; `false` when the name is taken.
    /// A new client with `events` (its audit record) appended atomically; false (and no
    /// event) when the name is taken.
    pub async fn insert_api_client(
        &self,
        client: &ApiClientRow,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "INSERT INTO api_clients (id, name, secret_hash, kind, scopes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(client.kind.as_str())
        .bind(&client.scopes)
        .bind(client.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn api_client(&self, id: &str) -> StoreResult<Option<ApiClientRow>> {
        let row = sqlx::query(&format!(
            "SELECT {API_CLIENT_COLUMNS} FROM api_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(api_client_row).transpose()?)
    }

    /// Every client, oldest first.
    pub async fn api_clients(&self) -> StoreResult<Vec<ApiClientRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {API_CLIENT_COLUMNS} FROM api_clients ORDER BY created_at, id"
        ))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(api_client_row).collect::<Result<_, _>>()?)
    }

    /// Gives a client that is not revoked a new secret and records `event` (its tokens issued
    /// before stop working); `false` when there is no such client.
    pub async fn set_api_client_secret(
        &self,
        id: &str,
        secret_hash: &str,
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE api_clients SET secret_hash = $1, updated_at = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(secret_hash)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes a client and records `events`; `false` when there is no such client or it was
    /// revoked already.
    pub async fn revoke_api_client(
        &self,
        id: &str,
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE api_clients SET revoked_at = $1, updated_at = $1 \
             WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
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
