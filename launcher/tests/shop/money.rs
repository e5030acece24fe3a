//! Money is never taken without an order: a card processor restarted between checkouts, its
//! webhooks lost for good, one cart checked out from several tabs at once, a shutdown in the
//! middle of a slow charge. Each ends with every order paid (or failed with its money back), the
//! processor's books agreeing with the shop's, and the stock exact.

use std::time::Duration;

use futures_util::future::join_all;
use payments::provider::http::HttpProvider;
use payments::provider::{ChargeStatus, PaymentProvider};
use serde_json::{json, Value};
use shop::ShopOptions;

use crate::checkout::checkout_until_answered;
use crate::client::{TempDir, TestShop};
use crate::purchase::{address, available, checkout, fill_cart, stock, stocked_product};

/// The shop's test processor as a client sees it.
fn processor(shop: &TestShop) -> HttpProvider {
    let setup = shop
        .shop
        .provider_setup
        .as_ref()
        .expect("the built-in processor");
    HttpProvider::new(
        &format!("http://{}", setup.address),
        &setup.settings.api_key,
    )
}

/// Money the processor holds (captured less refunded) over every charge it has.
async fn held_at_processor(shop: &TestShop) -> i64 {
    let page = processor(shop).charges(0, i64::MAX, None).await.unwrap();
    assert!(!page.has_more);
    page.charges
        .iter()
        .filter(|c| c.status == ChargeStatus::Succeeded)
        .map(|c| c.amount_minor - c.refunds.iter().map(|r| r.amount_minor).sum::<i64>())
        .sum()
}

/// Stops the processor as a crash would and starts it again on its books.
async fn restart_processor(shop: &mut TestShop, change: impl FnOnce(&mut shop::ProviderSetup)) {
    let running = shop.shop.payment_provider.take().expect("running");
    running.stop().await;
    let setup = shop.shop.provider_setup.as_mut().unwrap();
    change(setup);
    shop.shop.payment_provider = Some(setup.start().await.unwrap());
}

async fn order_state(shop: &TestShop, token: &str, id: &Value) -> Value {
    shop.data(
        "query($id: ID!) { order(id: $id) { status total { amount }
            payment { status capturedAmount { amount } refundedAmount { amount } } } }",
        json!({ "id": id }),
        Some(token),
    )
    .await["order"]
        .clone()
}

fn minor(amount: &Value) -> i64 {
    let text = amount.as_str().unwrap();
    let (units, cents) = text.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

/// The embedded shop (SQLite files, the embedded bus) as `cargo run` starts it, with paid
/// orders left paid and `configure`'s settings.
async fn embedded(configure: impl FnOnce(&mut ShopOptions)) -> TestShop {
    let data_dir = TempDir::new();
    let mut options = ShopOptions::new(&data_dir.0);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 30;
    options.set("SHIPPING_AUTO_FULFIL", "false");
    options.set("ORDERS_SWEEP_INTERVAL_SECS", "1");
    configure(&mut options);
    TestShop::with_options(options, data_dir).await
}

#[tokio::test]
async fn a_processor_restarted_between_two_checkouts_gives_new_ids_and_both_are_paid() {
    restarted_processor(TestShop::start(30).await).await;
}

#[tokio::test]
async fn a_processor_restarted_between_two_checkouts_in_the_embedded_shop() {
    restarted_processor(embedded(|_| {}).await).await;
}

async fn restarted_processor(mut shop: TestShop) {
    let customer = shop.customer_token().await;
    let (product, _, _) = stocked_product(&shop, 5).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let first = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "before-restart" }),
    )
    .await;
    assert_eq!(first["order"]["status"], "PAID", "{first:#}");

    restart_processor(&mut shop, |_| {}).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let second = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "after-restart" }),
    )
    .await;
    assert_eq!(second["order"]["status"], "PAID", "{second:#}");
    let references: Vec<&Value> = [&first, &second]
        .iter()
        .map(|placed| &placed["order"]["payment"]["providerReference"])
        .collect();
    assert_ne!(references[0], references[1], "{references:?}");
    let paid =
        minor(&first["order"]["total"]["amount"]) + minor(&second["order"]["total"]["amount"]);
    assert_eq!(held_at_processor(&shop).await, paid);
}

