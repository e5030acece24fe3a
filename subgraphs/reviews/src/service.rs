//! Review rules applied: who may review (customers who received the product, once per product),
//! what a review must pass (rating, lengths; long or linked texts held), edits, helpful votes and
//! reports once per reader, and admins' moderation. Errors are [`ReviewError`]; the GraphQL layer
//! turns them into userErrors or GraphQL errors.

use crate::config::ReviewsSettings;
use crate::domain::moderation::{self, HoldReason, InvalidReview, ReviewStatus};
use crate::domain::rating::{InvalidRating, Rating};
use crate::store::{Counted, Review, ReviewStore, StoreError};

/// Report reasons are 1 to this many characters.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Rating(#[from] InvalidRating),
    #[error(transparent)]
    Text(#[from] InvalidReview),
    #[error("only customers who received this product can review it")]
    NotReceived,
    #[error("you reviewed this product already; edit that review instead")]
    AlreadyReviewed,
    #[error("no review with this id")]
    NotFound,
    #[error("you cannot vote for or report your own review")]
    OwnReview,
    #[error("a report needs a reason of 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type ReviewResult<T> = Result<T, ReviewError>;

/// What an edit changes; fields left out keep their value.
#[derive(Clone, Debug, Default)]
pub struct ReviewEdit {
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub body: Option<String>,
}

/// An admin's decision on a review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Reject,
}

pub struct ReviewsService {
    pub store: ReviewStore,
    settings: ReviewsSettings,
}

impl ReviewsService {
    pub fn new(store: ReviewStore, settings: ReviewsSettings) -> Self {
        Self { store, settings }
    }

    /// A customer's review of a product they received: published at once unless its text is
    /// held for moderation.
    pub async fn write(
        &self,
        author_id: &str,
        product_id: &str,
        rating: i64,
        title: &str,
        body: &str,
    ) -> ReviewResult<Review> {
        let rating = Rating::parse(rating)?;
        let (status, hold_reason) = moderation::place(title, body)?.status();
        let Some(variant_id) = self.store.received_variant(author_id, product_id).await? else {
            return Err(ReviewError::NotReceived);
        };
        let now = primitives::time::now_millis();
        let review = Review {
            id: primitives::id::new_id("rev"),
            product_id: product_id.into(),
            author_id: author_id.into(),
            rating,
            title: title.trim().into(),
            body: body.trim().into(),
            status,
            hold_reason,
            verified: true,
            variant_id: Some(variant_id),
            helpful_count: 0,
            report_count: 0,
            created_at: now,
            updated_at: now,
        };
        if !self.store.insert(&review).await? {
            return Err(ReviewError::AlreadyReviewed);
        }
        Ok(review)
    }

    /// The author's edit: checked and placed like a new review (a rejected review comes back
    /// for another look); one hidden by reports stays hidden until an admin decides.
    pub async fn edit(
        &self,
        author_id: &str,
        review_id: &str,
        edit: ReviewEdit,
    ) -> ReviewResult<Review> {
        let rating = edit.rating.map(Rating::parse).transpose()?;
        self.store
            .update(review_id, |mut review| {
                if review.author_id != author_id {
                    return Err(ReviewError::NotFound);
                }
                if let Some(rating) = rating {
                    review.rating = rating;
                }
                if let Some(title) = &edit.title {
                    review.title = title.trim().into();
                }
                if let Some(body) = &edit.body {
                    review.body = body.trim().into();
                }
                let placed = moderation::place(&review.title, &review.body)?.status();
                if review.hold_reason != Some(HoldReason::Reported) {
                    (review.status, review.hold_reason) = placed;
                }
                review.updated_at = primitives::time::now_millis();
                Ok(review)
            })
            .await?
            .ok_or(ReviewError::NotFound)
    }

    /// A reader finds a published review helpful: counted once per reader.
    pub async fn vote_helpful(&self, user_id: &str, review_id: &str) -> ReviewResult<Review> {
        self.visible_to_readers(user_id, review_id).await?;
        let counted = self
            .store
            .vote(review_id, user_id, |mut review| {
                review.helpful_count += 1;
                review
            })
            .await?
            .ok_or(ReviewError::NotFound)?;
        Ok(match counted {
            Counted::Counted(review) | Counted::Already(review) => *review,
        })
    }

    /// A reader reports a published review: counted once per reader; at the threshold the
    /// review is hidden (pending, reported) until an admin decides.
    pub async fn report(&self, user_id: &str, review_id: &str, reason: &str) -> ReviewResult<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(ReviewError::Reason);
        }
        self.visible_to_readers(user_id, review_id).await?;
        let threshold = self.settings.report_threshold;
        self.store
            .report(review_id, user_id, reason, |mut review| {
                review.report_count += 1;
                if review.status == ReviewStatus::Published
                    && moderation::hidden_by_reports(review.report_count as u32, threshold)
                {
                    review.status = ReviewStatus::Pending;
                    review.hold_reason = Some(HoldReason::Reported);
                }
                review
            })
            .await?
            .ok_or(ReviewError::NotFound)?;
        Ok(())
    }

    /// A published review by someone else (what readers may vote on or report).
    async fn visible_to_readers(&self, user_id: &str, review_id: &str) -> ReviewResult<Review> {
        let review = self
            .store
            .by_ids(&[review_id.to_string()])
            .await?
            .pop()
            .filter(|r| r.status == ReviewStatus::Published)
            .ok_or(ReviewError::NotFound)?;
        if review.author_id == user_id {
            return Err(ReviewError::OwnReview);
        }
        Ok(review)
    }

    /// An admin publishes (clearing its reports) or rejects a review.
    pub async fn moderate(&self, review_id: &str, decision: Decision) -> ReviewResult<Review> {
        self.store
            .update(review_id, |mut review| {
                match decision {
                    Decision::Publish => {
                        review.status = ReviewStatus::Published;
                        review.report_count = 0;
                    }
                    Decision::Reject => review.status = ReviewStatus::Rejected,
                }
                review.hold_reason = None;
                review.updated_at = primitives::time::now_millis();
                Ok::<_, ReviewError>(review)
            })
            .await?
            .ok_or(ReviewError::NotFound)
    }
}
