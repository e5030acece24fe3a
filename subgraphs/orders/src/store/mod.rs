//! Order storage (PostgreSQL and SQLite): orders with their lines, tax lines, discounts and status
//! history, each order's checkout saga, the shop's tax settings and rates (`tax.rs`), and
//! promotions with the uses orders hold (`promotions.rs`). Rows are parsed into domain values here, once; a stored value that does
//! not parse is `StoreError::Corrupt`, never a default.

use commerce::money::CurrencyCode;
use event_bus::Event;
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;
use storage::db::Database;
use storage::outbox;

use crate::domain::checkout::{Failure, Step};
use crate::domain::status::{Actor, OrderStatus};
use crate::domain::{Checkout, Order, OrderLine, OrderTaxLine, PricedOrder, StatusEntry, TaxRate};
use events::orders::ShippingMethod;

mod promotions;
mod tax;

pub use promotions::Redemption;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored order {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
    #[error("event: {0}")]
    Event(#[from] event_bus::EventError),
    /// A unique value (a promotion's code) is taken.
    #[error("this {0} is taken")]
    Duplicate(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether a checkout was started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    Started,
    /// Another checkout of the same cart is running: nothing was created.
    CartBusy,
    /// This promotion has no use left (for everyone, or for this customer): nothing was
    /// created.
    PromotionUsedUp(String),
}

/// A status change with who made it and why.
#[derive(Clone, Debug)]
pub struct StatusChange {
    pub to: OrderStatus,
    pub actor: Actor,
    pub actor_id: Option<String>,
    pub reason: String,
}

/// What one saga step commits, all in one transaction with the step change.
#[derive(Clone, Debug, Default)]
pub struct Advance {
    pub status: Option<StatusChange>,
    pub failure: Option<Failure>,
    pub events: Vec<Event>,
    /// The card token is no longer needed once the charge is made or the checkout failed.
    pub forget_token: bool,
    /// The stock is now held under this reference.
    pub reservation: Option<String>,
    /// The order's uses of promotions count for good, or go back.
    pub redemption: Option<Redemption>,
}

/// Filters of the admin's orders list.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<String>,
    pub created_from: Option<i64>,
    pub created_until: Option<i64>,
}

/// How many orders of one status and currency were placed in a period, and their totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusTally {
    pub status: OrderStatus,
    pub currency: CurrencyCode,
    pub orders: i64,
    pub total_minor: i64,
}

/// An order's place in a list: newest (or oldest) first, ties by id.
pub type OrderCursor = (i64, String);

const ORDER_COLUMNS: &str = "id, number, customer_id, email, currency, subtotal_minor, \
    shipping_minor, total_minor, shipping_address, status, created_at, updated_at, \
    shipping_carrier, shipping_service, discount_minor, shipping_discount_minor, tax_minor, \
    shipping_tax_minor, prices_include_tax, billing_address, note";
const LINE_COLUMNS: &str = "order_id, position, product_id, sku, name, unit_price_minor, \
    quantity, line_total_minor, variant_id, variant_title, discount_minor, tax_minor, \
    tax_rate_ppm, tax_name";
const CHECKOUT_COLUMNS: &str =
    "order_id, cart_id, payment_token, cart_token, step, attempts, failure, lease_until, \
    reservation";

fn corrupt(id: &str, what: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        id: id.into(),
        what: what.into(),
    }
}

