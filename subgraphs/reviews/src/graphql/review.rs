//! `Review`, `Product.reviews` and `Product.rating`, `User.reviews`, and the loaders behind them.

use auth::Permission;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::{service, viewer};
use crate::domain::moderation::ReviewStatus as DomainStatus;
use crate::domain::rating::RatingSummary;
use crate::service::ReviewsService;
use crate::store::{ListScope, Review as ReviewRow, ReviewCursor, ReviewSort as Sort, StoreError};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "DomainStatus")]
pub enum ReviewStatus {
    /// Waiting for an admin: held when written (long, links) or hidden by reports.
    Pending,
    Published,
    Rejected,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReviewSort {
    #[default]
    Newest,
    MostHelpful,
    RatingHigh,
    RatingLow,
}

impl From<ReviewSort> for Sort {
    fn from(sort: ReviewSort) -> Self {
        match sort {
            ReviewSort::Newest => Self::Newest,
            ReviewSort::MostHelpful => Self::MostHelpful,
            ReviewSort::RatingHigh => Self::RatingHigh,
            ReviewSort::RatingLow => Self::RatingLow,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Review {
    pub(crate) row: ReviewRow,
}

#[Object]
impl Review {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    /// 1 to 5 stars.
    async fn rating(&self) -> i32 {
        i32::from(self.row.rating.stars())
    }

    async fn title(&self) -> &str {
        &self.row.title
    }

    async fn body(&self) -> &str {
        &self.row.body
    }

    async fn author(&self) -> User {
        User {
            id: ID(self.row.author_id.clone()),
        }
    }

    /// The variant the author bought (the one last delivered to them); null for reviews
    /// written before variants.
    async fn variant(&self) -> Option<ProductVariant> {
        self.row
            .variant_id
            .clone()
            .map(|id| ProductVariant { id: ID(id) })
    }

    async fn product(&self) -> Product {
        Product {
            id: ID(self.row.product_id.clone()),
        }
    }

    /// The author had received the product when writing (every review written here; imported
    /// reviews may not be).
    async fn verified_buyer(&self) -> bool {
        self.row.verified
    }

    async fn status(&self) -> ReviewStatus {
        self.row.status.into()
    }

    /// Why it waits for an admin (`long`, `links`, `reported`); for its author and admins.
    async fn hold_reason(&self, ctx: &Context<'_>) -> Option<&str> {
        let viewer = viewer(ctx);
        let may_see = viewer.has_permission(Permission::ReviewsModerate)
            || viewer.user_id() == Some(self.row.author_id.as_str());
        self.row
            .hold_reason
            .filter(|_| may_see)
            .map(|reason| reason.as_str())
    }

    /// Readers who found it helpful.
    async fn helpful_count(&self) -> i64 {
        self.row.helpful_count
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.row.created_at)
    }

    async fn updated_at(&self) -> String {
        primitives::time::format_millis(self.row.updated_at)
    }
}

/// How many reviews gave this many stars.
#[derive(SimpleObject, Clone, Debug)]
pub struct RatingBucket {
    pub stars: i32,
    pub count: i64,
}

/// A product's published ratings.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductRating {
    /// The average to a tenth, e.g. "4.3"; null without reviews.
    pub average: Option<String>,
    pub count: i64,
    /// 1 to 5 stars, in that order.
    pub histogram: Vec<RatingBucket>,
}

impl From<RatingSummary> for ProductRating {
    fn from(summary: RatingSummary) -> Self {
        Self {
            average: summary.average(),
            count: summary.count() as i64,
            histogram: summary
                .histogram
                .iter()
                .zip(1..)
                .map(|(count, stars)| RatingBucket {
                    stars,
                    count: *count as i64,
                })
                .collect(),
        }
    }
}

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
}

#[ComplexObject]
impl Product {
    /// Published reviews, newest first unless sorted otherwise.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        sort: Option<ReviewSort>,
    ) -> async_graphql::Result<Connection<String, Review>> {
        let sort = sort.unwrap_or_default();
        if after.is_some() {
            return reviews_connection(ctx, ListScope::Product(&self.id), sort, first, after).await;
        }
        // First pages load together: a product list asking for reviews makes one query.
        let page = PageRequest::<ReviewCursor>::from_args(first, None, None, None)?;
        let sort = Sort::from(sort);
        let rows = ctx
            .data_unchecked::<DataLoader<FirstPageLoader>>()
            .load_one(FirstPage {
                product_id: self.id.0.clone(),
                sort,
                limit: page.limit + 1,
            })
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(page_of_reviews(&page, sort, rows))
    }

