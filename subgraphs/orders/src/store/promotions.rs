//! Promotions, the codes customers applied to their carts, each order's discounts, and the
//! uses orders hold. A use is taken in the transaction that creates the order, by a conditional
//! update that never passes the limit, and given back in the transaction that ends the checkout
//! failed, cancels the order or withdraws it: so a promotion limited to 100 uses is held by at
//! most 100 orders at any moment, whatever runs at once.

use commerce::money::CurrencyCode;
use event_bus::Event;
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Transaction;

use super::{corrupt, tax::rate_ppm, OrderStore, StoreResult};
use crate::domain::promotion::{Benefit, Promotion, Target};
use crate::domain::OrderDiscount;

const COLUMNS: &str = "id, name, code, kind, percent_ppm, amount_minor, buy_quantity, \
    get_quantity, target, target_ids, currency, min_subtotal_minor, starts_at, ends_at, \
    usage_limit, per_customer_limit, uses, combines, active, created_at";

/// What becomes of an order's uses of promotions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redemption {
    /// The order is paid: its uses count for good, and its codes leave the cart.
    Redeem,
    /// The checkout failed or the order was cancelled or withdrawn: its uses go back.
    Release,
}

fn promotion(row: &AnyRow) -> StoreResult<Promotion> {
    let id: String = row.try_get("id")?;
    let positive = |column: &str| -> StoreResult<u32> {
        let raw: Option<i64> = row.try_get(column)?;
        raw.and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or_else(|| corrupt(&id, format!("{column} missing or out of range")))
    };
    let kind: String = row.try_get("kind")?;
    let benefit = match kind.as_str() {
        "percent_off" => Benefit::PercentOff {
            ppm: rate_ppm(&id, positive("percent_ppm")?.into())?,
        },
        "amount_off" => Benefit::AmountOff {
            minor: row
                .try_get::<Option<i64>, _>("amount_minor")?
                .ok_or_else(|| corrupt(&id, "an amount_off promotion without its amount"))?,
        },
        "free_shipping" => Benefit::FreeShipping,
        "buy_x_get_y" => Benefit::BuyXGetY {
            buy: positive("buy_quantity")?,
            get: positive("get_quantity")?,
            ppm: rate_ppm(&id, positive("percent_ppm")?.into())?,
        },
        other => return Err(corrupt(&id, format!("promotion kind {other:?}"))),
    };
    let target: String = row.try_get("target")?;
    let raw_ids: String = row.try_get("target_ids")?;
    let ids: Vec<String> =
        serde_json::from_str(&raw_ids).map_err(|e| corrupt(&id, format!("target ids: {e}")))?;
    let target = match target.as_str() {
        "order" => Target::Order,
        "products" => Target::Products(ids),
        "collections" => Target::Collections(ids),
        "categories" => Target::Categories(ids),
        other => return Err(corrupt(&id, format!("promotion target {other:?}"))),
    };
    let currency: String = row.try_get("currency")?;
    let flag = |column: &str| -> StoreResult<bool> {
        match row.try_get::<i64, _>(column)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(&id, format!("{column} {other}"))),
        }
    };
    Ok(Promotion {
        name: row.try_get("name")?,
        code: row.try_get("code")?,
        benefit,
        target,
        currency: CurrencyCode::parse(&currency)
            .ok_or_else(|| corrupt(&id, format!("currency {currency:?}")))?,
        min_subtotal_minor: row.try_get("min_subtotal_minor")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        usage_limit: row.try_get("usage_limit")?,
        per_customer_limit: row.try_get("per_customer_limit")?,
        uses: row.try_get("uses")?,
        combines: flag("combines")?,
        active: flag("active")?,
        created_at: row.try_get("created_at")?,
        id,
    })
}

fn discount(row: &AnyRow) -> StoreResult<OrderDiscount> {
    Ok(OrderDiscount {
        order_id: row.try_get("order_id")?,
        promotion_id: row.try_get("promotion_id")?,
        name: row.try_get("name")?,
        code: row.try_get("code")?,
        amount_minor: row.try_get("amount_minor")?,
    })
}

