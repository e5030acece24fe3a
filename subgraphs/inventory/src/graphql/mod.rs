//! The inventory GraphQL API: `availability` on the catalog's products and variants, admin warehouse
//! and stock management, and the internal reservation operations other services call (hidden from
//! the router's API with `@inaccessible`, refused without the service scope). Service errors
//! become userErrors or GraphQL errors here.

mod admin;
mod product;
mod reservations;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::service::{InventoryError, InventoryResult, InventoryService};
pub use product::{Product, ProductVariant, StockLoader, VariantStockLoader};

#[derive(MergedObject, Default)]
pub struct Query(
    product::ProductQuery,
    admin::AdminQuery,
    reservations::ReservationQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(admin::AdminMutation, reservations::ReservationMutation);

pub type InventorySchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<InventoryService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(StockLoader(service.clone())))
        .data(dataloader(VariantStockLoader(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InventoryErrorCode {
    InvalidInput,
    UnknownProduct,
    UnknownVariant,
    /// The product has several variants: name one.
    VariantRequired,
    UnknownWarehouse,
    CodeTaken,
    NegativeStock,
    InsufficientStock,
    NotFound,
    ReservationClosed,
}

/// An expected failure of an inventory mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct InventoryUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: InventoryErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<InventoryService> {
    ctx.data_unchecked::<Arc<InventoryService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: InventoryResult<T>,
    build: impl FnOnce(Option<T>, Vec<InventoryUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: InventoryError) -> Result<InventoryUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        InventoryError::Rule(rule) => (
            rule_field(rule).and_then(field),
            InventoryErrorCode::InvalidInput,
        ),
        InventoryError::UnknownWarehouse => {
            (field("warehouseId"), InventoryErrorCode::UnknownWarehouse)
        }
        InventoryError::UnknownProduct => (field("productId"), InventoryErrorCode::UnknownProduct),
        InventoryError::UnknownVariant => (field("variantId"), InventoryErrorCode::UnknownVariant),
        InventoryError::VariantRequired(_) => {
            (field("variantId"), InventoryErrorCode::VariantRequired)
        }
        InventoryError::CodeTaken => (field("code"), InventoryErrorCode::CodeTaken),
        InventoryError::NegativeStock { .. } => {
            (field("quantity"), InventoryErrorCode::NegativeStock)
        }
        InventoryError::InsufficientStock { .. } => {
            (field("lines"), InventoryErrorCode::InsufficientStock)
        }
        InventoryError::ReservationNotFound => {
            (field("orderReference"), InventoryErrorCode::NotFound)
        }
        InventoryError::ReservationClosed(_) => (
            field("orderReference"),
            InventoryErrorCode::ReservationClosed,
        ),
        InventoryError::Store(_) | InventoryError::Catalog(_) => {
            return Err(ApiError::internal(error))
        }
    };
    Ok(InventoryUserError {
        field,
        code,
        message: error.to_string(),
    })
}

fn rule_field(rule: &crate::domain::RuleError) -> Option<&'static str> {
    use crate::domain::RuleError;
    Some(match rule {
        RuleError::Quantity { .. } | RuleError::ZeroCorrection => "quantity",
        RuleError::WarehouseCode => "code",
        RuleError::Name => "name",
        RuleError::Reason => "reason",
        RuleError::ProductId(_) => "productId",
        RuleError::VariantId(_) => "variantId",
        RuleError::Threshold { .. } => "threshold",
        RuleError::Lines { .. } => "lines",
        RuleError::Key => return None,
    })
}
