//! What shipping publishes.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

use crate::common::Line;

/// `shipment.updated`: a shipment was created or its status changed. Orders moves the order to
/// fulfilled and then delivered; notifications tells the customer; reviews learns who received
/// what.
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
    pub lines: Vec<Line>,
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
