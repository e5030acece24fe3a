//! Events shipping reads (`order.paid`, the part it needs) and publishes (`shipment.updated`).

use commerce::address::Address;
use event_bus::Fact;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLine {
    pub product_id: String,
    pub quantity: i64,
}

/// The carrier and service level the customer chose at checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    pub carrier: String,
    pub service: String,
}

/// What shipping reads of orders' `order.paid`: the order is paid and ready to ship.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPaid {
    pub order_id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub lines: Vec<EventLine>,
    pub shipping_address: Address,
    pub shipping_method: ShippingMethod,
}

impl Fact for OrderPaid {
    const TOPIC: &'static str = "order.paid";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

/// A shipment was created or its status changed. Orders moves the order to fulfilled and then
/// delivered; notifications tells the customer; reviews learns who received what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentUpdated {
    pub shipment_id: String,
    pub order_id: String,
    pub order_number: String,
    pub customer_id: String,
    pub email: String,
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    /// `label_created` when the shipment is new, then as the carrier reports.
    pub status: String,
    pub previous_status: Option<String>,
    pub description: String,
    pub lines: Vec<EventLine>,
    /// Every shipment of the order is delivered (and at least one exists).
    pub order_delivered: bool,
}

impl Fact for ShipmentUpdated {
    const TOPIC: &'static str = "shipment.updated";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.shipment_id.clone()
    }
}
