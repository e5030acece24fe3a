//! The reviews GraphQL API: `Review`, `Product.reviews` and `Product.rating`, `User.reviews`,
//! writing and editing reviews, helpful votes and reports, and the admins' moderation. Service
//! errors become userErrors or GraphQL errors here.

mod moderation;
mod review;
mod write;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::service::{ReviewError, ReviewResult, ReviewsService};
pub use review::{FirstPageLoader, RatingLoader, Review, ReviewLoader};

#[derive(MergedObject, Default)]
pub struct Query(review::ReviewQuery, moderation::ModerationQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(write::WriteMutation, moderation::ModerationMutation);

pub type ReviewsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<ReviewsService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(ReviewLoader(service.clone())))
        .data(dataloader(RatingLoader(service.clone())))
        .data(dataloader(FirstPageLoader(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewErrorCode {
    InvalidInput,
    NotReceived,
    AlreadyReviewed,
    NotFound,
    OwnReview,
}

/// An expected failure of a reviews mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReviewUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: ReviewErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<ReviewsService> {
    ctx.data_unchecked::<Arc<ReviewsService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: ReviewResult<T>,
    build: impl FnOnce(Option<T>, Vec<ReviewUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: ReviewError) -> Result<ReviewUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        ReviewError::Rating(_) => (field("rating"), ReviewErrorCode::InvalidInput),
        ReviewError::Text(crate::domain::moderation::InvalidReview::Title) => {
            (field("title"), ReviewErrorCode::InvalidInput)
        }
        ReviewError::Text(crate::domain::moderation::InvalidReview::Body) => {
            (field("body"), ReviewErrorCode::InvalidInput)
        }
        ReviewError::Reason => (field("reason"), ReviewErrorCode::InvalidInput),
        ReviewError::NotReceived => (field("productId"), ReviewErrorCode::NotReceived),
        ReviewError::AlreadyReviewed => (field("productId"), ReviewErrorCode::AlreadyReviewed),
        ReviewError::NotFound => (field("reviewId"), ReviewErrorCode::NotFound),
        ReviewError::OwnReview => (field("reviewId"), ReviewErrorCode::OwnReview),
        ReviewError::Store(_) => return Err(ApiError::internal(error)),
    };
    Ok(ReviewUserError {
        field,
        code,
        message: error.to_string(),
    })
}