#[tokio::test]
async fn a_capture_whose_webhooks_are_all_lost_still_ends_paid_from_the_processors_state() {
    // Checkout answers at once.
    let settle_at_once = |options: &mut ShopOptions| {
        options.set("PAYMENTS_SETTLE_WAIT_MS", "0");
    };
    lost_webhooks(TestShop::start_with(30, settle_at_once).await).await;
}

#[tokio::test]
async fn a_capture_whose_webhooks_are_all_lost_in_the_embedded_shop() {
    lost_webhooks(
        embedded(|options| {
            options.set("PAYMENTS_SETTLE_WAIT_MS", "0");
        })
        .await,
    )
    .await;
}

async fn lost_webhooks(mut shop: TestShop) {
    // Every webhook the processor sends goes nowhere and is given up.
    restart_processor(&mut shop, |setup| {
        setup.settings.webhook_url = "http://127.0.0.1:9/webhooks/provider".into();
        setup.settings.max_attempts = 1;
    })
    .await;
    let paid_orders = shop.observe("order.paid").await;
    let customer = shop.customer_token().await;
    let (product, _, before) = stocked_product(&shop, 5).await;
    let cart = fill_cart(&shop, &customer, &product, 2).await;
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "lost-webhooks" }),
    )
    .await;
    assert_eq!(placed["userErrors"], json!([]), "{placed:#}");

    // Payments asks the processor once its webhook is late (at once here, or when the sweep
    // asks again).
    let paid = paid_orders.next(Duration::from_secs(20)).await;
    assert_eq!(paid.len(), 1, "order.paid within 20 s");
    let order = order_state(&shop, &customer, &placed["order"]["id"]).await;
    assert_eq!(order["status"], "PAID", "{order}");
    assert_eq!(order["payment"]["status"], "CAPTURED", "{order}");
    assert_eq!(available(&shop, &product).await, before - 2);
    let admin = shop.admin_token().await;
    assert_eq!(
        stock(&shop, &admin, &product).await.1,
        0,
        "nothing reserved"
    );
    assert_eq!(
        held_at_processor(&shop).await,
        minor(&order["total"]["amount"])
    );
}

#[tokio::test]
async fn one_cart_checked_out_from_two_and_five_tabs_at_once_is_charged_once() {
    tabs(TestShop::start(30).await).await;
}

#[tokio::test]
async fn one_cart_from_two_and_five_tabs_in_the_embedded_shop() {
    tabs(embedded(|_| {}).await).await;
}

async fn tabs(shop: TestShop) {
    let (product, _, _) = stocked_product(&shop, 20).await;
    for tabs in [2, 5] {
        let customer = shop.shop.new_customers(1).await.unwrap().pop().unwrap();
        let before = available(&shop, &product).await;
        let cart = fill_cart(&shop, &customer, &product, 1).await;
        let answers = join_all((0..tabs).map(|tab| {
            let input = json!({ "cartId": cart, "shippingAddress": address(),
                "paymentToken": "tok_slow", "idempotencyKey": format!("tab-{tab}") });
            let (shop, customer) = (&shop, &customer);
            // A tab told "a service did not answer" sends the same checkout again.
            async move { checkout_until_answered(shop, customer, input).await.0 }
        }))
        .await;
        let mut placed = 0;
        for payload in &answers {
            match payload["userErrors"][0]["code"].as_str() {
                None => placed += 1,
                Some("CART_CHECKOUT_RUNNING" | "EMPTY_CART") => {
                    assert!(payload["order"].is_null(), "{payload:#}")
                }
                Some(other) => panic!("{other}: {payload:#}"),
            }
        }
        assert_eq!(placed, 1, "{tabs} tabs: {answers:#?}");
        assert_eq!(available(&shop, &product).await, before - 1, "{tabs} tabs");
        let orders = shop
            .data(
                "{ me { orders(first: 10) { edges { node { status } } } } }",
                json!({}),
                Some(&customer),
            )
            .await;
        assert_eq!(
            orders["me"]["orders"]["edges"],
            json!([{ "node": { "status": "PAID" } }]),
            "{tabs} tabs"
        );
    }
}

