//! The catalog GraphQL API. Resolvers call [`CatalogService`]; its errors become userErrors
//! (expected failures) or GraphQL errors here.

mod admin;
mod collection;
mod import;
mod loaders;
mod media;
mod product;
mod search;
mod taxonomy;
mod variant;
mod variant_admin;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::domain::collection::CollectionError;
use crate::domain::media::MediaError;
use crate::domain::VariantRuleError;
use crate::service::{CatalogError, CatalogService};
pub use loaders::{
    BrandLoader, CollectionsHoldingLoader, ProductIdLoader, ProductSkuLoader, RequestCategories,
    VariantIdLoader, VariantSkuLoader, VariantsOfProductLoader,
};
pub use product::Product;

#[derive(MergedObject, Default)]
pub struct Query(
    product::ProductQuery,
    taxonomy::TaxonomyQuery,
    search::SearchQuery,
    variant::VariantQuery,
    collection::CollectionQuery,
    import::ImportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    admin::AdminMutation,
    variant_admin::VariantAdminMutation,
    import::ImportMutation,
    media::MediaMutation,
    collection::CollectionMutation,
);

pub type CatalogSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn schema(service: Arc<CatalogService>) -> CatalogSchema {
    builder().data(service).finish()
}

/// The schema without its data: enough to print the SDL.
pub fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5000)
}

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<CatalogService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(ProductIdLoader(service.clone())))
        .data(dataloader(ProductSkuLoader(service.clone())))
        .data(dataloader(BrandLoader(service.clone())))
        .data(dataloader(VariantsOfProductLoader(service.clone())))
        .data(dataloader(VariantIdLoader(service.clone())))
        .data(dataloader(VariantSkuLoader(service.clone())))
        .data(dataloader(CollectionsHoldingLoader(service.clone())))
        .data(RequestCategories::default())
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogErrorCode {
    InvalidInput,
    InvalidPrice,
    UnknownCategory,
    UnknownBrand,
    SkuTaken,
    SlugTaken,
    NotFound,
    /// Another live variant of the product has these option values.
    DuplicateOptionValues,
    /// An option or value the product does not have, or not one value of every option.
    InvalidOptionValues,
    /// A value in use by a live variant, or a new option while variants use the others.
    OptionsInUse,
    /// An uploaded file that is empty, not a PNG, JPEG, WebP or GIF image, or too many pixels.
    InvalidImage,
    /// An uploaded file over the size limit.
    ImageTooLarge,
}

/// An expected failure of a catalog mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct CatalogUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: CatalogErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<CatalogService> {
    ctx.data_unchecked::<Arc<CatalogService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: crate::service::CatalogResult<T>,
    build: impl FnOnce(Option<T>, Vec<CatalogUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: CatalogError) -> Result<CatalogUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        CatalogError::Rule(rule) => (
            field(rule.field()),
            if rule.field() == "price" {
                CatalogErrorCode::InvalidPrice
            } else {
                CatalogErrorCode::InvalidInput
            },
        ),
        CatalogError::VariantRule(rule) => (
            field(rule.field()),
            match rule {
                VariantRuleError::DuplicateCombination(_) => {
                    CatalogErrorCode::DuplicateOptionValues
                }
                VariantRuleError::UnknownOption(_)
                | VariantRuleError::UnknownValue { .. }
                | VariantRuleError::OptionCount(_)
                | VariantRuleError::NoOptions => CatalogErrorCode::InvalidOptionValues,
                VariantRuleError::ValueInUse(_) | VariantRuleError::OptionsInUse => {
                    CatalogErrorCode::OptionsInUse
                }
                VariantRuleError::CompareAtNotAbove => CatalogErrorCode::InvalidPrice,
                _ => CatalogErrorCode::InvalidInput,
            },
        ),
        CatalogError::VariantNotFound => (field("id"), CatalogErrorCode::NotFound),
        CatalogError::UnknownCategory => (field("categoryId"), CatalogErrorCode::UnknownCategory),
        CatalogError::UnknownBrand => (field("brandId"), CatalogErrorCode::UnknownBrand),
        CatalogError::SkuTaken => (field("sku"), CatalogErrorCode::SkuTaken),
        CatalogError::SlugTaken => (field("slug"), CatalogErrorCode::SlugTaken),
        CatalogError::InvalidName => (field("name"), CatalogErrorCode::InvalidInput),
        CatalogError::ProductNotFound => (field("id"), CatalogErrorCode::NotFound),
        CatalogError::OtherCurrency(_) => (field("price"), CatalogErrorCode::InvalidPrice),
        CatalogError::Attribute(_) => (field("attributes"), CatalogErrorCode::InvalidInput),
        CatalogError::Collection(rule) => (
            field(rule.field()),
            match rule {
                CollectionError::SlugTaken => CatalogErrorCode::SlugTaken,
                _ => CatalogErrorCode::InvalidInput,
            },
        ),
        CatalogError::CollectionNotFound => (field("id"), CatalogErrorCode::NotFound),
        CatalogError::Media(media) => (
            field(media.field()),
            match media {
                MediaError::TooLarge { .. } => CatalogErrorCode::ImageTooLarge,
                MediaError::Empty | MediaError::NotAnImage | MediaError::TooManyPixels { .. } => {
                    CatalogErrorCode::InvalidImage
                }
                MediaError::UnknownMedia(_) => CatalogErrorCode::NotFound,
                _ => CatalogErrorCode::InvalidInput,
            },
        ),
        CatalogError::Store(_)
        | CatalogError::Export(_)
        | CatalogError::MediaStore(_)
        | CatalogError::Search(_) => return Err(ApiError::internal(error)),
    };
    Ok(CatalogUserError {
        field,
        code,
        message: error.to_string(),
    })
}
