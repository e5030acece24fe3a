//! Search latency of the embedded engine on a generated catalog.
//!
//! `cargo bench -p catalog --bench search` (BENCH_PRODUCTS, default 100000; BENCH_ROUNDS, default
//! 200 per query). Prints p50/p99 per query shape and over all queries, then per shape again
//! with the index changed before each search (nothing of an earlier search reused).

// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use catalog::search::tantivy_engine::TantivyEngine;
use catalog::search::{SearchEngine, SearchRequest, SearchSort};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let products = env("BENCH_PRODUCTS", 100_000);
    let rounds = env("BENCH_ROUNDS", 200);
    let demo = catalog::demo::generate(products, 42);
    let documents = catalog::demo::search_documents(&demo);
    let dir = std::env::temp_dir().join(primitives::id::new_id("search-bench"));
    let engine = TantivyEngine::open(&dir).expect("index directory");
    let started = Instant::now();
    let indexed = documents.len();
    for chunk in documents.chunks(20_000) {
        engine.apply(chunk.to_vec(), Vec::new()).await.unwrap();
    }
    println!(
        "indexed {indexed} active products of {products} in {:.1?}",
        started.elapsed()
    );

    let category = demo
        .categories
        .iter()
        .find(|c| c.parent_id.is_none())
        .unwrap()
        .id
        .clone();
    let brand = demo.brands[3].id.clone();
    let shapes: Vec<(&str, SearchRequest)> = vec![
        (
            "one word",
            SearchRequest {
                query: "boots".into(),
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "two words",
            SearchRequest {
                query: "leather boots".into(),
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "typos",
            SearchRequest {
                query: "wirless headphnes".into(),
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "prefix",
            SearchRequest {
                query: "head".into(),
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "brand word",
            SearchRequest {
                query: "kestrel".into(),
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "filtered + price sort",
            SearchRequest {
                query: "classic".into(),
                category_id: Some(category),
                brand_ids: vec![brand],
                min_price_minor: Some(1_000),
                max_price_minor: Some(50_000),
                sort: SearchSort::PriceAscending,
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "attribute facets: Color + Size",
            SearchRequest {
                query: "classic".into(),
                attribute_values: vec!["Color:Black".into(), "Color:Navy".into(), "Size:M".into()],
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "browse by attribute, newest",
            SearchRequest {
                attribute_values: vec!["Color:Olive".into()],
                sort: SearchSort::Newest,
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "browse all, newest, page 5",
            SearchRequest {
                sort: SearchSort::Newest,
                limit: 20,
                offset: 80,
                ..Default::default()
            },
        ),
    ];
    // Warm the caches once.
    for (_, request) in &shapes {
        engine.search(request.clone()).await.unwrap();
    }
    let mut all = Vec::new();
    println!("{:<28} {:>8} {:>10} {:>10}", "query", "hits", "p50", "p99");
    for (name, request) in &shapes {
        let mut times = Vec::with_capacity(rounds);
        let mut total = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let results = engine.search(request.clone()).await.unwrap();
            times.push(started.elapsed());
            total = results.total;
        }
        times.sort();
        println!(
            "{name:<28} {total:>8} {:>10.2?} {:>10.2?}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "{:<28} {:>8} {:>10.2?} {:>10.2?}",
        "all queries",
        "",
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );

    // The first search after the index changed counts every facet afresh (later ones reuse
    // the counts until the next change): each round here changes the index first (untimed).
    println!("after every index change:");
    let changed = documents[0].clone();
    for (name, request) in &shapes {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            engine
                .apply(vec![changed.clone()], Vec::new())
                .await
                .unwrap();
            let started = Instant::now();
            engine.search(request.clone()).await.unwrap();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{name:<28} {:>8} {:>10.2?} {:>10.2?}",
            "",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
