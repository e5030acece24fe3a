use event_bus::Event;
use primitives::id::new_id;
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;

use super::*;
use crate::domain::allocation::{allocate, Level};
use crate::domain::{crossing, Crossing};
use events::inventory::StockLow;

type Tx = storage::db::Transaction;

#[derive(Clone)]
pub struct InventoryStore {
    db: Database,
    /// The low-stock threshold of variants without one of their own.
    default_threshold: i64,
}

impl InventoryStore {
    pub fn new(db: Database, default_threshold: i64) -> Self {
        Self {
            db,
            default_threshold,
        }
    }

    /// Publishes `StockLow` for variants whose available stock crossed their threshold in this
    /// transaction. The alert row is locked first (`FOR UPDATE` where the backend has row locks;
    /// SQLite's write transactions are exclusive), so concurrent changes of one variant take
    /// turns and the event fires once.
    async fn check_low_stock(&self, tx: &mut Tx, variant_ids: &[String]) -> StoreResult<()> {
        let now = now_millis();
        for variant_id in variant_ids {
            sqlx::query(
                "INSERT INTO stock_alerts (variant_id, low, changed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (variant_id) DO NOTHING",
            )
            .bind(variant_id)
            .bind(0i64)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let was_low = flag(
                &sqlx::query(&format!(
                    "SELECT low FROM stock_alerts WHERE variant_id = $1 {}",
                    self.db.row_lock("FOR UPDATE")
                ))
                .bind(variant_id)
                .fetch_one(&mut **tx)
                .await?,
                "low",
            )?;
            let row = sqlx::query(
                "SELECT COUNT(s.variant_id) AS stocked, MAX(s.product_id) AS product_id, \
                        CAST(COALESCE(SUM(s.on_hand - s.reserved), 0) AS BIGINT) AS available, \
                        (SELECT threshold FROM stock_thresholds t WHERE t.variant_id = $1) \
                          AS threshold \
                 FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id \
                 WHERE s.variant_id = $1 AND w.active = 1",
            )
            .bind(variant_id)
            .fetch_one(&mut **tx)
            .await?;
            // A variant no active warehouse carries is not low: it is not stocked at all.
            if row.try_get::<i64, _>("stocked")? == 0 {
                continue;
            }
            let available: i64 = row.try_get("available")?;
            let threshold = row
                .try_get::<Option<i64>, _>("threshold")?
                .unwrap_or(self.default_threshold);
            let low = match crossing(was_low, available, threshold) {
                Crossing::Unchanged => continue,
                Crossing::Recovered => false,
                Crossing::BecameLow => {
                    let fact = StockLow {
                        product_id: row.try_get("product_id")?,
                        variant_id: Some(variant_id.clone()),
                        available,
                        threshold,
                    };
                    storage::outbox::append(tx, &Event::new("inventory", &fact)).await?;
                    true
                }
            };
            sqlx::query("UPDATE stock_alerts SET low = $1, changed_at = $2 WHERE variant_id = $3")
                .bind(i64::from(low))
                .bind(now)
                .bind(variant_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn reservation_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        order_reference: &str,
        lock: bool,
    ) -> StoreResult<Option<Reservation>> {
        let lock = if lock {
            self.db.row_lock("FOR UPDATE")
        } else {
            ""
        };
        let Some(row) = sqlx::query(&format!(
            "SELECT order_reference, status, expires_at FROM reservations \
             WHERE order_reference = $1 {lock}"
        ))
        .bind(order_reference)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let lines = sqlx::query(
            "SELECT variant_id, warehouse_id, quantity FROM reserved_units \
             WHERE order_reference = $1 ORDER BY variant_id, warehouse_id",
        )
        .bind(order_reference)
        .fetch_all(&mut *tx)
        .await?;
        Ok(Some(Reservation {
            order_reference: row.try_get("order_reference")?,
            status: parse_status(&row.try_get::<String, _>("status")?)?,
            expires_at: row.try_get("expires_at")?,
            lines: lines
                .iter()
                .map(|line| {
                    Ok(ReservedLine {
                        variant_id: line.try_get("variant_id")?,
                        warehouse_id: line.try_get("warehouse_id")?,
                        quantity: line.try_get("quantity")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
        }))
    }

    async fn set_status(
        &self,
        tx: &mut Tx,
        order_reference: &str,
        status: ReservationStatus,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE reservations SET status = $1, updated_at = $2 WHERE order_reference = $3",
        )
        .bind(status.as_str())
        .bind(now_millis())
        .bind(order_reference)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn adjustment_by_key(&self, key: &str) -> StoreResult<Option<Adjustment>> {
        let row = sqlx::query(&format!(
            "SELECT {LEDGER_COLUMNS} FROM stock_moves WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(adjustment).transpose()
    }
}

const LEDGER_COLUMNS: &str = "id, variant_id, product_id, warehouse_id, kind, delta, \
     on_hand_after, reason, actor, created_at";

fn parse_status(raw: &str) -> StoreResult<ReservationStatus> {
    ReservationStatus::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(format!("reservation status {raw:?}")))
}

fn warehouse(row: &AnyRow) -> StoreResult<Warehouse> {
    Ok(Warehouse {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        active: flag(row, "active")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A 0/1 flag column.
fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<i64, _>(column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(StoreError::Corrupt(format!("{column} = {other}"))),
    }
}

fn adjustment(row: &AnyRow) -> StoreResult<Adjustment> {
    let kind: String = row.try_get("kind")?;
    Ok(Adjustment {
        id: row.try_get("id")?,
        variant_id: row.try_get("variant_id")?,
        product_id: row.try_get("product_id")?,
        warehouse_id: row.try_get("warehouse_id")?,
        kind: AdjustmentKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("adjustment kind {kind:?}")))?,
        delta: row.try_get("delta")?,
        on_hand_after: row.try_get("on_hand_after")?,
        reason: row.try_get("reason")?,
        actor: row.try_get("actor")?,
        created_at: row.try_get("created_at")?,
    })
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

impl InventoryStore {
    pub async fn create_warehouse(&self, w: &Warehouse) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO warehouses (id, code, name, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&w.id)
        .bind(&w.code)
        .bind(&w.name)
        .bind(i64::from(w.active))
        .bind(w.created_at)
        .execute(self.db.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::DuplicateCode
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    pub async fn update_warehouse(
        &self,
        id: &str,
        name: Option<&str>,
        active: Option<bool>,
    ) -> StoreResult<Option<Warehouse>> {
        let mut tx = self.db.begin().await?;
        let Some(current) =
            sqlx::query("SELECT id, code, name, active, created_at FROM warehouses WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let mut updated = warehouse(&current)?;
        if let Some(name) = name {
            updated.name = name.into();
        }
        if let Some(active) = active {
            updated.active = active;
        }
        sqlx::query("UPDATE warehouses SET name = $1, active = $2, updated_at = $3 WHERE id = $4")
            .bind(&updated.name)
            .bind(i64::from(updated.active))
            .bind(now_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Closing or opening a warehouse changes what is available.
        let variants: Vec<String> = sqlx::query(
            "SELECT variant_id FROM stock_levels WHERE warehouse_id = $1 ORDER BY variant_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("variant_id"))
        .collect::<Result<_, _>>()?;
        self.check_low_stock(&mut tx, &variants).await?;
        tx.commit().await?;
        Ok(Some(updated))
    }

    pub async fn warehouses(&self) -> StoreResult<Vec<Warehouse>> {
        let rows =
            sqlx::query("SELECT id, code, name, active, created_at FROM warehouses ORDER BY code")
                .fetch_all(self.db.pool())
                .await?;
        rows.iter().map(warehouse).collect()
    }

    /// Stock rows of every variant of these products in every warehouse.
    pub async fn levels_of_products(&self, product_ids: &[String]) -> StoreResult<Vec<StockLevel>> {
        self.levels_where("s.product_id", product_ids).await
    }

    /// Stock rows of these variants in every warehouse.
    pub async fn levels_of_variants(&self, variant_ids: &[String]) -> StoreResult<Vec<StockLevel>> {
        self.levels_where("s.variant_id", variant_ids).await
    }

    async fn levels_where(&self, column: &str, keys: &[String]) -> StoreResult<Vec<StockLevel>> {
        let rows = self
            .db
            .fetch_any_of(
                &format!(
                    "SELECT s.variant_id, s.product_id, s.warehouse_id, w.active, s.on_hand, \
                     s.reserved FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id \
                     WHERE {column}"
                ),
                keys,
                "ORDER BY s.variant_id, w.code",
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StockLevel {
                    variant_id: row.try_get("variant_id")?,
                    product_id: row.try_get("product_id")?,
                    warehouse_id: row.try_get("warehouse_id")?,
                    warehouse_active: flag(row, "active")?,
                    on_hand: row.try_get("on_hand")?,
                    reserved: row.try_get("reserved")?,
                })
            })
            .collect()
    }

    pub async fn adjust(&self, request: &AdjustmentRequest) -> StoreResult<AdjustOutcome> {
        if let Some(first) = self.adjustment_by_key(&request.idempotency_key).await? {
            return Ok(AdjustOutcome::Repeated(first));
        }
        let mut tx = self.db.begin().await?;
        let known = sqlx::query("SELECT id FROM warehouses WHERE id = $1")
            .bind(&request.warehouse_id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Ok(AdjustOutcome::UnknownWarehouse);
        }
        let now = now_millis();
        sqlx::query(
            "INSERT INTO stock_levels (variant_id, product_id, warehouse_id, on_hand, reserved, \
             updated_at) VALUES ($1, $2, $3, 0, 0, $4) \
             ON CONFLICT (variant_id, warehouse_id) DO NOTHING",
        )
        .bind(&request.variant_id)
        .bind(&request.product_id)
        .bind(&request.warehouse_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT on_hand, reserved FROM stock_levels WHERE variant_id = $1 AND warehouse_id = $2 {}",
            self.db.row_lock("FOR UPDATE")
        ))
        .bind(&request.variant_id)
        .bind(&request.warehouse_id)
        .fetch_one(&mut *tx)
        .await?;
        let on_hand: i64 = row.try_get("on_hand")?;
        let reserved: i64 = row.try_get("reserved")?;
        let after = on_hand + request.delta;
        if after < reserved {
            return Ok(AdjustOutcome::WouldGoNegative { on_hand, reserved });
        }
        sqlx::query(
            "UPDATE stock_levels SET on_hand = $1, updated_at = $2 \
             WHERE variant_id = $3 AND warehouse_id = $4",
        )
        .bind(after)
        .bind(now)
        .bind(&request.variant_id)
        .bind(&request.warehouse_id)
        .execute(&mut *tx)
        .await?;
        let entry = Adjustment {
            id: new_id("adj"),
            variant_id: request.variant_id.clone(),
            product_id: request.product_id.clone(),
            warehouse_id: request.warehouse_id.clone(),
            kind: request.kind,
            delta: request.delta,
            on_hand_after: after,
            reason: request.reason.clone(),
            actor: request.staff.actor_id().into(),
            created_at: now,
        };
        let inserted = sqlx::query(&format!(
            "INSERT INTO stock_moves ({LEDGER_COLUMNS}, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&entry.id)
        .bind(&entry.variant_id)
        .bind(&entry.product_id)
        .bind(&entry.warehouse_id)
        .bind(entry.kind.as_str())
        .bind(entry.delta)
        .bind(entry.on_hand_after)
        .bind(&entry.reason)
        .bind(&entry.actor)
        .bind(entry.created_at)
        .bind(&request.idempotency_key)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // A concurrent repeat of the same key committed first: its result stands.
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                return match self.adjustment_by_key(&request.idempotency_key).await? {
                    Some(first) => Ok(AdjustOutcome::Repeated(first)),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let audit = request.staff.record(
            auth::Permission::InventoryWrite,
            "adjustStock",
            ("StockAdjustment", &entry.id),
            Some(serde_json::json!({ "onHand": on_hand })),
            Some(serde_json::json!({
                "onHand": after, "delta": entry.delta, "kind": entry.kind.as_str(),
                "reason": entry.reason, "variantId": entry.variant_id,
                "warehouseId": entry.warehouse_id,
            })),
        );
        storage::outbox::append(&mut tx, &Event::new("inventory", &audit)).await?;
        self.check_low_stock(&mut tx, std::slice::from_ref(&request.variant_id))
            .await?;
        tx.commit().await?;
        Ok(AdjustOutcome::Applied(entry))
    }

    /// The ledger of a product (all its variants) or of one variant, newest first, entries
    /// older than `before` (an entry id).
    pub async fn adjustments(
        &self,
        of: &StockItem,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Adjustment>> {
        let (column, key) = match of {
            StockItem::Product(id) => ("product_id", id),
            StockItem::Variant(id) => ("variant_id", id),
        };
        let rows = sqlx::query(&format!(
            "SELECT {LEDGER_COLUMNS} FROM stock_moves WHERE {column} = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(key)
        .bind(before.unwrap_or("~"))
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(adjustment).collect()
    }

    pub async fn set_threshold(&self, variant_id: &str, threshold: i64) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO stock_thresholds (variant_id, threshold) VALUES ($1, $2) \
             ON CONFLICT (variant_id) DO UPDATE SET threshold = $2",
        )
        .bind(variant_id)
        .bind(threshold)
        .execute(&mut *tx)
        .await?;
        self.check_low_stock(&mut tx, &[variant_id.to_string()])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Variants at or below their threshold (by variant id, after `after`), active warehouses
    /// only.
    pub async fn low_stock(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LowStock>> {
        let rows = sqlx::query(
            "SELECT s.variant_id, MAX(s.product_id) AS product_id, \
                    CAST(SUM(s.on_hand - s.reserved) AS BIGINT) AS available, \
                    CAST(COALESCE(MAX(t.threshold), $1) AS BIGINT) AS threshold \
             FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id AND w.active = 1 \
             LEFT JOIN stock_thresholds t ON t.variant_id = s.variant_id \
             WHERE s.variant_id > $2 \
             GROUP BY s.variant_id \
             HAVING SUM(s.on_hand - s.reserved) <= COALESCE(MAX(t.threshold), $1) \
             ORDER BY s.variant_id LIMIT $3",
        )
        .bind(self.default_threshold)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LowStock {
                    variant_id: row.try_get("variant_id")?,
                    product_id: row.try_get("product_id")?,
                    available: row.try_get("available")?,
                    threshold: row.try_get("threshold")?,
                })
            })
            .collect()
    }

    /// Reserves every line or none; idempotent by order reference.
    pub async fn reserve(
        &self,
        order_reference: &str,
        lines: &[(String, i64)],
        expires_at: i64,
    ) -> StoreResult<ReserveOutcome> {
        let mut tx = self.db.begin().await?;
        let now = now_millis();
        // The reference's row first: a concurrent repeat waits here, then finds it taken.
        let claimed = sqlx::query(
            "INSERT INTO reservations (order_reference, status, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (order_reference) DO NOTHING",
        )
        .bind(order_reference)
        .bind(ReservationStatus::Held.as_str())
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            let existing = self.reservation_in(&mut tx, order_reference, false).await?;
            tx.rollback().await?;
            return existing
                .map(ReserveOutcome::Existing)
                .ok_or_else(|| StoreError::Corrupt("a claimed reservation vanished".into()));
        }
        let mut variant_ids: Vec<String> = lines.iter().map(|(v, _)| v.clone()).collect();
        variant_ids.sort();
        // Every stock row of these variants, locked in one order so reservations cannot deadlock.
        let rows = sqlx::query(&format!(
            "SELECT s.variant_id, s.warehouse_id, w.code, s.on_hand, s.reserved \
             FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id \
             WHERE w.active = 1 AND s.variant_id IN ({}) \
             ORDER BY s.variant_id, s.warehouse_id {}",
            self.db.any_of_json(1),
            self.db.row_lock("FOR UPDATE OF s")
        ))
        .bind(storage::db::json_list(&variant_ids))
        .fetch_all(&mut *tx)
        .await?;
        let mut levels: Vec<(String, Level)> = Vec::new();
        for row in &rows {
            let on_hand: i64 = row.try_get("on_hand")?;
            let reserved: i64 = row.try_get("reserved")?;
            levels.push((
                row.try_get("variant_id")?,
                Level {
                    warehouse_id: row.try_get("warehouse_id")?,
                    warehouse_code: row.try_get("code")?,
                    available: on_hand - reserved,
                },
            ));
        }
        let levels_of = |variant_id: &str| -> Vec<Level> {
            levels
                .iter()
                .filter(|(v, _)| v == variant_id)
                .map(|(_, l)| l.clone())
                .collect()
        };
        // Every line is checked before anything is held, so a refusal names all short lines.
        let mut plan = Vec::new();
        let mut short = Vec::new();
        for (variant_id, quantity) in lines {
            let variant_levels = levels_of(variant_id);
            match allocate(*quantity, &variant_levels) {
                Some(allocations) => plan.push((variant_id, allocations)),
                None => short.push(ShortLine {
                    variant_id: variant_id.clone(),
                    wanted: *quantity,
                    available: variant_levels.iter().map(|l| l.available.max(0)).sum(),
                }),
            }
        }
        if !short.is_empty() {
            tx.rollback().await?;
            return Ok(ReserveOutcome::Short(short));
        }
        let mut reserved_lines = Vec::new();
        for (variant_id, allocations) in plan {
            for allocation in allocations {
                let updated = sqlx::query(
                    "UPDATE stock_levels SET reserved = reserved + $1, updated_at = $2 \
                     WHERE variant_id = $3 AND warehouse_id = $4 AND on_hand - reserved >= $1",
                )
                .bind(allocation.quantity)
                .bind(now)
                .bind(variant_id)
                .bind(&allocation.warehouse_id)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() != 1 {
                    return Err(StoreError::Corrupt(format!(
                        "locked stock of {variant_id} changed under a reservation"
                    )));
                }
                sqlx::query(
                    "INSERT INTO reserved_units (order_reference, variant_id, warehouse_id, quantity) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(order_reference)
                .bind(variant_id)
                .bind(&allocation.warehouse_id)
                .bind(allocation.quantity)
                .execute(&mut *tx)
                .await?;
                reserved_lines.push(ReservedLine {
                    variant_id: variant_id.clone(),
                    warehouse_id: allocation.warehouse_id,
                    quantity: allocation.quantity,
                });
            }
        }
        self.check_low_stock(&mut tx, &variant_ids).await?;
        tx.commit().await?;
        reserved_lines.sort_by(|a, b| {
            (&a.variant_id, &a.warehouse_id).cmp(&(&b.variant_id, &b.warehouse_id))
        });
        Ok(ReserveOutcome::Reserved(Reservation {
            order_reference: order_reference.into(),
            status: ReservationStatus::Held,
            expires_at,
            lines: reserved_lines,
        }))
    }

    pub async fn reservation(&self, order_reference: &str) -> StoreResult<Option<Reservation>> {
        let mut tx = self.db.pool().begin().await?;
        let reservation = self.reservation_in(&mut tx, order_reference, false).await?;
        tx.rollback().await?;
        Ok(reservation)
    }

    /// Held → confirmed: the units leave on-hand stock (ledger entries of kind `sale`).
    pub async fn confirm(&self, order_reference: &str) -> StoreResult<TransitionOutcome> {
        let mut tx = self.db.begin().await?;
        let Some(reservation) = self.reservation_in(&mut tx, order_reference, true).await? else {
            return Ok(TransitionOutcome::NotFound);
        };
        match reservation.status {
            ReservationStatus::Held => {}
            ReservationStatus::Confirmed => return Ok(TransitionOutcome::Already(reservation)),
            _ => return Ok(TransitionOutcome::Refused(reservation)),
        }
        let now = now_millis();
        for line in &reservation.lines {
            let sold = StockMove {
                on_hand: -line.quantity,
                reserved: -line.quantity,
                kind: AdjustmentKind::Sale,
                reason: "order confirmed",
            };
            sold.apply(&mut tx, line, order_reference, now).await?;
        }
        self.set_status(&mut tx, order_reference, ReservationStatus::Confirmed)
            .await?;
        tx.commit().await?;
        Ok(TransitionOutcome::Done(Reservation {
            status: ReservationStatus::Confirmed,
            ..reservation
        }))
    }

    /// Confirmed → returned: the units are back in on-hand stock (ledger entries of kind
    /// `restock`).
    pub async fn return_confirmed(&self, order_reference: &str) -> StoreResult<TransitionOutcome> {
        let mut tx = self.db.begin().await?;
        let Some(reservation) = self.reservation_in(&mut tx, order_reference, true).await? else {
            return Ok(TransitionOutcome::NotFound);
        };
        match reservation.status {
            ReservationStatus::Confirmed => {}
            ReservationStatus::Returned => return Ok(TransitionOutcome::Already(reservation)),
            _ => return Ok(TransitionOutcome::Refused(reservation)),
        }
        let now = now_millis();
        for line in &reservation.lines {
            let returned = StockMove {
                on_hand: line.quantity,
                reserved: 0,
                kind: AdjustmentKind::Restock,
                reason: "order cancelled",
            };
            returned.apply(&mut tx, line, order_reference, now).await?;
        }
        self.set_status(&mut tx, order_reference, ReservationStatus::Returned)
            .await?;
        tx.commit().await?;
        Ok(TransitionOutcome::Done(Reservation {
            status: ReservationStatus::Returned,
            ..reservation
        }))
    }

    /// Held → released or expired: the units are available again.
    pub async fn release(
        &self,
        order_reference: &str,
        to: ReservationStatus,
    ) -> StoreResult<TransitionOutcome> {
        let mut tx = self.db.begin().await?;
        let Some(reservation) = self.reservation_in(&mut tx, order_reference, true).await? else {
            return Ok(TransitionOutcome::NotFound);
        };
        match reservation.status {
            ReservationStatus::Held => {}
            ReservationStatus::Released | ReservationStatus::Expired => {
                return Ok(TransitionOutcome::Already(reservation))
            }
            ReservationStatus::Confirmed | ReservationStatus::Returned => {
                return Ok(TransitionOutcome::Refused(reservation))
            }
        }
        let now = now_millis();
        for line in &reservation.lines {
            sqlx::query(
                "UPDATE stock_levels SET reserved = reserved - $1, updated_at = $2 \
                 WHERE variant_id = $3 AND warehouse_id = $4",
            )
            .bind(line.quantity)
            .bind(now)
            .bind(&line.variant_id)
            .bind(&line.warehouse_id)
            .execute(&mut *tx)
            .await?;
        }
        self.set_status(&mut tx, order_reference, to).await?;
        let mut variants: Vec<String> = reservation
            .lines
            .iter()
            .map(|l| l.variant_id.clone())
            .collect();
        variants.dedup();
        self.check_low_stock(&mut tx, &variants).await?;
        tx.commit().await?;
        Ok(TransitionOutcome::Done(Reservation {
            status: to,
            ..reservation
        }))
    }

    /// Held reservations whose hold ran out before `now`.
    pub async fn expired_reservations(&self, now: i64, limit: usize) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT order_reference FROM reservations WHERE status = $1 AND expires_at < $2 \
             ORDER BY expires_at LIMIT $3",
        )
        .bind(ReservationStatus::Held.as_str())
        .bind(now)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("order_reference"))
            .collect::<Result<_, _>>()?)
    }

    /// Demo data: stock rows and their restock ledger entries, without events.
    pub async fn insert_demo_stock(&self, levels: &[DemoStock]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let now = now_millis();
        for level in levels {
            sqlx::query(
                "INSERT INTO stock_levels (variant_id, product_id, warehouse_id, on_hand, \
                 reserved, updated_at) VALUES ($1, $2, $3, $4, 0, $5)",
            )
            .bind(&level.variant_id)
            .bind(&level.product_id)
            .bind(&level.warehouse_id)
            .bind(level.on_hand)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO stock_moves ({LEDGER_COLUMNS}, idempotency_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, NULL)"
            ))
            .bind(new_id("adj"))
            .bind(&level.variant_id)
            .bind(&level.product_id)
            .bind(&level.warehouse_id)
            .bind(AdjustmentKind::Restock.as_str())
            .bind(level.on_hand)
            .bind("demo data")
            .bind("demo")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // Variants loaded low start out known as low: no StockLow for stock that never moved.
        let mut variants: Vec<&String> = levels.iter().map(|l| &l.variant_id).collect();
        variants.sort();
        variants.dedup();
        for variant_id in variants {
            let available: i64 = sqlx::query(
                "SELECT CAST(SUM(on_hand - reserved) AS BIGINT) AS available FROM stock_levels \
                 WHERE variant_id = $1",
            )
            .bind(variant_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("available")?;
            sqlx::query(
                "INSERT INTO stock_alerts (variant_id, low, changed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (variant_id) DO NOTHING",
            )
            .bind(variant_id)
            .bind(i64::from(available <= self.default_threshold))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A reservation line's units moving on hand (a sale, a return), with its ledger entry.
struct StockMove {
    on_hand: i64,
    reserved: i64,
    kind: AdjustmentKind,
    reason: &'static str,
}

impl StockMove {
    async fn apply(
        &self,
        tx: &mut Tx,
        line: &ReservedLine,
        order_reference: &str,
        now: i64,
    ) -> StoreResult<()> {
        let row = sqlx::query(
            "UPDATE stock_levels SET on_hand = on_hand + $1, reserved = reserved + $2, \
             updated_at = $3 WHERE variant_id = $4 AND warehouse_id = $5 \
             RETURNING on_hand, product_id",
        )
        .bind(self.on_hand)
        .bind(self.reserved)
        .bind(now)
        .bind(&line.variant_id)
        .bind(&line.warehouse_id)
        .fetch_one(&mut **tx)
        .await?;
        let on_hand_after: i64 = row.try_get("on_hand")?;
        let product_id: String = row.try_get("product_id")?;
        sqlx::query(&format!(
            "INSERT INTO stock_moves ({LEDGER_COLUMNS}, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)"
        ))
        .bind(new_id("adj"))
        .bind(&line.variant_id)
        .bind(&product_id)
        .bind(&line.warehouse_id)
        .bind(self.kind.as_str())
        .bind(self.on_hand)
        .bind(on_hand_after)
        .bind(self.reason)
        .bind(format!("order:{order_reference}"))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
