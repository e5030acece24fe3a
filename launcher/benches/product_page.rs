//! The storefront's product page through the router on PostgreSQL + Redis: the operation in
//! `frontend-queries/storefront/ProductPage.graphql` (the product from the catalog, its
//! availability from inventory, its rating and first five reviews from reviews, each review's
//! author from accounts, "also bought" from recommendations, and every variant with its price
//! from the catalog and its stock from inventory), for products that have 20 reviews and 20
//! variants (4 sizes x 5 colours) each. Prints requests per second and p50/p99.
//!
//! `cargo bench -p shop --bench product_page` (BENCH_SECONDS, default 10; BENCH_CONCURRENCY,
//! default 16; PostgreSQL and Redis on their usual local ports).

// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use std::time::{Duration, Instant};

use common::{env, percentile, post, shop_on_postgres};
use serde_json::json;

const PRODUCTS: usize = 10;
const REVIEWS_PER_PRODUCT: usize = 20;
const SIZES: [&str; 4] = ["S", "M", "L", "XL"];
const COLOURS: [&str; 5] = ["Black", "White", "Navy", "Olive", "Sand"];

#[tokio::main]
async fn main() {
    let seconds = env("BENCH_SECONDS", 10) as u64;
    let concurrency = env("BENCH_CONCURRENCY", 16);
    let (shop, data_dir) = shop_on_postgres(50).await;
    let url = shop.router_url();
    let http = reqwest::Client::new();
    let query = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../frontend-queries/storefront/ProductPage.graphql"
    ))
    .unwrap();

    let page = post(
        &http,
        &url,
        None,
        &format!("{{ products(first: {PRODUCTS}) {{ edges {{ node {{ id slug }} }} }} }}"),
        json!({}),
    )
    .await;
    let products: Vec<(String, String)> = page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["id"].as_str().unwrap().into(),
                node["slug"].as_str().unwrap().into(),
            )
        })
        .collect();

    // Every product in 4 sizes x 5 colours, made by an admin through the router.
    let login = post(
        &http,
        &url,
        None,
        "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
        json!({ "input": { "email": shop::DEMO_ADMIN.0, "password": shop::DEMO_ADMIN.1 } }),
    )
    .await;
    let admin = login["login"]["accessToken"].as_str().unwrap().to_string();
    for (n, (id, _)) in products.iter().enumerate() {
        post(
            &http,
            &url,
            Some(&admin),
            "mutation($input: SetProductOptionsInput!) { setProductOptions(input: $input) { userErrors { code } } }",
            json!({ "input": { "productId": id, "options": [
                { "name": "Size", "values": SIZES }, { "name": "Colour", "values": COLOURS }] } }),
        )
        .await;
        let variants: Vec<serde_json::Value> = SIZES
            .iter()
            .flat_map(|size| COLOURS.iter().map(move |colour| (size, colour)))
            .map(|(size, colour)| {
                json!({ "sku": format!("BENCH-{n}-{size}-{colour}"),
                    "optionValues": [{ "name": "Size", "value": size }, { "name": "Colour", "value": colour }],
                    "price": { "amount": "25.00", "currencyCode": "USD" } })
            })
            .collect();
        let made = post(
            &http,
            &url,
            Some(&admin),
            "mutation($input: CreateProductVariantsInput!) { createProductVariants(input: $input) { userErrors { message } } }",
            json!({ "input": { "productId": id, "variants": variants } }),
        )
        .await;
        assert_eq!(
            made["createProductVariants"]["userErrors"],
            json!([]),
            "{made}"
        );
    }

    // Reviewers who received the products (the delivery recorded as shipping's event would),
    // each reviewing every product through the router.
    let reviews = shop.subgraph::<reviews::Reviews>();
    let tokens = shop.new_customers(REVIEWS_PER_PRODUCT).await.unwrap();
    let lines: Vec<reviews::store::DeliveredLine> = products
        .iter()
        .map(|(id, _)| reviews::store::DeliveredLine {
            product_id: id.clone(),
            variant_id: commerce::variant::default_variant_id(id),
        })
        .collect();
    for (n, token) in tokens.iter().enumerate() {
        let me = post(&http, &url, Some(token), "{ me { id } }", json!({})).await;
        let customer = me["me"]["id"].as_str().unwrap();
        reviews
            .service
            .store
            .record_delivery(&format!("bench-{n}"), customer, "ord_bench", &lines)
            .await
            .unwrap();
        for (i, (id, _)) in products.iter().enumerate() {
            post(
                &http,
                &url,
                Some(token),
                "mutation($input: WriteReviewInput!) { writeReview(input: $input) { userErrors { code } } }",
                json!({ "input": { "productId": id, "rating": (n + i) % 5 + 1,
                    "title": format!("Review {n}"), "body": "Does what it says." } }),
            )
            .await;
        }
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (http, url, query, products) =
                (http.clone(), url.clone(), query.clone(), products.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut i = w;
                while Instant::now() < deadline {
                    let (_, slug) = &products[i % products.len()];
                    let begun = Instant::now();
                    let data = post(&http, &url, None, &query, json!({ "slug": slug })).await;
                    times.push(begun.elapsed());
                    let product = &data["product"];
                    assert_eq!(product["rating"]["count"], REVIEWS_PER_PRODUCT, "{data}");
                    assert_eq!(product["reviews"]["edges"].as_array().unwrap().len(), 5);
                    assert!(product["reviews"]["edges"][0]["node"]["author"]["name"].is_string());
                    assert_eq!(product["variants"].as_array().unwrap().len(), 20);
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
        "product page with 20 variants through the router (catalog, inventory, reviews, \
         accounts, recommendations; PostgreSQL + Redis), {concurrency} concurrent clients, {seconds} s: {} pages, {:.1}/s, p50 {:.1} ms, \
         p99 {:.1} ms",
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
    );
    shop.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
