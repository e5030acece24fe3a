//! Customers' review mutations: write, edit, vote helpful, report.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::review::{visible, Review};
use super::{payload, service, viewer, ReviewUserError};
use crate::service::ReviewEdit;

#[derive(InputObject)]
pub struct WriteReviewInput {
    pub product_id: ID,
    /// 1 to 5 stars.
    pub rating: i64,
    /// 1 to 120 characters.
    pub title: String,
    /// Up to 5,000 characters; longer than 2,000 or with links, it waits for an admin.
    pub body: String,
}

#[derive(InputObject)]
pub struct EditReviewInput {
    pub review_id: ID,
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub body: Option<String>,
}

#[derive(InputObject)]
pub struct ReviewIdInput {
    pub review_id: ID,
}

#[derive(InputObject)]
pub struct ReportReviewInput {
    pub review_id: ID,
    /// Why it should not be shown (1 to 500 characters).
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct ReviewPayload {
    pub review: Option<Review>,
    pub user_errors: Vec<ReviewUserError>,
}

#[derive(SimpleObject)]
pub struct ReportReviewPayload {
    /// The report was taken (once per reader; a repeat changes nothing).
    pub reported: bool,
    pub user_errors: Vec<ReviewUserError>,
}

#[derive(Default)]
pub struct WriteMutation;

#[Object]
impl WriteMutation {
    /// Reviews a product the signed-in customer received, once per product (edit it after).
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn write_review(
        &self,
        ctx: &Context<'_>,
        input: WriteReviewInput,
    ) -> async_graphql::Result<ReviewPayload> {
        let author = viewer(ctx).require_user()?;
        let result = service(ctx)
            .write(
                author,
                &input.product_id,
                input.rating,
                &input.title,
                &input.body,
            )
            .await;
        payload(result, |review, user_errors| ReviewPayload {
            review: review.and_then(|row| visible(ctx, row)),
            user_errors,
        })
    }

    /// Edits the signed-in customer's review; it is checked (and may be held) again.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn edit_review(
        &self,
        ctx: &Context<'_>,
        input: EditReviewInput,
    ) -> async_graphql::Result<ReviewPayload> {
        let author = viewer(ctx).require_user()?;
        let edit = ReviewEdit {
            rating: input.rating,
            title: input.title,
            body: input.body,
        };
        let result = service(ctx).edit(author, &input.review_id, edit).await;
        payload(result, |review, user_errors| ReviewPayload {
            review: review.and_then(|row| visible(ctx, row)),
            user_errors,
        })
    }

    /// Marks someone else's published review helpful; one vote per reader.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn vote_review_helpful(
        &self,
        ctx: &Context<'_>,
        input: ReviewIdInput,
    ) -> async_graphql::Result<ReviewPayload> {
        let user = viewer(ctx).require_user()?;
        let result = service(ctx).vote_helpful(user, &input.review_id).await;
        payload(result, |review, user_errors| ReviewPayload {
            review: review.and_then(|row| visible(ctx, row)),
            user_errors,
        })
    }

    /// Reports someone else's published review; after enough reports it is hidden until an
    /// admin looks at it.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn report_review(
        &self,
        ctx: &Context<'_>,
        input: ReportReviewInput,
    ) -> async_graphql::Result<ReportReviewPayload> {
        let user = viewer(ctx).require_user()?;
        let result = service(ctx)
            .report(user, &input.review_id, &input.reason)
            .await;
        payload(result, |done, user_errors| ReportReviewPayload {
            reported: done.is_some(),
            user_errors,
        })
    }
}
