//! A crash mid-checkout: the orders service is a real process (`shop orders`), killed after it
//! reserved the stock and while it waits on the payment; started again, it finds the checkout
//! (the sweep takes it over once the dead process's lease ran out) and completes it: the order
//! paid once, the stock confirmed, nothing held or charged twice.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::client::{Observer, TestShop};
use crate::process::{client_settings, free_port, Process};
use crate::purchase::{available, fill_cart, stock, stocked_product};

/// `shop orders serve` against the shop's services, with its own database and event namespace,
/// calling payments at `payments_url`.
async fn orders_process(
    shop: &TestShop,
    port: u16,
    namespace: &str,
    payments_url: &str,
) -> Process {
    let url = |name: &str| format!("http://{}/graphql", shop.shop.address(name));
    let own = [
        ("ORDERS_LISTEN", format!("127.0.0.1:{port}")),
        (
            "ORDERS_DATABASE_URL",
            storage::db::testing::postgres_url().await,
        ),
        ("ORDERS_SAGA_LEASE_SECS", "1".into()),
        ("ORDERS_SWEEP_INTERVAL_SECS", "1".into()),
        ("ACCOUNTS_URL", url("accounts")),
        ("CARTS_URL", url("carts")),
        ("CATALOG_URL", url("catalog")),
        ("INVENTORY_URL", url("inventory")),
        ("SHIPPING_URL", url("shipping")),
        ("PAYMENTS_URL", payments_url.into()),
    ];
    let mut env: Vec<(String, String)> = client_settings(shop, "orders").await;
    env.extend(own.into_iter().map(|(k, v)| (k.to_string(), v)));
    // Its own event namespace: only this process's events reach the test's observer.
    env.retain(|(k, _)| k != "EVENTS_NAMESPACE");
    env.push(("EVENTS_NAMESPACE".into(), namespace.into()));
    Process::new("orders", &["orders", "serve"], env, "orders listening")
}

#[tokio::test]
async fn orders_killed_between_reservation_and_payment_completes_the_checkout_when_back() {
    let shop = TestShop::start(30).await;
    let customer = shop.customer_token().await;
    let (product, _, before) = stocked_product(&shop, 5).await;
    let cart = fill_cart(&shop, &customer, &product, 3).await;

    let namespace = primitives::id::new_id("crash-test");
    let paid_orders = Observer::new("redis://127.0.0.1:6379", &namespace, "order.paid").await;
    let port = free_port().await;
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Payments, as the first process sees it: a port that takes the call and never answers.
    let gate = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gate_url = format!("http://{}/graphql", gate.local_addr().unwrap());
    let mut orders = orders_process(&shop, port, &namespace, &gate_url).await;
    orders.start().await;

    let request = shop
        .as_router_to(&format!("http://{address}/graphql"))
        .bearer_auth(&customer)
        .json(&json!({
            "query": "mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
            "variables": { "input": { "cartId": cart, "paymentToken": "tok_visa",
                "idempotencyKey": "crash-1",
                "shippingAddress": { "fullName": "Ada", "line1": "1 Main St", "city": "London",
                    "postalCode": "N1 9GU", "countryCode": "GB" } } }
        }))
        .send();
    let checkout = tokio::spawn(request);

    // The charge call arrives: the stock is held. Now the process dies.
    let (_held, _) = tokio::time::timeout(Duration::from_secs(30), gate.accept())
        .await
        .expect("orders calls payments within 30 s")
        .unwrap();
    assert_eq!(available(&shop, &product).await, before - 3, "reserved");
    orders.kill().await;
    assert!(
        checkout.await.unwrap().is_err(),
        "the client lost its answer"
    );

    // Back, with payments reachable: the checkout completes.
    let payments = format!("http://{}/graphql", shop.shop.address("payments"));
    orders.env.retain(|(k, _)| k != "PAYMENTS_URL");
    orders.env.push(("PAYMENTS_URL".into(), payments));
    orders.start().await;
    let paid = paid_orders.next(Duration::from_secs(30)).await;
    assert_eq!(paid.len(), 1, "one order.paid within 30 s");
    let order_id = paid[0].payload["orderId"].as_str().unwrap().to_string();

    let body: Value = shop
        .as_router_to(&format!("http://{address}/graphql"))
        .bearer_auth(&customer)
        .json(&json!({
            "query": "query($id: ID!) { order(id: $id) { status statusHistory { status } } }",
            "variables": { "id": order_id }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["order"]["status"], "PAID", "{body:#}");

    // The stock left once and nothing stays held; exactly one captured charge for the order.
    assert_eq!(available(&shop, &product).await, before - 3);
    let admin = shop.admin_token().await;
    assert_eq!(
        stock(&shop, &admin, &product).await.1,
        0,
        "nothing reserved"
    );
    let payments = shop.shop.subgraph::<payments::Payments>();
    let payment = payments
        .service
        .store
        .by_order(&order_id)
        .await
        .unwrap()
        .unwrap();
    assert!(payment.captured_minor > 0, "{payment:?}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE order_id = $1")
        .bind(&order_id)
        .fetch_one(payments.service.store.database().pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn orders_stopped_with_sigterm_during_a_slow_charge_completes_the_checkout_when_back() {
    let shop = TestShop::start(30).await;
    let customer = shop.customer_token().await;
    let (product, _, before) = stocked_product(&shop, 5).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;

    let namespace = primitives::id::new_id("sigterm-test");
    let placed = Observer::new("redis://127.0.0.1:6379", &namespace, "order.placed").await;
    let paid_orders = Observer::new("redis://127.0.0.1:6379", &namespace, "order.paid").await;
    let port = free_port().await;
    let payments = format!("http://{}/graphql", shop.shop.address("payments"));
    let mut orders = orders_process(&shop, port, &namespace, &payments).await;
    orders.start().await;

    // tok_slow: the processor takes 3 s to answer the charge.
    let request = shop
        .as_router_to(&format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(&customer)
        .json(&json!({
            "query": "mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
            "variables": { "input": { "cartId": cart, "paymentToken": "tok_slow",
                "idempotencyKey": "sigterm-1",
                "shippingAddress": { "fullName": "Ada", "line1": "1 Main St", "city": "London",
                    "postalCode": "N1 9GU", "countryCode": "GB" } } }
        }))
        .send();
    let checkout = tokio::spawn(request);
    // The stock is held and the charge under way: stop orders as Kubernetes would.
    assert_eq!(placed.next(Duration::from_secs(30)).await.len(), 1);
    orders.terminate().await;
    let _ = checkout.await;

    // Started again (if it did not finish before it stopped): the order ends paid once.
    orders.start().await;
    let paid = paid_orders.next(Duration::from_secs(30)).await;
    assert_eq!(paid.len(), 1, "one order.paid within 30 s");
    assert_eq!(available(&shop, &product).await, before - 1);
    let admin = shop.admin_token().await;
    assert_eq!(
        stock(&shop, &admin, &product).await.1,
        0,
        "nothing reserved"
    );
    let order_id = paid[0].payload["orderId"].as_str().unwrap();
    let payment = shop
        .shop
        .subgraph::<payments::Payments>()
        .service
        .store
        .by_order(order_id)
        .await
        .unwrap()
        .unwrap();
    assert!(payment.captured_minor > 0, "{payment:?}");
}
