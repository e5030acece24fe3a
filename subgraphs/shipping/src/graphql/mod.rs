//! The shipping GraphQL API: rate quotes, `Shipment` and `Order.shipments` (the order's customer
//! and admins), and the admin's fulfilment, tracking updates and shipments list. Service errors
//! become userErrors or GraphQL errors here.

mod admin;
mod rates;
mod shipment;

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, Enum, InputObject, MergedObject, Schema, SimpleObject, ID,
};
use kit::schema::dataloader;
use kit::ApiError;

use crate::domain::rates::Unshippable;
use crate::service::{ShippingError, ShippingResult, ShippingService};
use events::common::Line;
pub use shipment::{Shipment, ShipmentLoader, TrackingLoader};

#[derive(MergedObject, Default)]
pub struct Query(
    rates::RatesQuery,
    shipment::ShipmentQuery,
    admin::AdminQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(admin::AdminMutation);

pub type ShippingSchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<ShippingService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(ShipmentLoader(service.clone())))
        .data(dataloader(TrackingLoader(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShippingErrorCode {
    InvalidInput,
    InvalidAddress,
    UnknownProduct,
    UnknownService,
    NotFound,
    MoreThanOrdered,
    /// No carrier takes the parcel to the address; the message says why (too heavy, no carrier
    /// to that country).
    Unshippable,
}

/// An expected failure of a shipping operation.
#[derive(SimpleObject, Clone, Debug)]
pub struct ShippingUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: ShippingErrorCode,
    pub message: String,
}

/// A variant of a product and how many of it.
#[derive(InputObject, Clone, Debug)]
pub struct ShippingLineInput {
    pub product_id: ID,
    /// Without it, the product's default variant (a product without options).
    pub variant_id: Option<ID>,
    pub quantity: i64,
}

pub(crate) fn lines(input: Vec<ShippingLineInput>) -> Vec<Line> {
    input
        .into_iter()
        .map(|l| Line {
            product_id: l.product_id.0,
            variant_id: l.variant_id.map(|id| id.0),
            quantity: l.quantity,
        })
        .collect()
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<ShippingService> {
    ctx.data_unchecked::<Arc<ShippingService>>()
}

pub(crate) use kit::access::viewer;

/// A payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: ShippingResult<T>,
    build: impl FnOnce(Option<T>, Vec<ShippingUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: ShippingError) -> Result<ShippingUserError, ApiError> {
    let field = |path: &[&str]| {
        Some(
            std::iter::once("input")
                .chain(path.iter().copied())
                .map(String::from)
                .collect(),
        )
    };
    let (field, code) = match &error {
        ShippingError::InvalidAddress(invalid) => (
            field(&["address", invalid.field]),
            ShippingErrorCode::InvalidAddress,
        ),
        ShippingError::LineCount | ShippingError::Quantity(_) => {
            (field(&["lines"]), ShippingErrorCode::InvalidInput)
        }
        ShippingError::UnknownProducts(_) => (field(&["lines"]), ShippingErrorCode::UnknownProduct),
        ShippingError::UnknownService { .. } => (None, ShippingErrorCode::UnknownService),
        ShippingError::Unshippable(Unshippable::TooHeavy { .. }) => {
            (field(&["lines"]), ShippingErrorCode::Unshippable)
        }
        ShippingError::Unshippable(Unshippable::NoCarrierTo { .. }) => (
            field(&["address", "countryCode"]),
            ShippingErrorCode::Unshippable,
        ),
        ShippingError::UnknownOrder => (field(&["orderId"]), ShippingErrorCode::NotFound),
        ShippingError::UnknownShipment | ShippingError::UnknownTracking => {
            (field(&["shipmentId"]), ShippingErrorCode::NotFound)
        }
        ShippingError::MoreThanOrdered { .. } => {
            (field(&["shipments"]), ShippingErrorCode::MoreThanOrdered)
        }
        ShippingError::InvalidTime | ShippingError::FutureTime => {
            (field(&["occurredAt"]), ShippingErrorCode::InvalidInput)
        }
        ShippingError::Catalog(_)
        | ShippingError::CatalogUnreadable(_)
        | ShippingError::Store(_)
        | ShippingError::Rates(_) => return Err(ApiError::internal(error)),
    };
    Ok(ShippingUserError {
        field,
        code,
        message: error.to_string(),
    })
}
