//! Cancelling an order: its customer until fulfilment, an admin until delivery.

use async_graphql::{Context, InputObject, Object, ID};
use auth::Permission;

use super::order::{order_payload, OrderPayload};
use super::{service, viewer};
use crate::domain::status::Actor;
use crate::error::OrderError;

#[derive(InputObject)]
pub struct CancelOrderInput {
    pub order_id: ID,
    pub reason: Option<String>,
}

#[derive(Default)]
pub struct CancelMutation;

#[Object]
impl CancelMutation {
    /// Cancels the order: the stock goes back and the payment is refunded. A customer may cancel
    /// their own order until it is fulfilled, an admin any order until it is delivered.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: CancelOrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        let viewer = viewer(ctx);
        let me = viewer.require_user()?;
        let service = service(ctx);
        let actor = if viewer.has_permission(Permission::OrdersWrite) {
            Actor::Admin
        } else {
            Actor::Customer
        };
        let reason = input.reason.unwrap_or_default();
        let result = match service.order(&input.order_id).await {
            // Someone else's order is as good as unknown to a customer.
            Ok(Some(order)) if actor == Actor::Admin || order.customer_id == me => {
                let staff = (actor == Actor::Admin)
                    .then(|| kit::audit::Auditor::of(ctx))
                    .flatten();
                service
                    .cancel(&order.id, actor, me, &reason, staff.as_ref())
                    .await
            }
            Ok(_) => Err(OrderError::OrderNotFound),
            Err(error) => Err(error),
        };
        order_payload(result)
    }
}
