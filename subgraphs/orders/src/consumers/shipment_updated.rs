//! `shipment.updated`: a paid order becomes fulfilled when its first
//! shipment is made, and delivered when shipping says every shipment of it is. Moving an order
//! that is already there changes nothing, so a redelivered event needs no processed mark.

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::shipping::ShipmentUpdated;

use crate::domain::status::{Actor, OrderStatus};
use crate::error::OrderError;
use crate::service::OrdersService;

pub struct ShipmentProgress(pub Arc<OrdersService>);

impl ShipmentProgress {
    /// Moves the order to `to` unless it is there or past it; a final order (cancelled) stays.
    async fn advance(
        &self,
        order_id: &str,
        to: OrderStatus,
        reason: &str,
    ) -> Result<(), OrderError> {
        let Some(order) = self.0.order(order_id).await? else {
            return Err(OrderError::OrderNotFound);
        };
        let steps: &[OrderStatus] = match (order.status, to) {
            (OrderStatus::Paid, OrderStatus::Delivered) => {
                &[OrderStatus::Fulfilled, OrderStatus::Delivered]
            }
            (OrderStatus::Paid, OrderStatus::Fulfilled) => &[OrderStatus::Fulfilled],
            (OrderStatus::Fulfilled, OrderStatus::Delivered) => &[OrderStatus::Delivered],
            (from, _) => {
                if from != to && from != OrderStatus::Delivered {
                    tracing::warn!(
                        order = order_id,
                        status = from.as_str(),
                        to = to.as_str(),
                        "a shipment update for an order that cannot move there"
                    );
                }
                return Ok(());
            }
        };
        for step in steps {
            self.0
                .change_status(order_id, *step, Actor::System, None, reason)
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Handler for ShipmentProgress {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let updated: ShipmentUpdated = event.decode()?;
        let (to, reason) = if updated.order_delivered {
            (
                OrderStatus::Delivered,
                "every shipment delivered".to_string(),
            )
        } else if updated.status == "label_created" {
            (
                OrderStatus::Fulfilled,
                format!("shipment {} created", updated.tracking_number),
            )
        } else {
            return Ok(());
        };
        match self.advance(&updated.order_id, to, &reason).await {
            Ok(()) => Ok(()),
            // Orders that shipping ships are orders' own; one missing is a bug to see, not retry.
            Err(OrderError::OrderNotFound) => Err(HandlerError::Reject(format!(
                "shipment {} of unknown order {}",
                updated.shipment_id, updated.order_id
            ))),
            // Another change won the race: the next attempt sees it.
            Err(error) => Err(HandlerError::retry(error)),
        }
    }
}
