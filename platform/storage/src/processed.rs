//! Idempotent consumers: a handler's changes and the mark that it handled an event commit in one
//! transaction, so a redelivered event (a crash before the acknowledgement, a relay publishing
//! twice) changes nothing the second time.

use crate::db::{Database, Transaction};
use primitives::time::now_millis;

/// Begins the transaction in which `consumer` handles event `event_id`, with the event already
/// marked processed in it; `None` when it was handled before. Commit it with the handler's
/// changes. A concurrent handler of the same event waits on the mark's row lock and then gets
/// `None`.
pub async fn begin_once(
    database: &Database,
    consumer: &str,
    event_id: &str,
) -> Result<Option<Transaction>, sqlx::Error> {
    let mut tx = database.begin().await?;
    let marked = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (consumer, event_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    if marked.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    Ok(Some(tx))
}
