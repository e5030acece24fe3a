//! Why an order operation failed: the service's one error type, which the GraphQL layer turns
//! into userErrors or GraphQL errors.

use commerce::address::InvalidAddress;

use crate::domain::status::InvalidTransition;
use crate::domain::totals::TotalsError;
use crate::saga::SagaError;
use crate::services::CallError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("{field}: {message}")]
    InvalidInput {
        field: &'static str,
        message: &'static str,
    },
    #[error("no cart with this id for the signed-in customer")]
    CartNotFound,
    #[error("the cart is empty")]
    EmptyCart,
    #[error("not for sale any more: {}", .0.join(", "))]
    ProductsUnavailable(Vec<String>),
    #[error("no address with this id in the address book")]
    UnknownAddress,
    #[error(transparent)]
    InvalidAddress(InvalidAddress),
    #[error("billing address: {0}")]
    InvalidBillingAddress(InvalidAddress),
    #[error("the signed-in account cannot place orders")]
    UnknownCustomer,
    /// Shipping's reason: too heavy for every carrier, no carrier to that country.
    #[error("{0}")]
    NoShippingRate(String),
    #[error("{carrier}/{service} does not ship these products to this address; ask shippingRates")]
    UnknownShippingMethod { carrier: String, service: String },
    #[error("this idempotency key was used for a different checkout")]
    KeyReused,
    #[error("a checkout with this idempotency key is still running; ask again shortly")]
    StillRunning,
    #[error("this cart is being checked out already (another tab?); look at your orders")]
    CartCheckoutRunning,
    #[error("no order with this id")]
    OrderNotFound,
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    #[error("the order changed meanwhile; look at it again")]
    Conflict,
    #[error("the order's checkout is still running")]
    CheckoutRunning,
    #[error(transparent)]
    Totals(#[from] TotalsError),
    #[error(transparent)]
    Tax(commerce::tax::TaxError),
    #[error(transparent)]
    TaxProvider(crate::taxes::TaxProviderError),
    #[error("too many attempts from this address; try again in an hour")]
    TooManyAttempts,
    #[error("no tax rate set by an admin for this place and class")]
    TaxRateNotFound,
    /// A promotion the customer asked for (a code) does not apply, or ran out of uses as the
    /// order was made: nothing was charged.
    #[error("{name} {reason}")]
    PromotionRefused {
        name: String,
        reason: crate::domain::promotion::Refusal,
    },
    #[error("no promotion has this code")]
    UnknownCode,
    #[error("a code is 1 to 40 letters, digits, dashes or underscores")]
    InvalidCode,
    #[error("no promotion with this id")]
    PromotionNotFound,
    #[error("another promotion has this code")]
    CodeTaken,
    #[error("{field}: {message}")]
    InvalidPromotion {
        field: &'static str,
        message: &'static str,
    },
    /// The order would differ from the preview the customer saw: each difference.
    #[error("changed since the preview: {}; look at the preview again", .0.join("; "))]
    PriceChanged(Vec<String>),
    #[error("a service checkout needs did not answer; send the same checkout again")]
    Call(#[from] CallError),
    #[error(transparent)]
    Saga(#[from] SagaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type OrderResult<T> = Result<T, OrderError>;

/// The built-in tax provider's storage errors are the orders' own: a database with no connection
/// free in time is then a `SERVICE_UNAVAILABLE` userError like any other read of checkout's.
impl From<crate::taxes::TaxProviderError> for OrderError {
    fn from(error: crate::taxes::TaxProviderError) -> Self {
        match error {
            crate::taxes::TaxProviderError::Store(error) => Self::Store(error),
            other => Self::TaxProvider(other),
        }
    }
}
