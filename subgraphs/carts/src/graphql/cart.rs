//! Carts, their lines, `User.cart`, and the cart mutations.

use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject, ID};
use commerce::money::MoneyObject;
use kit::ApiError;

use super::{payload, service, viewer, CartUserError};
use crate::domain::{CartOwner, GuestToken};
use crate::service::{CartError, LineItem, PricedCart};
use crate::store::StoredCart;

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct Product {
    pub id: ID,
}

/// The catalog's variant, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductVariant {
    pub id: ID,
}

/// The accounts' user, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// The user's cart (the user themself only); null before the first line is added.
    async fn cart(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cart>> {
        let me = viewer(ctx).require_user()?;
        if me != self.id.as_str() {
            return Err(ApiError::Forbidden.into());
        }
        load(ctx, &CartOwner::User(me.into())).await
    }
}

#[derive(Clone, Debug)]
pub struct Cart {
    pub(crate) stored: StoredCart,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct CartLine {
    /// What is in the cart.
    pub variant: ProductVariant,
    /// The variant's product.
    pub product: Product,
    pub quantity: i64,
    /// The catalog's current price; null when the variant is gone.
    pub unit_price: Option<MoneyObject>,
    pub line_total: Option<MoneyObject>,
    /// False when the variant is no longer for sale: the line stays, out of the subtotal.
    pub available: bool,
}

#[Object]
impl Cart {
    /// Opaque; not the guest token.
    async fn id(&self) -> ID {
        ID(crate::domain::cart_id(&self.stored.key))
    }

    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CartLine>> {
        let priced = self.priced(ctx).await?;
        Ok(priced
            .lines
            .iter()
            .map(|line| CartLine {
                variant: ProductVariant {
                    id: ID(line.variant_id.clone()),
                },
                product: Product {
                    id: ID(line.product_id.clone()),
                },
                quantity: line.quantity,
                unit_price: line.unit_price.map(Into::into),
                line_total: line.total().map(Into::into),
                available: line.available,
            })
            .collect())
    }

    /// Units in the cart.
    async fn item_count(&self) -> i64 {
        self.stored.lines.iter().map(|l| l.quantity).sum()
    }

    /// The available lines at current prices; null for a cart without any.
    async fn subtotal(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MoneyObject>> {
        Ok(self.priced(ctx).await?.subtotal.map(Into::into))
    }

    async fn updated_at(&self) -> String {
        primitives::time::format_millis(self.stored.updated_at)
    }
}

impl Cart {
    /// Priced once per cart and request, however many fields ask.
    async fn priced(&self, ctx: &Context<'_>) -> async_graphql::Result<PricedCart> {
        let cache = ctx.data_unchecked::<PriceCache>();
        let mut cached = cache.0.lock().await;
        if let Some((key, priced)) = cached.as_ref() {
            if *key == self.stored.key {
                return Ok(priced.clone());
            }
        }
        let priced = service(ctx)
            .priced(&self.stored)
            .await
            .map_err(ApiError::internal)?;
        *cached = Some((self.stored.key.clone(), priced.clone()));
        Ok(priced)
    }
}

/// The last priced cart of a request (a request shows one cart).
#[derive(Default)]
pub struct PriceCache(tokio::sync::Mutex<Option<(String, PricedCart)>>);

async fn load(ctx: &Context<'_>, owner: &CartOwner) -> async_graphql::Result<Option<Cart>> {
    let stored = service(ctx).cart(owner).await.map_err(ApiError::internal)?;
    Ok(stored.map(|stored| Cart { stored }))
}

/// The cart a mutation acts on: the guest cart of `cart_token`, else the signed-in user's.
fn owner(ctx: &Context<'_>, cart_token: Option<&str>) -> async_graphql::Result<CartOwner> {
    Ok(match cart_token {
        Some(raw) => CartOwner::Guest(GuestToken::presented(raw)),
        None => CartOwner::User(viewer(ctx).require_user()?.into()),
    })
}

#[derive(Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// The signed-in user's cart; null before the first line is added.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn cart(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cart>> {
        let me = viewer(ctx).require_user()?;
        load(ctx, &CartOwner::User(me.into())).await
    }

    /// A guest's cart by its token; null for an unknown or expired token.
    async fn guest_cart(
        &self,
        ctx: &Context<'_>,
        cart_token: String,
    ) -> async_graphql::Result<Option<Cart>> {
        load(ctx, &CartOwner::Guest(GuestToken::presented(&cart_token))).await
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }

    #[graphql(entity)]
    async fn find_product_variant_by_id(&self, id: ID) -> ProductVariant {
        ProductVariant { id }
    }
}

#[derive(InputObject)]
pub struct CartLineInput {
    /// A guest cart's token; without it, the signed-in user's cart.
    pub cart_token: Option<String>,
    /// The variant to add or change.
    pub variant_id: Option<ID>,
    /// Without `variantId`: a product with one variant on sale (adding), or the product's one
    /// line in the cart (changing).
    pub product_id: Option<ID>,
    /// 1 to 99.
    pub quantity: i64,
}

#[derive(InputObject)]
pub struct RemoveCartLineInput {
    pub cart_token: Option<String>,
    pub variant_id: Option<ID>,
    /// Without `variantId`: the product's one line in the cart.
    pub product_id: Option<ID>,
}

fn item(variant_id: Option<ID>, product_id: Option<ID>) -> LineItem {
    LineItem {
        variant_id: variant_id.map(|id| id.0),
        product_id: product_id.map(|id| id.0),
    }
}

#[derive(InputObject)]
pub struct ClearCartInput {
    pub cart_token: Option<String>,
}

#[derive(InputObject)]
pub struct MergeGuestCartInput {
    pub cart_token: String,
}

#[derive(SimpleObject, Default)]
pub struct CartPayload {
    pub cart: Option<Cart>,
    pub user_errors: Vec<CartUserError>,
}

#[derive(SimpleObject, Default)]
pub struct CreateGuestCartPayload {
    pub cart: Option<Cart>,
    /// Keep it: it is the only way back to this cart.
    pub cart_token: Option<String>,
    pub user_errors: Vec<CartUserError>,
}

fn cart_payload(result: Result<StoredCart, CartError>) -> async_graphql::Result<CartPayload> {
    payload(result, |stored, user_errors| CartPayload {
        cart: stored.map(|stored| Cart { stored }),
        user_errors,
    })
}

#[derive(Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    async fn create_guest_cart(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<CreateGuestCartPayload> {
        let (token, stored) = service(ctx)
            .create_guest_cart()
            .await
            .map_err(ApiError::internal)?;
        Ok(CreateGuestCartPayload {
            cart: Some(Cart { stored }),
            cart_token: Some(token.as_str().into()),
            user_errors: Vec::new(),
        })
    }

    /// Adds units of a variant (a new line, or more of one the cart has).
    async fn add_cart_line(
        &self,
        ctx: &Context<'_>,
        input: CartLineInput,
    ) -> async_graphql::Result<CartPayload> {
        let owner = owner(ctx, input.cart_token.as_deref())?;
        cart_payload(
            service(ctx)
                .add(
                    &owner,
                    &item(input.variant_id, input.product_id),
                    input.quantity,
                )
                .await,
        )
    }

    /// Sets a line's quantity.
    async fn update_cart_line(
        &self,
        ctx: &Context<'_>,
        input: CartLineInput,
    ) -> async_graphql::Result<CartPayload> {
        let owner = owner(ctx, input.cart_token.as_deref())?;
        cart_payload(
            service(ctx)
                .set_quantity(
                    &owner,
                    &item(input.variant_id, input.product_id),
                    input.quantity,
                )
                .await,
        )
    }

    async fn remove_cart_line(
        &self,
        ctx: &Context<'_>,
        input: RemoveCartLineInput,
    ) -> async_graphql::Result<CartPayload> {
        let owner = owner(ctx, input.cart_token.as_deref())?;
        cart_payload(
            service(ctx)
                .remove(&owner, &item(input.variant_id, input.product_id))
                .await,
        )
    }

    async fn clear_cart(
        &self,
        ctx: &Context<'_>,
        input: ClearCartInput,
    ) -> async_graphql::Result<CartPayload> {
        let owner = owner(ctx, input.cart_token.as_deref())?;
        cart_payload(service(ctx).clear(&owner).await)
    }

    /// Moves a guest cart into the signed-in user's cart (after login): quantities are summed up
    /// to 99 per variant, lines beyond the 100-line limit are left out, the guest cart is gone.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn merge_guest_cart(
        &self,
        ctx: &Context<'_>,
        input: MergeGuestCartInput,
    ) -> async_graphql::Result<CartPayload> {
        let me = viewer(ctx).require_user()?;
        let guest = GuestToken::presented(&input.cart_token);
        cart_payload(service(ctx).merge(me, &guest).await)
    }
}
