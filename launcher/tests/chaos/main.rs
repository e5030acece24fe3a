//! Chaos: 200 checkouts while the card processor, payments, orders and inventory, each a real
//! process of a production deployment (PostgreSQL, Redis), are killed with SIGKILL and started
//! again at random moments. The schedule follows a seed (printed; `CHAOS_SEED` repeats a run).
//! Afterwards, once reconciliation has run: every order is paid or failed, the money the
//! processor captured is the money of the paid orders plus what it refunded, the stock is the
//! initial stock less what was sold, nothing stays reserved, and the dry run of reconciliation
//! listed every disagreement the real run then repaired.
//!
//! A test binary of its own: cargo runs test binaries one after another, so its four processes
//! do not share the database's connections with the shop tests running side by side.

// The shop tests' helpers, of which this uses some.
#![allow(dead_code)]

#[path = "../shop/client.rs"]
mod client;
#[path = "../shop/process.rs"]
mod process;
#[path = "../shop/purchase.rs"]
mod purchase;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use payments::provider::http::HttpProvider;
use payments::provider::{ChargeStatus, PaymentProvider};
use serde_json::{json, Value};
use sqlx::Row;

use crate::client::TestShop;
use crate::process::{client_settings, free_port, Process};
use crate::purchase::{address, available, fill_cart, stock};

const CHECKOUTS: usize = 200;
const KILLS: usize = 12;

/// xorshift64*: a small repeatable generator for the schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In `[low, high)`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

fn env(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Products with stock to sell, and their available units.
async fn products(shop: &TestShop, count: usize) -> Vec<(String, i64)> {
    let page = shop
        .data(
            "{ products(first: 30) { edges { node { id availability { availableQuantity } } } } }",
            json!({}),
            None,
        )
        .await;
    let mut found: Vec<(String, i64)> = page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_string(),
                e["node"]["availability"]["availableQuantity"]
                    .as_i64()
                    .unwrap_or(0),
            )
        })
        .filter(|(_, units)| *units >= 10)
        .collect();
    found.truncate(count);
    assert_eq!(found.len(), count, "enough stocked demo products");
    found
}

