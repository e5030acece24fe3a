//! The recommendation read model (PostgreSQL and SQLite): co-purchase counts, each customer's
//! purchases and which products are for sale, each event applied once with its processed mark.

use sqlx::Row;
use storage::db::Database;
use storage::processed;

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// At most this many distinct products of one order are paired (a 100-line order would make
/// 9,900 pairs; its first 30 products make 870).
pub const MAX_PAIRED: usize = 30;

#[derive(Clone)]
pub struct RecommendationStore {
    db: Database,
}

impl RecommendationStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Counts a paid order once: every pair of its distinct products, and the customer's
    /// purchases. False when the event was applied before.
    pub async fn record_order(
        &self,
        event_id: &str,
        customer_id: &str,
        product_ids: &[String],
        at: i64,
    ) -> StoreResult<bool> {
        let Some(mut tx) = processed::begin_once(&self.db, "order-paid", event_id).await? else {
            return Ok(false);
        };
        let mut products: Vec<&String> = Vec::new();
        for id in product_ids {
            if !products.contains(&id) && products.len() < MAX_PAIRED {
                products.push(id);
            }
        }
        for a in &products {
            for b in &products {
                if a == b {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO co_purchases (product_id, other_id, orders) VALUES ($1, $2, 1) \
                     ON CONFLICT (product_id, other_id) DO UPDATE SET orders = co_purchases.orders + 1",
                )
                .bind(*a)
                .bind(*b)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO purchases (customer_id, product_id, orders, last_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (customer_id, product_id) DO UPDATE \
                 SET orders = purchases.orders + 1, last_at = $3",
            )
            .bind(customer_id)
            .bind(*a)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a product is for sale, as of the catalog's event at `at` (older news is ignored).
    pub async fn record_status(&self, product_id: &str, active: bool, at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO product_status (product_id, active, changed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (product_id) DO UPDATE SET active = $2, changed_at = $3 \
             WHERE product_status.changed_at <= $3",
        )
        .bind(product_id)
        .bind(i32::from(active))
        .bind(at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The products bought most often with `product_id`, for sale, most orders first.
    pub async fn also_bought(&self, product_id: &str, limit: usize) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.other_id FROM co_purchases c \
             LEFT JOIN product_status s ON s.product_id = c.other_id \
             WHERE c.product_id = $1 AND COALESCE(s.active, 1) = 1 \
             ORDER BY c.orders DESC, c.other_id LIMIT $2",
        )
        .bind(product_id)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(|r| r.try_get("other_id")).collect()
    }

    /// For a customer: products bought with what they bought, not bought by them yet, for
    /// sale; scored by how many orders paired them with the customer's products.
    pub async fn for_customer(&self, customer_id: &str, limit: usize) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.other_id, CAST(SUM(c.orders) AS BIGINT) AS score FROM purchases p \
             JOIN co_purchases c ON c.product_id = p.product_id \
             LEFT JOIN product_status s ON s.product_id = c.other_id \
             WHERE p.customer_id = $1 AND COALESCE(s.active, 1) = 1 \
             AND NOT EXISTS (SELECT 1 FROM purchases mine \
                 WHERE mine.customer_id = $1 AND mine.product_id = c.other_id) \
             GROUP BY c.other_id ORDER BY score DESC, c.other_id LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(|r| r.try_get("other_id")).collect()
    }
}
