//! What orders publishes: notifications, shipping and recommendations consume it.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

use crate::common::{Line, PostalAddress};

/// The carrier service chosen at checkout (codes of shipping's rate table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    pub carrier: String,
    pub service: String,
}

/// What `order.placed` and `order.paid` tell of the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFacts {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub total_minor: i64,
    pub currency: String,
    pub lines: Vec<Line>,
    pub shipping_address: PostalAddress,
    /// None for orders placed at a flat fee, before shipping quoted rates.
    pub shipping_method: Option<ShippingMethod>,
    /// What discounts took off the lines and the shipping (0 in events from before discounts).
    #[serde(default)]
    pub discount_minor: i64,
    /// The order's tax (0 in events from before taxes).
    #[serde(default)]
    pub tax_minor: i64,
    /// Whether the total holds the tax (EU prices) or had it added (US prices).
    #[serde(default)]
    pub prices_include_tax: bool,
    /// The tax per rate, as the order's receipt shows it.
    #[serde(default)]
    pub tax_lines: Vec<TaxAmount>,
}

/// An order's tax at one rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxAmount {
    /// What receipts call it ("DE VAT 19%").
    pub name: String,
    /// Parts per million (19% is 190000).
    pub rate_ppm: u32,
    pub tax_minor: i64,
}

/// `order.placed`: stock is held for the order and its payment is being taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderPlaced(pub OrderFacts);

impl Fact for OrderPlaced {
    const TOPIC: &'static str = "order.placed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.0.order_id.clone()
    }
}

/// `order.paid`: the payment is captured and the stock has left with the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderPaid(pub OrderFacts);

impl Fact for OrderPaid {
    const TOPIC: &'static str = "order.paid";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.0.order_id.clone()
    }
}

/// `order.closed`: the order ended without a sale: cancelled, or its checkout failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderClosed {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    /// `cancelled` or `failed`.
    pub status: String,
    pub reason: String,
}

impl Fact for OrderClosed {
    const TOPIC: &'static str = "order.closed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

/// `order.status_changed`: an order moved by the state machine outside checkout and
/// cancellation: fulfilled,
/// delivered (by shipping's events or an admin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusChanged {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub status: String,
    pub previous_status: String,
}

impl Fact for OrderStatusChanged {
    const TOPIC: &'static str = "order.status_changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

/// `order.reconciliation_needed`: reconciliation found disagreements it could not repair:
/// notifications emails the admins,
/// once per set of findings (`digest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconciliationNeeded {
    /// SHA-256 of the findings, so the same set found again is recognised.
    pub digest: String,
    /// One line each, as `orders reconcile` prints them.
    pub findings: Vec<String>,
}

impl Fact for ReconciliationNeeded {
    const TOPIC: &'static str = "order.reconciliation_needed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.digest.clone()
    }
}
