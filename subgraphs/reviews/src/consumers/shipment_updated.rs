//! `shipment.updated`: a delivered shipment gives its
//! customer the right to review what was in it (and the variant they got). Recorded once per event (with its processed
//! mark), and idempotent besides.

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::shipping::ShipmentUpdated;

use crate::store::{DeliveredLine, ReviewStore};

pub struct Deliveries(pub ReviewStore);

#[async_trait::async_trait]
impl Handler for Deliveries {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let updated: ShipmentUpdated = event.decode()?;
        if updated.status != "delivered" {
            return Ok(());
        }
        let lines: Vec<DeliveredLine> = updated
            .lines
            .into_iter()
            .map(|line| DeliveredLine {
                // Events from before variants name none: the product's default variant.
                variant_id: line
                    .variant_id
                    .unwrap_or_else(|| commerce::variant::default_variant_id(&line.product_id)),
                product_id: line.product_id,
            })
            .collect();
        self.0
            .record_delivery(&event.id, &updated.customer_id, &updated.order_id, &lines)
            .await
            .map(|_| ())
            .map_err(HandlerError::retry)
    }
}
