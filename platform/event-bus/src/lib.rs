//! The event bus: facts one service records and others react to.
//!
//! - A producer writes an [`Event`] to its outbox in the same transaction as the change it
//!   describes (`storage::outbox::append`); its relay (`storage::outbox::Relay`) publishes
//!   the outbox to the bus.
//! - The bus ([`EventBus`]) keeps a stream per topic and a consumer group per subscribing
//!   service: Redis Streams in production ([`redis_bus::RedisBus`]), a durable SQLite file in
//!   the data directory in the embedded mode (`storage::embedded_bus::EmbeddedBus`). Both pass
//!   the same contract tests.
//! - A consumer ([`consumer::Consumer`]) handles each entry at least once: entries a consumer
//!   took but did not acknowledge (it crashed, its handler failed) are retried with backoff, and
//!   after `max_attempts` land in the group's dead-letter stream while the rest keep flowing.
//!   Handlers are idempotent by event id: `storage::processed::begin_once` commits the
//!   handler's changes and the "processed" mark together.
//! - What each topic carries is declared once, in the event contract (the `events` crate).

pub mod consumer;
pub mod redis_bus;

pub use redis_bus::redis_client;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A fact with an id (ULID), a topic (`<domain>.<fact>`), the producing service, the time, the
/// aggregate it is about and a versioned JSON payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub topic: String,
    pub source: String,
    /// Unix milliseconds.
    pub time: i64,
    pub aggregate_id: String,
    pub version: u32,
    pub payload: serde_json::Value,
    /// The W3C `traceparent` of the work that raised it: its consumers' spans join that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A typed event payload.
pub trait Fact: Serialize + DeserializeOwned {
    /// `<domain>.<fact>`, e.g. `inventory.stock_low`.
    const TOPIC: &'static str;
    /// Raised when the payload changes incompatibly.
    const VERSION: u32;
    fn aggregate_id(&self) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event bus: {0}")]
    Redis(#[from] redis::RedisError),
    /// A failure of another backend's storage (the embedded bus's SQLite file).
    #[error("event bus: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    #[error("event bus URL {0:?} is not supported: use redis://... or sqlite://...")]
    UnsupportedUrl(String),
    #[error("event bus URL {0:?} is not a Redis URL (redis://... or rediss://...)")]
    NotRedis(String),
    #[error("event {id} is not a valid {topic} v{version} event: {message}")]
    Payload {
        id: String,
        topic: String,
        version: u32,
        message: String,
    },
    #[error("stream entry {entry} is not an event: {message}")]
    Malformed { entry: String, message: String },
}

impl Event {
    /// A new event about `fact`, from the service `source`.
    pub fn new<F: Fact>(source: &str, fact: &F) -> Self {
        Self {
            id: primitives::id::new_id("evt"),
            topic: F::TOPIC.into(),
            source: source.into(),
            time: primitives::time::now_millis(),
            aggregate_id: fact.aggregate_id(),
            version: F::VERSION,
            payload: serde_json::to_value(fact).expect("event payloads serialize"),
            traceparent: telemetry::current_traceparent(),
        }
    }

    /// The typed payload: an error when the topic or version is not `F`'s or it does not parse.
    pub fn decode<F: Fact>(&self) -> Result<F, EventError> {
        let error = |message: String| EventError::Payload {
            id: self.id.clone(),
            topic: F::TOPIC.into(),
            version: F::VERSION,
            message,
        };
        if self.topic != F::TOPIC || self.version != F::VERSION {
            return Err(error(format!("got {} v{}", self.topic, self.version)));
        }
        serde_json::from_value(self.payload.clone()).map_err(|e| error(e.to_string()))
    }
}

/// One stream entry handed to a consumer.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The entry's id in its stream.
    pub entry: String,
    /// The entry as stored: an event's JSON, unless the stream holds something malformed.
    pub raw: String,
    /// 1 on first delivery.
    pub attempt: u32,
}

