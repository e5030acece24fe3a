//! The payments GraphQL API: `Payment` and `Order.payment` (for the order's customer and admins),
//! the admin refund mutation, and the internal charge operation checkout calls (hidden from the
//! router's API with `@inaccessible`, refused without the service scope). Service errors become
//! userErrors or GraphQL errors here.

mod charge;
mod payment;
mod refund;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::service::{PaymentError, PaymentResult, PaymentsService};
pub use payment::{Payment, PaymentLoader, RefundLoader};

#[derive(MergedObject, Default)]
pub struct Query(payment::PaymentQuery, charge::ChargeQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(
    charge::ChargeMutation,
    charge::RefundOrderMutation,
    charge::ReconcileMutation,
    refund::RefundMutation,
);

pub type PaymentsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<PaymentsService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(PaymentLoader(service.clone())))
        .data(dataloader(RefundLoader(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentErrorCode {
    InvalidInput,
    PaymentMethodRefused,
    NotFound,
    RefundTooLarge,
    ProviderRefused,
    IdempotencyKeyReused,
    /// The provider has not told the payment's result yet: ask again later.
    ResultOutstanding,
}

/// An expected failure of a payments mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct PaymentUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: PaymentErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<PaymentsService> {
    ctx.data_unchecked::<Arc<PaymentsService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: PaymentResult<T>,
    build: impl FnOnce(Option<T>, Vec<PaymentUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: PaymentError) -> Result<PaymentUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        PaymentError::InvalidAmount | PaymentError::UnreadableAmount(_) => {
            (field("amount"), PaymentErrorCode::InvalidInput)
        }
        PaymentError::ResultOutstanding => (None, PaymentErrorCode::ResultOutstanding),
        PaymentError::MissingReason => (field("reason"), PaymentErrorCode::InvalidInput),
        PaymentError::MethodRefused(_) => (
            field("paymentToken"),
            PaymentErrorCode::PaymentMethodRefused,
        ),
        PaymentError::UnknownPayment => (field("paymentId"), PaymentErrorCode::NotFound),
        PaymentError::RefundTooLarge(_) => (field("amount"), PaymentErrorCode::RefundTooLarge),
        PaymentError::RefundRefused(_) => (None, PaymentErrorCode::ProviderRefused),
        PaymentError::KeyReused => (
            field("idempotencyKey"),
            PaymentErrorCode::IdempotencyKeyReused,
        ),
        PaymentError::Provider(_) | PaymentError::Idempotency(_) | PaymentError::Store(_) => {
            return Err(ApiError::internal(error))
        }
    };
    Ok(PaymentUserError {
        field,
        code,
        message: error.to_string(),
    })
}
