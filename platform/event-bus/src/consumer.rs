//! A consumer group member: fetches entries of one topic, hands each event to a handler,
//! acknowledges what it handled, leaves failures for a retry with backoff, and dead-letters an
//! event that failed `max_attempts` times (or that the handler rejects outright) so the rest of
//! the stream keeps flowing. Counts show in the process's `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::{Delivery, Event, EventBus, EventError};
use primitives::stop::StopSignal;

#[derive(Clone, Copy, Debug)]
pub struct ConsumerSettings {
    /// Entries fetched at a time.
    pub batch: usize,
    /// The first retry's delay; each further one doubles it (at most a minute).
    pub retry_base: Duration,
    /// Deliveries before an event goes to the dead-letter stream.
    pub max_attempts: u32,
    /// How long one fetch waits for new entries.
    pub wait: Duration,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            batch: 64,
            retry_base: Duration::from_secs(1),
            max_attempts: 5,
            wait: Duration::from_secs(1),
        }
    }
}

/// Why a handler did not handle an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a database or a service was unavailable).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (an event it cannot understand): dead-lettered at once.
    #[error("{0}")]
    Reject(String),
}

impl HandlerError {
    /// A failure worth retrying (the database or a service was unavailable).
    pub fn retry(error: impl std::fmt::Display) -> Self {
        Self::Retry(error.to_string())
    }
}

impl From<EventError> for HandlerError {
    fn from(error: EventError) -> Self {
        match error {
            EventError::Payload { .. } | EventError::Malformed { .. } => {
                Self::Reject(error.to_string())
            }
            other => Self::Retry(other.to_string()),
        }
    }
}

/// What a consumer does with each event. It must be idempotent by event id (see
/// `storage::processed::begin_once`): an event can arrive more than once.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError>;

    /// Sees each fetched batch before its events are handled one by one, so that work which
    /// batches well is done once for all of them (the catalog's search index commits once per
    /// batch rather than once per event). `handle` is still called for every event and must
    /// be right whether this ran, failed or not.
    async fn before_batch(&self, _events: &[Event]) {}
}

/// Counts of one consumer's outcomes.
#[derive(Debug, Default)]
pub struct ConsumerCounters {
    pub handled: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
}

pub struct Consumer {
    bus: Arc<dyn EventBus>,
    topic: String,
    group: String,
    name: String,
    handler: Arc<dyn Handler>,
    settings: ConsumerSettings,
    counters: Arc<ConsumerCounters>,
}

impl Consumer {
    /// A member of `group` (the subscribing service) reading `topic`.
    pub fn new(
        bus: Arc<dyn EventBus>,
        topic: &str,
        group: &str,
        handler: Arc<dyn Handler>,
        settings: ConsumerSettings,
    ) -> Self {
        let counters = Arc::new(ConsumerCounters::default());
        // Its series go to the process's recorder, which must be there before the first count.
        telemetry::metrics::handle();
        Self {
            bus,
            topic: topic.into(),
            group: group.into(),
            name: primitives::id::new_id(group),
            handler,
            settings,
            counters,
        }
    }

    pub fn counters(&self) -> Arc<ConsumerCounters> {
        self.counters.clone()
    }

    /// Joins the group (creating it when missing).
    pub async fn subscribe(&self) -> Result<(), EventError> {
        self.bus.subscribe(&self.topic, &self.group).await
    }

    /// Fetches once (waiting up to the settings' `wait`) and handles what came; returns how
    /// many entries were delivered.
    pub async fn run_once(&self) -> Result<usize, EventError> {
        let deliveries = self
            .bus
            .fetch(
                &self.topic,
                &self.group,
                &self.name,
                self.settings.batch,
                self.settings.retry_base,
                self.settings.wait,
            )
            .await?;
        let events: Vec<Event> = deliveries.iter().filter_map(|d| d.event().ok()).collect();
        if !events.is_empty() {
            self.handler.before_batch(&events).await;
        }
        for delivery in &deliveries {
            self.process(delivery).await?;
        }
        Ok(deliveries.len())
    }

    async fn process(&self, delivery: &Delivery) -> Result<(), EventError> {
        let labels = [("topic", self.topic.clone()), ("group", self.group.clone())];
        let outcome = match delivery.event() {
            Ok(event) => {
                let lag_ms = (primitives::time::now_millis() - event.time).max(0);
                metrics::histogram!("events_lag_seconds", &labels).record(lag_ms as f64 / 1000.0);
                let span = tracing::info_span!(
                    "event",
                    otel.name = %format_args!("{} {}", self.group, self.topic),
                    otel.kind = "consumer",
                    service = %self.group,
                    topic = %self.topic,
                    event_id = %event.id,
                    attempt = delivery.attempt,
                );
                telemetry::continue_traceparent(&span, event.traceparent.as_deref());
                self.handler.handle(&event).instrument(span).await
            }
            Err(malformed) => Err(HandlerError::Reject(malformed.to_string())),
        };
        match outcome {
            Ok(()) => {
                self.bus
                    .ack(&self.topic, &self.group, &delivery.entry)
                    .await?;
                self.counters.handled.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("events_handled_total", &labels).increment(1);
            }
            Err(HandlerError::Retry(reason)) if delivery.attempt < self.settings.max_attempts => {
                tracing::warn!(
                    topic = %self.topic, group = %self.group, entry = %delivery.entry,
                    attempt = delivery.attempt, %reason, "event handler failed; will retry"
                );
                self.counters.retried.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("events_retried_total", &labels).increment(1);
            }
            Err(error) => {
                let reason = error.to_string();
                tracing::error!(
                    topic = %self.topic, group = %self.group, entry = %delivery.entry,
                    attempt = delivery.attempt, %reason, "event moved to the dead-letter stream"
                );
                self.bus
                    .dead_letter(&self.topic, &self.group, delivery, &reason)
                    .await?;
                self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("events_dead_lettered_total", &labels).increment(1);
            }
        }
        Ok(())
    }

    /// Consumes until `stop`. Bus failures are logged and retried after a pause.
    pub async fn run(self, stop: StopSignal) {
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        let pause = Duration::from_secs(1);
        loop {
            match self.subscribe().await {
                Ok(()) => break,
                Err(error) => {
                    tracing::error!(topic = %self.topic, group = %self.group, %error,
                        "cannot subscribe; retrying");
                    tokio::select! {
                        _ = &mut stopped => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        loop {
            // At-least-once makes cancelling a fetch safe: what it took is retried later.
            let result = tokio::select! {
                _ = &mut stopped => return,
                result = self.run_once() => result,
            };
            if let Err(error) = result {
                tracing::error!(topic = %self.topic, group = %self.group, %error,
                    "consuming failed; retrying");
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}