impl Delivery {
    pub fn event(&self) -> Result<Event, EventError> {
        serde_json::from_str(&self.raw).map_err(|e| EventError::Malformed {
            entry: self.entry.clone(),
            message: e.to_string(),
        })
    }
}

/// An entry moved to a group's dead-letter stream.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    pub entry: String,
    pub raw: String,
    pub reason: String,
    pub attempts: u32,
}

/// How long to wait before retrying an entry that failed `attempt` times: `base` doubled per
/// attempt, at most a minute.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    (base * factor).min(Duration::from_secs(60))
}

/// Streams per topic with consumer groups: the contract both backends meet.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    /// Appends `event` to its topic's stream.
    async fn publish(&self, event: &Event) -> Result<(), EventError>;

    /// Creates `group` on `topic` (and the stream) when missing, reading from the stream's start.
    async fn subscribe(&self, topic: &str, group: &str) -> Result<(), EventError>;

    /// Up to `max` entries for `consumer` of `group`: first entries the group took but did not
    /// acknowledge and whose backoff (from `retry_base`) has passed, then new ones. Waits up to
    /// `wait` when there are none.
    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        retry_base: Duration,
        wait: Duration,
    ) -> Result<Vec<Delivery>, EventError>;

    /// Marks an entry handled for `group`.
    async fn ack(&self, topic: &str, group: &str, entry: &str) -> Result<(), EventError>;

    /// Moves an entry to `group`'s dead-letter stream for `topic` and acknowledges it.
    async fn dead_letter(
        &self,
        topic: &str,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), EventError>;

    /// The entries in `group`'s dead-letter stream for `topic`, oldest first.
    async fn dead_letters(&self, topic: &str, group: &str) -> Result<Vec<DeadLetter>, EventError>;

    /// Entries of `group` not acknowledged yet (taken or not), for tests and operators.
    async fn backlog(&self, topic: &str, group: &str) -> Result<u64, EventError>;

    /// Entries of `topic` after `position` (without one: those published since `since_ms`), for
    /// readers outside any group: every reader sees every entry (each replica applying
    /// revocations, say). Returns `(position, raw entry)` pairs; waits up to `wait` for one.
    async fn read(
        &self,
        topic: &str,
        position: Option<&str>,
        since_ms: i64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(String, String)>, EventError>;
}

/// Opens the Redis bus at `url` (`redis://...` or `rediss://...`, whose certificate comes from
/// the CA in `ca_file` when given, see [`redis_client`]); `namespace` prefixes every stream
/// name, so several shops (or tests) can share one Redis. The embedded bus (`sqlite://...`) is
/// opened by `storage::bus::connect`, which takes either URL.
pub async fn connect(
    url: &str,
    namespace: &str,
    ca_file: Option<&std::path::Path>,
) -> Result<Arc<dyn EventBus>, EventError> {
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(Arc::new(
            redis_bus::RedisBus::connect(url, namespace, ca_file).await?,
        ))
    } else {
        Err(EventError::NotRedis(url.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct StockLow {
        product_id: String,
        available: i64,
    }

    impl Fact for StockLow {
        const TOPIC: &'static str = "test.stock_low";
        const VERSION: u32 = 1;
        fn aggregate_id(&self) -> String {
            self.product_id.clone()
        }
    }

    #[test]
    fn events_carry_their_fact_and_decode_only_as_it() {
        let fact = StockLow {
            product_id: "prod_1".into(),
            available: 2,
        };
        let event = Event::new("inventory", &fact);
        assert!(event.id.starts_with("evt_"));
        assert_eq!(event.topic, "test.stock_low");
        assert_eq!(event.aggregate_id, "prod_1");
        assert_eq!(event.decode::<StockLow>().unwrap(), fact);
        let mut newer = event.clone();
        newer.version = 2;
        assert!(newer.decode::<StockLow>().is_err());
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1), Duration::from_millis(100));
        assert_eq!(backoff(base, 3), Duration::from_millis(400));
        assert_eq!(backoff(base, 40), Duration::from_secs(60));
    }
}
