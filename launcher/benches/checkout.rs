//! Checkout through the router on PostgreSQL + Redis (carts and the event bus in Redis, every
//! subgraph's database in PostgreSQL): each worker is a customer who puts one product in the
//! cart and checks out with `tok_visa`, again and again. Only the checkout is timed (from the
//! request to the paid order, the provider's webhook included). Prints checkouts per second and
//! p50/p99.
//!
//! `cargo bench -p shop --bench checkout` (BENCH_SECONDS, default 10; BENCH_CONCURRENCY, default
//! 16; PostgreSQL and Redis on their usual local ports).

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
    let data_dir = std::env::temp_dir().join(kit::id::new_id("bench-shop"));
    let mut options = ShopOptions::new(&data_dir);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 50;
    for name in [
        "ACCOUNTS",
        "CATALOG",
        "INVENTORY",
        "CARTS",
        "ORDERS",
        "PAYMENTS",
    ] {
        options.set(
            &format!("{name}_DATABASE_URL"),
            kit::db::testing::postgres_url().await,
        );
    }
    let namespace = kit::id::new_id("bench");
    options.set("CATALOG_SEARCH_DIR", ":memory:");
    options.set("EVENTS_URL", "redis://127.0.0.1:6379");
    options.set("EVENTS_NAMESPACE", namespace.clone());
    options.set("CARTS_REDIS_URL", "redis://127.0.0.1:6379");
    options.set("CARTS_REDIS_NAMESPACE", namespace);
    let shop = Shop::start(&options).await.expect("the shop starts");
    let url = shop.router_url();
    let http = reqwest::Client::new();

    // Plenty of stock for 20 products.
    let login = post(
        &http,
        &url,
        None,
        "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
        json!({ "e": shop::DEMO_ADMIN.0, "p": shop::DEMO_ADMIN.1 }),
    )
    .await;
    let admin = login["login"]["accessToken"].as_str().unwrap().to_string();
    let warehouses = post(
        &http,
        &url,
        Some(&admin),
        "{ warehouses { id } }",
        json!({}),
    )
    .await;
    let warehouse = warehouses["warehouses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
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
    for product in &products {
        post(
            &http,
            &url,
            Some(&admin),
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
            json!({ "input": { "productId": product, "warehouseId": warehouse, "kind": "RESTOCK",
                "quantity": 100000, "reason": "bench", "idempotencyKey": kit::id::new_id("key") } }),
        )
        .await;
    }

    // One customer per worker, created in accounts directly (no password hashing).
    let tokens = shop.new_customers(concurrency).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(w, token)| {
            let (http, url, products) = (http.clone(), url.clone(), products.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut i = w;
                while Instant::now() < deadline {
                    let product = &products[i % products.len()];
                    let added = post(
                        &http,
                        &url,
                        Some(&token),
                        "mutation($p: ID!) { addCartLine(input: { productId: $p, quantity: 1 }) { cart { id } } }",
                        json!({ "p": product }),
                    )
                    .await;
                    let cart = added["addCartLine"]["cart"]["id"].clone();
                    let begun = Instant::now();
                    let placed = post(
                        &http,
                        &url,
                        Some(&token),
                        "mutation($input: CheckoutInput!) { checkout(input: $input) {
                            order { status } userErrors { code message } } }",
                        json!({ "input": { "cartId": cart, "paymentToken": "tok_visa",
                            "idempotencyKey": kit::id::new_id("bench"),
                            "shippingAddress": { "fullName": "Bench", "line1": "1 Main St",
                                "city": "London", "postalCode": "N1 9GU", "countryCode": "GB" } } }),
                    )
                    .await;
                    times.push(begun.elapsed());
                    assert_eq!(placed["checkout"]["order"]["status"], "PAID", "{placed}");
                    i += 1;
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
        "checkout through the router (PostgreSQL + Redis), {concurrency} concurrent customers, \
         {seconds} s: {} checkouts, {:.1}/s, p50 {:.1} ms, p99 {:.1} ms",
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