#[tokio::test]
async fn a_shutdown_during_a_slow_charge_leaves_a_checkout_the_next_start_completes() {
    // The embedded shop (SQLite, the embedded bus) as `cargo run` starts it.
    let data_dir = TempDir::new();
    let mut options = ShopOptions::new(&data_dir.0);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 30;
    options.set("ORDERS_SAGA_LEASE_SECS", "1");
    options.set("ORDERS_SWEEP_INTERVAL_SECS", "1");
    let unused = || TempDir(std::env::temp_dir().join("unused-shop-dir"));
    let shop = TestShop::with_options(options.clone(), unused()).await;
    let customer = shop.customer_token().await;
    let (product, _, before) = stocked_product(&shop, 3).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let placed = shop.observe("order.placed").await;
    let input = json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_slow",
        "idempotencyKey": "shutdown" });
    let sent = {
        let request = shop
            .http
            .post(shop.shop.router_url())
            .bearer_auth(&customer)
            .json(&json!({
                "query": "mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
                "variables": { "input": input } }));
        tokio::spawn(request.send())
    };
    // Stock held, the charge under way (the processor takes 3 s for tok_slow): stop, as on
    // SIGTERM.
    assert_eq!(placed.next(Duration::from_secs(20)).await.len(), 1);
    shop.shop.stop().await;
    let _ = sent.await;

    // Started again on the same data: the checkout ends, paid, its money and stock agreeing.
    let shop = TestShop::with_options(options, unused()).await;
    let paid = shop.observe("order.paid").await;
    let closed = shop.observe("order.closed").await;
    let customer = shop.customer_token().await;
    let mine = || async {
        shop.data(
            "{ me { orders(first: 5) { edges { node { id status total { amount }
                statusHistory { status reason } payment { status } } } } } }",
            json!({}),
            Some(&customer),
        )
        .await["me"]["orders"]["edges"][0]["node"]
            .clone()
    };
    if mine().await["status"] == "PENDING" {
        let ended = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if !paid.next(Duration::from_secs(5)).await.is_empty()
                    || !closed.next(Duration::from_secs(1)).await.is_empty()
                {
                    return;
                }
            }
        });
        ended.await.expect("the checkout ends within 60 s");
    }
    // Paid; or, when the services answered too slowly while starting (a loaded machine),
    // failed with the money back and the reason told.
    let order = mine().await;
    match order["status"].as_str().unwrap() {
        "PAID" | "FULFILLED" => {
            assert_eq!(order["payment"]["status"], "CAPTURED", "{order}");
            assert_eq!(available(&shop, &product).await, before - 1);
            assert_eq!(
                held_at_processor(&shop).await,
                minor(&order["total"]["amount"])
            );
        }
        "FAILED" => {
            let history = order["statusHistory"].as_array().unwrap();
            assert!(
                !history.last().unwrap()["reason"]
                    .as_str()
                    .unwrap()
                    .is_empty(),
                "{order}"
            );
            assert_eq!(available(&shop, &product).await, before);
            assert_eq!(held_at_processor(&shop).await, 0, "{order}");
        }
        _ => panic!("{order}"),
    }
    shop.shop.stop().await;
}

