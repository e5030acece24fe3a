//! The carts GraphQL API: `cart` for the signed-in user (also as `User.cart`), guest carts by
//! their token, and the cart mutations, each with userErrors. A line's `product` is the catalog's
//! Product, resolved through federation.

pub mod cart;
pub mod checkout;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::ApiError;

use crate::service::{CartError, CartResult, CartsService};
pub use cart::Cart;

#[derive(MergedObject, Default)]
pub struct Query(cart::CartQuery, checkout::CheckoutQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(cart::CartMutation, checkout::CheckoutMutation);

pub type CartsSchema = Schema<Query, Mutation, EmptySubscription>;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CartErrorCode {
    InvalidInput,
    UnknownProduct,
    UnknownVariant,
    /// The product has several variants on sale: name one.
    VariantRequired,
    ProductUnavailable,
    NotFound,
    QuantityLimit,
    LineLimit,
}

/// An expected failure of a cart mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct CartUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: CartErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<CartsService> {
    ctx.data_unchecked::<Arc<CartsService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: CartResult<T>,
    build: impl FnOnce(Option<T>, Vec<CartUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: CartError) -> Result<CartUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        CartError::Rule(crate::domain::RuleError::Quantity) => {
            (field("quantity"), CartErrorCode::InvalidInput)
        }
        CartError::Rule(crate::domain::RuleError::ProductId(_)) => {
            (field("productId"), CartErrorCode::UnknownProduct)
        }
        CartError::Rule(crate::domain::RuleError::VariantId(_)) | CartError::UnknownVariant => {
            (field("variantId"), CartErrorCode::UnknownVariant)
        }
        CartError::VariantRequired(_) => (field("variantId"), CartErrorCode::VariantRequired),
        CartError::UnknownProduct => (field("productId"), CartErrorCode::UnknownProduct),
        CartError::ProductUnavailable => (field("productId"), CartErrorCode::ProductUnavailable),
        CartError::OtherCurrency { .. } => (field("productId"), CartErrorCode::ProductUnavailable),
        CartError::CartNotFound => (field("cartToken"), CartErrorCode::NotFound),
        CartError::LineNotFound => (field("variantId"), CartErrorCode::NotFound),
        CartError::QuantityLimit { .. } => (field("quantity"), CartErrorCode::QuantityLimit),
        CartError::LineLimit => (field("variantId"), CartErrorCode::LineLimit),
        CartError::Catalog(_) | CartError::Store(_) => return Err(ApiError::internal(error)),
    };
    Ok(CartUserError {
        field,
        code,
        message: error.to_string(),
    })
}