    /// Average, count and histogram of the published reviews.
    async fn rating(&self, ctx: &Context<'_>) -> async_graphql::Result<ProductRating> {
        let summary = ctx
            .data_unchecked::<DataLoader<RatingLoader>>()
            .load_one(self.id.0.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(summary.into())
    }
}

/// The accounts' user, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// The user's reviews, newest first: all of them for the user and admins, the published
    /// ones for everyone else.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Review>> {
        let viewer = viewer(ctx);
        let published_only = !(viewer.has_permission(Permission::ReviewsModerate)
            || viewer.user_id() == Some(self.id.as_str()));
        let scope = ListScope::Author {
            id: &self.id,
            published_only,
        };
        reviews_connection(ctx, scope, ReviewSort::Newest, first, after).await
    }
}

pub(crate) async fn reviews_connection(
    ctx: &Context<'_>,
    scope: ListScope<'_>,
    sort: ReviewSort,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, Review>> {
    let sort = Sort::from(sort);
    let page = PageRequest::<ReviewCursor>::from_args(first, after, None, None)?;
    let rows = service(ctx)
        .store
        .list(scope, sort, page.cursor.as_ref(), page.limit + 1)
        .await
        .map_err(ApiError::internal)?;
    Ok(page_of_reviews(&page, sort, rows))
}

/// A page of `rows` (one more than the page holds when there is a next page) in `sort` order.
fn page_of_reviews(
    page: &PageRequest<ReviewCursor>,
    sort: Sort,
    rows: Vec<ReviewRow>,
) -> Connection<String, Review> {
    connection(
        page,
        rows,
        |row| (sort.key(row), row.created_at, row.id.clone()),
        |row| Review { row },
    )
}

/// A review for whoever may see it: published ones for everyone, others for their author and
/// admins.
pub(crate) fn visible(ctx: &Context<'_>, row: ReviewRow) -> Option<Review> {
    let viewer = viewer(ctx);
    let shown = row.status == DomainStatus::Published
        || viewer.has_permission(Permission::ReviewsModerate)
        || viewer.user_id() == Some(row.author_id.as_str());
    shown.then_some(Review { row })
}

#[derive(Default)]
pub struct ReviewQuery;

#[Object]
impl ReviewQuery {
    /// A review: published ones for everyone, others for their author and admins.
    async fn review(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Review>> {
        load_visible(ctx, id.0).await
    }

    #[graphql(entity)]
    async fn find_review_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Review>> {
        load_visible(ctx, id.0).await
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }

    #[graphql(entity)]
    async fn find_product_variant_by_id(&self, id: ID) -> ProductVariant {
        ProductVariant { id }
    }
}

/// The catalog's variant, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductVariant {
    pub id: ID,
}

async fn load_visible(ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<Review>> {
    let row = ctx
        .data_unchecked::<DataLoader<ReviewLoader>>()
        .load_one(id)
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))?;
    Ok(row.and_then(|row| visible(ctx, row)))
}

/// Reviews by id: one query per batch.
pub struct ReviewLoader(pub Arc<ReviewsService>);

impl Loader<String> for ReviewLoader {
    type Value = ReviewRow;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, ReviewRow>, Self::Error> {
        let rows = self.0.store.by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

/// Rating summaries by product: one query per batch (a product list shows many).
pub struct RatingLoader(pub Arc<ReviewsService>);

impl Loader<String> for RatingLoader {
    type Value = RatingSummary;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, RatingSummary>, Self::Error> {
        let rows = self.0.store.summaries(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().collect())
    }
}

/// The first page of a product's published reviews in one order and size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FirstPage {
    product_id: String,
    sort: Sort,
    limit: usize,
}

/// First pages of products' reviews: one query per order and size in a batch.
pub struct FirstPageLoader(pub Arc<ReviewsService>);

impl Loader<FirstPage> for FirstPageLoader {
    type Value = Vec<ReviewRow>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        pages: &[FirstPage],
    ) -> Result<HashMap<FirstPage, Vec<ReviewRow>>, Self::Error> {
        let mut products: HashMap<(Sort, usize), Vec<String>> = HashMap::new();
        for page in pages {
            products
                .entry((page.sort, page.limit))
                .or_default()
                .push(page.product_id.clone());
        }
        let mut loaded = HashMap::new();
        for ((sort, limit), ids) in products {
            let rows = self
                .0
                .store
                .first_pages(&ids, sort, limit)
                .await
                .map_err(Arc::new)?;
            for row in rows {
                loaded
                    .entry(FirstPage {
                        product_id: row.product_id.clone(),
                        sort,
                        limit,
                    })
                    .or_insert_with(Vec::new)
                    .push(row);
            }
        }
        Ok(loaded)
    }
}
