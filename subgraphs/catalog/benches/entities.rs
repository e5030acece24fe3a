//! `_entities` throughput of the catalog subgraph for 100 Product keys per call, over HTTP.
//!
//! `cargo bench -p catalog --bench entities` (BENCH_DATABASE_URL, default a SQLite file, or
//! `postgres` for a fresh schema in the test PostgreSQL database;
//! BENCH_PRODUCTS, default 10000; BENCH_SECONDS, default 5; BENCH_CONCURRENCY, default 8).

// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::Catalog;
use serde_json::{json, Value};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let products = env("BENCH_PRODUCTS", 10_000);
    let seconds = env("BENCH_SECONDS", 5) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 8);
    let url = match std::env::var("BENCH_DATABASE_URL").as_deref() {
        Err(_) => storage::db::testing::sqlite_url(),
        Ok("postgres") => storage::db::testing::postgres_url().await,
        Ok(url) => url.to_string(),
    };
    let app = kit::testing::spawn_app_with::<Catalog>(|env| {
        env.set("CATALOG_DATABASE_URL", url.clone())
            .set("CATALOG_SEARCH_DIR", ":memory:")
    })
    .await;
    catalog::load_demo_data(&app.subgraph.service, products)
        .await
        .expect("demo data");
    let endpoint = app.url();

    let client = reqwest::Client::new();
    let page: Value = client
        .post(&endpoint)
        .json(&json!({ "query": "{ products(first: 100) { edges { node { id } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let representations: Vec<Value> = page["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({ "__typename": "Product", "id": e["node"]["id"] }))
        .collect();
    assert_eq!(representations.len(), 100);
    let body = Arc::new(json!({
        "query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id sku name price { amount currencyCode } brand { name } category { name } } } }",
        "variables": { "r": representations }
    }));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, endpoint, body) = (client.clone(), endpoint.clone(), body.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response: Value = client
                        .post(&endpoint)
                        .json(&*body)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(
                        response["data"]["_entities"].as_array().map(Vec::len),
                        Some(100),
                        "{response}"
                    );
                    times.push(started.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await.unwrap());
    }
    times.sort();
    let calls = times.len() as f64 / seconds as f64;
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "_entities, 100 Product keys per call, {products} products, {concurrency} clients, {}: {calls:.0} calls/s ({:.0} entities/s), p50 {:.2?}, p99 {:.2?}",
        if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" },
        calls * 100.0,
        p(0.5),
        p(0.99)
    );
}
