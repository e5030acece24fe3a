//! Deliveries arriving as shipping's `shipment.updated`: a delivered shipment gives its
//! customer the right to review what was in it. Recorded once per event (with its processed
//! mark), and idempotent besides.

use event_bus::consumer::{Handler, HandlerError};
use event_bus::{Event, Fact};
use serde::{Deserialize, Serialize};

use crate::store::ReviewStore;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    product_id: String,
}

/// The part of shipping's `shipment.updated` this consumer reads.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentUpdated {
    shipment_id: String,
    order_id: String,
    customer_id: String,
    status: String,
    lines: Vec<Line>,
}

impl Fact for ShipmentUpdated {
    const TOPIC: &'static str = "shipment.updated";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.shipment_id.clone()
    }
}

pub const TOPIC: &str = ShipmentUpdated::TOPIC;

pub struct Deliveries(pub ReviewStore);

#[async_trait::async_trait]
impl Handler for Deliveries {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let updated: ShipmentUpdated = event.decode()?;
        if updated.status != "delivered" {
            return Ok(());
        }
        let products: Vec<String> = updated.lines.into_iter().map(|l| l.product_id).collect();
        self.0
            .record_delivery(
                &event.id,
                &updated.customer_id,
                &updated.order_id,
                &products,
            )
            .await
            .map(|_| ())
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}
