//! Checkout through the router on PostgreSQL + Redis (carts and the event bus in Redis, every
//! subgraph's database in PostgreSQL): each worker is a customer who puts one product in the
//! cart and checks out with `tok_visa`, again and again. Only the checkout is timed (from the
//! request to the paid order, the provider's webhook included). Prints checkouts per second and
//! p50/p99.
//!
//! With `BENCH_PRICING=1` the shop charges tax (GB VAT 20%, prices with tax) and every order
//! gets two promotions: an automatic 5% off the order, and a code for 10% off it with a usage
//! limit, which each customer applies to their cart before each checkout (a paid order takes
//! its codes off the cart).
//!
//! `cargo bench -p shop --bench checkout` (BENCH_SECONDS, default 10; BENCH_CONCURRENCY, default
//! 16; BENCH_PRICING; PostgreSQL and Redis on their usual local ports).

// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use std::time::{Duration, Instant};

use common::{env, percentile, post, shop_on_postgres};

use serde_json::json;

#[tokio::main]
async fn main() {
    let seconds = env("BENCH_SECONDS", 10) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 16);
    let (shop, data_dir) = shop_on_postgres(50).await;
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
                "quantity": 100000, "reason": "bench", "idempotencyKey": primitives::id::new_id("key") } }),
        )
        .await;
    }

    let pricing = env("BENCH_PRICING", 0) == 1;
    if pricing {
        for (query, input) in [
            (
                "mutation($input: UpdateTaxSettingsInput!) { updateTaxSettings(input: $input) { userErrors { code } } }",
                json!({ "pricesIncludeTax": true, "rounding": "PER_LINE", "shippingTaxClass": "STANDARD" }),
            ),
            (
                "mutation($input: SetTaxRateInput!) { setTaxRate(input: $input) { userErrors { code } } }",
                json!({ "countryCode": "GB", "taxClass": "STANDARD", "rate": "20", "name": "GB VAT 20%" }),
            ),
            (
                "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { userErrors { code } } }",
                json!({ "name": "Five off", "kind": "PERCENT_OFF", "percent": "5", "currencyCode": "USD" }),
            ),
            (
                "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { userErrors { code } } }",
                json!({ "name": "Bench code", "code": "BENCH10", "kind": "PERCENT_OFF", "percent": "10",
                    "usageLimit": 1_000_000, "currencyCode": "USD" }),
            ),
        ] {
            let answer = post(&http, &url, Some(&admin), query, json!({ "input": input })).await;
            let payload = answer.as_object().unwrap().values().next().unwrap();
            assert_eq!(payload["userErrors"], json!([]), "{answer}");
        }
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
                    if pricing {
                        let applied = post(
                            &http,
                            &url,
                            Some(&token),
                            "mutation($c: ID!) { applyPromotionCode(input: { cartId: $c, code: \"bench10\" }) {
                                codes userErrors { message } } }",
                            json!({ "c": cart }),
                        )
                        .await;
                        assert_eq!(applied["applyPromotionCode"]["codes"], json!(["BENCH10"]), "{applied}");
                    }
                    let begun = Instant::now();
                    let placed = post(
                        &http,
                        &url,
                        Some(&token),
                        "mutation($input: CheckoutInput!) { checkout(input: $input) {
                            order { status tax { amount } discounts { name } } userErrors { code message } } }",
                        json!({ "input": { "cartId": cart, "paymentToken": "tok_visa",
                            "idempotencyKey": primitives::id::new_id("bench"),
                            "shippingAddress": { "fullName": "Bench", "line1": "1 Main St",
                                "city": "London", "postalCode": "N1 9GU", "countryCode": "GB" } } }),
                    )
                    .await;
                    times.push(begun.elapsed());
                    // Shipped at once: the answer may already say fulfilled.
                    let status = placed["checkout"]["order"]["status"].as_str().unwrap_or_default();
                    assert!(matches!(status, "PAID" | "FULFILLED"), "{placed}");
                    if pricing {
                        let order = &placed["checkout"]["order"];
                        assert_eq!(order["discounts"].as_array().map(Vec::len), Some(2), "{placed}");
                        assert_ne!(order["tax"]["amount"], "0.00", "{placed}");
                    }
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
        "checkout through the router (PostgreSQL + Redis){}, {concurrency} concurrent customers, \
         {seconds} s: {} checkouts, {:.1}/s, p50 {:.1} ms, p99 {:.1} ms",
        if pricing {
            " with tax and two promotions"
        } else {
            ""
        },
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
