//! Inventory storage: rows, errors, and the SQL store (PostgreSQL and SQLite). Stock moves
//! in single transactions that lock what they change, so concurrent reservations cannot oversell
//! and nothing is left half-done; rows are parsed into the types below once.

mod sql;

use crate::domain::{AdjustmentKind, ReservationStatus};

pub use sql::InventoryStore;

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

/// A variant's stock in one warehouse.
#[derive(Clone, Debug, PartialEq)]
pub struct StockLevel {
    pub variant_id: String,
    /// The variant's product (a product's availability sums its variants).
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
    pub variant_id: String,
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
    pub variant_id: String,
    /// The variant's product, as the catalog has it.
    pub product_id: String,
    pub warehouse_id: String,
    pub kind: AdjustmentKind,
    pub delta: i64,
    pub reason: String,
    /// Who adjusts: the ledger's actor, and the audit record's.
    pub staff: kit::audit::Auditor,
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
    pub variant_id: String,
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
    pub variant_id: String,
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

/// A variant at or below its threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct LowStock {
    pub variant_id: String,
    pub product_id: String,
    pub available: i64,
    pub threshold: i64,
}

/// Whose stock: every variant of a product, or one variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockItem {
    Product(String),
    Variant(String),
}

/// A demo stock row: units of a variant in a warehouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoStock {
    pub variant_id: String,
    pub product_id: String,
    pub warehouse_id: String,
    pub on_hand: i64,
}
