//! Attempts counted per key in fixed windows, in the service's own database, so a limit holds
//! across every process of the service (a guest's checkouts per client address, say).

use crate::db::Database;

/// At most `limit` attempts per key in each window of `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub limit: i64,
    pub window_ms: i64,
}

impl Limit {
    /// Counts an attempt for `key` at `now` (milliseconds) and says whether it is within the
    /// limit. Counted before it is checked, by one atomic upsert that tells the attempt its
    /// place: attempts sent at once cannot all pass a check made before any was counted.
    /// Refused attempts count too.
    pub async fn allows(&self, db: &Database, key: &str, now: i64) -> Result<bool, sqlx::Error> {
        let window_start = now - self.window_ms;
        let attempt: i64 = sqlx::query_scalar(
            "INSERT INTO throttle_counts (throttle_key, attempts, window_started_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
             attempts = CASE WHEN throttle_counts.window_started_at >= $3 THEN throttle_counts.attempts + 1 ELSE 1 END, \
             window_started_at = CASE WHEN throttle_counts.window_started_at >= $3 THEN throttle_counts.window_started_at ELSE $2 END \
             RETURNING attempts",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(db.pool())
        .await?;
        Ok(attempt <= self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing;
    use crate::migrations::Migrations;

    #[tokio::test]
    async fn attempts_beyond_the_limit_are_refused_until_the_window_passes_also_at_once() {
        for db in testing::every_backend(&Migrations::NONE).await {
            let limit = Limit {
                limit: 5,
                window_ms: 60_000,
            };
            let now = 1_000_000;
            let mut attempts = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let db = db.clone();
                attempts.spawn(async move { limit.allows(&db, "guest:203.0.113.9", now).await });
            }
            let answers = attempts.join_all().await;
            let allowed = answers.iter().filter(|a| *a.as_ref().unwrap()).count();
            assert_eq!(allowed, 5, "{answers:?}");
            // Another key has its own count; a window later the key starts again.
            assert!(limit.allows(&db, "guest:203.0.113.10", now).await.unwrap());
            assert!(limit
                .allows(&db, "guest:203.0.113.9", now + 60_001)
                .await
                .unwrap());
        }
    }
}
