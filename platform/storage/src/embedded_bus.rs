//! The embedded bus: the same streams and consumer groups as Redis, kept in a SQLite file in the
//! data directory, so a restart loses nothing. Each fetch is one write transaction; waiting
//! consumers are woken in-process by publishes (the embedded shop is one process) and poll
//! otherwise.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sqlx::Row;
use tokio::sync::Notify;

use event_bus::{backoff, DeadLetter, Delivery, Event, EventBus, EventError};

use crate::db::{bus_error, Database};
use primitives::time::now_millis;

const TABLES: &str = "CREATE TABLE IF NOT EXISTS bus_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS bus_entries_by_stream ON bus_entries (stream, seq);
CREATE TABLE IF NOT EXISTS bus_groups (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (stream, grp)
);
CREATE TABLE IF NOT EXISTS bus_pending (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    seq BIGINT NOT NULL,
    consumer TEXT NOT NULL,
    delivered_at BIGINT NOT NULL,
    deliveries BIGINT NOT NULL,
    PRIMARY KEY (stream, grp, seq)
);
CREATE TABLE IF NOT EXISTS bus_dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    entry TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);";

/// Wake-ups shared by every bus on the same file in this process.
static WAKERS: LazyLock<Mutex<HashMap<String, Arc<Notify>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// How often a waiting consumer looks again without a wake-up.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

pub struct EmbeddedBus {
    database: Database,
    namespace: String,
    wake: Arc<Notify>,
}

impl EmbeddedBus {
    /// Opens (creating when missing) the bus file at `url` (`sqlite://path`).
    pub async fn open(url: &str, namespace: &str) -> Result<Self, EventError> {
        let database = Database::connect(url, 4, &crate::migrations::Migrations::NONE)
            .await
            .map_err(bus_error)?;
        sqlx::raw_sql(TABLES)
            .execute(database.pool())
            .await
            .map_err(bus_error)?;
        let wake = WAKERS
            .lock()
            .expect("the wake-up registry is never poisoned")
            .entry(url.to_string())
            .or_default()
            .clone();
        Ok(Self {
            database,
            namespace: namespace.into(),
            wake,
        })
    }

    fn stream(&self, topic: &str) -> String {
        format!("{}:{topic}", self.namespace)
    }

    fn dead_stream(&self, topic: &str, group: &str) -> String {
        format!("{}:dead:{group}:{topic}", self.namespace)
    }

