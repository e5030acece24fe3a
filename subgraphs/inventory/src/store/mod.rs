//! Inventory storage: the trait and its SQL implementation (PostgreSQL and SQLite). Stock moves
//! in single transactions that lock what they change, so concurrent reservations cannot oversell
//! and nothing is left half-done; rows are parsed into the types below once.

mod sql;

use async_trait::async_trait;

use crate::domain::{AdjustmentKind, ReservationStatus};

pub use sql::SqlStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("a warehouse with this code exists")]
    DuplicateCode,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq)]
pub struct Warehouse {
    pub id: String,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
}

/// A product's stock in one warehouse.
#[derive(Clone, Debug, PartialEq)]
pub struct StockLevel {
    pub product_id: String,
    pub warehouse_id: String,
    pub warehouse_active: bool,
    pub on_hand: i64,
    pub reserved: i64,
}

impl StockLevel {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// One ledger entry: a change of on-hand stock.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjustment {
    pub id: String,
    pub product_id: String,
    pub warehouse_id: String,
    pub kind: AdjustmentKind,
    pub delta: i64,
    pub on_hand_after: i64,
    pub reason: String,
    /// Who made it: a user id, or `order:<reference>` for sales.
    pub actor: String,
    pub created_at: i64,
}

/// An admin's change of on-hand stock, validated.
#[derive(Clone, Debug)]
pub struct AdjustmentRequest {
    pub product_id: String,
    pub warehouse_id: String,
    pub kind: AdjustmentKind,
    pub delta: i64,
    pub reason: String,
    pub actor: String,
    pub idempotency_key: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AdjustOutcome {
    Applied(Adjustment),
    /// The idempotency key was used before: the first adjustment, unchanged.
    Repeated(Adjustment),
    UnknownWarehouse,
    /// On-hand stock would fall below zero or below what is reserved.
    WouldGoNegative {
        on_hand: i64,
        reserved: i64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReservedLine {
    pub product_id: String,
    pub warehouse_id: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reservation {
    pub order_reference: String,
    pub status: ReservationStatus,
    pub expires_at: i64,
    pub lines: Vec<ReservedLine>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReserveOutcome {
    Reserved(Reservation),
    /// The order reference was reserved before: that reservation, unchanged.
    Existing(Reservation),
    /// Not enough available stock for these lines (every short one); nothing was reserved.
    Short(Vec<ShortLine>),
}

/// A line of a reservation request that the available stock cannot cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortLine {
    pub product_id: String,
    pub wanted: i64,
    pub available: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TransitionOutcome {
    Done(Reservation),
    /// It was in that state already (a repeat): unchanged.
    Already(Reservation),
    /// It is in a state the transition cannot leave (e.g. releasing a confirmed reservation).
    Refused(Reservation),
    NotFound,
}

/// A product at or below its threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct LowStock {
    pub product_id: String,
    pub available: i64,
    pub threshold: i64,
}

#[async_trait]
pub trait InventoryStore: Send + Sync {
    async fn create_warehouse(&self, warehouse: &Warehouse) -> StoreResult<()>;
    async fn update_warehouse(
        &self,
        id: &str,
        name: Option<&str>,
        active: Option<bool>,
    ) -> StoreResult<Option<Warehouse>>;
    async fn warehouses(&self) -> StoreResult<Vec<Warehouse>>;

    /// Stock rows of these products in every warehouse.
    async fn levels(&self, product_ids: &[String]) -> StoreResult<Vec<StockLevel>>;

    async fn adjust(&self, request: &AdjustmentRequest) -> StoreResult<AdjustOutcome>;
    /// The ledger of a product, newest first, entries older than `before` (an entry id).
    async fn adjustments(
        &self,
        product_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Adjustment>>;

    async fn set_threshold(&self, product_id: &str, threshold: i64) -> StoreResult<()>;
    /// Products at or below their threshold (by product id, after `after`), active warehouses only.
    async fn low_stock(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<LowStock>>;

    /// Reserves every line or none; idempotent by order reference.
    async fn reserve(
        &self,
        order_reference: &str,
        lines: &[(String, i64)],
        expires_at: i64,
    ) -> StoreResult<ReserveOutcome>;
    async fn reservation(&self, order_reference: &str) -> StoreResult<Option<Reservation>>;
    /// Held → confirmed: the units leave on-hand stock (ledger entries of kind `sale`).
    async fn confirm(&self, order_reference: &str) -> StoreResult<TransitionOutcome>;
    /// Confirmed → returned: the units are back in on-hand stock (ledger entries of kind
    /// `restock`).
    async fn return_confirmed(&self, order_reference: &str) -> StoreResult<TransitionOutcome>;
    /// Held → released or expired: the units are available again.
    async fn release(
        &self,
        order_reference: &str,
        to: ReservationStatus,
    ) -> StoreResult<TransitionOutcome>;
    /// Held reservations whose hold ran out before `now`.
    async fn expired_reservations(&self, now: i64, limit: usize) -> StoreResult<Vec<String>>;

    /// Demo data: stock rows and their restock ledger entries, without events.
    async fn insert_demo_stock(&self, levels: &[(String, String, i64)]) -> StoreResult<()>;
}
