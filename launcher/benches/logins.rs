//! Logins must not starve queries: argon2 runs on a bounded blocking pool
//! (`ACCOUNTS_HASHING_THREADS`), not on the threads that serve requests. Measures the product
//! page's query through the router (catalog and inventory) alone, then again while
//! `BENCH_LOGINS` clients sign in as fast as they can; prints p50/p99 of both, their ratio, and
//! the logins per second.
//!
//! `cargo bench -p shop --bench logins` (BENCH_SECONDS per phase, default 10;
//! BENCH_CONCURRENCY query clients, default 4; BENCH_LOGINS login clients, default 20;
//! `BENCH_SETTINGS="ACCOUNTS_HASHING_THREADS=2"` to compare pool sizes).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{env, percentile, post, shop_on_postgres};
use serde_json::json;

const PRODUCT: &str = "query($slug: String!) { product(slug: $slug) {
    name price { amount } availability { inStock availableQuantity } } }";
const LOGIN: &str = "mutation { login(input: { email: \"customer@example.com\",
    password: \"meadow-copper-82\" }) { accessToken userErrors { code } } }";

/// Product queries for `seconds` from `concurrency` clients: their latencies, sorted.
async fn query_latencies(
    http: &reqwest::Client,
    url: &str,
    slug: &str,
    seconds: u64,
    concurrency: usize,
) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let clients = (0..concurrency).map(|_| async move {
        let mut latencies = Vec::new();
        while Instant::now() < deadline {
            let started = Instant::now();
            post(http, url, None, PRODUCT, json!({ "slug": slug })).await;
            latencies.push(started.elapsed());
        }
        latencies
    });
    let mut all: Vec<Duration> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    all.sort();
    all
}

#[tokio::main]
async fn main() {
    let seconds = env("BENCH_SECONDS", 10) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 4);
    let login_clients = env("BENCH_LOGINS", 20);
    let (shop, data_dir) = shop_on_postgres(20).await;
    let url = shop.router_url();
    let http = reqwest::Client::new();
    let page = post(
        &http,
        &url,
        None,
        "{ products(first: 1) { edges { node { slug } } } }",
        json!({}),
    )
    .await;
    let slug = page["products"]["edges"][0]["node"]["slug"]
        .as_str()
        .unwrap()
        .to_string();
    // Warm up connections and caches.
    query_latencies(&http, &url, &slug, 1, concurrency).await;

    let alone = query_latencies(&http, &url, &slug, seconds, concurrency).await;

    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicUsize::new(0));
    let storm: Vec<_> = (0..login_clients)
        .map(|_| {
            let (http, url, stop, logins) =
                (http.clone(), url.clone(), stop.clone(), logins.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let data = post(&http, &url, None, LOGIN, json!({})).await;
                    assert!(data["login"]["accessToken"].is_string(), "{data}");
                    logins.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let during = query_latencies(&http, &url, &slug, seconds, concurrency).await;
    stop.store(true, Ordering::Relaxed);
    for client in storm {
        client.await.unwrap();
    }

    let (p50, p99) = (percentile(&alone, 0.5), percentile(&alone, 0.99));
    let (p50_storm, p99_storm) = (percentile(&during, 0.5), percentile(&during, 0.99));
    println!(
        "product query alone:          {:>6} requests, p50 {p50:.2} ms, p99 {p99:.2} ms",
        alone.len()
    );
    println!(
        "product query during logins:  {:>6} requests, p50 {p50_storm:.2} ms, p99 {p99_storm:.2} ms",
        during.len()
    );
    println!(
        "logins: {:.1}/s from {login_clients} clients; p99 during / alone: {:.2}x",
        logins.load(Ordering::Relaxed) as f64 / seconds as f64,
        p99_storm / p99
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