/// Takes one use of each promotion `discounts` name for `customer_id`, and records the order's
/// discounts; the code (or, for an automatic one, the name) of the first promotion with no use
/// left (nothing is taken then: the caller rolls back).
pub(super) async fn hold_uses(
    tx: &mut Transaction,
    customer_id: &str,
    discounts: &[OrderDiscount],
    now: i64,
) -> StoreResult<Option<String>> {
    for (position, discount) in discounts.iter().enumerate() {
        let taken = sqlx::query(
            "UPDATE promotions SET uses = uses + 1, updated_at = $2 WHERE id = $1 \
             AND (usage_limit IS NULL OR uses < usage_limit)",
        )
        .bind(&discount.promotion_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if taken.rows_affected() == 0 {
            return Ok(Some(discount.code.clone().unwrap_or(discount.name.clone())));
        }
        // A first use is within any limit (limits are at least 1).
        let per_customer = sqlx::query(
            "INSERT INTO promotion_customer_uses (promotion_id, customer_id, uses) \
             VALUES ($1, $2, 1) \
             ON CONFLICT (promotion_id, customer_id) DO UPDATE \
             SET uses = promotion_customer_uses.uses + 1 \
             WHERE promotion_customer_uses.uses < (SELECT COALESCE(per_customer_limit, \
             promotion_customer_uses.uses + 1) FROM promotions WHERE id = $1)",
        )
        .bind(&discount.promotion_id)
        .bind(customer_id)
        .execute(&mut **tx)
        .await?;
        if per_customer.rows_affected() == 0 {
            return Ok(Some(discount.code.clone().unwrap_or(discount.name.clone())));
        }
        sqlx::query(
            "INSERT INTO promotion_redemptions (promotion_id, order_id, customer_id, status, \
             amount_minor, created_at, updated_at) VALUES ($1, $2, $3, 'held', $4, $5, $5)",
        )
        .bind(&discount.promotion_id)
        .bind(&discount.order_id)
        .bind(customer_id)
        .bind(discount.amount_minor)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO order_discounts (order_id, position, promotion_id, name, code, \
             amount_minor) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&discount.order_id)
        .bind(position as i64 + 1)
        .bind(&discount.promotion_id)
        .bind(&discount.name)
        .bind(&discount.code)
        .bind(discount.amount_minor)
        .execute(&mut **tx)
        .await?;
    }
    Ok(None)
}