    /// One fetch without waiting.
    async fn take(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        max: usize,
        retry_base: Duration,
    ) -> Result<Vec<Delivery>, EventError> {
        let now = now_millis();
        let mut tx = self.database.begin().await.map_err(bus_error)?;
        let mut deliveries = Vec::new();
        let due = sqlx::query(
            "SELECT p.seq, p.deliveries, p.delivered_at, e.body FROM bus_pending p \
             JOIN bus_entries e ON e.seq = p.seq \
             WHERE p.stream = $1 AND p.grp = $2 AND p.delivered_at <= $3 ORDER BY p.seq",
        )
        .bind(stream)
        .bind(group)
        .bind(now - retry_base.as_millis() as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(bus_error)?;
        for row in due {
            if deliveries.len() >= max {
                break;
            }
            let seq: i64 = row.try_get("seq").map_err(bus_error)?;
            let count: i64 = row.try_get("deliveries").map_err(bus_error)?;
            let delivered_at: i64 = row.try_get("delivered_at").map_err(bus_error)?;
            if now - delivered_at < backoff(retry_base, count as u32).as_millis() as i64 {
                continue;
            }
            sqlx::query(
                "UPDATE bus_pending SET consumer = $1, delivered_at = $2, deliveries = $3 \
                 WHERE stream = $4 AND grp = $5 AND seq = $6",
            )
            .bind(consumer)
            .bind(now)
            .bind(count + 1)
            .bind(stream)
            .bind(group)
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(bus_error)?;
            deliveries.push(Delivery {
                entry: seq.to_string(),
                raw: row.try_get("body").map_err(bus_error)?,
                attempt: count as u32 + 1,
            });
        }
        if deliveries.len() < max {
            let last: i64 =
                sqlx::query("SELECT last_seq FROM bus_groups WHERE stream = $1 AND grp = $2")
                    .bind(stream)
                    .bind(group)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(bus_error)?
                    .try_get("last_seq")
                    .map_err(bus_error)?;
            let fresh = sqlx::query(
                "SELECT seq, body FROM bus_entries WHERE stream = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
            )
            .bind(stream)
            .bind(last)
            .bind((max - deliveries.len()) as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(bus_error)?;
            for row in fresh {
                let seq: i64 = row.try_get("seq").map_err(bus_error)?;
                sqlx::query(
                    "INSERT INTO bus_pending (stream, grp, seq, consumer, delivered_at, deliveries) \
                     VALUES ($1, $2, $3, $4, $5, 1)",
                )
                .bind(stream)
                .bind(group)
                .bind(seq)
                .bind(consumer)
                .bind(now)
                .execute(&mut *tx)
                .await.map_err(bus_error)?;
                sqlx::query("UPDATE bus_groups SET last_seq = $1 WHERE stream = $2 AND grp = $3")
                    .bind(seq)
                    .bind(stream)
                    .bind(group)
                    .execute(&mut *tx)
                    .await
                    .map_err(bus_error)?;
                deliveries.push(Delivery {
                    entry: seq.to_string(),
                    raw: row.try_get("body").map_err(bus_error)?,
                    attempt: 1,
                });
            }
        }
        tx.commit().await.map_err(bus_error)?;
        Ok(deliveries)
    }
}

impl EmbeddedBus {
    /// Runs `look` until it finds entries or `wait` is over; a publish in this process wakes it,
    /// otherwise it looks again every [`POLL_INTERVAL`].
    async fn wait_for_entries<T, F, Fut>(
        &self,
        wait: Duration,
        mut look: F,
    ) -> Result<Vec<T>, EventError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, EventError>>,
    {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Listen before looking, so a publish in between is not missed.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let entries = look().await?;
            let now = tokio::time::Instant::now();
            if !entries.is_empty() || now >= deadline {
                return Ok(entries);
            }
            let _ = tokio::time::timeout((deadline - now).min(POLL_INTERVAL), woken).await;
        }
    }
}

fn seq_of(entry: &str) -> Result<i64, EventError> {
    entry.parse().map_err(|_| EventError::Malformed {
        entry: entry.into(),
        message: "not an entry id of the embedded bus".into(),
    })
}

#[async_trait::async_trait]
impl EventBus for EmbeddedBus {
    async fn publish(&self, event: &Event) -> Result<(), EventError> {
        let body = serde_json::to_string(event).expect("events serialize");
        sqlx::query("INSERT INTO bus_entries (stream, body, created_at) VALUES ($1, $2, $3)")
            .bind(self.stream(&event.topic))
            .bind(body)
            .bind(now_millis())
            .execute(self.database.pool())
            .await
            .map_err(bus_error)?;
        self.wake.notify_waiters();
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<(), EventError> {
        sqlx::query(
            "INSERT INTO bus_groups (stream, grp, last_seq) VALUES ($1, $2, 0) \
             ON CONFLICT (stream, grp) DO NOTHING",
        )
        .bind(self.stream(topic))
        .bind(group)
        .execute(self.database.pool())
        .await
        .map_err(bus_error)?;
        Ok(())
    }

    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        retry_base: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, EventError> {
        let stream = self.stream(topic);
        self.wait_for_entries(wait, || {
            self.take(&stream, group, consumer, max, retry_base)
        })
        .await
    }

    async fn ack(&self, topic: &str, group: &str, entry: &str) -> Result<(), EventError> {
        sqlx::query("DELETE FROM bus_pending WHERE stream = $1 AND grp = $2 AND seq = $3")
            .bind(self.stream(topic))
            .bind(group)
            .bind(seq_of(entry)?)
            .execute(self.database.pool())
            .await
            .map_err(bus_error)?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        topic: &str,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), EventError> {
        let mut tx = self.database.begin().await.map_err(bus_error)?;
        sqlx::query(
            "INSERT INTO bus_dead (stream, grp, entry, body, reason, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.dead_stream(topic, group))
        .bind(group)
        .bind(&delivery.entry)
        .bind(&delivery.raw)
        .bind(reason)
        .bind(i64::from(delivery.attempt))
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .map_err(bus_error)?;
        sqlx::query("DELETE FROM bus_pending WHERE stream = $1 AND grp = $2 AND seq = $3")
            .bind(self.stream(topic))
            .bind(group)
            .bind(seq_of(&delivery.entry)?)
            .execute(&mut *tx)
            .await
            .map_err(bus_error)?;
        tx.commit().await.map_err(bus_error)?;
        Ok(())
    }

    async fn dead_letters(&self, topic: &str, group: &str) -> Result<Vec<DeadLetter>, EventError> {
        let rows = sqlx::query(
            "SELECT entry, body, reason, attempts FROM bus_dead WHERE stream = $1 ORDER BY id",
        )
        .bind(self.dead_stream(topic, group))
        .fetch_all(self.database.pool())
        .await
        .map_err(bus_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(DeadLetter {
                    entry: row.try_get("entry").map_err(bus_error)?,
                    raw: row.try_get("body").map_err(bus_error)?,
                    reason: row.try_get("reason").map_err(bus_error)?,
                    attempts: row.try_get::<i64, _>("attempts").map_err(bus_error)? as u32,
                })
            })
            .collect()
    }

    async fn backlog(&self, topic: &str, group: &str) -> Result<u64, EventError> {
        let stream = self.stream(topic);
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM bus_pending WHERE stream = $1 AND grp = $2) AS pending, \
               (SELECT COUNT(*) FROM bus_entries WHERE stream = $1 AND seq > \
                  COALESCE((SELECT last_seq FROM bus_groups WHERE stream = $1 AND grp = $2), 0)) \
                 AS unread",
        )
        .bind(&stream)
        .bind(group)
        .fetch_one(self.database.pool())
        .await
        .map_err(bus_error)?;
        let pending: i64 = row.try_get("pending").map_err(bus_error)?;
        let unread: i64 = row.try_get("unread").map_err(bus_error)?;
        Ok((pending + unread) as u64)
    }

    async fn read(
        &self,
        topic: &str,
        position: Option<&str>,
        since_ms: i64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(String, String)>, EventError> {
        let stream = self.stream(topic);
        let after = position.map(seq_of).transpose()?.unwrap_or(0);
        let since = if position.is_some() { 0 } else { since_ms };
        self.wait_for_entries(wait, || async {
            let rows = sqlx::query(
                "SELECT seq, body FROM bus_entries WHERE stream = $1 AND seq > $2 \
                 AND created_at >= $3 ORDER BY seq LIMIT $4",
            )
            .bind(&stream)
            .bind(after)
            .bind(since)
            .bind(max as i64)
            .fetch_all(self.database.pool())
            .await
            .map_err(bus_error)?;
            rows.iter()
                .map(|row| {
                    Ok((
                        row.try_get::<i64, _>("seq")?.to_string(),
                        row.try_get("body")?,
                    ))
                })
                .collect::<Result<Vec<(String, String)>, sqlx::Error>>()
                .map_err(bus_error)
        })
        .await
    }
}
