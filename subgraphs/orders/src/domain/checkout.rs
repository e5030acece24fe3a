//! The checkout saga's steps. Each step is safe to run again (the calls it makes carry the
//! order's id as their idempotency key), so a checkout whose process died is resumed at its step
//! by whichever process takes its lease next.
//!
//! ```text
//! reserve ──ok──> charge ──captured──> confirm ──ok──> clear_cart ──> done   (order paid)
//!    │              │  ├─pending: wait for payment.updated or the sweep
//!    │              │  └─requires action (3-D Secure): wait likewise; not confirmed within
//!    │              │    ORDERS_PAYMENT_ACTION_SECS: the payment is given up ──> failed
//!    │              └─failed, or unreachable too often──> release ──> refund ──> done
//!    │                                                                      (order failed)
//!    ├─unreachable too often──> release ──> refund ──> done                 (order failed)
//!    └─out of stock──> done                                                 (order failed)
//!                      confirm ──reservation expired──> reserved again ──> confirm (once)
//!                      confirm ──reservation expired, sold out──> refund ──> done (order failed)
//!
//! cancelled (paid or fulfilled) ──> restock ──> cancel_refund ──> done      (order cancelled)
//! ```

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Reserve,
    Charge,
    Confirm,
    ClearCart,
    /// Compensation: give back the held stock.
    Release,
    /// Compensation: give back whatever the payment captured (nothing, for a decline).
    Refund,
    /// Cancellation: the sold units go back into stock.
    Restock,
    /// Cancellation: the payment is refunded.
    CancelRefund,
    Done,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserve => "reserve",
            Self::Charge => "charge",
            Self::Confirm => "confirm",
            Self::ClearCart => "clear_cart",
            Self::Release => "release",
            Self::Refund => "refund",
            Self::Restock => "restock",
            Self::CancelRefund => "cancel_refund",
            Self::Done => "done",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Reserve,
            Self::Charge,
            Self::Confirm,
            Self::ClearCart,
            Self::Release,
            Self::Refund,
            Self::Restock,
            Self::CancelRefund,
            Self::Done,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Why a checkout failed, as its customer is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    OutOfStock,
    PaymentDeclined,
    /// A service checkout needs (inventory, payments) failed often enough that it gave up.
    Unavailable,
    /// The stock hold ran out before the payment was captured; the payment is refunded.
    ReservationExpired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}
