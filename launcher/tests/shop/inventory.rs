//! Inventory through the router: availability on the product page, an admin restocking, and
//! `StockLow` on the event bus once per crossing.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::TestShop;

const PRODUCT_PAGE: &str = "query($first: Int) { products(first: $first) { edges { node {
    id name price { amount } availability { inStock availableQuantity } } } } }";

async fn availability(shop: &TestShop, product: &str) -> Value {
    shop.data(
        "query($id: ID!) { product(id: $id) { availability { inStock availableQuantity } } }",
        json!({ "id": product }),
        None,
    )
    .await["product"]["availability"]
        .clone()
}

async fn adjust(
    shop: &TestShop,
    token: &str,
    product: &str,
    warehouse: &str,
    kind: &str,
    quantity: i64,
) {
    let data = shop
        .data(
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code message } } }",
            json!({ "input": { "productId": product, "warehouseId": warehouse, "kind": kind,
                "quantity": quantity, "reason": "journey", "idempotencyKey": primitives::id::new_id("key") } }),
            Some(token),
        )
        .await;
    assert_eq!(data["adjustStock"]["userErrors"], json!([]), "{data}");
}

#[tokio::test]
async fn the_product_page_shows_demo_availability_and_a_restock_puts_a_product_in_stock() {
    let shop = TestShop::start(20).await;
    let page = shop.data(PRODUCT_PAGE, json!({ "first": 20 }), None).await;
    let products = page["products"]["edges"].as_array().unwrap();
    assert!(products.len() > 10, "{page:#}");
    // The demo stock, by position: every tenth product out of stock, the next low (2 units), the
    // rest well stocked.
    for (i, product) in products.iter().enumerate() {
        let availability = &product["node"]["availability"];
        assert_eq!(
            availability["inStock"],
            json!(i % 10 != 0),
            "{i}: {availability}"
        );
        if i % 10 == 1 {
            assert_eq!(availability["availableQuantity"], 2, "{i}");
        }
    }
    let sold_out = products[0]["node"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        availability(&shop, &sold_out).await,
        json!({ "inStock": false, "availableQuantity": 0 })
    );

    let admin = shop.admin_token().await;
    let warehouses = shop
        .data("{ warehouses { id code } }", json!({}), Some(&admin))
        .await;
    let berlin = warehouses["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "BER-1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    adjust(&shop, &admin, &sold_out, &berlin, "RESTOCK", 20).await;
    assert_eq!(
        availability(&shop, &sold_out).await,
        json!({ "inStock": true, "availableQuantity": 20 })
    );

    // Checkout's way in: a service token from accounts' client_credentials grant, straight to
    // the inventory subgraph. A customer's token is refused there.
    let service = shop
        .client_token("checkout-test", accounts::ClientKind::Service, &["service"])
        .await;
    let reserve = |token: String| {
        let url = format!("http://{}/graphql", shop.shop.address("inventory"));
        let product = sold_out.clone();
        let http = shop.http.clone();
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({
                    "query": "mutation($input: ReserveStockInput!) { reserveStock(input: $input) { reservation { status } userErrors { code } } }",
                    "variables": { "input": { "orderReference": "ord_journey", "lines": [{ "variantId": commerce::variant::default_variant_id(&product), "quantity": 3 }] } }
                }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let customer = shop.customer_token().await;
    assert_eq!(
        crate::client::error_code(&reserve(customer.clone()).await),
        "FORBIDDEN"
    );
    let held = reserve(service.clone()).await;
    assert_eq!(
        held["data"]["reserveStock"]["reservation"]["status"], "HELD",
        "{held}"
    );
    assert_eq!(
        availability(&shop, &sold_out).await["availableQuantity"],
        17
    );

    // A customer neither sees per-warehouse stock nor adjusts it.
    let (_, body) = shop
        .post(
            "query($id: ID!) { product(id: $id) { availability { warehouses { onHand } } } }",
            json!({ "id": sold_out }),
            Some(&customer),
        )
        .await;
    assert_eq!(crate::client::error_code(&body), "FORBIDDEN", "{body}");
    // Reservations are internal: the router's API does not have them.
    let (_, body) = shop
        .post(
            "mutation { reserveStock(input: { orderReference: \"o\", lines: [] }) { userErrors { code } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("reserveStock"),
        "{body}"
    );
}

#[tokio::test]
async fn stock_low_reaches_the_event_bus_once_per_crossing() {
    let shop = TestShop::start(1).await;
    let admin = shop.admin_token().await;
    let created = shop
        .data(
            "mutation { createWarehouse(input: { code: \"TST-1\", name: \"Test\" }) { warehouse { id } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let warehouse = created["createWarehouse"]["warehouse"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A new product: no warehouse stocks it yet.
    let (category, _) = shop.some_category_and_brand().await;
    let (_, created) = shop
        .create_product(
            &admin,
            json!({ "sku": "LOW-1", "name": "Low Lamp", "categoryId": category, "status": "ACTIVE",
                "price": { "amount": "5.00", "currencyCode": "USD" } }),
        )
        .await;
    let product = created["data"]["createProduct"]["product"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A service listening to inventory.stock_low on the shop's bus.
    let stock_low = shop.observe("inventory.stock_low").await;

    shop.data(
        "mutation($input: SetLowStockThresholdInput!) { setLowStockThreshold(input: $input) { threshold } }",
        json!({ "input": { "productId": product, "threshold": 5 } }),
        Some(&admin),
    )
    .await;
    adjust(&shop, &admin, &product, &warehouse, "RESTOCK", 20).await;
    adjust(&shop, &admin, &product, &warehouse, "DAMAGE", 15).await; // 5: crosses
    adjust(&shop, &admin, &product, &warehouse, "DAMAGE", 1).await; // 4: still low
    adjust(&shop, &admin, &product, &warehouse, "RESTOCK", 10).await; // 14: recovered
    adjust(&shop, &admin, &product, &warehouse, "DAMAGE", 14).await; // 0: crosses again

    // Everything up to the second crossing, in order: nothing between the two.
    let mut seen = Vec::new();
    while seen.last() != Some(&0) {
        let events = stock_low.next(Duration::from_secs(10)).await;
        assert!(!events.is_empty(), "no StockLow within 10 s; seen {seen:?}");
        for event in events {
            assert_eq!(event.source, "inventory");
            assert_eq!(event.payload["productId"], json!(product));
            seen.push(event.payload["available"].as_i64().unwrap());
        }
    }
    assert_eq!(seen, vec![5, 0]);
}
