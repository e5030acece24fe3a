//! Admin operations: the shipments list, fulfilling an order by hand, tracking updates.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::shipment::{Shipment, ShipmentStatus};
use super::{lines, payload, service, viewer, ShippingLineInput, ShippingUserError};
use crate::service::TrackingUpdate;
use crate::store::{ListCursor, ShipmentPlan};

#[derive(InputObject)]
pub struct ShipmentPlanInput {
    /// A carrier code of the rate table, e.g. `ups`.
    pub carrier: String,
    /// One of the carrier's service codes, e.g. `ground`.
    pub service: String,
    pub lines: Vec<ShippingLineInput>,
}

#[derive(InputObject)]
pub struct FulfilOrderInput {
    pub order_id: ID,
    /// Each becomes a shipment; together at most what is left to ship of each product.
    pub shipments: Vec<ShipmentPlanInput>,
}

#[derive(SimpleObject)]
pub struct FulfilOrderPayload {
    pub shipments: Vec<Shipment>,
    pub user_errors: Vec<ShippingUserError>,
}

#[derive(InputObject)]
pub struct UpdateShipmentTrackingInput {
    pub shipment_id: ID,
    pub status: ShipmentStatus,
    pub description: Option<String>,
    pub location: Option<String>,
    /// RFC 3339; now when left out.
    pub occurred_at: Option<String>,
}

#[derive(SimpleObject)]
pub struct ShipmentPayload {
    pub shipment: Option<Shipment>,
    pub user_errors: Vec<ShippingUserError>,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Shipments newest first, of one status or all (admins).
    #[graphql(requires_scopes = "orders:read")]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        status: Option<ShipmentStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Shipment>> {
        viewer(ctx).require_permission(Permission::OrdersRead)?;
        let page = PageRequest::<ListCursor>::from_args(first, after, None, None)?;
        let rows = service(ctx)
            .store
            .list(status.map(Into::into), page.cursor.as_ref(), page.limit + 1)
            .await
            .map_err(ApiError::internal)?;
        Ok(connection(
            &page,
            rows,
            |row| (row.created_at, row.id.clone()),
            |row| Shipment { row },
        ))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Ships lines of a paid order by hand: one shipment per plan, each with its carrier's
    /// tracking number (admins).
    #[graphql(requires_scopes = "orders:write")]
    async fn fulfil_order(
        &self,
        ctx: &Context<'_>,
        input: FulfilOrderInput,
    ) -> async_graphql::Result<FulfilOrderPayload> {
        let admin = viewer(ctx).require_permission(Permission::OrdersWrite)?;
        let plans: Vec<ShipmentPlan> = input
            .shipments
            .into_iter()
            .map(|p| ShipmentPlan {
                carrier: p.carrier.trim().to_string(),
                service: p.service.trim().to_string(),
                lines: lines(p.lines),
            })
            .collect();
        let result = service(ctx).fulfil(&input.order_id, &plans, admin).await;
        payload(result, |shipments, user_errors| FulfilOrderPayload {
            shipments: shipments
                .unwrap_or_default()
                .into_iter()
                .map(|row| Shipment { row })
                .collect(),
            user_errors,
        })
    }

    /// Records a tracking step by hand (a carrier without webhooks, a correction); the shipment
    /// takes the status of its latest step by when it happened (admins).
    #[graphql(requires_scopes = "orders:write")]
    async fn update_shipment_tracking(
        &self,
        ctx: &Context<'_>,
        input: UpdateShipmentTrackingInput,
    ) -> async_graphql::Result<ShipmentPayload> {
        viewer(ctx).require_permission(Permission::OrdersWrite)?;
        let update = TrackingUpdate {
            status: input.status.into(),
            description: input.description,
            location: input.location,
            occurred_at: input.occurred_at,
        };
        let result = service(ctx).admin_update(&input.shipment_id, update).await;
        payload(result, |shipment, user_errors| ShipmentPayload {
            shipment: shipment.map(|row| Shipment { row }),
            user_errors,
        })
    }
}
