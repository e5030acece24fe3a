//! Admin: the orders list with filters and sorting, a period's figures for the dashboard, and
//! status changes by the state machine.

use auth::Permission;
use std::collections::{BTreeMap, HashMap};

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use commerce::money::{Money, MoneyObject};
use kit::ApiError;

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

/// The dashboard's period when none is given: the last 30 days.
const DEFAULT_PERIOD_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Orders placed in a period: how many of each status, and what the paid ones sold.
#[derive(SimpleObject)]
pub struct OrderSummary {
    /// RFC 3339, inclusive.
    pub from: String,
    /// RFC 3339, exclusive.
    pub until: String,
    /// Every status, in the order an order passes them, zero included.
    pub by_status: Vec<OrderStatusCount>,
    /// Orders that were paid and not cancelled (paid, fulfilled or delivered).
    pub paid_orders: i64,
    /// Their totals, one amount per currency (before refunds).
    pub sales: Vec<MoneyObject>,
}

#[derive(SimpleObject)]
pub struct OrderStatusCount {
    pub status: OrderStatus,
    pub count: i64,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Every order, filtered and sorted.
    #[graphql(requires_scopes = "orders:read")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilterInput>,
        sort: Option<OrderSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Order>> {
        viewer(ctx).require_permission(Permission::OrdersRead)?;
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

    /// Orders placed from `from` until `until` (RFC 3339; the last 30 days when left out): the
    /// dashboard's orders by status and the period's sales, counted in the database.
    #[graphql(requires_scopes = "orders:read")]
    async fn order_summary(
        &self,
        ctx: &Context<'_>,
        from: Option<String>,
        until: Option<String>,
    ) -> async_graphql::Result<OrderSummary> {
        viewer(ctx).require_permission(Permission::OrdersRead)?;
        let until = millis(until.as_deref(), "until")?.unwrap_or_else(primitives::time::now_millis);
        let from = millis(from.as_deref(), "from")?.unwrap_or(until - DEFAULT_PERIOD_MILLIS);
        if from > until {
            return Err(ApiError::BadUserInput("`from` must not be after `until`".into()).into());
        }
        let tallies = service(ctx)
            .store
            .tally(from, until)
            .await
            .map_err(ApiError::internal)?;
        let mut by_status: HashMap<DomainStatus, i64> = HashMap::new();
        let mut sales = BTreeMap::new();
        let mut paid_orders = 0;
        for tally in &tallies {
            *by_status.entry(tally.status).or_default() += tally.orders;
            if tally.status.is_sale() {
                paid_orders += tally.orders;
                let (_, sum) = sales
                    .entry(tally.currency.as_str())
                    .or_insert((tally.currency, 0));
                *sum += tally.total_minor;
            }
        }
        Ok(OrderSummary {
            from: primitives::time::format_millis(from),
            until: primitives::time::format_millis(until),
            by_status: DomainStatus::ALL
                .into_iter()
                .map(|status| OrderStatusCount {
                    status: status.into(),
                    count: by_status.get(&status).copied().unwrap_or(0),
                })
                .collect(),
            paid_orders,
            sales: sales
                .into_values()
                .map(|(currency, minor_units)| {
                    Money {
                        minor_units,
                        currency,
                    }
                    .into()
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Moves an order along the state machine (fulfilled, delivered); a change it does not
    /// allow is a userError.
    #[graphql(requires_scopes = "orders:write")]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderStatusInput,
    ) -> async_graphql::Result<OrderPayload> {
        let staff = kit::audit::Auditor::require(ctx, Permission::OrdersWrite)?;
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
                    Some(&staff),
                    &input.reason,
                )
                .await
        };
        order_payload(result)
    }
}
