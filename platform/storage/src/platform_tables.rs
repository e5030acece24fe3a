//! The tables the platform keeps in every subgraph's database beside the subgraph's own, created
//! by [`Database::connect`](crate::db::Database::connect) after the subgraph's migrations.

/// Events waiting for the relay ([`crate::outbox`]).
pub(crate) const OUTBOX: &str = "CREATE TABLE IF NOT EXISTS outbox_events (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT
);
CREATE INDEX IF NOT EXISTS outbox_events_pending ON outbox_events (published_at, id);";

/// Events a consumer has handled ([`crate::processed`]).
pub(crate) const PROCESSED: &str = "CREATE TABLE IF NOT EXISTS processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);";

/// Commands run once per key ([`crate::idempotency`]).
pub(crate) const IDEMPOTENCY: &str = "CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    runner TEXT NOT NULL,
    response TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);";

/// Attempts per key and window ([`crate::throttle`]).
pub(crate) const THROTTLE: &str = "CREATE TABLE IF NOT EXISTS throttle_counts (
    throttle_key TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);";

/// Every platform table, in creation order.
pub(crate) const ALL: [&str; 4] = [OUTBOX, PROCESSED, IDEMPOTENCY, THROTTLE];
