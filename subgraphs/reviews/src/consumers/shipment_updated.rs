//! `shipment.updated`: a delivered shipment gives its
//! customer the right to review what was in it. Recorded once per event (with its processed
//! mark), and idempotent besides.

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::shipping::ShipmentUpdated;

use crate::store::ReviewStore;

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
            .map_err(HandlerError::retry)
    }
}
