//! Admins' moderation: the reviews waiting for a decision, and the decision.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, ID};
use auth::Permission;

use super::review::{reviews_connection, Review, ReviewSort};
use super::write::ReviewPayload;
use super::{payload, service, viewer};
use crate::service::Decision;
use crate::store::ListScope;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModerationDecision {
    /// Shown and counted in the product's rating; its reports are cleared.
    Publish,
    Reject,
}

#[derive(InputObject)]
pub struct ModerateReviewInput {
    pub review_id: ID,
    pub decision: ModerationDecision,
}

#[derive(Default)]
pub struct ModerationQuery;

#[Object]
impl ModerationQuery {
    /// Reviews waiting for an admin (held when written, or hidden by reports), newest first.
    #[graphql(requires_scopes = "reviews:moderate")]
    async fn pending_reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Review>> {
        viewer(ctx).require_permission(Permission::ReviewsModerate)?;
        reviews_connection(ctx, ListScope::Pending, ReviewSort::Newest, first, after).await
    }
}

#[derive(Default)]
pub struct ModerationMutation;

#[Object]
impl ModerationMutation {
    /// Publishes or rejects a review; the product's rating follows.
    #[graphql(requires_scopes = "reviews:moderate")]
    async fn moderate_review(
        &self,
        ctx: &Context<'_>,
        input: ModerateReviewInput,
    ) -> async_graphql::Result<ReviewPayload> {
        viewer(ctx).require_permission(Permission::ReviewsModerate)?;
        let decision = match input.decision {
            ModerationDecision::Publish => Decision::Publish,
            ModerationDecision::Reject => Decision::Reject,
        };
        let result = service(ctx).moderate(&input.review_id, decision).await;
        payload(result, |review, user_errors| ReviewPayload {
            review: review.map(|row| Review { row }),
            user_errors,
        })
    }
}
