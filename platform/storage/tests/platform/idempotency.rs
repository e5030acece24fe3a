//! Idempotent commands on both databases: one run per key however many repeats arrive at once,
//! the stored result for later repeats, a reused key refused, a failed run leaving the key free,
//! and a dead runner's key taken over after its lease.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use storage::db::testing::every_backend;
use storage::idempotency::{once, IdempotencyError, Limits};
use storage::migrations::Migrations;
use tokio::sync::watch;

#[derive(Debug, PartialEq)]
struct Declined;

const LIMITS: Limits = Limits {
    lease: Duration::from_secs(60),
    wait: Duration::from_secs(30),
};

#[tokio::test]
async fn twenty_repeats_at_once_run_the_command_once_and_share_its_result() {
    for db in every_backend(&Migrations::NONE).await {
        let backend = db.backend();
        let runs = Arc::new(AtomicUsize::new(0));
        let (open, gate) = watch::channel(false);
        let repeats: Vec<_> = (0..20)
            .map(|_| {
                let (db, runs, mut gate) = (db.clone(), runs.clone(), gate.clone());
                tokio::spawn(async move {
                    once(
                        &db,
                        "usr_1",
                        "checkout-1",
                        &("cart_1", 3),
                        LIMITS,
                        || async {
                            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                            // The first run waits, so the other repeats find it running.
                            let _ = gate.wait_for(|open| *open).await;
                            Ok::<_, Declined>(format!("order {n}"))
                        },
                    )
                    .await
                    .unwrap()
                })
            })
            .collect();
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        open.send(true).unwrap();
        for repeat in repeats {
            assert_eq!(repeat.await.unwrap(), "order 1", "{backend:?}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{backend:?}");

        // Later repeats get the stored result without running.
        let again: String = once(
            &db,
            "usr_1",
            "checkout-1",
            &("cart_1", 3),
            LIMITS,
            || async { Err::<String, _>(Declined) },
        )
        .await
        .unwrap();
        assert_eq!(again, "order 1");
        // The same key in another scope is another request.
        let other: String = once(
            &db,
            "usr_2",
            "checkout-1",
            &("cart_1", 3),
            LIMITS,
            || async { Ok::<_, Declined>("order for usr_2".to_string()) },
        )
        .await
        .unwrap();
        assert_eq!(other, "order for usr_2");
    }
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused_and_a_failed_run_frees_it() {
    for db in every_backend(&Migrations::NONE).await {
        let first: String = once(&db, "usr_1", "k", &"cart A", LIMITS, || async {
            Ok::<_, Declined>("A".to_string())
        })
        .await
        .unwrap();
        assert_eq!(first, "A");
        let reused = once(&db, "usr_1", "k", &"cart B", LIMITS, || async {
            Ok::<_, Declined>("B".to_string())
        })
        .await;
        assert!(matches!(reused, Err(IdempotencyError::KeyReused)));

        let failed = once(&db, "usr_1", "retry-me", &"cart C", LIMITS, || async {
            Err::<String, _>(Declined)
        })
        .await;
        assert!(matches!(failed, Err(IdempotencyError::Command(Declined))));
        let retried: String = once(&db, "usr_1", "retry-me", &"cart C", LIMITS, || async {
            Ok::<_, Declined>("C".to_string())
        })
        .await
        .unwrap();
        assert_eq!(retried, "C");
    }
}

#[tokio::test]
async fn a_dead_runners_key_is_taken_over_after_its_lease() {
    for db in every_backend(&Migrations::NONE).await {
        let hash = storage::idempotency::request_hash(&"cart D");
        // A run that started an hour ago and never finished (its process died).
        sqlx::query(
            "INSERT INTO idempotency_keys \
             (scope, idempotency_key, request_hash, runner, response, created_at, updated_at) \
             VALUES ('usr_1', 'orphan', $1, 'run_dead', NULL, $2, $2)",
        )
        .bind(&hash)
        .bind(primitives::time::now_millis() - 3_600_000)
        .execute(db.pool())
        .await
        .unwrap();
        let resumed: String = once(&db, "usr_1", "orphan", &"cart D", LIMITS, || async {
            Ok::<_, Declined>("D".to_string())
        })
        .await
        .unwrap();
        assert_eq!(resumed, "D");
        // A live run (inside its lease) is waited for, not taken over.
        sqlx::query(
            "INSERT INTO idempotency_keys \
             (scope, idempotency_key, request_hash, runner, response, created_at, updated_at) \
             VALUES ('usr_1', 'busy', $1, 'run_live', NULL, $2, $2)",
        )
        .bind(&hash)
        .bind(primitives::time::now_millis())
        .execute(db.pool())
        .await
        .unwrap();
        let short = Limits {
            lease: Duration::from_secs(60),
            wait: Duration::ZERO,
        };
        let waited = once(&db, "usr_1", "busy", &"cart D", short, || async {
            Ok::<_, Declined>("never".to_string())
        })
        .await;
        assert!(matches!(waited, Err(IdempotencyError::StillRunning)));
    }
}
