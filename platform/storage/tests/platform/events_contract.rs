//! The behaviour both event buses promise (Redis Streams and the embedded SQLite file), and the
//! consumer built on it: order, groups, redelivery with attempt counts, dead letters, and
//! exactly-once effects across a consumer restart.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_bus::consumer::{Consumer, ConsumerSettings, Handler, HandlerError};
use event_bus::{Event, EventBus, Fact};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use storage::db::Database;
use storage::processed;

const REDIS_URL: &str = "redis://127.0.0.1:6379";

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Counted {
    n: u32,
}

impl Fact for Counted {
    const TOPIC: &'static str = "test.counted";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("n{}", self.n)
    }
}

/// Both buses, each in a namespace of its own.
async fn every_bus() -> Vec<(&'static str, Arc<dyn EventBus>)> {
    let namespace = primitives::id::new_id("test");
    let file = std::env::temp_dir().join(format!("{namespace}-events.db"));
    vec![
        (
            "embedded",
            storage::bus::connect(&format!("sqlite://{}", file.display()), &namespace, None)
                .await
                .expect("embedded bus"),
        ),
        (
            "redis",
            storage::bus::connect(REDIS_URL, &namespace, None)
                .await
                .expect("Redis must run for the tests (see README)"),
        ),
    ]
}

async fn publish(bus: &dyn EventBus, numbers: std::ops::Range<u32>) -> Vec<Event> {
    let mut events = Vec::new();
    for n in numbers {
        let event = Event::new("test", &Counted { n });
        bus.publish(&event).await.unwrap();
        events.push(event);
    }
    events
}

fn numbers(bus_events: &[event_bus::Delivery]) -> Vec<u32> {
    bus_events
        .iter()
        .map(|d| d.event().unwrap().decode::<Counted>().unwrap().n)
        .collect()
}

