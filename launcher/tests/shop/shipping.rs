//! After the sale, through the router: a paid order is shipped at once, the carrier's signed
//! webhooks move the parcel, the order ends delivered with its tracking history on the
//! customer's order page, the customer reviews the product as a verified buyer, and an email
//! went out at each step.

use std::time::Duration;

use notifications::testing::SmtpSink;
use serde_json::{json, Value};
use shipping::webhooks::{signed, CarrierEvent};

use crate::client::{Observer, TestShop};
use crate::purchase::{address, checkout, fill_cart, stocked_product};

const SECRET: &str = "whsec_shop_test_carrier_secret";

/// The next `order.status_changed` of the order: its new status.
async fn next_status(changes: &Observer, order_id: &str) -> String {
    loop {
        let events = changes.next(Duration::from_secs(20)).await;
        assert!(!events.is_empty(), "no status change within 20 s");
        if let Some(event) = events.iter().find(|e| e.aggregate_id == order_id) {
            return event.payload["status"].as_str().unwrap().to_string();
        }
    }
}

#[tokio::test]
async fn a_paid_order_ships_at_once_and_the_carriers_webhooks_deliver_it() {
    let mail = SmtpSink::start().await;
    let shop = TestShop::start_with(30, |options| {
        options.set("SHIPPING_AUTO_FULFIL", "true");
        options.set("SHIPPING_CARRIER_WEBHOOK_SECRETS", SECRET);
        options.set("NOTIFICATIONS_SMTP_URL", mail.url());
    })
    .await;
    let changes = shop.observe("order.status_changed").await;
    let customer = shop.customer_token().await;
    let (product, _, _) = stocked_product(&shop, 3).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "shippingMethod": { "carrier": "dhl", "service": "express_worldwide" },
            "idempotencyKey": "ship-1" }),
    )
    .await;
    // Shipped at once: the answer may already show it fulfilled.
    let status = placed["order"]["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{placed:#}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(next_status(&changes, &order_id).await, "fulfilled");

    // The storefront's order page, as `frontend-queries/storefront/Order.graphql` asks it.
    let order_page = storefront_operation("Order");
    let page = |token: String| {
        let shop = &shop;
        let order_id = order_id.clone();
        let query = order_page.clone();
        async move {
            shop.data(&query, json!({ "id": order_id }), Some(&token))
                .await["order"]
                .clone()
        }
    };
    let order = page(customer.clone()).await;
    assert_eq!(order["status"], "FULFILLED", "{order:#}");
    assert_eq!(order["payment"]["status"], "CAPTURED");
    let shipment = &order["shipments"][0];
    assert_eq!(
        (shipment["carrier"].as_str(), shipment["status"].as_str()),
        (Some("dhl"), Some("LABEL_CREATED"))
    );
    assert_eq!(shipment["lines"][0]["product"]["id"], json!(product));
    assert!(
        shipment["lines"][0]["product"]["name"].is_string(),
        "{shipment:#}"
    );
    let number = shipment["trackingNumber"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 10, "DHL's format: {number}");

    // The carrier's webhooks, at shipping's public endpoint.
    let url = format!("http://{}/webhooks/carrier", shop.shop.address("shipping"));
    let http = web::client::http_client();
    let later = |minutes: i64| {
        primitives::time::format_millis(primitives::time::now_millis() + minutes * 60_000)
    };
    for (id, status, at) in [
        ("c1", "in_transit", later(1)),
        ("c2", "out_for_delivery", later(2)),
        ("c3", "delivered", later(3)),
    ] {
        let event = CarrierEvent {
            id: id.into(),
            carrier: "dhl".into(),
            tracking_number: number.clone(),
            status: status.into(),
            occurred_at: at,
            location: Some("Leipzig hub".into()),
            description: None,
        };
        let (headers, body) = signed(&event, SECRET);
        let response = http
            .post(&url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(next_status(&changes, &order_id).await, "delivered");
    let order = page(customer.clone()).await;
    assert_eq!(order["status"], "DELIVERED");
    let steps: Vec<&Value> = order["shipments"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["status"])
        .collect();
    assert_eq!(
        steps,
        [
            &json!("LABEL_CREATED"),
            &json!("IN_TRANSIT"),
            &json!("OUT_FOR_DELIVERY"),
            &json!("DELIVERED")
        ]
    );

    // Another customer sees nothing of it.
    let other = shop.shop.new_customers(1).await.unwrap().pop().unwrap();
    let theirs = page(other.clone()).await;
    assert_eq!(theirs, Value::Null);

    // The delivery reached reviews: the customer reviews the product as a verified buyer, and
    // the product page shows it with its author, the rating and the availability.
    let mut delivered = shop
        .shop
        .subgraph::<reviews::Reviews>()
        .service
        .store
        .delivered();
    tokio::time::timeout(Duration::from_secs(20), delivered.wait_for(|n| *n >= 1))
        .await
        .expect("the delivery reaches reviews within 20 s")
        .unwrap();
    let write = |token: String, stars: i64| {
        let shop = &shop;
        let product = product.clone();
        async move {
            shop.data(
                "mutation($input: WriteReviewInput!) { writeReview(input: $input) {
                    review { status verifiedBuyer } userErrors { code } } }",
                json!({ "input": { "productId": product, "rating": stars, "title": "Sturdy",
                    "body": "Arrived quickly and works well." } }),
                Some(&token),
            )
            .await["writeReview"]
                .clone()
        }
    };
    let refused = write(other, 1).await;
    assert_eq!(refused["userErrors"][0]["code"], "NOT_RECEIVED");
    let before = product_page(&shop, &product).await;
    assert_eq!(before["rating"]["count"], 0);
    let written = write(customer.clone(), 4).await;
    assert_eq!(
        written["review"],
        json!({ "status": "PUBLISHED", "verifiedBuyer": true }),
        "{written:#}"
    );
    let after = product_page(&shop, &product).await;
    assert_eq!(after["rating"]["count"], 1);
    assert_eq!(after["rating"]["average"], "4.0");
    assert_eq!(
        after["rating"]["histogram"][3],
        json!({ "stars": 4, "count": 1 })
    );
    let first = &after["reviews"]["edges"][0]["node"];
    assert_eq!(first["author"]["name"], "Demo Customer", "{after:#}");
    assert!(after["availability"]["inStock"].is_boolean());
    assert!(after["alsoBought"].is_array(), "{after:#}");
    // The order page shows the product with its rating and the review.
    let order = page(customer.clone()).await;
    let bought = &order["lines"][0]["product"];
    assert_eq!(bought["rating"]["count"], 1, "{order:#}");
    assert_eq!(
        bought["reviews"]["edges"][0]["node"]["author"]["name"],
        "Demo Customer"
    );
    assert_eq!(
        write(customer, 5).await["userErrors"][0]["code"],
        "ALREADY_REVIEWED"
    );

    // An email at each step, once each, over SMTP: placed, paid, shipped, in transit, out for
    // delivery, delivered, and the review request.
    let mut sent = shop
        .shop
        .subgraph::<notifications::Notifications>()
        .service
        .outcomes();
    tokio::time::timeout(Duration::from_secs(20), sent.wait_for(|n| *n >= 7))
        .await
        .expect("seven emails within 20 s")
        .unwrap();
    let mut subjects: Vec<String> = mail
        .received()
        .iter()
        .filter(|m| m.to == ["customer@example.com"])
        .map(|m| m.header("Subject").unwrap())
        .collect();
    subjects.sort();
    let number = placed["order"]["number"].as_str().unwrap();
    let mut expected: Vec<String> = [
        "How do you like your order {n}?",
        "Order {n} arrives today",
        "Order {n} confirmed",
        "Order {n} has shipped",
        "Order {n} is in transit",
        "Order {n} was delivered",
        "We received your order {n}",
    ]
    .iter()
    .map(|s| s.replace("{n}", number))
    .collect();
    expected.sort();
    assert_eq!(subjects, expected);
}

/// The text of `frontend-queries/storefront/<name>.graphql`.
fn storefront_operation(name: &str) -> String {
    let path = format!(
        "{}/../frontend-queries/storefront/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// The storefront's product page operation, as `frontend-queries/storefront/ProductPage.graphql`
/// sends it.
async fn product_page(shop: &TestShop, product: &str) -> Value {
    let query = storefront_operation("ProductPage");
    let slug = shop
        .data(
            "query($id: ID!) { product(id: $id) { slug } }",
            json!({ "id": product }),
            None,
        )
        .await["product"]["slug"]
        .clone();
    shop.data(&query, json!({ "slug": slug }), None).await["product"].clone()
}
