//! Review storage (PostgreSQL and SQLite): deliveries learnt from shipping's events, reviews,
//! helpful votes, reports, and each product's rating summary, changed in the same transaction as
//! the review whose counting changed (under the review's lock), so it never drifts from the
//! reviews and is never recomputed from all of them.

use std::sync::Arc;

use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};
use storage::db::Database;
use storage::processed;
use tokio::sync::watch;

use crate::domain::moderation::{HoldReason, ReviewStatus};
use crate::domain::rating::{Rating, RatingSummary};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored review {id} is invalid: {what}")]
    Corrupt { id: String, what: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a delivered shipment held of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredLine {
    pub product_id: String,
    pub variant_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub id: String,
    pub product_id: String,
    pub author_id: String,
    pub rating: Rating,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    pub hold_reason: Option<HoldReason>,
    pub verified: bool,
    /// The variant the author bought (reviews stay per product); none for reviews written
    /// before variants.
    pub variant_id: Option<String>,
    pub helpful_count: i64,
    pub report_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Review {
    /// The rating it adds to its product's summary, if it counts.
    fn counted(&self) -> Option<Rating> {
        self.status.counts().then_some(self.rating)
    }
}

/// How a product's reviews are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReviewSort {
    #[default]
    Newest,
    MostHelpful,
    RatingHigh,
    RatingLow,
}

impl ReviewSort {
    /// The sort column and whether it descends; ties go newest first, then by id.
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::Newest => ("created_at", true),
            Self::MostHelpful => ("helpful_count", true),
            Self::RatingHigh => ("rating", true),
            Self::RatingLow => ("rating", false),
        }
    }

    /// The key a review has in this order (the cursor's first part).
    pub fn key(self, review: &Review) -> i64 {
        match self {
            Self::Newest => review.created_at,
            Self::MostHelpful => review.helpful_count,
            Self::RatingHigh | Self::RatingLow => i64::from(review.rating.stars()),
        }
    }
}

/// A review's place in a list: (sort key, created_at, id).
pub type ReviewCursor = (i64, i64, String);

/// What a first-time vote or report did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Counted now; the review as it is after.
    Counted(Box<Review>),
    /// This reader voted or reported before: nothing changed.
    Already(Box<Review>),
}

const COLUMNS: &str = "id, product_id, author_id, rating, title, body, status, hold_reason, \
    verified, helpful_count, report_count, created_at, updated_at, variant_id";

