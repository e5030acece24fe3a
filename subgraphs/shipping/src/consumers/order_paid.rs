//! `order.paid`: each paid order is recorded and shipped once
//! ([`ShippingService::order_paid`] commits its work with the event's processed mark).

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::orders::OrderPaid;

use crate::service::ShippingService;
use crate::store::ShippableOrder;

pub struct PaidOrders(pub Arc<ShippingService>);

#[async_trait::async_trait]
impl Handler for PaidOrders {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let OrderPaid(paid) = event.decode()?;
        // Orders placed at a flat fee, before shipping quoted rates, name no carrier service:
        // shipping cannot choose one for them, so they go to the dead letters for a person.
        let Some(method) = paid.shipping_method else {
            return Err(HandlerError::Reject(format!(
                "order {} was paid without a shipping method",
                paid.order_id
            )));
        };
        let order = ShippableOrder {
            order_id: paid.order_id,
            number: paid.number,
            customer_id: paid.customer_id,
            email: paid.email,
            address: paid.shipping_address.into(),
            lines: paid.lines,
            carrier: method.carrier,
            service: method.service,
        };
        self.0
            .order_paid(&event.id, &order)
            .await
            .map_err(HandlerError::retry)
    }
}
