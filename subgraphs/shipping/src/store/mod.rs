//! Shipping storage (PostgreSQL and SQLite): paid orders as `order.paid` described them, their
//! shipments and every tracking event. Each change commits with the `shipment.updated` it
//! publishes (outbox) and, for events from the bus, with their processed mark, so a redelivered
//! event or webhook changes nothing the second time.

use crate::domain::variant_of;
use commerce::address::Address;
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;
use storage::{outbox, processed};

use crate::domain::status::{latest, ShipmentStatus, TrackingEvent};
use crate::domain::tracking;
use events::common::Line;
use events::shipping::ShipmentUpdated;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored {what} {id} is invalid: {detail}")]
    Corrupt {
        what: &'static str,
        id: String,
        detail: String,
    },
    #[error("event: {0}")]
    Event(#[from] event_bus::EventError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A paid order as shipping knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippableOrder {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub address: Address,
    pub lines: Vec<Line>,
    pub carrier: String,
    pub service: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub id: String,
    pub order_id: String,
    pub position: i64,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub lines: Vec<Line>,
    pub status: ShipmentStatus,
    pub status_at: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Of the order.
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub address: Address,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingEventRow {
    pub id: String,
    pub shipment_id: String,
    pub status: ShipmentStatus,
    pub description: String,
    pub location: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
}

/// A shipment to create: which carrier service carries which lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentPlan {
    pub carrier: String,
    pub service: String,
    pub lines: Vec<Line>,
}

/// A tracking event to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTrackingEvent {
    /// Unique per event: a carrier's event id prefixed with the carrier, or one of ours.
    pub id: String,
    pub status: ShipmentStatus,
    pub description: String,
    pub location: Option<String>,
    pub occurred_at: i64,
}

/// What recording a tracking event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; the shipment as it is now (its status moved only if this is the latest event).
    Recorded(Box<Shipment>),
    /// This event was recorded before: nothing changed.
    Duplicate,
    /// No shipment has this tracking number.
    UnknownTracking,
    /// The tracking number is another carrier's (this one): nothing changed.
    OtherCarrier(String),
}

/// Why shipments could not be created.
#[derive(Debug, thiserror::Error)]
pub enum FulfilRefused {
    #[error("no paid order with this id")]
    UnknownOrder,
    #[error(
        "variant {variant_id} is not in the order or has fewer than {quantity} units left to ship"
    )]
    MoreThanOrdered { variant_id: String, quantity: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

const SHIPMENT_SELECT: &str = "SELECT s.id, s.order_id, s.position, s.carrier, s.service, \
    s.tracking_number, s.lines, s.status, s.status_at, s.created_by, s.created_at, s.updated_at, \
    o.number, o.customer_id, o.email, o.address \
    FROM shipments s JOIN shippable_orders o ON o.order_id = s.order_id";

const EVENT_COLUMNS: &str =
    "id, shipment_id, status, description, location, occurred_at, received_at";

fn corrupt(what: &'static str, id: &str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        id: id.to_string(),
        detail: detail.to_string(),
    }
}

fn shipment(row: &AnyRow) -> StoreResult<Shipment> {
    let id: String = row.try_get("id")?;
    let raw: String = row.try_get("status")?;
    let status = ShipmentStatus::parse(&raw)
        .ok_or_else(|| corrupt("shipment", &id, format!("status {raw:?}")))?;
    let lines: String = row.try_get("lines")?;
    let lines = serde_json::from_str(&lines).map_err(|e| corrupt("shipment", &id, e))?;
    let address: String = row.try_get("address")?;
    let address = serde_json::from_str(&address).map_err(|e| corrupt("shipment", &id, e))?;
    Ok(Shipment {
        order_id: row.try_get("order_id")?,
        position: row.try_get("position")?,
        carrier: row.try_get("carrier")?,
        service: row.try_get("service")?,
        tracking_number: row.try_get("tracking_number")?,
        lines,
        status,
        status_at: row.try_get("status_at")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        number: row.try_get("number")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        address,
        id,
    })
}

fn tracking_event(row: &AnyRow) -> StoreResult<TrackingEventRow> {
    let id: String = row.try_get("id")?;
    let raw: String = row.try_get("status")?;
    let status = ShipmentStatus::parse(&raw)
        .ok_or_else(|| corrupt("tracking event", &id, format!("status {raw:?}")))?;
    Ok(TrackingEventRow {
        shipment_id: row.try_get("shipment_id")?,
        status,
        description: row.try_get("description")?,
        location: row.try_get("location")?,
        occurred_at: row.try_get("occurred_at")?,
        received_at: row.try_get("received_at")?,
        id,
    })
}

