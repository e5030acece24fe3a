//! Reservations: internal operations for other services (checkout). They are `@inaccessible`, so
//! the router's API does not have them, and refuse callers without the service scope.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use kit::ApiError;

use super::product::ProductVariant;
use super::{payload, service, viewer, InventoryUserError};
use crate::domain::ReservationStatus;
use crate::store::Reservation as ReservationRow;

#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct Reservation {
    pub order_reference: String,
    pub status: ReservationStatus,
    /// When held units go back to stock unless confirmed.
    pub expires_at: String,
    pub lines: Vec<ReservationLine>,
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct ReservationLine {
    pub variant: ProductVariant,
    pub warehouse_id: ID,
    pub quantity: i64,
}

impl From<ReservationRow> for Reservation {
    fn from(row: ReservationRow) -> Self {
        Self {
            order_reference: row.order_reference,
            status: row.status,
            expires_at: primitives::time::format_millis(row.expires_at),
            lines: row
                .lines
                .into_iter()
                .map(|l| ReservationLine {
                    variant: ProductVariant {
                        id: ID(l.variant_id),
                    },
                    warehouse_id: ID(l.warehouse_id),
                    quantity: l.quantity,
                })
                .collect(),
        }
    }
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReserveLineInput {
    pub variant_id: ID,
    pub quantity: i64,
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReserveStockInput {
    /// The order's reference: a repeat with the same reference returns the first reservation.
    pub order_reference: String,
    pub lines: Vec<ReserveLineInput>,
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReservationInput {
    pub order_reference: String,
}

#[derive(SimpleObject, Default)]
#[graphql(inaccessible)]
pub struct ReservationPayload {
    pub reservation: Option<Reservation>,
    pub user_errors: Vec<InventoryUserError>,
}

fn reservation_payload(
    result: crate::service::InventoryResult<ReservationRow>,
) -> async_graphql::Result<ReservationPayload> {
    payload(result, |row, user_errors| ReservationPayload {
        reservation: row.map(Into::into),
        user_errors,
    })
}

#[derive(Default)]
pub struct ReservationQuery;

#[Object]
impl ReservationQuery {
    #[graphql(inaccessible)]
    async fn reservation(
        &self,
        ctx: &Context<'_>,
        order_reference: String,
    ) -> async_graphql::Result<Option<Reservation>> {
        viewer(ctx).require_service()?;
        match service(ctx).reservation(&order_reference).await {
            Ok(row) => Ok(Some(row.into())),
            Err(crate::service::InventoryError::ReservationNotFound) => Ok(None),
            Err(error) => Err(ApiError::internal(error).into()),
        }
    }
}

#[derive(Default)]
pub struct ReservationMutation;

#[Object]
impl ReservationMutation {
    /// Holds stock for every line or none, for the configured time.
    #[graphql(inaccessible)]
    async fn reserve_stock(
        &self,
        ctx: &Context<'_>,
        input: ReserveStockInput,
    ) -> async_graphql::Result<ReservationPayload> {
        viewer(ctx).require_service()?;
        let lines: Vec<(String, i64)> = input
            .lines
            .into_iter()
            .map(|l| (l.variant_id.0, l.quantity))
            .collect();
        reservation_payload(service(ctx).reserve(&input.order_reference, &lines).await)
    }

    /// The held units leave the stock with the order.
    #[graphql(inaccessible)]
    async fn confirm_reservation(
        &self,
        ctx: &Context<'_>,
        input: ReservationInput,
    ) -> async_graphql::Result<ReservationPayload> {
        viewer(ctx).require_service()?;
        reservation_payload(service(ctx).confirm(&input.order_reference).await)
    }

    /// A confirmed reservation's units go back into stock (the order was cancelled).
    #[graphql(inaccessible)]
    async fn return_reservation(
        &self,
        ctx: &Context<'_>,
        input: ReservationInput,
    ) -> async_graphql::Result<ReservationPayload> {
        viewer(ctx).require_service()?;
        reservation_payload(service(ctx).return_stock(&input.order_reference).await)
    }

    /// The held units are available again.
    #[graphql(inaccessible)]
    async fn release_reservation(
        &self,
        ctx: &Context<'_>,
        input: ReservationInput,
    ) -> async_graphql::Result<ReservationPayload> {
        viewer(ctx).require_service()?;
        reservation_payload(service(ctx).release(&input.order_reference).await)
    }
}