const NO_WAIT: Duration = Duration::ZERO;
const NEVER: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn a_group_reads_every_event_in_order_once_acknowledged() {
    for (name, bus) in every_bus().await {
        bus.subscribe(Counted::TOPIC, "g").await.unwrap();
        bus.subscribe(Counted::TOPIC, "g").await.unwrap(); // twice is fine
        publish(&*bus, 0..5).await;
        let first = bus
            .fetch(Counted::TOPIC, "g", "c1", 3, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(numbers(&first), vec![0, 1, 2], "{name}");
        assert!(first.iter().all(|d| d.attempt == 1), "{name}");
        let rest = bus
            .fetch(Counted::TOPIC, "g", "c1", 10, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(numbers(&rest), vec![3, 4], "{name}");
        assert_eq!(bus.backlog(Counted::TOPIC, "g").await.unwrap(), 5, "{name}");
        for delivery in first.iter().chain(&rest) {
            bus.ack(Counted::TOPIC, "g", &delivery.entry).await.unwrap();
        }
        assert_eq!(bus.backlog(Counted::TOPIC, "g").await.unwrap(), 0, "{name}");
        let none = bus
            .fetch(
                Counted::TOPIC,
                "g",
                "c1",
                10,
                NEVER,
                Duration::from_millis(20),
            )
            .await
            .unwrap();
        assert!(none.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn each_group_gets_every_event_and_members_of_a_group_share_them() {
    for (name, bus) in every_bus().await {
        for group in ["orders", "mail"] {
            bus.subscribe(Counted::TOPIC, group).await.unwrap();
        }
        publish(&*bus, 0..6).await;
        let mail = bus
            .fetch(Counted::TOPIC, "mail", "m1", 10, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(numbers(&mail), (0..6).collect::<Vec<_>>(), "{name}");
        let a = bus
            .fetch(Counted::TOPIC, "orders", "a", 4, NEVER, NO_WAIT)
            .await
            .unwrap();
        let b = bus
            .fetch(Counted::TOPIC, "orders", "b", 4, NEVER, NO_WAIT)
            .await
            .unwrap();
        let mut seen: Vec<u32> = numbers(&a).into_iter().chain(numbers(&b)).collect();
        seen.sort();
        assert_eq!(seen, (0..6).collect::<Vec<_>>(), "{name}");
    }
}

#[tokio::test]
async fn a_group_created_after_publishing_reads_from_the_start() {
    for (name, bus) in every_bus().await {
        publish(&*bus, 0..2).await;
        bus.subscribe(Counted::TOPIC, "late").await.unwrap();
        let got = bus
            .fetch(Counted::TOPIC, "late", "c", 10, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(numbers(&got), vec![0, 1], "{name}");
    }
}

#[tokio::test]
async fn unacknowledged_entries_come_back_once_their_backoff_passed_with_a_count() {
    for (name, bus) in every_bus().await {
        bus.subscribe(Counted::TOPIC, "g").await.unwrap();
        publish(&*bus, 0..1).await;
        let taken = bus
            .fetch(Counted::TOPIC, "g", "crashed", 10, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1, "{name}");
        // Within the backoff nobody gets it again.
        let early = bus
            .fetch(Counted::TOPIC, "g", "other", 10, NEVER, NO_WAIT)
            .await
            .unwrap();
        assert!(early.is_empty(), "{name}");
        // With no backoff it is due at once, for another member, as a second attempt.
        let retried = bus
            .fetch(Counted::TOPIC, "g", "other", 10, Duration::ZERO, NO_WAIT)
            .await
            .unwrap();
        assert_eq!(retried.len(), 1, "{name}");
        assert_eq!(retried[0].entry, taken[0].entry, "{name}");
        assert_eq!(retried[0].attempt, 2, "{name}");
        bus.ack(Counted::TOPIC, "g", &retried[0].entry)
            .await
            .unwrap();
        let after = bus
            .fetch(Counted::TOPIC, "g", "other", 10, Duration::ZERO, NO_WAIT)
            .await
            .unwrap();
        assert!(after.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn a_waiting_fetch_returns_when_an_event_is_published() {
    for (name, bus) in every_bus().await {
        bus.subscribe(Counted::TOPIC, "g").await.unwrap();
        let waiting = {
            let bus = bus.clone();
            tokio::spawn(async move {
                bus.fetch(Counted::TOPIC, "g", "c", 10, NEVER, Duration::from_secs(30))
                    .await
                    .unwrap()
            })
        };
        publish(&*bus, 7..8).await;
        let got = waiting.await.unwrap();
        assert_eq!(numbers(&got), vec![7], "{name}");
    }
}

/// Records each event's number in a table, exactly once per event id; fails on `poison` and,
/// once `crashed` is set, on everything (a consumer that died after committing).
struct Recorder {
    database: Database,
    poison: Option<u32>,
    crash_after: Option<usize>,
    handled: AtomicUsize,
    crashed: AtomicBool,
}

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        if self.crashed.load(Ordering::SeqCst) {
            return Err(HandlerError::Retry("the consumer is down".into()));
        }
        let counted: Counted = event.decode()?;
        if Some(counted.n) == self.poison {
            return Err(HandlerError::Retry("cannot handle this one".into()));
        }
        if let Some(mut tx) = processed::begin_once(&self.database, "recorder", &event.id)
            .await
            .map_err(HandlerError::retry)?
        {
            sqlx::query("INSERT INTO received (n) VALUES ($1)")
                .bind(counted.n as i64)
                .execute(&mut *tx)
                .await
                .map_err(HandlerError::retry)?;
            tx.commit().await.map_err(HandlerError::retry)?;
        }
        let handled = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(handled) == self.crash_after {
            // Committed, but the acknowledgement never goes out.
            self.crashed.store(true, Ordering::SeqCst);
            return Err(HandlerError::Retry("crashed after committing".into()));
        }
        Ok(())
    }
}

async fn received(database: &Database) -> Vec<u32> {
    let mut got: Vec<u32> = sqlx::query("SELECT n FROM received ORDER BY n")
        .fetch_all(database.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<i64, _>("n").unwrap() as u32)
        .collect();
    got.sort();
    got
}

async fn recorder_database(bus: &str) -> Database {
    let database = match bus {
        "redis" => storage::db::testing::postgres(&storage::migrations::Migrations::NONE).await,
        _ => storage::db::testing::sqlite(&storage::migrations::Migrations::NONE).await,
    };
    sqlx::query("CREATE TABLE received (n BIGINT NOT NULL)")
        .execute(database.pool())
        .await
        .unwrap();
    database
}

fn settings() -> ConsumerSettings {
    ConsumerSettings {
        batch: 16,
        retry_base: Duration::ZERO,
        max_attempts: 3,
        wait: Duration::from_millis(20),
    }
}

/// Runs `consumer` until its group has nothing left.
async fn drain(consumer: &Consumer, bus: &dyn EventBus, group: &str) {
    consumer.subscribe().await.unwrap();
    while bus.backlog(Counted::TOPIC, group).await.unwrap() > 0 {
        consumer.run_once().await.unwrap();
    }
}

#[tokio::test]
async fn a_consumer_restarted_mid_stream_handles_every_event_exactly_once_in_effect() {
    for (name, bus) in every_bus().await {
        let database = recorder_database(name).await;
        publish(&*bus, 0..100).await;
        let crashing = Arc::new(Recorder {
            database: database.clone(),
            poison: None,
            crash_after: Some(50),
            handled: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        });
        let first = Consumer::new(
            bus.clone(),
            Counted::TOPIC,
            "g",
            crashing.clone(),
            settings(),
        );
        first.subscribe().await.unwrap();
        while !crashing.crashed.load(Ordering::SeqCst) {
            first.run_once().await.unwrap();
        }
        // The 50th was committed without an acknowledgement; more were taken and not handled.
        assert_eq!(received(&database).await.len(), 50, "{name}");
        drop(first);

        let restarted = Arc::new(Recorder {
            database: database.clone(),
            poison: None,
            crash_after: None,
            handled: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        });
        let second = Consumer::new(bus.clone(), Counted::TOPIC, "g", restarted, settings());
        drain(&second, &*bus, "g").await;
        assert_eq!(
            received(&database).await,
            (0..100).collect::<Vec<_>>(),
            "{name}"
        );
        assert!(bus
            .dead_letters(Counted::TOPIC, "g")
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn a_poison_event_lands_in_the_dead_letter_stream_without_blocking_the_rest() {
    for (name, bus) in every_bus().await {
        let database = recorder_database(name).await;
        let events = publish(&*bus, 0..20).await;
        let handler = Arc::new(Recorder {
            database: database.clone(),
            poison: Some(7),
            crash_after: None,
            handled: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        });
        let consumer = Consumer::new(bus.clone(), Counted::TOPIC, "g", handler, settings());
        let counters = consumer.counters();
        drain(&consumer, &*bus, "g").await;

        let expected: Vec<u32> = (0..20).filter(|n| *n != 7).collect();
        assert_eq!(received(&database).await, expected, "{name}");
        let dead = bus.dead_letters(Counted::TOPIC, "g").await.unwrap();
        assert_eq!(dead.len(), 1, "{name}");
        let dead_event: Event = serde_json::from_str(&dead[0].raw).unwrap();
        assert_eq!(dead_event.id, events[7].id, "{name}");
        assert_eq!(dead[0].attempts, 3, "{name}");
        assert!(dead[0].reason.contains("cannot handle"), "{name}");
        assert_eq!(counters.handled.load(Ordering::SeqCst), 19);
        assert_eq!(counters.retried.load(Ordering::SeqCst), 2);
        assert_eq!(counters.dead_lettered.load(Ordering::SeqCst), 1);
        assert!(telemetry::metrics::handle()
            .render()
            .contains("events_dead_lettered_total{topic=\"test.counted\",group=\"g\"}"));
    }
}

#[tokio::test]
async fn a_malformed_entry_is_dead_lettered_at_once() {
    for (name, bus) in every_bus().await {
        let database = recorder_database(name).await;
        let mut wrong = Event::new("test", &Counted { n: 1 });
        wrong.payload = serde_json::json!({ "n": "one" });
        bus.publish(&wrong).await.unwrap();
        publish(&*bus, 2..3).await;
        let handler = Arc::new(Recorder {
            database: database.clone(),
            poison: None,
            crash_after: None,
            handled: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        });
        let consumer = Consumer::new(bus.clone(), Counted::TOPIC, "g", handler, settings());
        drain(&consumer, &*bus, "g").await;
        assert_eq!(received(&database).await, vec![2], "{name}");
        let dead = bus.dead_letters(Counted::TOPIC, "g").await.unwrap();
        assert_eq!(dead.len(), 1, "{name}");
        assert_eq!(dead[0].attempts, 1, "{name}");
        let ids: HashSet<String> = dead
            .iter()
            .map(|d| serde_json::from_str::<Event>(&d.raw).unwrap().id)
            .collect();
        assert!(ids.contains(&wrong.id), "{name}");
    }
}