/// Sends the checkout until it has an answer (the same key each time: a repeat gets the first
/// run's order); the order's id, if one was made.
async fn check_out(
    http: &reqwest::Client,
    url: &str,
    router_secret: &str,
    token: &str,
    input: &Value,
) -> Option<String> {
    let query = "mutation($input: CheckoutInput!) { checkout(input: $input) {
        order { id } userErrors { code message } } }";
    for _ in 0..600 {
        // Sent as the router sends it: the orders process serves only the router and services.
        let sent = http
            .post(url)
            .header(web::server::ROUTER_SECRET_HEADER, router_secret)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": { "input": input } }))
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let body: Option<Value> = match sent {
            Ok(response) if response.status().is_success() => response.json().await.ok(),
            _ => None,
        };
        if let Some(body) = body {
            let payload = &body["data"]["checkout"];
            if let Some(id) = payload["order"]["id"].as_str() {
                return Some(id.to_string());
            }
            match payload["userErrors"][0]["code"].as_str() {
                // Nothing was made; the same checkout again.
                Some("SERVICE_UNAVAILABLE" | "STILL_RUNNING") | None => {}
                Some(_) => return None,
            }
        }
        // A process is down: try again shortly, as a client would.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("checkout {input} never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_survive_the_processor_payments_orders_and_inventory_being_killed() {
    let seed: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| primitives::time::now_millis() as u64);
    println!("chaos seed: {seed} (CHAOS_SEED={seed} repeats this run)");
    let mut rng = Rng(seed | 1);

    let shop = TestShop::start(30).await;
    let ports: HashMap<&str, u16> = [
        ("processor", free_port().await),
        ("payments", free_port().await),
        ("orders", free_port().await),
        ("inventory", free_port().await),
    ]
    .into();
    let local = |name: &str| format!("http://127.0.0.1:{}", ports[name]);
    let in_shop = |name: &str| format!("http://{}/graphql", shop.shop.address(name));
    let secret = format!("whsec_{}", primitives::id::new_id("chaos"));
    let api_key = format!("sk_{}", primitives::id::new_id("chaos"));
    let processor_db = storage::db::testing::postgres_url().await;
    let orders_db = storage::db::testing::postgres_url().await;

    let mut processor = Process::new(
        "processor",
        &["payment-test-provider"],
        env(&[
            (
                "TEST_PROVIDER_LISTEN",
                format!("127.0.0.1:{}", ports["processor"]),
            ),
            (
                "TEST_PROVIDER_WEBHOOK_URL",
                format!("{}/webhooks/provider", local("payments")),
            ),
            ("TEST_PROVIDER_WEBHOOK_SECRET", secret.clone()),
            ("TEST_PROVIDER_API_KEY", api_key.clone()),
            ("TEST_PROVIDER_DATABASE_URL", processor_db),
        ]),
        "payment test provider listening",
    );
    let mut payments = Process::new(
        "payments",
        &["payments", "serve"],
        [
            env(&[
                (
                    "PAYMENTS_LISTEN",
                    format!("127.0.0.1:{}", ports["payments"]),
                ),
                (
                    "PAYMENTS_DATABASE_URL",
                    storage::db::testing::postgres_url().await,
                ),
                ("PAYMENTS_PROVIDER_URL", local("processor")),
                ("PAYMENTS_PROVIDER_API_KEY", api_key.clone()),
                ("PAYMENTS_WEBHOOK_SECRETS", secret),
                ("PAYMENTS_SETTLE_WAIT_MS", "1000".into()),
                ("PAYMENTS_DB_MAX_CONNECTIONS", "4".into()),
            ]),
            client_settings(&shop, "payments").await,
        ]
        .concat(),
        "payments listening",
    );
    // A second inventory process on the shop's own stock (replicas share their database).
    let mut inventory = Process::new(
        "inventory",
        &["inventory", "serve"],
        [
            env(&[
                (
                    "INVENTORY_LISTEN",
                    format!("127.0.0.1:{}", ports["inventory"]),
                ),
                (
                    "INVENTORY_DATABASE_URL",
                    shop.options.settings["INVENTORY_DATABASE_URL"].clone(),
                ),
                ("CATALOG_URL", in_shop("catalog")),
                ("INVENTORY_DB_MAX_CONNECTIONS", "4".into()),
            ]),
            client_settings(&shop, "inventory").await,
        ]
        .concat(),
        "inventory listening",
    );
    let mut orders = Process::new(
        "orders",
        &["orders", "serve"],
        [
            env(&[
                ("ORDERS_LISTEN", format!("127.0.0.1:{}", ports["orders"])),
                ("ORDERS_DATABASE_URL", orders_db.clone()),
                ("ORDERS_SAGA_LEASE_SECS", "2".into()),
                ("ORDERS_SWEEP_INTERVAL_SECS", "1".into()),
                // Many shops share the test database's 100 connections when tests run at once.
                ("ORDERS_DB_MAX_CONNECTIONS", "4".into()),
                ("ACCOUNTS_URL", in_shop("accounts")),
                ("CARTS_URL", in_shop("carts")),
                ("CATALOG_URL", in_shop("catalog")),
                ("SHIPPING_URL", in_shop("shipping")),
                ("INVENTORY_URL", format!("{}/graphql", local("inventory"))),
                ("PAYMENTS_URL", format!("{}/graphql", local("payments"))),
            ]),
            client_settings(&shop, "orders").await,
        ]
        .concat(),
        "orders listening",
    );
    for process in [&mut processor, &mut payments, &mut inventory, &mut orders] {
        process.start().await;
    }

    let paid_events = shop.observe("order.paid").await;
    let closed_events = shop.observe("order.closed").await;
    let admin = shop.admin_token().await;
    let products = products(&shop, 4).await;
    let customers = shop.shop.new_customers(CHECKOUTS).await.unwrap();
    let mut plan = Vec::new();
    for (n, customer) in customers.iter().enumerate() {
        let (product, _) = &products[rng.between(0, products.len() as u64) as usize];
        let token = if rng.between(0, 10) == 0 {
            "tok_declined"
        } else {
            "tok_visa"
        };
        let cart = fill_cart(&shop, customer, product, 1).await;
        plan.push((
            customer.clone(),
            json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": token,
                "idempotencyKey": format!("chaos-{n}") }),
        ));
    }

    // The checkouts, eight at a time, while the chaos schedule kills and restarts processes.
    let orders_url = format!("{}/graphql", local("orders"));
    let http = web::client::http_client();
    let router_secret = shop.shop.router_config.subgraph_secret.clone().unwrap();
    let checkouts = stream::iter(plan.iter())
        .map(|(token, input)| check_out(&http, &orders_url, &router_secret, token, input))
        .buffer_unordered(8)
        .collect::<Vec<_>>();
    let schedule: Vec<(usize, u64, u64)> = (0..KILLS)
        .map(|_| {
            (
                rng.between(0, 4) as usize,
                rng.between(300, 2500),
                rng.between(200, 1500),
            )
        })
        .collect();
    let chaos = async {
        let mut processes = [processor, payments, inventory, orders];
        for (target, before, down) in &schedule {
            tokio::time::sleep(Duration::from_millis(*before)).await;
            let process = &mut processes[*target];
            println!("chaos: kill -9 {} for {down} ms", process.label);
            process.kill().await;
            tokio::time::sleep(Duration::from_millis(*down)).await;
            process.start().await;
        }
        processes
    };
    let (answers, processes) = tokio::join!(checkouts, chaos);
    let [_processor, _payments, _inventory, orders] = processes;
    let order_ids: HashSet<String> = answers.into_iter().flatten().collect();
    println!("{} orders made of {CHECKOUTS} checkouts", order_ids.len());

    // Reconciliation: first the dry run lists, then the real run repairs.
    let listed = orders.run(&["orders", "reconcile", "--dry-run"]).await;
    let repaired = orders.run(&["orders", "reconcile"]).await;
    println!("dry run:\n{listed}\nrepair:\n{repaired}");
    // Every money disagreement the repair run saw, the dry run listed. Checkouts still running
    // may be resumed by either, and one may take its payment between the two runs (its order
    // still pending, its charge captured at the provider before payments heard): those are not
    // disagreements of the dry run's moment.
    let money = |output: &str| -> HashSet<String> {
        output
            .lines()
            .filter(|l| {
                l.contains("->")
                    && !l.contains("resumed the checkout")
                    && !l.contains("order pending")
            })
            .map(|l| l.split(" -> ").next().unwrap().to_string())
            .collect()
    };
    let listed_lines: HashSet<String> = listed.lines().map(String::from).collect();
    for line in money(&repaired) {
        assert!(
            listed_lines.contains(&line),
            "not listed by the dry run: {line}"
        );
    }

    // Every order ends: paid or closed.
    let mut ended: HashSet<String> = HashSet::new();
    let ending = async {
        while !order_ids.is_subset(&ended) {
            for event in paid_events.next(Duration::from_millis(500)).await {
                ended.insert(event.payload["orderId"].as_str().unwrap().to_string());
            }
            for event in closed_events.next(Duration::from_millis(500)).await {
                ended.insert(event.payload["orderId"].as_str().unwrap().to_string());
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(180), ending)
        .await
        .is_err()
    {
        let stuck: Vec<&String> = order_ids.difference(&ended).collect();
        let again = orders.run(&["orders", "reconcile", "--dry-run"]).await;
        panic!("orders not ended within 180 s: {stuck:?}\n{again}");
    }

    // The orders as orders keeps them.
    let db = storage::db::Database::connect(&orders_db, 2, &orders::MIGRATIONS)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT o.id, o.status, o.total_minor, l.product_id, l.quantity \
         FROM orders o JOIN order_lines l ON l.order_id = o.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut paid_minor = 0;
    let mut sold: HashMap<String, i64> = HashMap::new();
    for row in &rows {
        let status: String = row.get("status");
        assert!(
            matches!(
                status.as_str(),
                "paid" | "fulfilled" | "delivered" | "failed"
            ),
            "{status}"
        );
        if status != "failed" {
            paid_minor += row.get::<i64, _>("total_minor");
            *sold.entry(row.get("product_id")).or_default() += row.get::<i64, _>("quantity");
        }
    }
    assert_eq!(rows.len(), order_ids.len(), "one line per order");

    // Money: captured = paid orders + refunded, at the processor.
    let processor_api = HttpProvider::new(&local("processor"), &api_key);
    let (mut captured, mut refunded, mut after) = (0, 0, None);
    loop {
        let page = processor_api
            .charges(0, i64::MAX, after.as_deref())
            .await
            .unwrap();
        for charge in &page.charges {
            if charge.status == ChargeStatus::Succeeded {
                captured += charge.amount_minor;
            }
            refunded += charge.refunds.iter().map(|r| r.amount_minor).sum::<i64>();
        }
        match (page.has_more, page.charges.last()) {
            (true, Some(last)) => after = Some(last.id.clone()),
            _ => break,
        }
    }
    println!("captured {captured}, paid orders {paid_minor}, refunded {refunded}");
    assert_eq!(captured, paid_minor + refunded);

    // Stock: the initial less what was sold, nothing reserved.
    for (product, initial) in &products {
        let sold = sold.get(product).copied().unwrap_or(0);
        assert_eq!(available(&shop, product).await, initial - sold, "{product}");
        assert_eq!(
            stock(&shop, &admin, product).await.1,
            0,
            "{product}: reserved"
        );
    }
}
