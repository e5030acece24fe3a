//! What the shop's benchmarks share: settings from the environment, percentiles, GraphQL posts.

use std::time::Duration;

use serde_json::{json, Value};

/// A numeric setting from the environment, or `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`-th percentile of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Posts an operation (with a bearer token if given) and returns its data; errors panic.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// The shop as production runs it: every subgraph's database in PostgreSQL (a fresh schema
/// each), the event bus and carts in Redis, `demo_products` demo products.
#[allow(dead_code)] // the carts bench starts its own
pub async fn shop_on_postgres(demo_products: usize) -> (shop::Shop, std::path::PathBuf) {
    let data_dir = std::env::temp_dir().join(primitives::id::new_id("bench-shop"));
    let mut options = shop::ShopOptions::new(&data_dir);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = demo_products;
    // The demo admin holds its permissions without a second factor here.
    options.set("ACCOUNTS_STAFF_MFA", "optional");
    for subgraph in shop::subgraphs() {
        options.set(
            &format!("{}_DATABASE_URL", subgraph.name().to_uppercase()),
            storage::db::testing::postgres_url().await,
        );
    }
    let namespace = primitives::id::new_id("bench");
    options.set("CATALOG_SEARCH_DIR", ":memory:");
    options.set("EVENTS_URL", "redis://127.0.0.1:6379");
    options.set("EVENTS_NAMESPACE", namespace.clone());
    options.set("CARTS_REDIS_URL", "redis://127.0.0.1:6379");
    options.set("CARTS_REDIS_NAMESPACE", namespace);
    // `BENCH_SETTINGS="SHIPPING_AUTO_FULFIL=false,..."`: settings to compare runs with.
    for setting in std::env::var("BENCH_SETTINGS")
        .unwrap_or_default()
        .split(',')
    {
        if let Some((name, value)) = setting.split_once('=') {
            options.set(name.trim(), value.trim());
        }
    }
    let shop = shop::Shop::start(&options).await.expect("the shop starts");
    (shop, data_dir)
}