/// Redeems or releases the order's uses (each once: a use already released stays so).
pub(super) async fn settle_uses(
    tx: &mut Transaction,
    order_id: &str,
    how: Redemption,
    now: i64,
) -> StoreResult<()> {
    match how {
        Redemption::Redeem => {
            sqlx::query(
                "UPDATE promotion_redemptions SET status = 'redeemed', updated_at = $2 \
                 WHERE order_id = $1 AND status = 'held'",
            )
            .bind(order_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            // The codes were for this order: the cart's next order starts without them.
            sqlx::query(
                "DELETE FROM cart_promotion_codes \
                 WHERE cart_id = (SELECT cart_id FROM checkouts WHERE order_id = $1) \
                 AND code IN (SELECT code FROM order_discounts \
                 WHERE order_id = $1 AND code IS NOT NULL)",
            )
            .bind(order_id)
            .execute(&mut **tx)
            .await?;
        }
        Redemption::Release => {
            let held: Vec<(String, String)> = sqlx::query_as(
                "SELECT promotion_id, customer_id FROM promotion_redemptions \
                 WHERE order_id = $1 AND status <> 'released'",
            )
            .bind(order_id)
            .fetch_all(&mut **tx)
            .await?;
            for (promotion_id, customer_id) in held {
                let released = sqlx::query(
                    "UPDATE promotion_redemptions SET status = 'released', updated_at = $3 \
                     WHERE promotion_id = $1 AND order_id = $2 AND status <> 'released'",
                )
                .bind(&promotion_id)
                .bind(order_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                if released.rows_affected() == 0 {
                    continue;
                }
                sqlx::query("UPDATE promotions SET uses = uses - 1 WHERE id = $1 AND uses > 0")
                    .bind(&promotion_id)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(
                    "UPDATE promotion_customer_uses SET uses = uses - 1 \
                     WHERE promotion_id = $1 AND customer_id = $2 AND uses > 0",
                )
                .bind(&promotion_id)
                .bind(&customer_id)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

impl OrderStore {
    /// A new promotion with `events` (its audit record) appended atomically.
    pub async fn insert_promotion(&self, p: &Promotion, events: &[Event]) -> StoreResult<()> {
        let (kind, percent, amount, buy, get) = match &p.benefit {
            Benefit::PercentOff { ppm } => ("percent_off", Some(*ppm as i64), None, None, None),
            Benefit::AmountOff { minor } => ("amount_off", None, Some(*minor), None, None),
            Benefit::FreeShipping => ("free_shipping", None, None, None, None),
            Benefit::BuyXGetY { buy, get, ppm } => (
                "buy_x_get_y",
                Some(*ppm as i64),
                None,
                Some(*buy as i64),
                Some(*get as i64),
            ),
        };
        let (target, ids) = match &p.target {
            Target::Order => ("order", &Vec::new()),
            Target::Products(ids) => ("products", ids),
            Target::Collections(ids) => ("collections", ids),
            Target::Categories(ids) => ("categories", ids),
        };
        let ids = serde_json::to_string(ids).expect("ids serialize");
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO promotions ({COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)"
        ))
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.code)
        .bind(kind)
        .bind(percent)
        .bind(amount)
        .bind(buy)
        .bind(get)
        .bind(target)
        .bind(ids)
        .bind(p.currency.as_str())
        .bind(p.min_subtotal_minor)
        .bind(p.starts_at)
        .bind(p.ends_at)
        .bind(p.usage_limit)
        .bind(p.per_customer_limit)
        .bind(p.uses)
        .bind(i64::from(p.combines))
        .bind(i64::from(p.active))
        .bind(p.created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(super::StoreError::Duplicate("code"))
            }
            Err(e) => return Err(e.into()),
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Turns a promotion on or off; false when there is no such promotion.
    pub async fn set_promotion_active(
        &self,
        id: &str,
        active: bool,
        events: &[Event],
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let changed =
            sqlx::query("UPDATE promotions SET active = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(i64::from(active))
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        for event in events {
            storage::outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn promotion(&self, id: &str) -> StoreResult<Option<Promotion>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM promotions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(promotion).transpose()
    }

    /// Every promotion, newest first.
    pub async fn promotions(&self, limit: i64) -> StoreResult<Vec<Promotion>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM promotions ORDER BY created_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(promotion).collect()
    }

    /// The promotions with these codes (upper case) and every active automatic one.
    pub async fn promotions_for(&self, codes: &[String]) -> StoreResult<Vec<Promotion>> {
        let mut rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM promotions WHERE active = 1 AND code IS NULL"
        ))
        .fetch_all(self.db.pool())
        .await?;
        if !codes.is_empty() {
            let select = format!("SELECT {COLUMNS} FROM promotions WHERE code");
            rows.extend(self.db.fetch_any_of(&select, codes, "").await?);
        }
        rows.iter().map(promotion).collect()
    }

    /// How often `customer_id` used each of `promotion_ids` (held or redeemed).
    pub async fn customer_uses(
        &self,
        customer_id: &str,
        promotion_ids: &[String],
    ) -> StoreResult<Vec<(String, i64)>> {
        if promotion_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One query for all of them; a promotion the customer never used has no row.
        let rows = sqlx::query(&format!(
            "SELECT promotion_id, uses FROM promotion_customer_uses \
             WHERE customer_id = $1 AND promotion_id IN ({})",
            self.db.any_of_json(2)
        ))
        .bind(customer_id)
        .bind(storage::db::json_list(promotion_ids))
        .fetch_all(self.db.pool())
        .await?;
        let mut used = std::collections::HashMap::new();
        for row in &rows {
            let id: String = row.try_get("promotion_id")?;
            let uses: i64 = row.try_get("uses")?;
            used.insert(id, uses);
        }
        Ok(promotion_ids
            .iter()
            .map(|id| (id.clone(), used.get(id).copied().unwrap_or(0)))
            .collect())
    }

    /// The codes applied to a cart, oldest first.
    pub async fn cart_codes(&self, cart_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT code FROM cart_promotion_codes WHERE cart_id = $1 ORDER BY added_at, code",
        )
        .bind(cart_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Adds a code to a cart (again: nothing changes).
    pub async fn add_cart_code(&self, cart_id: &str, code: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO cart_promotion_codes (cart_id, code, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (cart_id, code) DO NOTHING",
        )
        .bind(cart_id)
        .bind(code)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn remove_cart_code(&self, cart_id: &str, code: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM cart_promotion_codes WHERE cart_id = $1 AND code = $2")
            .bind(cart_id)
            .bind(code)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    pub async fn discounts_of(&self, order_ids: &[String]) -> StoreResult<Vec<OrderDiscount>> {
        let select = "SELECT order_id, promotion_id, name, code, amount_minor \
             FROM order_discounts WHERE order_id";
        let rows = self
            .db
            .fetch_any_of(select, order_ids, "ORDER BY order_id, position")
            .await?;
        rows.iter().map(discount).collect()
    }

    /// How many orders hold a use of the promotion, by status of their redemption.
    pub async fn redemptions(&self, promotion_id: &str) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM promotion_redemptions WHERE promotion_id = $1 \
             GROUP BY status ORDER BY status",
        )
        .bind(promotion_id)
        .fetch_all(self.db.pool())
        .await?)
    }
}
