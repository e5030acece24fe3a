//! The checkout mutation.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use commerce::address::AddressInput;
use kit::ApiError;
use tracing::Instrument;

use super::order::Order;
use super::{service, user_error, viewer, OrderUserError};
use crate::error::OrderError;
use crate::service::{CheckoutRequest, OrdersService};
use events::orders::ShippingMethod;

#[derive(InputObject)]
pub struct CheckoutInput {
    /// The signed-in customer's cart (`me { cart { id } }`).
    pub cart_id: ID,
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
}

#[derive(InputObject)]
pub struct ShippingMethodInput {
    /// A `ShippingRate.carrier`, e.g. `ups`.
    pub carrier: String,
    /// A `ShippingRate.service`, e.g. `ground`.
    pub service: String,
}

#[derive(SimpleObject, Default)]
pub struct CheckoutPayload {
    /// The order, also when checkout failed (its status and history say why).
    pub order: Option<Order>,
    pub user_errors: Vec<OrderUserError>,
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places an order from the cart: prices from the catalog, stock reserved, the payment
    /// taken, the cart emptied of what was bought. Out of stock or a declined payment end the
    /// order failed with a userError, nothing held and nothing charged.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        input: CheckoutInput,
    ) -> async_graphql::Result<CheckoutPayload> {
        let customer = viewer(ctx).require_user()?;
        let service = service(ctx);
        let address = match (input.address_id, input.shipping_address) {
            (Some(id), None) => Ok(crate::service::AddressChoice::Book(id.0)),
            (None, Some(fields)) => OrdersService::new_address(fields),
            _ => Err(OrderError::InvalidInput {
                field: "addressId",
                message: "give either addressId or shippingAddress",
            }),
        };
        let result = match address {
            Ok(address) => {
                let request = CheckoutRequest {
                    cart_id: input.cart_id.0,
                    address,
                    shipping_method: input.shipping_method.map(|m| ShippingMethod {
                        carrier: m.carrier.trim().to_string(),
                        service: m.service.trim().to_string(),
                    }),
                    payment_token: input.payment_token,
                };
                // Its own task: a client that hangs up (or a router that times out) does not
                // stop a checkout halfway; its result is stored for the client's retry. It
                // stays in the request's span, so its service calls continue the trace.
                let (service, customer, key) =
                    (service.clone(), customer.to_string(), input.idempotency_key);
                let checkout = async move { service.checkout(&customer, &key, request).await };
                tokio::spawn(checkout.in_current_span())
                    .await
                    .map_err(ApiError::internal)?
            }
            Err(error) => Err(error),
        };
        let order_id = match result {
            Ok(order_id) => order_id,
            Err(error) => {
                return Ok(CheckoutPayload {
                    order: None,
                    user_errors: vec![user_error(error)?],
                })
            }
        };
        let row = service.order(&order_id).await.map_err(ApiError::internal)?;
        let failure = service
            .store
            .checkout(&order_id)
            .await
            .map_err(ApiError::internal)?
            .and_then(|c| c.failure);
        Ok(CheckoutPayload {
            order: row.map(|order| Order { order }),
            user_errors: failure
                .map(|f| OrderUserError::of_failure(f.kind, f.message))
                .into_iter()
                .collect(),
        })
    }
}
