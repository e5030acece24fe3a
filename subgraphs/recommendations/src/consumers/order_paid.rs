//! `order.paid`: what was bought together, and by whom (once per event).

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::orders::OrderPaid;

use crate::store::RecommendationStore;

pub struct PaidOrders(pub RecommendationStore);

#[async_trait::async_trait]
impl Handler for PaidOrders {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let OrderPaid(paid) = event.decode()?;
        let products: Vec<String> = paid.lines.into_iter().map(|l| l.product_id).collect();
        self.0
            .record_order(&event.id, &paid.customer_id, &products, event.time)
            .await
            .map(|_| ())
            .map_err(HandlerError::retry)
    }
}
