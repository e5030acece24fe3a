//! The subgraph through its own API with no other subgraph running: what needs no other service
//! answers, and a checkout whose services are unreachable fails cleanly, charging nothing.

use kit::testing::{error_code, spawn_app_with, TestApp};
use orders::Orders;
use serde_json::{json, Value};

/// Orders with every service it calls pointing at a port where nothing listens.
async fn alone() -> TestApp<Orders> {
    spawn_app_with::<Orders>(|mut env| {
        for name in [
            "ACCOUNTS_URL",
            "CARTS_URL",
            "CATALOG_URL",
            "INVENTORY_URL",
            "PAYMENTS_URL",
            "SHIPPING_URL",
        ] {
            env = env.set(name, "http://127.0.0.1:1/graphql");
        }
        env
    })
    .await
}

const ORDERS: &str = "query { orders(first: 5) { edges { node { id } } } }";

#[tokio::test]
async fn the_admin_order_list_answers_admins_only() {
    let app = alone().await;
    let admin = app.tokens.admin("usr_admin");
    let data = app.data(ORDERS, json!({}), Some(&admin)).await;
    assert_eq!(data["orders"]["edges"], json!([]));
    let customer = app.tokens.customer("usr_ada");
    let body = app.graphql(ORDERS, json!({}), Some(&customer)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.graphql(ORDERS, json!({}), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn a_checkout_whose_services_cannot_be_reached_creates_nothing() {
    let app = alone().await;
    let ada = app.tokens.customer("usr_ada");
    let body: Value = app
        .graphql(
            "mutation($input: CheckoutInput!) { checkout(input: $input) {
                order { id } userErrors { code message } } }",
            json!({ "input": { "cartId": "cart_1", "addressId": "adr_1",
                "paymentToken": "tok_visa", "idempotencyKey": "key-1" } }),
            Some(&ada),
        )
        .await;
    // Asked to send it again (the key makes that safe), never an order half made.
    let payload = &body["data"]["checkout"];
    let refused = payload["userErrors"][0]["code"]
        .as_str()
        .map(str::to_string);
    let failed = body["errors"][0]["message"].as_str().map(str::to_string);
    assert!(
        payload["order"].is_null() && (refused.is_some() || failed.is_some()),
        "{body}"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
}
