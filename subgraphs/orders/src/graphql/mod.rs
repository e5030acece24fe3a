//! The orders GraphQL API: `Order` (its customer and admins), `User.orders`, the checkout
//! preview and checkout, promotion codes on carts, and the admin's orders list, status changes,
//! tax settings and promotions. Service errors become userErrors or GraphQL errors here.

mod admin;
mod cancel;
mod checkout;
mod order;
mod preview;
mod promotions;
mod tax;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::domain::buyer::Buyer;
use crate::domain::checkout::FailureKind;
use crate::domain::totals::TotalsError;
use crate::error::OrderError;
use crate::saga::SagaError;
use crate::service::OrdersService;
use crate::store::StoreError;
use crate::taxes::TaxProviderError;
use commerce::email::Email;
use commerce::tax::TaxError;
pub use order::{DetailLoader, Order};

#[derive(MergedObject, Default)]
pub struct Query(
    order::OrderQuery,
    admin::AdminQuery,
    preview::PreviewQuery,
    tax::TaxQuery,
    promotions::PromotionQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    checkout::CheckoutMutation,
    cancel::CancelMutation,
    admin::AdminMutation,
    tax::TaxMutation,
    promotions::PromotionMutation,
);

pub type OrdersSchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<OrdersService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request.data(dataloader(DetailLoader(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderErrorCode {
    InvalidInput,
    CartNotFound,
    EmptyCart,
    ProductUnavailable,
    UnknownAddress,
    InvalidAddress,
    OutOfStock,
    PaymentDeclined,
    PaymentUnavailable,
    ReservationExpired,
    IdempotencyKeyReused,
    StillRunning,
    NotFound,
    InvalidTransition,
    Conflict,
    CheckoutRunning,
    /// Too many guest checkouts from this client address this hour.
    TooManyAttempts,
    /// Another checkout of the same cart is running (a second tab): nothing was done.
    CartCheckoutRunning,
    /// The cart's lines are priced in different currencies.
    CurrencyMismatch,
    /// No carrier ships there, or not with the chosen service.
    ShippingUnavailable,
    /// The order would differ from the checkout preview the customer saw (a price, the
    /// shipping, a discount or the tax changed); the message names each change.
    PriceChanged,
    /// A promotion code does not apply (ended, used up, below its minimum, ...): the message
    /// says which and why; nothing was charged.
    PromotionUnavailable,
    /// No promotion has this code.
    UnknownPromotionCode,
    /// Another promotion has this code.
    CodeTaken,
    /// A service checkout needs did not answer; nothing was held or charged: send the same
    /// checkout (same idempotency key) again.
    ServiceUnavailable,
}

/// An expected failure of an orders mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct OrderUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: OrderErrorCode,
    pub message: String,
}

impl OrderUserError {
    pub fn of_failure(kind: FailureKind, message: String) -> Self {
        let code = match kind {
            FailureKind::OutOfStock => OrderErrorCode::OutOfStock,
            FailureKind::PaymentDeclined => OrderErrorCode::PaymentDeclined,
            FailureKind::Unavailable => OrderErrorCode::PaymentUnavailable,
            FailureKind::ReservationExpired => OrderErrorCode::ReservationExpired,
        };
        Self {
            field: None,
            code,
            message,
        }
    }
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<OrdersService> {
    ctx.data_unchecked::<Arc<OrdersService>>()
}

pub(crate) use kit::access::viewer;

/// Whose cart a checkout, preview or code is for: a guest's when `cart_token` is given (with
/// `email` when given), else the signed-in customer's. Without either it is `UNAUTHENTICATED`;
/// a bad email, or a guest cart from a signed-in customer, is a userError.
pub(crate) fn buyer(
    ctx: &Context<'_>,
    cart_token: Option<String>,
    email: Option<String>,
) -> Result<Result<Buyer, OrderError>, ApiError> {
    let viewer = viewer(ctx);
    let Some(cart_token) = cart_token else {
        return Ok(Ok(Buyer::Customer(viewer.require_user()?.to_string())));
    };
    if viewer.user_id().is_some() {
        return Ok(Err(OrderError::InvalidInput {
            field: "cartToken",
            message: "signed in: move the guest cart into your cart (mergeGuestCart) first",
        }));
    }
    let email = match email.as_deref().map(Email::parse).transpose() {
        Ok(email) => email,
        Err(_) => {
            return Ok(Err(OrderError::InvalidInput {
                field: "email",
                message: "is not a valid email address",
            }))
        }
    };
    Ok(Ok(Buyer::Guest { email, cart_token }))
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: OrderError) -> Result<OrderUserError, ApiError> {
    let field = |path: &[&str]| {
        Some(
            std::iter::once("input")
                .chain(path.iter().copied())
                .map(String::from)
                .collect(),
        )
    };
    let (field, code) = match &error {
        OrderError::InvalidInput { field: f, .. } => (field(&[f]), OrderErrorCode::InvalidInput),
        OrderError::CartNotFound => (field(&["cartId"]), OrderErrorCode::CartNotFound),
        OrderError::EmptyCart => (field(&["cartId"]), OrderErrorCode::EmptyCart),
        OrderError::ProductsUnavailable(_) => {
            (field(&["cartId"]), OrderErrorCode::ProductUnavailable)
        }
        OrderError::UnknownAddress => (field(&["addressId"]), OrderErrorCode::UnknownAddress),
        OrderError::InvalidAddress(invalid) => (
            field(&["shippingAddress", invalid.field]),
            OrderErrorCode::InvalidAddress,
        ),
        OrderError::InvalidBillingAddress(invalid) => (
            field(&["billingAddress", invalid.field]),
            OrderErrorCode::InvalidAddress,
        ),
        OrderError::UnknownCustomer => (None, OrderErrorCode::InvalidInput),
        OrderError::NoShippingRate(_) => (None, OrderErrorCode::ShippingUnavailable),
        OrderError::UnknownShippingMethod { .. } => (
            field(&["shippingMethod"]),
            OrderErrorCode::ShippingUnavailable,
        ),
        OrderError::KeyReused => (
            field(&["idempotencyKey"]),
            OrderErrorCode::IdempotencyKeyReused,
        ),
        OrderError::StillRunning => (field(&["idempotencyKey"]), OrderErrorCode::StillRunning),
        OrderError::CartCheckoutRunning => {
            (field(&["cartId"]), OrderErrorCode::CartCheckoutRunning)
        }
        OrderError::Totals(TotalsError::MixedCurrencies { .. }) => {
            (field(&["cartId"]), OrderErrorCode::CurrencyMismatch)
        }
        OrderError::Totals(TotalsError::Overflow | TotalsError::Quantity) => {
            (field(&["cartId"]), OrderErrorCode::InvalidInput)
        }
        OrderError::OrderNotFound => (field(&["orderId"]), OrderErrorCode::NotFound),
        OrderError::TaxRateNotFound => (None, OrderErrorCode::NotFound),
        OrderError::TooManyAttempts => (None, OrderErrorCode::TooManyAttempts),
        // The code the customer gave (or one in their cart, at checkout) does not apply.
        OrderError::PromotionRefused { .. } => (None, OrderErrorCode::PromotionUnavailable),
        OrderError::UnknownCode => (field(&["code"]), OrderErrorCode::UnknownPromotionCode),
        OrderError::InvalidCode => (field(&["code"]), OrderErrorCode::InvalidInput),
        OrderError::CodeTaken => (field(&["code"]), OrderErrorCode::CodeTaken),
        OrderError::PromotionNotFound => (field(&["id"]), OrderErrorCode::NotFound),
        OrderError::InvalidPromotion { field: f, .. } => {
            (field(&[f]), OrderErrorCode::InvalidInput)
        }
        OrderError::Tax(TaxError::Unnamed) => (field(&["name"]), OrderErrorCode::InvalidInput),
        OrderError::Tax(_) => (field(&["rate"]), OrderErrorCode::InvalidInput),
        OrderError::PriceChanged(_) => (field(&["previewToken"]), OrderErrorCode::PriceChanged),
        OrderError::TaxProvider(TaxProviderError::Unavailable(_)) => {
            tracing::warn!(%error, "the tax provider did not answer");
            (None, OrderErrorCode::ServiceUnavailable)
        }
        OrderError::Totals(
            TotalsError::Tax(_) | TotalsError::Discount | TotalsError::TaxMismatch,
        )
        | OrderError::TaxProvider(_) => return Err(ApiError::internal(error)),
        OrderError::Transition(_) => (field(&["status"]), OrderErrorCode::InvalidTransition),
        OrderError::Conflict => (None, OrderErrorCode::Conflict),
        OrderError::CheckoutRunning => (field(&["orderId"]), OrderErrorCode::CheckoutRunning),
        // Checkout's reads of carts, accounts, the catalog and shipping: nothing was held or
        // charged yet and the key is free again, so the client sends the same checkout again.
        OrderError::Call(call) => {
            tracing::warn!(error = %call, "a service checkout needs did not answer");
            (None, OrderErrorCode::ServiceUnavailable)
        }
        // The database had no connection free in time (a rush): nothing of this request was
        // done or the checkout goes on by itself; the same checkout again gets its order.
        OrderError::Store(StoreError::Database(sqlx::Error::PoolTimedOut))
        | OrderError::Saga(SagaError::Store(StoreError::Database(sqlx::Error::PoolTimedOut))) => {
            tracing::warn!("no database connection free in time; the client may ask again");
            (None, OrderErrorCode::ServiceUnavailable)
        }
        OrderError::Totals(TotalsError::Empty) | OrderError::Saga(_) | OrderError::Store(_) => {
            return Err(ApiError::internal(error))
        }
    };
    Ok(OrderUserError {
        field,
        code,
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxes::TaxProviderError;

    #[test]
    fn a_database_too_busy_for_the_tax_rates_is_a_user_error_to_send_again() {
        let busy = OrderError::from(TaxProviderError::Store(StoreError::Database(
            sqlx::Error::PoolTimedOut,
        )));
        let said = user_error(busy).expect("a userError, not an internal error");
        assert_eq!(said.code, OrderErrorCode::ServiceUnavailable);
        let engine_down = OrderError::from(TaxProviderError::Unavailable("refused".into()));
        assert_eq!(
            user_error(engine_down).unwrap().code,
            OrderErrorCode::ServiceUnavailable
        );
    }
}