fn order(row: &AnyRow) -> StoreResult<Order> {
    let id: String = row.try_get("id")?;
    let currency: String = row.try_get("currency")?;
    let status: String = row.try_get("status")?;
    let address: String = row.try_get("shipping_address")?;
    Ok(Order {
        number: row.try_get("number")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        currency: CurrencyCode::parse(&currency)
            .ok_or_else(|| corrupt(&id, format!("currency {currency:?}")))?,
        subtotal_minor: row.try_get("subtotal_minor")?,
        discount_minor: row.try_get("discount_minor")?,
        shipping_minor: row.try_get("shipping_minor")?,
        shipping_discount_minor: row.try_get("shipping_discount_minor")?,
        tax_minor: row.try_get("tax_minor")?,
        shipping_tax_minor: row.try_get("shipping_tax_minor")?,
        prices_include_tax: match row.try_get::<i64, _>("prices_include_tax")? {
            0 => false,
            1 => true,
            other => return Err(corrupt(&id, format!("prices_include_tax {other}"))),
        },
        total_minor: row.try_get("total_minor")?,
        shipping_address: serde_json::from_str(&address)
            .map_err(|e| corrupt(&id, format!("shipping address: {e}")))?,
        billing_address: row
            .try_get::<Option<String>, _>("billing_address")?
            .map(|raw| serde_json::from_str(&raw))
            .transpose()
            .map_err(|e| corrupt(&id, format!("billing address: {e}")))?,
        note: row.try_get("note")?,
        shipping_method: match (
            row.try_get::<Option<String>, _>("shipping_carrier")?,
            row.try_get::<Option<String>, _>("shipping_service")?,
        ) {
            (Some(carrier), Some(service)) => Some(ShippingMethod { carrier, service }),
            (None, None) => None,
            _ => return Err(corrupt(&id, "a shipping carrier without a service")),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| corrupt(&id, format!("status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

fn line(row: &AnyRow) -> StoreResult<OrderLine> {
    let order_id: String = row.try_get("order_id")?;
    let tax_rate = match (
        row.try_get::<Option<i64>, _>("tax_rate_ppm")?,
        row.try_get::<Option<String>, _>("tax_name")?,
    ) {
        (Some(rate_ppm), Some(name)) => Some(TaxRate {
            name,
            rate_ppm: tax::rate_ppm(&order_id, rate_ppm)?,
        }),
        (None, None) => None,
        _ => return Err(corrupt(&order_id, "a line's tax rate without its name")),
    };
    Ok(OrderLine {
        discount_minor: row.try_get("discount_minor")?,
        tax_minor: row.try_get("tax_minor")?,
        tax_rate,
        order_id,
        position: row.try_get("position")?,
        product_id: row.try_get("product_id")?,
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        unit_price_minor: row.try_get("unit_price_minor")?,
        quantity: row.try_get("quantity")?,
        line_total_minor: row.try_get("line_total_minor")?,
        variant_id: row.try_get("variant_id")?,
        variant_title: row.try_get("variant_title")?,
    })
}

const TAX_LINE_COLUMNS: &str = "order_id, name, rate_ppm, tax_minor, net_minor";

fn tax_line(row: &AnyRow) -> StoreResult<OrderTaxLine> {
    let order_id: String = row.try_get("order_id")?;
    Ok(OrderTaxLine {
        rate: TaxRate {
            name: row.try_get("name")?,
            rate_ppm: tax::rate_ppm(&order_id, row.try_get("rate_ppm")?)?,
        },
        tax_minor: row.try_get("tax_minor")?,
        net_minor: row.try_get("net_minor")?,
        order_id,
    })
}

fn history(row: &AnyRow) -> StoreResult<StatusEntry> {
    let order_id: String = row.try_get("order_id")?;
    let status: String = row.try_get("status")?;
    let actor: String = row.try_get("actor")?;
    Ok(StatusEntry {
        status: OrderStatus::parse(&status)
            .ok_or_else(|| corrupt(&order_id, format!("history status {status:?}")))?,
        actor: Actor::parse(&actor)
            .ok_or_else(|| corrupt(&order_id, format!("history actor {actor:?}")))?,
        actor_id: row.try_get("actor_id")?,
        reason: row.try_get("reason")?,
        at: row.try_get("at")?,
        order_id,
    })
}

fn checkout(row: &AnyRow) -> StoreResult<Checkout> {
    let order_id: String = row.try_get("order_id")?;
    let step: String = row.try_get("step")?;
    let failure: Option<String> = row.try_get("failure")?;
    Ok(Checkout {
        cart_id: row.try_get("cart_id")?,
        payment_token: row.try_get("payment_token")?,
        cart_token: row.try_get("cart_token")?,
        step: Step::parse(&step).ok_or_else(|| corrupt(&order_id, format!("step {step:?}")))?,
        attempts: row.try_get("attempts")?,
        failure: failure
            .map(|raw| serde_json::from_str(&raw))
            .transpose()
            .map_err(|e| corrupt(&order_id, format!("failure: {e}")))?,
        lease_until: row.try_get("lease_until")?,
        reservation: row.try_get("reservation")?,
        order_id,
    })
}

#[derive(Clone)]
pub struct OrderStore {
    db: Database,
}

impl OrderStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Gives the orders a guest placed (as `guest_id`) to the user `user_id`; how many moved.
    /// Running it again moves nothing more.
    pub async fn attach_guest_orders(&self, guest_id: &str, user_id: &str) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE orders SET customer_id = $1 WHERE customer_id = $2")
            .bind(user_id)
            .bind(guest_id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Creates the order (pending), its lines, tax lines and discounts (taking one use of each
    /// promotion), its first history entry, and its checkout at the reserve step, leased to
    /// `owner` until `lease_until`; nothing when another checkout of the cart is running
    /// (`CartBusy`) or a promotion has no use left (`PromotionUsedUp`).
    pub async fn create(
        &self,
        priced: &PricedOrder,
        cart_id: &str,
        cart_token: Option<&str>,
        payment_token: &str,
        owner: &str,
        lease_until: i64,
    ) -> StoreResult<Created> {
        let PricedOrder {
            order,
            lines,
            tax_lines,
            discounts,
        } = priced;
        let mut tx = self.db.begin().await?;
        let address = serde_json::to_string(&order.shipping_address)
            .map_err(|e| corrupt(&order.id, e.to_string()))?;
        let billing = order
            .billing_address
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| corrupt(&order.id, e.to_string()))?;
        sqlx::query(&format!(
            "INSERT INTO orders ({ORDER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21)"
        ))
        .bind(&order.id)
        .bind(&order.number)
        .bind(&order.customer_id)
        .bind(&order.email)
        .bind(order.currency.as_str())
        .bind(order.subtotal_minor)
        .bind(order.shipping_minor)
        .bind(order.total_minor)
        .bind(address)
        .bind(order.status.as_str())
        .bind(order.created_at)
        .bind(order.updated_at)
        .bind(order.shipping_method.as_ref().map(|m| m.carrier.as_str()))
        .bind(order.shipping_method.as_ref().map(|m| m.service.as_str()))
        .bind(order.discount_minor)
        .bind(order.shipping_discount_minor)
        .bind(order.tax_minor)
        .bind(order.shipping_tax_minor)
        .bind(i64::from(order.prices_include_tax))
        .bind(billing)
        .bind(&order.note)
        .execute(&mut *tx)
        .await?;
        for line in lines {
            sqlx::query(&format!(
                "INSERT INTO order_lines ({LINE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(&line.order_id)
            .bind(line.position)
            .bind(&line.product_id)
            .bind(&line.sku)
            .bind(&line.name)
            .bind(line.unit_price_minor)
            .bind(line.quantity)
            .bind(line.line_total_minor)
            .bind(&line.variant_id)
            .bind(&line.variant_title)
            .bind(line.discount_minor)
            .bind(line.tax_minor)
            .bind(line.tax_rate.as_ref().map(|r| i64::from(r.rate_ppm)))
            .bind(line.tax_rate.as_ref().map(|r| r.name.as_str()))
            .execute(&mut *tx)
            .await?;
        }
        for (position, tax_line) in tax_lines.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO order_tax_lines ({TAX_LINE_COLUMNS}, position) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(&tax_line.order_id)
            .bind(&tax_line.rate.name)
            .bind(i64::from(tax_line.rate.rate_ppm))
            .bind(tax_line.tax_minor)
            .bind(tax_line.net_minor)
            .bind(position as i64 + 1)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(used_up) =
            promotions::hold_uses(&mut tx, &order.customer_id, discounts, order.created_at).await?
        {
            tx.rollback().await?;
            return Ok(Created::PromotionUsedUp(used_up));
        }
        append_history(
            &mut tx,
            &order.id,
            &StatusChange {
                to: order.status,
                actor: Actor::Customer,
                actor_id: Some(order.customer_id.clone()),
                reason: "checkout".into(),
            },
            order.created_at,
        )
        .await?;
        let started = sqlx::query(
            "INSERT INTO checkouts (order_id, cart_id, payment_token, step, attempts, failure, \
             lease_owner, lease_until, created_at, updated_at, cart_token) \
             VALUES ($1, $2, $3, $4, 0, NULL, $5, $6, $7, $7, $8)",
        )
        .bind(&order.id)
        .bind(cart_id)
        .bind(payment_token)
        .bind(Step::Reserve.as_str())
        .bind(owner)
        .bind(lease_until)
        .bind(order.created_at)
        .bind(cart_token)
        .execute(&mut *tx)
        .await;
        match started {
            Ok(_) => {}
            // The order's id is new (checked by the caller under its idempotency key), so the
            // one unique rule this insert can break is one running checkout per cart.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(Created::CartBusy);
            }
            Err(error) => return Err(error.into()),
        }
        tx.commit().await?;
        Ok(Created::Started)
    }

    /// Removes an order whose checkout `owner` created and has not started (nothing reserved,
    /// charged or published yet); the uses of promotions it held go back.
    pub async fn withdraw(&self, order_id: &str, owner: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM checkouts WHERE order_id = $1 AND lease_owner = $2 AND step = $3 \
             AND attempts = 0",
        )
        .bind(order_id)
        .bind(owner)
        .bind(Step::Reserve.as_str())
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        promotions::settle_uses(&mut tx, order_id, Redemption::Release, now_millis()).await?;
        for table in [
            "order_status_history",
            "order_lines",
            "order_tax_lines",
            "order_discounts",
            "promotion_redemptions",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE order_id = $1"))
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM orders WHERE id = $1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the checkout's lease for `owner` if nobody holds it (its lease ran out or was let
    /// go: a checkout waiting for its payment's result is taken by whoever hears of it first) or
    /// `owner` already does, and it is not done; returns it then.
    pub async fn claim(
        &self,
        order_id: &str,
        owner: &str,
        lease_until: i64,
    ) -> StoreResult<Option<Checkout>> {
        let now = now_millis();
        let claimed = sqlx::query(
            "UPDATE checkouts SET lease_owner = $1, lease_until = $2 \
             WHERE order_id = $3 AND step <> 'done' \
             AND (lease_until < $4 OR lease_owner = $1 OR lease_owner IS NULL)",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(order_id)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        self.checkout(order_id).await
    }

    pub async fn checkout(&self, order_id: &str) -> StoreResult<Option<Checkout>> {
        let row = sqlx::query(&format!(
            "SELECT {CHECKOUT_COLUMNS} FROM checkouts WHERE order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(checkout).transpose()
    }

    /// The checkouts of `order_ids` (one query for all).
    pub async fn checkouts_of(&self, order_ids: &[String]) -> StoreResult<Vec<Checkout>> {
        let select = format!("SELECT {CHECKOUT_COLUMNS} FROM checkouts WHERE order_id");
        let rows = self.db.fetch_any_of(&select, order_ids, "").await?;
        rows.iter().map(checkout).collect()
    }

    /// Moves the checkout from `from` to `to` with what the step did, if `owner` still holds it;
    /// false when it does not (another process took over: it will do the step).
    pub async fn advance(
        &self,
        order_id: &str,
        owner: &str,
        from: Step,
        to: Step,
        advance: Advance,
    ) -> StoreResult<bool> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let failure = advance
            .failure
            .as_ref()
            .map(|f| serde_json::to_string(f).expect("failures serialize"));
        let moved = sqlx::query(
            "UPDATE checkouts SET step = $1, attempts = 0, \
             failure = COALESCE($2, failure), \
             payment_token = CASE WHEN $3 = 1 THEN NULL ELSE payment_token END, \
             cart_token = CASE WHEN $1 = 'done' THEN NULL ELSE cart_token END, \
             updated_at = $4, reservation = COALESCE($8, reservation) \
             WHERE order_id = $5 AND lease_owner = $6 AND step = $7",
        )
        .bind(to.as_str())
        .bind(failure)
        .bind(i64::from(advance.forget_token))
        .bind(now)
        .bind(order_id)
        .bind(owner)
        .bind(from.as_str())
        .bind(&advance.reservation)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(change) = &advance.status {
            set_status(&mut tx, order_id, change, now).await?;
        }
        if let Some(how) = advance.redemption {
            promotions::settle_uses(&mut tx, order_id, how, now).await?;
        }
        for event in &advance.events {
            outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Counts a failed call of the current step and lets go of the lease, so the sweep tries
    /// again; returns the attempts so far.
    pub async fn failed_attempt(&self, order_id: &str, owner: &str) -> StoreResult<i64> {
        sqlx::query(
            "UPDATE checkouts SET attempts = attempts + 1, lease_owner = NULL, lease_until = $1 \
             WHERE order_id = $2 AND lease_owner = $3",
        )
        .bind(now_millis())
        .bind(order_id)
        .bind(owner)
        .execute(self.db.pool())
        .await?;
        Ok(self
            .checkout(order_id)
            .await?
            .map(|c| c.attempts)
            .unwrap_or_default())
    }

    /// Lets go of the lease (the saga waits for something else: a payment's result).
    pub async fn release_lease(
        &self,
        order_id: &str,
        owner: &str,
        retry_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE checkouts SET lease_owner = NULL, lease_until = $1 \
             WHERE order_id = $2 AND lease_owner = $3",
        )
        .bind(retry_at)
        .bind(order_id)
        .bind(owner)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Unfinished checkouts nobody holds, oldest first.
    pub async fn due(&self, limit: i64) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT order_id FROM checkouts WHERE step <> 'done' AND lease_until < $1 \
             ORDER BY lease_until LIMIT $2",
        )
        .bind(now_millis())
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("order_id").map_err(Into::into))
            .collect()
    }

    /// Changes an order's status if it is still `from` (a concurrent change wins otherwise),
    /// with its history entry and `event`; false when the order was not `from`.
    pub async fn change_status(
        &self,
        order_id: &str,
        from: OrderStatus,
        change: &StatusChange,
        events: &[Event],
    ) -> StoreResult<bool> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        if !transition(&mut tx, order_id, from, change, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        for event in events {
            outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels a paid or fulfilled order: its status (if still `from`), history and event, and
    /// its saga moved to the restock step (also from clearing the cart), free for anyone to run.
    pub async fn cancel(
        &self,
        order_id: &str,
        from: OrderStatus,
        change: &StatusChange,
        events: &[Event],
    ) -> StoreResult<bool> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        if !transition(&mut tx, order_id, from, change, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE checkouts SET step = $1, attempts = 0, lease_owner = NULL, lease_until = 0, \
             updated_at = $2 WHERE order_id = $3",
        )
        .bind(Step::Restock.as_str())
        .bind(now)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        // A cancelled order gives its uses of promotions back.
        promotions::settle_uses(&mut tx, order_id, Redemption::Release, now).await?;
        for event in events {
            outbox::append(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Writes `event` to the outbox on its own.
    pub async fn publish(&self, event: &Event) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        outbox::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The order with this number (e.g. SO-261201-7K3QJ9M2), if any.
    pub async fn order_by_number(&self, number: &str) -> StoreResult<Option<Order>> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = $1"
        ))
        .bind(number)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(order).transpose()
    }

    pub async fn orders_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Order>> {
        let select = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id");
        let rows = self.db.fetch_any_of(&select, ids, "").await?;
        rows.iter().map(order).collect()
    }

    pub async fn lines_of(&self, order_ids: &[String]) -> StoreResult<Vec<OrderLine>> {
        let select = format!("SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id");
        let rows = self
            .db
            .fetch_any_of(&select, order_ids, "ORDER BY order_id, position")
            .await?;
        rows.iter().map(line).collect()
    }

    pub async fn tax_lines_of(&self, order_ids: &[String]) -> StoreResult<Vec<OrderTaxLine>> {
        let select = format!("SELECT {TAX_LINE_COLUMNS} FROM order_tax_lines WHERE order_id");
        let rows = self
            .db
            .fetch_any_of(&select, order_ids, "ORDER BY order_id, position")
            .await?;
        rows.iter().map(tax_line).collect()
    }

    pub async fn history_of(&self, order_ids: &[String]) -> StoreResult<Vec<StatusEntry>> {
        let select = "SELECT order_id, status, actor, actor_id, reason, at \
             FROM order_status_history WHERE order_id";
        let rows = self
            .db
            .fetch_any_of(select, order_ids, "ORDER BY order_id, position")
            .await?;
        rows.iter().map(history).collect()
    }

    /// Orders matching `filter`, newest first (oldest first with `oldest_first`), after
    /// `cursor`, at most `limit`.
    /// Orders created in `[from, until)` (milliseconds), counted by status and currency.
    pub async fn tally(&self, from: i64, until: i64) -> StoreResult<Vec<StatusTally>> {
        // PostgreSQL's SUM of BIGINT is NUMERIC: cast back, as SQLite's already is an integer.
        let rows = sqlx::query(
            "SELECT status, currency, COUNT(*) AS orders, \
                    CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) AS total_minor \
             FROM orders WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY status, currency ORDER BY status, currency",
        )
        .bind(from)
        .bind(until)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let currency: String = row.try_get("currency")?;
                let what = || format!("orders of status {status:?} in {currency:?}");
                Ok(StatusTally {
                    status: OrderStatus::parse(&status).ok_or_else(|| corrupt("tally", what()))?,
                    currency: CurrencyCode::parse(&currency)
                        .ok_or_else(|| corrupt("tally", what()))?,
                    orders: row.try_get("orders")?,
                    total_minor: row.try_get("total_minor")?,
                })
            })
            .collect()
    }

    pub async fn list(
        &self,
        filter: &OrderFilter,
        oldest_first: bool,
        cursor: Option<&OrderCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Order>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<BindValue> = Vec::new();
        let next = |value: BindValue, binds: &mut Vec<BindValue>| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if let Some(status) = filter.status {
            let p = next(BindValue::Text(status.as_str().into()), &mut binds);
            conditions.push(format!("status = {p}"));
        }
        if let Some(customer) = &filter.customer_id {
            let p = next(BindValue::Text(customer.clone()), &mut binds);
            conditions.push(format!("customer_id = {p}"));
        }
        if let Some(from) = filter.created_from {
            let p = next(BindValue::Int(from), &mut binds);
            conditions.push(format!("created_at >= {p}"));
        }
        if let Some(until) = filter.created_until {
            let p = next(BindValue::Int(until), &mut binds);
            conditions.push(format!("created_at < {p}"));
        }
        let (compare, direction) = if oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some((created_at, id)) = cursor {
            let a = next(BindValue::Int(*created_at), &mut binds);
            let b = next(BindValue::Int(*created_at), &mut binds);
            let c = next(BindValue::Text(id.clone()), &mut binds);
            conditions.push(format!(
                "(created_at {compare} {a} OR (created_at = {b} AND id {compare} {c}))"
            ));
        }
        let limit_param = next(BindValue::Int(limit as i64), &mut binds);
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders {condition} \
             ORDER BY created_at {direction}, id {direction} LIMIT {limit_param}"
        );
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = match value {
                BindValue::Text(text) => query.bind(text),
                BindValue::Int(int) => query.bind(int),
            };
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        rows.iter().map(order).collect()
    }
}

enum BindValue {
    Text(String),
    Int(i64),
}

/// Changes the order's status if it is still `from`, with its history entry; false when it was
/// not (a concurrent change won).
async fn transition(
    tx: &mut storage::db::Transaction,
    order_id: &str,
    from: OrderStatus,
    change: &StatusChange,
    now: i64,
) -> StoreResult<bool> {
    let changed =
        sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(change.to.as_str())
            .bind(now)
            .bind(order_id)
            .bind(from.as_str())
            .execute(&mut **tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Ok(false);
    }
    append_history(tx, order_id, change, now).await?;
    Ok(true)
}

async fn set_status(
    tx: &mut storage::db::Transaction,
    order_id: &str,
    change: &StatusChange,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(change.to.as_str())
        .bind(now)
        .bind(order_id)
        .execute(&mut **tx)
        .await?;
    append_history(tx, order_id, change, now).await
}

async fn append_history(
    tx: &mut storage::db::Transaction,
    order_id: &str,
    change: &StatusChange,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO order_status_history (order_id, position, status, actor, actor_id, reason, at) \
         SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6 \
         FROM order_status_history WHERE order_id = $1",
    )
    .bind(order_id)
    .bind(change.to.as_str())
    .bind(change.actor.as_str())
    .bind(&change.actor_id)
    .bind(&change.reason)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
