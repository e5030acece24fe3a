//! The producer's side: events are appended to the `outbox_events` table in the transaction of
//! the change they describe, and a relay publishes them to the bus in order. A crash between the
//! two loses nothing (the relay picks the row up again); a crash after publishing but before
//! marking publishes it twice, which consumers absorb by event id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Row;
use tokio::sync::Notify;

use event_bus::{Event, EventBus, EventError};

use crate::db::{bus_error, Database, Transaction};
use primitives::stop::StopSignal;
use primitives::time::now_millis;

/// Appends `event` to the outbox inside the caller's transaction.
pub async fn append(tx: &mut Transaction, event: &Event) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(event).expect("events serialize");
    sqlx::query(
        "INSERT INTO outbox_events (id, topic, body, created_at, published_at) \
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(&event.id)
    .bind(&event.topic)
    .bind(body)
    .bind(event.time)
    .execute(&mut **tx)
    .await?;
    tx.appended_events();
    Ok(())
}

/// How often the outbox is polled besides the wake-up of every commit that appended events (for
/// other replicas' writes).
const POLL_INTERVAL: Duration = Duration::from_millis(500);
const BATCH: i64 = 200;
/// Published rows are kept this long (for inspection), then pruned.
const RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Publishes a database's outbox to the bus.
#[derive(Clone)]
pub struct Relay {
    database: Database,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(database: Database, bus: Arc<dyn EventBus>) -> Self {
        let wake = database.outbox_committed();
        Self {
            database,
            bus,
            wake,
        }
    }

    /// Publishes one batch of pending events in id order; returns how many.
    pub async fn run_once(&self) -> Result<usize, EventError> {
        let mut tx = self.database.begin().await.map_err(bus_error)?;
        // Replicas of one service each run a relay; PostgreSQL lets each take different rows.
        let lock = self.database.row_lock("FOR UPDATE SKIP LOCKED");
        let rows = sqlx::query(&format!(
            "SELECT id, body FROM outbox_events WHERE published_at IS NULL \
             ORDER BY id LIMIT $1 {lock}"
        ))
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(bus_error)?;
        let now = now_millis();
        for row in &rows {
            let id: String = row.try_get("id").map_err(bus_error)?;
            let body: String = row.try_get("body").map_err(bus_error)?;
            let event: Event = serde_json::from_str(&body).map_err(|e| EventError::Malformed {
                entry: id.clone(),
                message: e.to_string(),
            })?;
            self.bus.publish(&event).await?;
            sqlx::query("UPDATE outbox_events SET published_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(bus_error)?;
        }
        tx.commit().await.map_err(bus_error)?;
        Ok(rows.len())
    }

    /// Deletes events published longer ago than the retention.
    async fn prune(&self) -> Result<u64, sqlx::Error> {
        let before = now_millis() - RETENTION.as_millis() as i64;
        let done = sqlx::query(
            "DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < $1",
        )
        .bind(before)
        .execute(self.database.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Publishes until `stop`; failures are logged and retried.
    pub async fn follow(self, stop: StopSignal) {
        let stopped = stop.clone().stopped();
        tokio::pin!(stopped);
        let mut pruned = Instant::now();
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "publishing the outbox failed; retrying"),
            }
            if pruned.elapsed() > Duration::from_secs(600) {
                pruned = Instant::now();
                if let Err(error) = self.prune().await {
                    tracing::warn!(%error, "pruning the outbox failed");
                }
            }
            tokio::select! {
                _ = &mut stopped => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }
}
