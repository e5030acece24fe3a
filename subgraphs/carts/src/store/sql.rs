//! Carts in the subgraph's SQL database (the embedded mode's SQLite file): one write transaction
//! per change, limits checked inside it, expiry as a timestamp that reads respect.

use std::time::Duration;

use async_trait::async_trait;
use primitives::time::now_millis;
use sqlx::Row;
use storage::db::Database;

use super::*;
use crate::domain::{merged_quantity, MAX_LINES, MAX_QUANTITY};

pub struct SqlCarts {
    db: Database,
}

impl SqlCarts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type Tx = storage::db::Transaction;

/// The live cart at `key` inside `tx`; an expired one is deleted and reads as missing.
async fn live_cart(tx: &mut Tx, key: &str) -> StoreResult<Option<StoredCart>> {
    let Some(row) =
        sqlx::query("SELECT created_at, updated_at, expires_at FROM carts WHERE cart_key = $1")
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Ok(None);
    };
    if row.try_get::<i64, _>("expires_at")? <= now_millis() {
        delete_cart(tx, key).await?;
        return Ok(None);
    }
    let lines = sqlx::query(
        "SELECT variant_id, product_id, quantity, added_at FROM cart_items WHERE cart_key = $1 \
         ORDER BY added_at, variant_id",
    )
    .bind(key)
    .fetch_all(&mut **tx)
    .await?;
    Ok(Some(StoredCart {
        key: key.into(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        lines: lines
            .iter()
            .map(|line| {
                Ok(StoredLine {
                    variant_id: line.try_get("variant_id")?,
                    product_id: line.try_get("product_id")?,
                    quantity: line.try_get("quantity")?,
                    added_at: line.try_get("added_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?,
    }))
}

async fn delete_cart(tx: &mut Tx, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM cart_items WHERE cart_key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM carts WHERE cart_key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_cart(tx: &mut Tx, key: &str, ttl: Duration) -> StoreResult<()> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO carts (cart_key, created_at, updated_at, expires_at) VALUES ($1, $2, $2, $3)",
    )
    .bind(key)
    .bind(now)
    .bind(now + ttl.as_millis() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a change: the cart's TTL starts again.
async fn touch(tx: &mut Tx, key: &str, ttl: Duration) -> StoreResult<()> {
    let now = now_millis();
    sqlx::query("UPDATE carts SET updated_at = $1, expires_at = $2 WHERE cart_key = $3")
        .bind(now)
        .bind(now + ttl.as_millis() as i64)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn set_line(tx: &mut Tx, key: &str, line: &StoredLine, exists: bool) -> StoreResult<()> {
    let sql = if exists {
        "UPDATE cart_items SET quantity = $3 WHERE cart_key = $1 AND variant_id = $2"
    } else {
        "INSERT INTO cart_items (cart_key, variant_id, quantity, added_at, product_id) \
         VALUES ($1, $2, $3, $4, $5)"
    };
    sqlx::query(sql)
        .bind(key)
        .bind(&line.variant_id)
        .bind(line.quantity)
        .bind(line.added_at)
        .bind(&line.product_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait]
impl CartStore for SqlCarts {
    async fn create(&self, key: &str, ttl: Duration) -> StoreResult<StoredCart> {
        let mut tx = self.db.begin().await?;
        if live_cart(&mut tx, key).await?.is_none() {
            insert_cart(&mut tx, key, ttl).await?;
        }
        let cart = live_cart(&mut tx, key).await?;
        tx.commit().await?;
        cart.ok_or_else(|| StoreError::Corrupt(format!("cart {key} vanished after creation")))
    }

    async fn get(&self, key: &str) -> StoreResult<Option<StoredCart>> {
        let mut tx = self.db.begin().await?;
        let cart = live_cart(&mut tx, key).await?;
        tx.commit().await?;
        Ok(cart)
    }

    async fn change(
        &self,
        key: &str,
        variant_id: &str,
        change: LineChange,
        create: bool,
        ttl: Duration,
    ) -> StoreResult<ChangeOutcome> {
        let mut tx = self.db.begin().await?;
        let cart = match live_cart(&mut tx, key).await? {
            Some(cart) => cart,
            None if create => {
                insert_cart(&mut tx, key, ttl).await?;
                StoredCart {
                    key: key.into(),
                    lines: Vec::new(),
                    created_at: now_millis(),
                    updated_at: now_millis(),
                }
            }
            None => return Ok(ChangeOutcome::NoCart),
        };
        let existing = cart.lines.iter().find(|l| l.variant_id == variant_id);
        let current = existing.map_or(0, |l| l.quantity);
        let new = match (&change, existing) {
            (LineChange::Add { quantity, .. }, _) => current + quantity,
            (LineChange::Set(n), Some(_)) => *n,
            (LineChange::Remove, Some(_)) => 0,
            (_, None) => return Ok(ChangeOutcome::NoLine),
        };
        if new > MAX_QUANTITY {
            return Ok(ChangeOutcome::TooMany { current });
        }
        if existing.is_none() && cart.lines.len() >= MAX_LINES {
            return Ok(ChangeOutcome::TooManyLines);
        }
        if new == 0 {
            sqlx::query("DELETE FROM cart_items WHERE cart_key = $1 AND variant_id = $2")
                .bind(key)
                .bind(variant_id)
                .execute(&mut *tx)
                .await?;
        } else {
            let product_id = match (&change, existing) {
                (_, Some(line)) => line.product_id.clone(),
                (LineChange::Add { product_id, .. }, None) => product_id.clone(),
                (_, None) => return Ok(ChangeOutcome::NoLine),
            };
            let line = StoredLine {
                variant_id: variant_id.into(),
                product_id,
                quantity: new,
                added_at: existing.map_or_else(now_millis, |l| l.added_at),
            };
            set_line(&mut tx, key, &line, existing.is_some()).await?;
        }
        touch(&mut tx, key, ttl).await?;
        let cart = live_cart(&mut tx, key).await?;
        tx.commit().await?;
        Ok(cart.map_or(ChangeOutcome::NoCart, ChangeOutcome::Changed))
    }

    async fn clear(&self, key: &str, ttl: Duration) -> StoreResult<Option<StoredCart>> {
        let mut tx = self.db.begin().await?;
        if live_cart(&mut tx, key).await?.is_none() {
            return Ok(None);
        }
        sqlx::query("DELETE FROM cart_items WHERE cart_key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        touch(&mut tx, key, ttl).await?;
        let cart = live_cart(&mut tx, key).await?;
        tx.commit().await?;
        Ok(cart)
    }

    async fn merge(
        &self,
        from: &str,
        into: &str,
        ttl: Duration,
    ) -> StoreResult<Option<StoredCart>> {
        let mut tx = self.db.begin().await?;
        let Some(guest) = live_cart(&mut tx, from).await? else {
            return Ok(None);
        };
        let mut target = match live_cart(&mut tx, into).await? {
            Some(cart) => cart,
            None => {
                insert_cart(&mut tx, into, ttl).await?;
                StoredCart {
                    key: into.into(),
                    lines: Vec::new(),
                    created_at: now_millis(),
                    updated_at: now_millis(),
                }
            }
        };
        for line in &guest.lines {
            let existing = target
                .lines
                .iter()
                .position(|l| l.variant_id == line.variant_id);
            match existing {
                Some(i) => {
                    target.lines[i].quantity =
                        merged_quantity(Some(target.lines[i].quantity), line.quantity);
                    set_line(&mut tx, into, &target.lines[i], true).await?;
                }
                None if target.lines.len() < MAX_LINES => {
                    let merged = StoredLine {
                        quantity: merged_quantity(None, line.quantity),
                        ..line.clone()
                    };
                    set_line(&mut tx, into, &merged, false).await?;
                    target.lines.push(merged);
                }
                None => {}
            }
        }
        delete_cart(&mut tx, from).await?;
        touch(&mut tx, into, ttl).await?;
        let cart = live_cart(&mut tx, into).await?;
        tx.commit().await?;
        Ok(cart)
    }
}
