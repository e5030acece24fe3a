//! Cart add + read through the router, carts in Redis: each worker fills its own guest cart
//! (`addCartLine`, then `guestCart` with lines, products and the subtotal), clearing it before a
//! line would pass 99 units. Prints p50/p99 per operation.
//!
//! `cargo bench -p shop --bench carts` (BENCH_SECONDS, default 10; BENCH_CONCURRENCY, default 16;
//! Redis at 127.0.0.1:6379, subgraph databases in SQLite files in a temp directory).

// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use std::time::{Duration, Instant};

use common::{env, percentile, post};

use serde_json::json;
use shop::{Shop, ShopOptions};

#[tokio::main]
async fn main() {
    let seconds = env("BENCH_SECONDS", 10) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 16);
    let data_dir = std::env::temp_dir().join(primitives::id::new_id("bench-shop"));
    let mut options = ShopOptions::new(&data_dir);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 50;
    options.set("CATALOG_SEARCH_DIR", ":memory:");
    options.set("CARTS_REDIS_URL", "redis://127.0.0.1:6379");
    options.set("CARTS_REDIS_NAMESPACE", primitives::id::new_id("bench"));
    let shop = Shop::start(&options).await.expect("the shop starts");
    let url = shop.router_url();
    let http = reqwest::Client::new();
    let page = post(
        &http,
        &url,
        None,
        "{ products(first: 20) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let products: Vec<String> = page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (http, url, products) = (http.clone(), url.clone(), products.clone());
            tokio::spawn(async move {
                let created = post(&http, &url, None, "mutation { createGuestCart { cartToken } }", json!({})).await;
                let token = created["createGuestCart"]["cartToken"].as_str().unwrap().to_string();
                let (mut adds, mut reads) = (Vec::new(), Vec::new());
                let mut i = w;
                while Instant::now() < deadline {
                    if i % (products.len() * 90) == 0 {
                        post(&http, &url, None, "mutation($t: String) { clearCart(input: { cartToken: $t }) { userErrors { code } } }", json!({ "t": token })).await;
                    }
                    let product = &products[i % products.len()];
                    let begun = Instant::now();
                    let added = post(&http, &url, None, "mutation($t: String, $p: ID!) { addCartLine(input: { cartToken: $t, productId: $p, quantity: 1 }) { userErrors { code } } }",
                        json!({ "t": token, "p": product }),
                    )
                    .await;
                    adds.push(begun.elapsed());
                    assert_eq!(added["addCartLine"]["userErrors"], json!([]), "{added}");
                    let begun = Instant::now();
                    post(&http, &url, None, "query($t: String!) { guestCart(cartToken: $t) { itemCount subtotal { amount }
                            lines { quantity lineTotal { amount } product { id name } } } }",
                        json!({ "t": token }),
                    )
                    .await;
                    reads.push(begun.elapsed());
                    i += 1;
                }
                (adds, reads)
            })
        })
        .collect();
    let (mut adds, mut reads) = (Vec::new(), Vec::new());
    for worker in workers {
        let (a, r) = worker.await.unwrap();
        adds.extend(a);
        reads.extend(r);
    }
    adds.sort();
    reads.sort();
    println!(
        "cart through the router (Redis), {concurrency} concurrent guests, {seconds} s: \
         add {} ops, p50 {:.1} ms, p99 {:.1} ms; read {} ops, p50 {:.1} ms, p99 {:.1} ms",
        adds.len(),
        percentile(&adds, 0.5),
        percentile(&adds, 0.99),
        reads.len(),
        percentile(&reads, 0.5),
        percentile(&reads, 0.99),
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