fn shippable_order(row: &AnyRow) -> StoreResult<ShippableOrder> {
    let order_id: String = row.try_get("order_id")?;
    let address: String = row.try_get("address")?;
    let lines: String = row.try_get("lines")?;
    Ok(ShippableOrder {
        address: serde_json::from_str(&address).map_err(|e| corrupt("order", &order_id, e))?,
        lines: serde_json::from_str(&lines).map_err(|e| corrupt("order", &order_id, e))?,
        number: row.try_get("number")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        carrier: row.try_get("carrier")?,
        service: row.try_get("service")?,
        order_id,
    })
}

/// How shipments are listed: by status (or all), newest first.
pub type ListCursor = (i64, String);

#[derive(Clone)]
pub struct ShippingStore {
    db: Database,
    /// Builds the events this store publishes.
    events: kit::subgraph::Events,
}

impl ShippingStore {
    pub fn new(db: Database, events: kit::subgraph::Events) -> Self {
        Self { db, events }
    }

    /// Records a paid order once per `event_id`, with its shipment when `plan` is given; false
    /// when the event was handled before.
    pub async fn record_paid_order(
        &self,
        event_id: &str,
        order: &ShippableOrder,
        plan: Option<ShipmentPlan>,
    ) -> StoreResult<bool> {
        let Some(mut tx) = processed::begin_once(&self.db, "order-paid", event_id).await? else {
            return Ok(false);
        };
        let inserted = sqlx::query(
            "INSERT INTO shippable_orders (order_id, number, customer_id, email, address, lines, \
             carrier, service, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(&order.order_id)
        .bind(&order.number)
        .bind(&order.customer_id)
        .bind(&order.email)
        .bind(serde_json::to_string(&order.address).expect("addresses serialize"))
        .bind(serde_json::to_string(&order.lines).expect("lines serialize"))
        .bind(&order.carrier)
        .bind(&order.service)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        // The same order paid twice (two event ids for one fact) still ships once.
        if inserted.rows_affected() == 1 {
            if let Some(plan) = plan {
                self.insert_shipments(&mut tx, order, &[plan], "system")
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Creates shipments for lines of a paid order not shipped yet (checked under the order's
    /// lock, so two admins cannot ship the same units twice).
    pub async fn fulfil(
        &self,
        order_id: &str,
        plans: &[ShipmentPlan],
        created_by: &str,
    ) -> Result<Vec<Shipment>, FulfilRefused> {
        let mut tx = self.db.begin().await.map_err(StoreError::from)?;
        let lock = self.db.row_lock("FOR UPDATE");
        let row = sqlx::query(&format!(
            "SELECT order_id, number, customer_id, email, address, lines, carrier, service \
             FROM shippable_orders WHERE order_id = $1 {lock}"
        ))
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(FulfilRefused::UnknownOrder)?;
        let order = shippable_order(&row)?;
        let shipped = self.shipments_in(&mut tx, order_id).await?;
        for (variant_id, quantity) in planned_totals(plans) {
            let ordered: i64 = order
                .lines
                .iter()
                .filter(|l| variant_of(l) == variant_id)
                .map(|l| l.quantity)
                .sum();
            let already: i64 = shipped
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|l| variant_of(l) == variant_id)
                .map(|l| l.quantity)
                .sum();
            if quantity > ordered - already {
                return Err(FulfilRefused::MoreThanOrdered {
                    variant_id,
                    quantity,
                });
            }
        }
        let ids = self
            .insert_shipments(&mut tx, &order, plans, created_by)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        // In the order they were planned (a batch read comes back in any order).
        let mut shipments = self.by_ids(&ids).await?;
        shipments.sort_by_key(|s| s.position);
        Ok(shipments)
    }

    async fn shipments_in(
        &self,
        tx: &mut storage::db::Transaction,
        order_id: &str,
    ) -> StoreResult<Vec<Shipment>> {
        let rows = sqlx::query(&format!(
            "{SHIPMENT_SELECT} WHERE s.order_id = $1 ORDER BY s.position"
        ))
        .bind(order_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(shipment).collect()
    }

    /// Inserts shipments after the order's last, each with its "label created" event and its
    /// `shipment.updated`; returns their ids.
    async fn insert_shipments(
        &self,
        tx: &mut storage::db::Transaction,
        order: &ShippableOrder,
        plans: &[ShipmentPlan],
        created_by: &str,
    ) -> StoreResult<Vec<String>> {
        let last: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM shipments WHERE order_id = $1",
        )
        .bind(&order.order_id)
        .fetch_one(&mut **tx)
        .await?;
        let now = now_millis();
        let mut ids = Vec::new();
        for (offset, plan) in plans.iter().enumerate() {
            let position = last + 1 + offset as i64;
            let id =
                primitives::id::derived_id("shp", &format!("{}\n{position}", order.order_id), 13);
            let number = tracking::tracking_number(&plan.carrier, &id);
            let status = ShipmentStatus::LabelCreated;
            sqlx::query(
                "INSERT INTO shipments (id, order_id, position, carrier, service, \
                 tracking_number, lines, status, status_at, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $9)",
            )
            .bind(&id)
            .bind(&order.order_id)
            .bind(position)
            .bind(&plan.carrier)
            .bind(&plan.service)
            .bind(&number)
            .bind(serde_json::to_string(&plan.lines).expect("lines serialize"))
            .bind(status.as_str())
            .bind(now)
            .bind(created_by)
            .execute(&mut **tx)
            .await?;
            self.insert_event(
                tx,
                &id,
                &NewTrackingEvent {
                    id: format!("{id}:created"),
                    status,
                    description: status.default_description().into(),
                    location: None,
                    occurred_at: now,
                },
            )
            .await?;
            let updated = ShipmentUpdated {
                shipment_id: id.clone(),
                order_id: order.order_id.clone(),
                order_number: order.number.clone(),
                customer_id: order.customer_id.clone(),
                email: order.email.clone(),
                carrier: plan.carrier.clone(),
                tracking_url: tracking::tracking_url(&plan.carrier, &number),
                tracking_number: number,
                status: status.as_str().into(),
                previous_status: None,
                description: status.default_description().into(),
                lines: plan.lines.clone(),
                order_delivered: false,
            };
            outbox::append(tx, &self.events.event(&updated)).await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// Inserts a tracking event unless one with its id exists; true when inserted.
    async fn insert_event(
        &self,
        tx: &mut storage::db::Transaction,
        shipment_id: &str,
        event: &NewTrackingEvent,
    ) -> StoreResult<bool> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO tracking_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&event.id)
        .bind(shipment_id)
        .bind(event.status.as_str())
        .bind(&event.description)
        .bind(&event.location)
        .bind(event.occurred_at)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Records a tracking event of the shipment with `tracking_number` once. The shipment takes
    /// the status of its latest event by when it happened, so a late event of an earlier step
    /// joins the history without moving the status back; a status change publishes
    /// `shipment.updated` in the same transaction.
    pub async fn record_tracking(
        &self,
        tracking_number: &str,
        carrier: Option<&str>,
        event: &NewTrackingEvent,
    ) -> StoreResult<Recorded> {
        let mut tx = self.db.begin().await?;
        let lock = self.db.row_lock("FOR UPDATE OF s");
        let Some(row) = sqlx::query(&format!(
            "{SHIPMENT_SELECT} WHERE s.tracking_number = $1 {lock}"
        ))
        .bind(tracking_number)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Recorded::UnknownTracking);
        };
        let before = shipment(&row)?;
        if carrier.is_some_and(|c| c != before.carrier) {
            return Ok(Recorded::OtherCarrier(before.carrier));
        }
        if !self.insert_event(&mut tx, &before.id, event).await? {
            return Ok(Recorded::Duplicate);
        }
        let history: Vec<TrackingEvent> =
            sqlx::query("SELECT status, occurred_at FROM tracking_events WHERE shipment_id = $1")
                .bind(&before.id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| {
                    let raw: String = row.try_get("status")?;
                    let status = ShipmentStatus::parse(&raw)
                        .ok_or_else(|| corrupt("tracking event", &before.id, raw))?;
                    Ok(TrackingEvent {
                        status,
                        occurred_at: row.try_get("occurred_at")?,
                    })
                })
                .collect::<StoreResult<_>>()?;
        let latest = latest(&history).expect("the history has the event just recorded");
        let status = latest.status;
        sqlx::query(
            "UPDATE shipments SET status = $1, status_at = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(latest.occurred_at)
        .bind(now_millis())
        .bind(&before.id)
        .execute(&mut *tx)
        .await?;
        if status != before.status {
            let statuses: Vec<String> =
                sqlx::query_scalar("SELECT status FROM shipments WHERE order_id = $1")
                    .bind(&before.order_id)
                    .fetch_all(&mut *tx)
                    .await?;
            let order_delivered = statuses
                .iter()
                .all(|s| s == ShipmentStatus::Delivered.as_str());
            let description = if status == event.status {
                event.description.clone()
            } else {
                status.default_description().into()
            };
            let updated = ShipmentUpdated {
                shipment_id: before.id.clone(),
                order_id: before.order_id.clone(),
                order_number: before.number.clone(),
                customer_id: before.customer_id.clone(),
                email: before.email.clone(),
                carrier: before.carrier.clone(),
                tracking_number: before.tracking_number.clone(),
                tracking_url: tracking::tracking_url(&before.carrier, &before.tracking_number),
                status: status.as_str().into(),
                previous_status: Some(before.status.as_str().into()),
                description,
                lines: before.lines.clone(),
                order_delivered,
            };
            outbox::append(&mut tx, &self.events.event(&updated)).await?;
        }
        tx.commit().await?;
        let now = self
            .by_ids(std::slice::from_ref(&before.id))
            .await?
            .pop()
            .ok_or_else(|| corrupt("shipment", &before.id, "recorded but not found"))?;
        Ok(Recorded::Recorded(Box::new(now)))
    }

    /// Keeps a carrier event that did not fit (once per event id).
    pub async fn keep_for_review(
        &self,
        event_id: &str,
        tracking_number: &str,
        reason: &str,
        body: &[u8],
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tracking_reviews (id, tracking_number, reason, body, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(event_id)
        .bind(tracking_number)
        .bind(reason)
        .bind(String::from_utf8_lossy(body).into_owned())
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// How many carrier events are kept for review.
    pub async fn reviews(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tracking_reviews")
            .fetch_one(self.db.pool())
            .await?)
    }

    pub async fn by_ids(&self, ids: &[String]) -> StoreResult<Vec<Shipment>> {
        let rows = self
            .db
            .fetch_any_of(&format!("{SHIPMENT_SELECT} WHERE s.id"), ids, "")
            .await?;
        rows.iter().map(shipment).collect()
    }

    /// The shipments of `order_ids`, in order of creation.
    pub async fn by_orders(&self, order_ids: &[String]) -> StoreResult<Vec<Shipment>> {
        let rows = self
            .db
            .fetch_any_of(
                &format!("{SHIPMENT_SELECT} WHERE s.order_id"),
                order_ids,
                "ORDER BY s.order_id, s.position",
            )
            .await?;
        rows.iter().map(shipment).collect()
    }

    /// The tracking events of `shipment_ids`, oldest first by when they happened.
    pub async fn events_of(&self, shipment_ids: &[String]) -> StoreResult<Vec<TrackingEventRow>> {
        let rows = self
            .db
            .fetch_any_of(
                &format!("SELECT {EVENT_COLUMNS} FROM tracking_events WHERE shipment_id"),
                shipment_ids,
                "ORDER BY occurred_at, received_at, id",
            )
            .await?;
        rows.iter().map(tracking_event).collect()
    }

    /// Shipments newest first, of one status or all, after `cursor`; `limit` rows.
    pub async fn list(
        &self,
        status: Option<ShipmentStatus>,
        cursor: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Shipment>> {
        let (after_at, after_id) = cursor
            .cloned()
            .unwrap_or((i64::MAX, String::from("\u{10ffff}")));
        let rows = sqlx::query(&format!(
            "{SHIPMENT_SELECT} WHERE ($1 = '' OR s.status = $1) \
             AND (s.created_at < $2 OR (s.created_at = $2 AND s.id < $3)) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $4"
        ))
        .bind(status.map(|s| s.as_str()).unwrap_or(""))
        .bind(after_at)
        .bind(after_id)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(shipment).collect()
    }

    /// Shipments still on their way (not delivered, returned or held by an exception), oldest
    /// first: what the simulated carrier moves along.
    pub async fn on_the_way(&self, limit: usize) -> StoreResult<Vec<Shipment>> {
        let rows = sqlx::query(&format!(
            "{SHIPMENT_SELECT} WHERE s.status IN ('label_created', 'in_transit', \
             'out_for_delivery') ORDER BY s.created_at, s.id LIMIT $1"
        ))
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(shipment).collect()
    }

    pub async fn shippable_order(&self, order_id: &str) -> StoreResult<Option<ShippableOrder>> {
        let row = sqlx::query(
            "SELECT order_id, number, customer_id, email, address, lines, carrier, service \
             FROM shippable_orders WHERE order_id = $1",
        )
        .bind(order_id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(shippable_order).transpose()
    }
}

/// Units per variant over several plans.
fn planned_totals(plans: &[ShipmentPlan]) -> Vec<(String, i64)> {
    let mut totals: Vec<(String, i64)> = Vec::new();
    for line in plans.iter().flat_map(|p| &p.lines) {
        let variant = variant_of(line);
        match totals.iter_mut().find(|(id, _)| *id == variant) {
            Some((_, quantity)) => *quantity += line.quantity,
            None => totals.push((variant, line.quantity)),
        }
    }
    totals
}
