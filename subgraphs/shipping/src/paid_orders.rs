//! Paid orders arriving as `order.paid`: each is recorded and shipped once
//! ([`ShippingService::order_paid`] commits its work with the event's processed mark).

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::{Event, Fact};

use crate::domain::events::OrderPaid;
use crate::service::ShippingService;

pub const TOPIC: &str = OrderPaid::TOPIC;

pub struct PaidOrders(pub Arc<ShippingService>);

#[async_trait::async_trait]
impl Handler for PaidOrders {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let paid: OrderPaid = event.decode()?;
        self.0
            .order_paid(&event.id, &paid)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}
