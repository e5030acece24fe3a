//! Admin: the orders list with filters and sorting, and status changes by the state machine.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, ID};

use super::order::{order_payload, orders_connection, Order, OrderPayload, OrderStatus};
use super::{service, viewer};
use crate::domain::status::{Actor, OrderStatus as DomainStatus};
use crate::error::OrderError;
use crate::store::OrderFilter;

#[derive(InputObject, Default)]
pub struct OrderFilterInput {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<ID>,
    /// RFC 3339; orders created at or after it.
    pub created_from: Option<String>,
    /// RFC 3339; orders created before it.
    pub created_until: Option<String>,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OrderSort {
    #[default]
    NewestFirst,
    OldestFirst,
}

#[derive(InputObject)]
pub struct UpdateOrderStatusInput {
    pub order_id: ID,
    pub status: OrderStatus,
    pub reason: String,
}

fn millis(raw: Option<&str>, name: &str) -> async_graphql::Result<Option<i64>> {
    raw.map(|raw| {
        primitives::time::parse_millis(raw).ok_or_else(|| {
            kit::ApiError::BadUserInput(format!("`{name}` must be an RFC 3339 time")).into()
        })
    })
    .transpose()
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every order, filtered and sorted.
    #[graphql(requires_scopes = "admin")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilterInput>,
        sort: Option<OrderSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Order>> {
        viewer(ctx).require_admin()?;
        let filter = filter.unwrap_or_default();
        let filter = OrderFilter {
            status: filter.status.map(Into::into),
            customer_id: filter.customer_id.map(|id| id.0),
            created_from: millis(filter.created_from.as_deref(), "createdFrom")?,
            created_until: millis(filter.created_until.as_deref(), "createdUntil")?,
        };
        let oldest_first = sort.unwrap_or_default() == OrderSort::OldestFirst;
        orders_connection(ctx, &filter, oldest_first, first, after).await
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Moves an order along the state machine (fulfilled, delivered); a change it does not
    /// allow is a userError.
    #[graphql(requires_scopes = "admin")]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderStatusInput,
    ) -> async_graphql::Result<OrderPayload> {
        let admin = viewer(ctx).require_admin()?;
        let to: DomainStatus = input.status.into();
        let result = if to == DomainStatus::Cancelled {
            // Cancelling gives back stock and money; that is its own operation.
            Err(OrderError::InvalidInput {
                field: "status",
                message: "cancel orders with cancelOrder",
            })
        } else {
            service(ctx)
                .change_status(
                    &input.order_id,
                    to,
                    Actor::Admin,
                    Some(admin),
                    &input.reason,
                )
                .await
        };
        order_payload(result)
    }
}
