//! Reservations per second under contention on PostgreSQL: every worker reserves one unit of the
//! same product (stocked in two warehouses), so each reservation waits for the row locks of the
//! one before it.
//!
//! `cargo bench -p inventory --bench reservations` (BENCH_SECONDS, default 5;
//! BENCH_CONCURRENCY, default 32; TEST_DATABASE_URL as for the tests).

use std::sync::Arc;
use std::time::{Duration, Instant};

use inventory::domain::AdjustmentKind;
use inventory::store::{AdjustmentRequest, InventoryStore, ReserveOutcome, Warehouse};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let seconds = env("BENCH_SECONDS", 5) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let url = storage::db::testing::postgres_url().await;
    let database = storage::db::Database::connect(&url, 16, &inventory::MIGRATIONS)
        .await
        .expect("PostgreSQL");
    let store = Arc::new(InventoryStore::new(database, 5));
    let product = primitives::id::new_id("prod");
    for code in ["A", "B"] {
        let warehouse = Warehouse {
            id: primitives::id::new_id("wh"),
            code: code.into(),
            name: code.into(),
            active: true,
            created_at: 0,
        };
        store.create_warehouse(&warehouse).await.unwrap();
        store
            .adjust(&AdjustmentRequest {
                variant_id: commerce::variant::default_variant_id(&product),
                product_id: product.clone(),
                warehouse_id: warehouse.id,
                kind: AdjustmentKind::Restock,
                delta: 10_000_000,
                reason: "bench".into(),
                staff: kit::audit::Auditor::staff("bench"),
                idempotency_key: primitives::id::new_id("key"),
            })
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (store, product) = (store.clone(), product.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let expires = primitives::time::now_millis() + 3_600_000;
                while Instant::now() < deadline {
                    let reference = primitives::id::new_id("ord");
                    let begun = Instant::now();
                    let outcome = store
                        .reserve(
                            &reference,
                            &[(commerce::variant::default_variant_id(&product), 1)],
                            expires,
                        )
                        .await
                        .unwrap();
                    assert!(matches!(outcome, ReserveOutcome::Reserved(_)));
                    times.push(begun.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    println!(
        "reservations of one variant on PostgreSQL, {concurrency} concurrent: {} in {elapsed:.1} s = {:.0}/s; \
         latency p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.50).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
    );
    let levels = store.levels_of_products(&[product]).await.unwrap();
    let reserved: i64 = levels.iter().map(|l| l.reserved).sum();
    assert_eq!(
        reserved as usize,
        times.len(),
        "every reservation held exactly one unit"
    );
}
