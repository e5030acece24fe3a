//! Staff roles and who holds them. Every change to them runs with the staff roles locked and
//! refuses to leave the shop without an active user holding `staff:manage`.

use auth::Permission;
use event_bus::Event;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::sql::is_unique_violation;
use super::{AccountsStore, StoreError, StoreResult};
use crate::domain::staff::StaffRole;

const ROLE_COLUMNS: &str = "id, name, permissions, created_at, updated_at";

fn staff_role(row: &AnyRow) -> StoreResult<StaffRole> {
    let permissions: String = row.try_get("permissions")?;
    Ok(StaffRole {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        permissions: auth::permission::decode(&permissions)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Active users holding `staff:manage`.
async fn staff_managers(tx: &mut storage::db::Transaction) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(DISTINCT u.id) FROM users u \
         JOIN staff_members m ON m.user_id = u.id \
         JOIN staff_roles r ON r.id = m.role_id \
         WHERE u.disabled_at IS NULL AND (' ' || r.permissions || ' ') LIKE '% staff:manage %'",
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// The members of a role, in id order.
async fn members(tx: &mut storage::db::Transaction, role_id: &str) -> StoreResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT user_id FROM staff_members WHERE role_id = $1 ORDER BY user_id")
            .bind(role_id)
            .fetch_all(&mut **tx)
            .await?,
    )
}

impl AccountsStore {
    /// Starts a change to staff access: the staff roles stay locked until it ends, so two
    /// changes (two managers demoting each other, say) run one after the other. Returns the
    /// number of active staff managers before the change.
    pub(super) async fn begin_staff_change(&self) -> StoreResult<(storage::db::Transaction, i64)> {
        let mut tx = self.database().begin().await?;
        sqlx::query(&format!(
            "SELECT id FROM staff_roles ORDER BY id {}",
            self.database().row_lock("FOR UPDATE")
        ))
        .fetch_all(&mut *tx)
        .await?;
        let managers = staff_managers(&mut tx).await?;
        Ok((tx, managers))
    }

    /// Refuses ([`StoreError::LastStaffManager`]) a change that took the last active staff
    /// manager away; the caller's transaction then rolls back.
    pub(super) async fn keep_a_staff_manager(
        tx: &mut storage::db::Transaction,
        managers_before: i64,
    ) -> StoreResult<()> {
        if managers_before > 0 && staff_managers(tx).await? == 0 {
            return Err(StoreError::LastStaffManager);
        }
        Ok(())
    }

    pub async fn staff_roles(&self) -> StoreResult<Vec<StaffRole>> {
        let rows = sqlx::query(&format!(
            "SELECT {ROLE_COLUMNS} FROM staff_roles ORDER BY name"
        ))
        .fetch_all(self.database().pool())
        .await?;
        rows.iter().map(staff_role).collect()
    }

    pub async fn staff_role(&self, id: &str) -> StoreResult<Option<StaffRole>> {
        let row = sqlx::query(&format!(
            "SELECT {ROLE_COLUMNS} FROM staff_roles WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.database().pool())
        .await?;
        row.as_ref().map(staff_role).transpose()
    }

    /// The staff roles a user holds, by name.
    pub async fn staff_roles_of(&self, user_id: &str) -> StoreResult<Vec<StaffRole>> {
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.permissions, r.created_at, r.updated_at FROM staff_roles r \
             JOIN staff_members m ON m.role_id = r.id WHERE m.user_id = $1 ORDER BY r.name",
        )
        .bind(user_id)
        .fetch_all(self.database().pool())
        .await?;
        rows.iter().map(staff_role).collect()
    }

    /// What the user's staff roles grant together (sorted, without repeats).
    pub async fn permissions_of(&self, user_id: &str) -> StoreResult<Vec<Permission>> {
        let mut permissions: Vec<Permission> = self
            .staff_roles_of(user_id)
            .await?
            .into_iter()
            .flat_map(|role| role.permissions)
            .collect();
        permissions.sort();
        permissions.dedup();
        Ok(permissions)
    }

    /// Every user holding a staff role, by email.
    pub async fn staff_users(&self) -> StoreResult<Vec<crate::store::UserRow>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT user_id FROM staff_members ORDER BY user_id")
                .fetch_all(self.database().pool())
                .await?;
        let mut users = self.users_by_ids(&ids).await?;
        users.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(users)
    }

    pub async fn member_count(&self, role_id: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM staff_members WHERE role_id = $1")
                .bind(role_id)
                .fetch_one(self.database().pool())
                .await?,
        )
    }

    /// A new role, with `events` (its audit record) appended to the outbox atomically;
    /// [`StoreError::DuplicateRoleName`] when the name is taken.
    pub async fn insert_staff_role(&self, role: &StaffRole, events: &[Event]) -> StoreResult<()> {
        let mut tx = self.database().begin().await?;
        let result = sqlx::query(&format!(
            "INSERT INTO staff_roles ({ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&role.id)
        .bind(&role.name)
        .bind(auth::permission::encode(&role.permissions))
        .bind(role.created_at)
        .bind(role.updated_at)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateRoleName),
            Err(e) => return Err(e.into()),
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Saves a role's name and permissions, with `audit` and `access_changed(member)` for every
    /// member appended to the outbox, atomically. False when there is no such role.
    pub async fn update_staff_role(
        &self,
        role: &StaffRole,
        access_changed: impl Fn(&str) -> Event,
        audit: &Event,
    ) -> StoreResult<bool> {
        let (mut tx, managers) = self.begin_staff_change().await?;
        let result = sqlx::query(
            "UPDATE staff_roles SET name = $1, permissions = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(&role.name)
        .bind(auth::permission::encode(&role.permissions))
        .bind(role.updated_at)
        .bind(&role.id)
        .execute(&mut *tx)
        .await;
        let done = match result {
            Ok(done) => done,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateRoleName),
            Err(e) => return Err(e.into()),
        };
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Self::keep_a_staff_manager(&mut tx, managers).await?;
        for member in members(&mut tx, &role.id).await? {
            storage::outbox::append(&mut tx, &access_changed(&member)).await?;
        }
        storage::outbox::append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a role (its members lose what it granted), with `audit` and
    /// `access_changed(member)` for every member. False when there is no such role.
    pub async fn delete_staff_role(
        &self,
        id: &str,
        access_changed: impl Fn(&str) -> Event,
        audit: &Event,
    ) -> StoreResult<bool> {
        let (mut tx, managers) = self.begin_staff_change().await?;
        let held_by = members(&mut tx, id).await?;
        sqlx::query("DELETE FROM staff_members WHERE role_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM staff_roles WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Self::keep_a_staff_manager(&mut tx, managers).await?;
        for member in held_by {
            storage::outbox::append(&mut tx, &access_changed(&member)).await?;
        }
        storage::outbox::append(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Gives a user exactly these staff roles (none: no longer staff) with `events` (their
    /// access changed, none for a user who cannot hold a token yet; the audit record). False
    /// when the user or one of the roles does not exist.
    pub async fn set_staff_roles(
        &self,
        user_id: &str,
        role_ids: &[String],
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let (mut tx, managers) = self.begin_staff_change().await?;
        let done = sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_members WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for role_id in role_ids {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT id FROM staff_roles WHERE id = $1")
                    .bind(role_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Ok(false);
            }
            sqlx::query("INSERT INTO staff_members (user_id, role_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(role_id)
                .execute(&mut *tx)
                .await?;
        }
        Self::keep_a_staff_manager(&mut tx, managers).await?;
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Adds one staff role to a user (kept when they hold it already), with `events`, in one
    /// transaction (a concurrent change of their roles is not lost); false when the user or the
    /// role does not exist.
    pub async fn add_staff_role(
        &self,
        user_id: &str,
        role_id: &str,
        now: i64,
        events: &[Event],
    ) -> StoreResult<bool> {
        let (mut tx, _) = self.begin_staff_change().await?;
        let user = sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let role: Option<String> = sqlx::query_scalar("SELECT id FROM staff_roles WHERE id = $1")
            .bind(role_id)
            .fetch_optional(&mut *tx)
            .await?;
        if user.rows_affected() != 1 || role.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO staff_members (user_id, role_id) VALUES ($1, $2) \
             ON CONFLICT (user_id, role_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(role_id)
        .execute(&mut *tx)
        .await?;
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