#[tokio::test]
async fn money_taken_for_no_order_is_found_by_reconciliation_refunded_and_told_to_the_admins() {
    let shop = TestShop::start_with(30, |options| {
        options.set("NOTIFICATIONS_ADMIN_EMAILS", "ops@shop.example");
    })
    .await;
    // Someone with the processor's key charges a card for an order the shop never made.
    let stray = processor(&shop)
        .charge(
            &payments::provider::ChargeOrder {
                amount_minor: 1_234,
                currency: "USD".into(),
                token: "tok_visa".into(),
                reference: "ord_nobody_made_this".into(),
                customer: "user_nobody".into(),
            },
            "stray-1",
        )
        .await
        .unwrap();
    let orders = shop.shop.subgraph::<orders::Orders>();
    let listed = orders.service.reconcile(false).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0].order_id, "ord_nobody_made_this");
    assert!(
        listed[0].problem.contains("no such order") || listed[0].problem.contains("does not exist")
    );
    assert_eq!(listed[0].repaired, None);
    assert_eq!(held_at_processor(&shop).await, 1_234);

    let repaired = orders.service.reconcile(true).await.unwrap();
    assert_eq!(
        repaired[0].repaired.as_deref(),
        Some("refunded: there is no such order"),
        "{repaired:#?}"
    );
    assert_eq!(held_at_processor(&shop).await, 0);
    let charge = processor(&shop).retrieve(&stray.id).await.unwrap().unwrap();
    assert_eq!(charge.refunds.len(), 1);

    // What a person must look at is emailed to the admins, once per set of findings.
    let needs_a_person = vec![orders::reconcile::Finding {
        order_id: "ord_1".into(),
        number: Some("SO-1".into()),
        order_status: Some(orders::domain::status::OrderStatus::Paid),
        payment_status: "authorized".into(),
        problem: "paid, but no captured payment".into(),
        repaired: None,
    }];
    let notifications = shop.shop.subgraph::<notifications::Notifications>();
    let mut sent = notifications.service.outcomes();
    orders.service.report_reconciliation(&needs_a_person).await;
    orders.service.report_reconciliation(&needs_a_person).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM notifications WHERE kind = 'reconciliation_needed'",
        )
        .fetch_one(notifications.service.store.database().pool())
        .await
        .unwrap()
    };
    tokio::time::timeout(Duration::from_secs(20), async {
        while count().await == 0 {
            sent.changed().await.unwrap();
        }
    })
    .await
    .expect("the admins' email within 20 s");
    assert_eq!(count().await, 1, "the same findings make one email");
}

#[tokio::test]
async fn a_capture_after_the_stock_hold_ran_out_holds_the_stock_again_and_ends_paid() {
    // Holds last a second and are released every second; tok_slow takes the processor 3 s.
    let shop = TestShop::start_with(30, |options| {
        options.set("INVENTORY_RESERVATION_TTL_SECS", "1");
        options.set("INVENTORY_EXPIRY_INTERVAL_SECS", "1");
    })
    .await;
    let customer = shop.customer_token().await;
    let admin = shop.admin_token().await;
    let (product, _, before) = stocked_product(&shop, 3).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_slow",
            "idempotencyKey": "outlived-its-hold" }),
    )
    .await;
    assert_eq!(placed["order"]["status"], "PAID", "{placed:#}");
    // The first hold expired; a second one was made and confirmed.
    let inventory = shop.shop.subgraph::<inventory::Inventory>().service.clone();
    let id = placed["order"]["id"].as_str().unwrap();
    let first = inventory.reservation(id).await.unwrap();
    let second = inventory.reservation(&format!("{id}-again")).await.unwrap();
    assert_eq!(
        (first.status.as_str(), second.status.as_str()),
        ("expired", "confirmed")
    );
    assert_eq!(available(&shop, &product).await, before - 1);
    assert_eq!(
        stock(&shop, &admin, &product).await.1,
        0,
        "nothing reserved"
    );
    assert_eq!(
        held_at_processor(&shop).await,
        minor(&placed["order"]["total"]["amount"])
    );
}
