//! The checkout mutation.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use commerce::address::AddressInput;
use kit::ApiError;
use tracing::Instrument;

use super::order::Order;
use super::{buyer, service, user_error, OrderUserError};
use crate::domain::status::OrderStatus;
use crate::error::OrderError;
use crate::service::{AddressChoice, CheckoutRequest, OrdersService, QuoteRequest};
use events::orders::ShippingMethod;

#[derive(InputObject)]
pub struct CheckoutInput {
    /// The signed-in customer's cart (`me { cart { id } }`), or the guest cart of `cartToken`.
    pub cart_id: ID,
    /// A guest cart's token (`createGuestCart`): a guest checkout, without signing in; it needs
    /// `email` and `shippingAddress`.
    pub cart_token: Option<String>,
    /// The guest's email: the confirmation goes there, and the order is found with its number
    /// and this email (`guestOrder`).
    pub email: Option<String>,
    /// An address from the customer's address book; or give `shippingAddress`.
    pub address_id: Option<ID>,
    pub shipping_address: Option<AddressInput>,
    /// A carrier service from `shippingRates`; the cheapest when left out.
    pub shipping_method: Option<ShippingMethodInput>,
    /// The payment provider's token for the card (never a card number).
    pub payment_token: String,
    /// A repeat with the same key returns the first checkout's order; the key with another
    /// cart, address or token is refused.
    pub idempotency_key: String,
    /// Where the bill goes; the shipping address when left out.
    pub billing_address: Option<AddressInput>,
    /// A note to the shop (at most 500 characters), shown with the order.
    pub note: Option<String>,
    /// `checkoutPreview`'s token: the checkout is refused (PRICE_CHANGED, naming each change)
    /// when the order would differ from what the preview showed. Left out, the checkout charges
    /// the prices of the moment.
    pub preview_token: Option<String>,
}

#[derive(InputObject)]
pub struct ShippingMethodInput {
    /// A `ShippingRate.carrier`, e.g. `ups`.
    pub carrier: String,
    /// A `ShippingRate.service`, e.g. `ground`.
    pub service: String,
}

/// What to price, from the fields checkout and its preview share.
pub(crate) fn quote_request(
    cart_id: ID,
    address_id: Option<ID>,
    shipping_address: Option<AddressInput>,
    shipping_method: Option<ShippingMethodInput>,
) -> Result<QuoteRequest, OrderError> {
    let address = match (address_id, shipping_address) {
        (Some(id), None) => AddressChoice::Book(id.0),
        (None, Some(fields)) => OrdersService::new_address(fields)?,
        _ => {
            return Err(OrderError::InvalidInput {
                field: "addressId",
                message: "give either addressId or shippingAddress",
            })
        }
    };
    Ok(QuoteRequest {
        cart_id: cart_id.0,
        address,
        shipping_method: shipping_method.map(|m| ShippingMethod {
            carrier: m.carrier.trim().to_string(),
            service: m.service.trim().to_string(),
        }),
    })
}

#[derive(SimpleObject, Default)]
pub struct CheckoutPayload {
    /// The order, also when checkout failed (its status and history say why).
    pub order: Option<Order>,
    /// Where the customer confirms the payment with their bank (3-D Secure) while the order
    /// waits for that (PENDING); send them there with `return_url` added, to come back after.
    /// Null otherwise.
    pub next_action_url: Option<String>,
    pub user_errors: Vec<OrderUserError>,
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places an order from the cart: prices from the catalog, stock reserved, the payment
    /// taken, the cart emptied of what was bought. Out of stock or a declined payment end the
    /// order failed with a userError, nothing held and nothing charged. A guest checks out
    /// with `cartToken` and `email`, at most `ORDERS_GUEST_CHECKOUTS_PER_HOUR` times an hour
    /// from one client address.
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        input: CheckoutInput,
    ) -> async_graphql::Result<CheckoutPayload> {
        let buyer = buyer(ctx, input.cart_token, input.email)?;
        let service = service(ctx);
        let quote = quote_request(
            input.cart_id,
            input.address_id,
            input.shipping_address,
            input.shipping_method,
        );
        let billing = input
            .billing_address
            .map(OrdersService::billing_address)
            .transpose();
        let note = OrdersService::note(input.note);
        let result = match (buyer, quote, billing, note) {
            (Ok(buyer), Ok(quote), Ok(billing_address), Ok(note)) => {
                let request = CheckoutRequest {
                    quote,
                    payment_token: input.payment_token,
                    preview_token: input.preview_token,
                    billing_address,
                    note,
                };
                // Its own task: a client that hangs up (or a router that times out) does not
                // stop a checkout halfway; its result is stored for the client's retry. It
                // stays in the request's span, so its service calls continue the trace.
                let (service, key) = (service.clone(), input.idempotency_key);
                let client = kit::server::client_address(ctx).to_string();
                let checkout =
                    async move { service.checkout(&buyer, &key, request, &client).await };
                tokio::spawn(checkout.in_current_span())
                    .await
                    .map_err(ApiError::internal)?
            }
            (Err(error), ..) | (_, Err(error), ..) | (.., Err(error), _) | (.., Err(error)) => {
                Err(error)
            }
        };
        let order_id = match result {
            Ok(order_id) => order_id,
            Err(error) => {
                return Ok(CheckoutPayload {
                    user_errors: vec![user_error(error)?],
                    ..CheckoutPayload::default()
                })
            }
        };
        // Read back like the checkout itself: a database with no connection free in time is a
        // SERVICE_UNAVAILABLE userError (the same key again answers the order), not an
        // internal error.
        let read_back = async {
            let row = service.order(&order_id).await?;
            let checkout = service.store.checkout(&order_id).await?;
            Ok::<_, OrderError>((row, checkout.and_then(|c| c.failure)))
        };
        let (row, failure) = match read_back.await {
            Ok(read) => read,
            Err(error) => {
                return Ok(CheckoutPayload {
                    user_errors: vec![user_error(error)?],
                    ..CheckoutPayload::default()
                })
            }
        };
        let waiting = row
            .as_ref()
            .is_some_and(|o| o.status == OrderStatus::Pending);
        let next_action_url = if waiting {
            service.payment_action(&order_id).await
        } else {
            None
        };
        Ok(CheckoutPayload {
            order: row.map(|order| Order { order }),
            next_action_url,
            user_errors: failure
                .map(|f| OrderUserError::of_failure(f.kind, f.message))
                .into_iter()
                .collect(),
        })
    }
}