fn review(row: &AnyRow) -> StoreResult<Review> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.clone(),
        what,
    };
    let stars: i32 = row.try_get("rating")?;
    let rating = Rating::parse(i64::from(stars)).map_err(|_| corrupt(format!("rating {stars}")))?;
    let raw: String = row.try_get("status")?;
    let status = ReviewStatus::parse(&raw).ok_or_else(|| corrupt(format!("status {raw:?}")))?;
    let hold_reason = match row.try_get::<Option<String>, _>("hold_reason")? {
        Some(raw) => {
            Some(HoldReason::parse(&raw).ok_or_else(|| corrupt(format!("hold reason {raw:?}")))?)
        }
        None => None,
    };
    let verified: i32 = row.try_get("verified")?;
    Ok(Review {
        product_id: row.try_get("product_id")?,
        author_id: row.try_get("author_id")?,
        rating,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        status,
        hold_reason,
        verified: verified == 1,
        variant_id: row.try_get("variant_id")?,
        helpful_count: row.try_get("helpful_count")?,
        report_count: row.try_get("report_count")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

#[derive(Clone)]
pub struct ReviewStore {
    db: Database,
    /// Counts deliveries recorded here, so callers (tests) can await one.
    delivered: Arc<watch::Sender<u64>>,
}

impl ReviewStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            delivered: Arc::new(watch::channel(0).0),
        }
    }

    /// Moves whenever a delivery event is recorded.
    pub fn delivered(&self) -> watch::Receiver<u64> {
        self.delivered.subscribe()
    }

    /// Records that `customer_id` received `product_ids` with order `order_id`, once per event.
    pub async fn record_delivery(
        &self,
        event_id: &str,
        customer_id: &str,
        order_id: &str,
        lines: &[DeliveredLine],
    ) -> StoreResult<bool> {
        let Some(mut tx) = processed::begin_once(&self.db, "shipment-delivered", event_id).await?
        else {
            return Ok(false);
        };
        let now = now_millis();
        // One row per product and order: of two variants of one product in an order, the
        // first line's is kept.
        for line in lines {
            sqlx::query(
                "INSERT INTO deliveries (customer_id, product_id, order_id, delivered_at, variant_id) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, product_id, order_id) DO NOTHING",
            )
            .bind(customer_id)
            .bind(&line.product_id)
            .bind(order_id)
            .bind(now)
            .bind(&line.variant_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.delivered.send_modify(|n| *n += 1);
        Ok(true)
    }

    /// The variant of `product_id` last delivered to the customer, if any was (a delivery from
    /// before variants: the product's default variant).
    pub async fn received_variant(
        &self,
        customer_id: &str,
        product_id: &str,
    ) -> StoreResult<Option<String>> {
        let found: Option<Option<String>> = sqlx::query_scalar(
            "SELECT variant_id FROM deliveries WHERE customer_id = $1 AND product_id = $2 \
             ORDER BY delivered_at DESC LIMIT 1",
        )
        .bind(customer_id)
        .bind(product_id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(found.map(|variant| {
            variant.unwrap_or_else(|| commerce::variant::default_variant_id(product_id))
        }))
    }

    /// Stores a new review and counts it in its product's rating if published; false when the
    /// author reviewed the product before.
    pub async fn insert(&self, review: &Review) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO reviews ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (product_id, author_id) DO NOTHING"
        ))
        .bind(&review.id)
        .bind(&review.product_id)
        .bind(&review.author_id)
        .bind(i32::from(review.rating.stars()))
        .bind(&review.title)
        .bind(&review.body)
        .bind(review.status.as_str())
        .bind(review.hold_reason.map(HoldReason::as_str))
        .bind(i32::from(review.verified))
        .bind(review.helpful_count)
        .bind(review.report_count)
        .bind(review.created_at)
        .bind(review.updated_at)
        .bind(&review.variant_id)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        recount(&mut tx, &review.product_id, None, review.counted()).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Changes a review under its lock with `change` (which sees it as it is and may refuse),
    /// and its product's rating with it. `None` when there is no such review.
    pub async fn update<E: From<StoreError>>(
        &self,
        id: &str,
        change: impl FnOnce(Review) -> Result<Review, E>,
    ) -> Result<Option<Review>, E> {
        let mut tx = self.db.begin().await.map_err(StoreError::from)?;
        let Some(before) = self.locked(&mut tx, id).await? else {
            return Ok(None);
        };
        let after = change(before.clone())?;
        self.write(&mut tx, &before, &after).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Some(after))
    }

    async fn locked(
        &self,
        tx: &mut storage::db::Transaction,
        id: &str,
    ) -> StoreResult<Option<Review>> {
        let lock = self.db.row_lock("FOR UPDATE");
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reviews WHERE id = $1 {lock}"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(review).transpose()
    }

    async fn write(
        &self,
        tx: &mut storage::db::Transaction,
        before: &Review,
        after: &Review,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE reviews SET rating = $1, title = $2, body = $3, status = $4, hold_reason = $5, \
             helpful_count = $6, report_count = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(i32::from(after.rating.stars()))
        .bind(&after.title)
        .bind(&after.body)
        .bind(after.status.as_str())
        .bind(after.hold_reason.map(HoldReason::as_str))
        .bind(after.helpful_count)
        .bind(after.report_count)
        .bind(after.updated_at)
        .bind(&after.id)
        .execute(&mut **tx)
        .await?;
        recount(tx, &after.product_id, before.counted(), after.counted()).await
    }

    /// A reader's helpful vote or report, once per reader: `mark` inserts the reader's row
    /// (ignoring a repeat) and `change` applies it to the review.
    async fn count_once<'q>(
        &self,
        review_id: &str,
        mark: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        change: impl FnOnce(Review) -> Review,
    ) -> StoreResult<Option<Counted>> {
        let mut tx = self.db.begin().await?;
        let Some(before) = self.locked(&mut tx, review_id).await? else {
            return Ok(None);
        };
        if mark.execute(&mut *tx).await?.rows_affected() == 0 {
            return Ok(Some(Counted::Already(Box::new(before))));
        }
        let after = change(before.clone());
        self.write(&mut tx, &before, &after).await?;
        tx.commit().await?;
        Ok(Some(Counted::Counted(Box::new(after))))
    }

    /// Counts `user_id`'s helpful vote once; `None` when there is no such review.
    pub async fn vote(
        &self,
        review_id: &str,
        user_id: &str,
        change: impl FnOnce(Review) -> Review,
    ) -> StoreResult<Option<Counted>> {
        let mark = sqlx::query(
            "INSERT INTO review_votes (review_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (review_id, user_id) DO NOTHING",
        )
        .bind(review_id)
        .bind(user_id)
        .bind(now_millis());
        self.count_once(review_id, mark, change).await
    }

    /// Counts `user_id`'s report once; `None` when there is no such review.
    pub async fn report(
        &self,
        review_id: &str,
        user_id: &str,
        reason: &str,
        change: impl FnOnce(Review) -> Review,
    ) -> StoreResult<Option<Counted>> {
        let mark = sqlx::query(
            "INSERT INTO review_reports (review_id, user_id, reason, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (review_id, user_id) DO NOTHING",
        )
        .bind(review_id)
        .bind(user_id)
        .bind(reason.to_string())
        .bind(now_millis());
        self.count_once(review_id, mark, change).await
    }

    pub async fn by_ids(&self, ids: &[String]) -> StoreResult<Vec<Review>> {
        let select = format!("SELECT {COLUMNS} FROM reviews WHERE id");
        let rows = self.db.fetch_any_of(&select, ids, "").await?;
        rows.iter().map(review).collect()
    }

    /// Reviews of `scope` in `sort` order after `cursor`, `limit` of them.
    pub async fn list(
        &self,
        scope: ListScope<'_>,
        sort: ReviewSort,
        cursor: Option<&ReviewCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Review>> {
        let (column, descending) = sort.column();
        let (direction, beyond) = if descending {
            ("DESC", "<")
        } else {
            ("ASC", ">")
        };
        let (filter, value) = match scope {
            ListScope::Product(id) => ("product_id = $1 AND status = 'published'", id),
            ListScope::Author {
                id,
                published_only: false,
            } => ("author_id = $1", id),
            ListScope::Author {
                id,
                published_only: true,
            } => ("author_id = $1 AND status = 'published'", id),
            ListScope::Pending => ("status = $1", ReviewStatus::Pending.as_str()),
        };
        let order = format!("ORDER BY {column} {direction}, created_at DESC, id DESC");
        let rows = match cursor {
            Some((key, created, id)) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM reviews WHERE {filter} AND ({column} {beyond} $2 \
                     OR ({column} = $2 AND (created_at < $3 OR (created_at = $3 AND id < $4)))) \
                     {order} LIMIT $5"
                ))
                .bind(value)
                .bind(*key)
                .bind(*created)
                .bind(id)
                .bind(limit as i64)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM reviews WHERE {filter} {order} LIMIT $2"
                ))
                .bind(value)
                .bind(limit as i64)
                .fetch_all(self.db.pool())
                .await?
            }
        };
        rows.iter().map(review).collect()
    }

    /// The first `limit` published reviews of each of `product_ids` in `sort` order, in one
    /// query for the whole batch (a product list showing reviews asks once, not per product).
    pub async fn first_pages(
        &self,
        product_ids: &[String],
        sort: ReviewSort,
        limit: usize,
    ) -> StoreResult<Vec<Review>> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (column, descending) = sort.column();
        let direction = if descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM (SELECT {COLUMNS}, ROW_NUMBER() OVER (PARTITION BY product_id \
             ORDER BY {column} {direction}, created_at DESC, id DESC) AS place FROM reviews \
             WHERE status = 'published' AND product_id IN ({})) ranked \
             WHERE place <= $2 ORDER BY product_id, place",
            self.db.any_of_json(1)
        );
        let rows = sqlx::query(&sql)
            .bind(storage::db::json_list(product_ids))
            .bind(limit as i64)
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(review).collect()
    }

    /// The rating summaries of `product_ids` (products without reviews have none).
    pub async fn summaries(
        &self,
        product_ids: &[String],
    ) -> StoreResult<Vec<(String, RatingSummary)>> {
        let select = "SELECT product_id, stars_1, stars_2, stars_3, stars_4, stars_5 \
            FROM rating_summaries WHERE product_id";
        let rows = self.db.fetch_any_of(select, product_ids, "").await?;
        rows.iter()
            .map(|row| {
                let mut histogram = [0u64; 5];
                for (slot, stars) in histogram.iter_mut().zip(1..) {
                    let count: i64 = row.try_get(format!("stars_{stars}").as_str())?;
                    *slot = count.max(0) as u64;
                }
                Ok((row.try_get("product_id")?, RatingSummary { histogram }))
            })
            .collect()
    }
}

/// Whose reviews a list holds.
#[derive(Clone, Copy, Debug)]
pub enum ListScope<'a> {
    /// A product's published reviews.
    Product(&'a str),
    /// An author's reviews: all (for them and admins) or the published ones.
    Author { id: &'a str, published_only: bool },
    /// Reviews waiting for an admin.
    Pending,
}

/// Moves a product's summary from counting `removed` to counting `added` (either may be none).
async fn recount(
    tx: &mut storage::db::Transaction,
    product_id: &str,
    removed: Option<Rating>,
    added: Option<Rating>,
) -> StoreResult<()> {
    if removed == added {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rating_summaries (product_id) VALUES ($1) ON CONFLICT (product_id) DO NOTHING",
    )
    .bind(product_id)
    .execute(&mut **tx)
    .await?;
    for (rating, delta) in [(removed, -1i64), (added, 1)] {
        if let Some(rating) = rating {
            // The column follows from a parsed rating (1 to 5), never from input text.
            let column = format!("stars_{}", rating.stars());
            sqlx::query(&format!(
                "UPDATE rating_summaries SET {column} = {column} + $1 WHERE product_id = $2"
            ))
            .bind(delta)
            .bind(product_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
