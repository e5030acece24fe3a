//! What checkout asks of carts (service calls from orders): the signed-in customer's or a
//! guest's cart as it is now, and taking the bought variants out of it once the order is paid. `@inaccessible`, so
//! the router's API does not have them, and refused to callers without the service scope.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use kit::ApiError;

use super::{service, viewer};
use crate::domain::{cart_id, CartOwner, GuestToken};
use crate::service::{CartError, LineItem};

#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct CheckoutCart {
    pub id: ID,
    pub lines: Vec<CheckoutCartLine>,
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct CheckoutCartLine {
    pub variant_id: ID,
    pub product_id: ID,
    pub quantity: i64,
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct RemoveCheckedOutLinesInput {
    /// The user whose cart it is; or `cartToken`, a guest's.
    pub user_id: Option<ID>,
    pub cart_token: Option<String>,
    pub variant_ids: Vec<ID>,
}

/// The cart a call is about: a user's, or a guest's by its token; exactly one is given.
fn owner(user_id: Option<ID>, cart_token: Option<String>) -> Result<CartOwner, ApiError> {
    match (user_id, cart_token) {
        (Some(user_id), None) => Ok(CartOwner::User(user_id.0)),
        (None, Some(token)) => Ok(CartOwner::Guest(GuestToken::presented(&token))),
        _ => Err(ApiError::BadUserInput(
            "give either userId or cartToken".into(),
        )),
    }
}

#[derive(Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// The user's cart (or the guest cart of `cartToken`) if its id is `cart_id`; null for
    /// another cart (someone else's, or one that is gone or expired).
    #[graphql(inaccessible)]
    async fn checkout_cart(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
        cart_token: Option<String>,
        cart_id: ID,
    ) -> async_graphql::Result<Option<CheckoutCart>> {
        viewer(ctx).require_service()?;
        let owner = owner(user_id, cart_token)?;
        let stored = service(ctx)
            .cart(&owner)
            .await
            .map_err(ApiError::internal)?;
        Ok(stored
            .filter(|stored| self::cart_id(&stored.key) == cart_id.as_str())
            .map(|stored| CheckoutCart {
                id: cart_id,
                lines: stored
                    .lines
                    .into_iter()
                    .map(|line| CheckoutCartLine {
                        variant_id: ID(line.variant_id),
                        product_id: ID(line.product_id),
                        quantity: line.quantity,
                    })
                    .collect(),
            }))
    }
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Takes the bought variants' lines out of the user's (or guest's) cart. Repeating it changes nothing
    /// more, so a retried call is harmless; lines added since checkout for other variants stay.
    #[graphql(inaccessible)]
    async fn remove_checked_out_lines(
        &self,
        ctx: &Context<'_>,
        input: RemoveCheckedOutLinesInput,
    ) -> async_graphql::Result<bool> {
        viewer(ctx).require_service()?;
        let owner = owner(input.user_id, input.cart_token)?;
        for variant_id in input.variant_ids {
            let line = LineItem {
                variant_id: Some(variant_id.0),
                product_id: None,
            };
            match service(ctx).remove(&owner, &line).await {
                Ok(_) | Err(CartError::LineNotFound | CartError::CartNotFound) => {}
                Err(error) => return Err(ApiError::internal(error).into()),
            }
        }
        Ok(true)
    }
}
