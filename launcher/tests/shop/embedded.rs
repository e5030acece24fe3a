use serde_json::json;
use shop::ShopOptions;

use crate::client::{TempDir, TestShop};
use crate::purchase::{address, available, checkout, fill_cart, stocked_product};

#[tokio::test]
async fn the_embedded_shop_keeps_its_data_directory_between_starts() {
    let data_dir = TempDir::new();
    let mut options = ShopOptions::new(&data_dir.0);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 200;

    let shop = TestShop::with_options(
        options.clone(),
        TempDir(std::env::temp_dir().join("unused-shop-dir")),
    )
    .await;
    assert!(data_dir.0.join("accounts.db").exists());
    assert!(data_dir.0.join("catalog.db").exists());
    assert!(data_dir.0.join("search").is_dir());
    let first = shop.search("", json!({ "first": 1 })).await["totalCount"].clone();
    assert!(first.as_i64().unwrap() > 150);
    let registered = shop
        .register("kept@example.com", "persistent-password-1", "Kept")
        .await;
    assert_eq!(registered["userErrors"], json!([]));
    // A checkout on SQLite and the embedded bus, with the launcher's test card processor.
    let token = registered["accessToken"].as_str().unwrap().to_string();
    let (product, _, before) = stocked_product(&shop, 3).await;
    let cart = fill_cart(&shop, &token, &product, 2).await;
    let placed = checkout(
        &shop,
        &token,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_mastercard",
            "idempotencyKey": "embedded" }),
    )
    .await;
    // Shipped at once in the embedded shop: it may be fulfilled already.
    let status = placed["order"]["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{placed:#}");
    assert_eq!(placed["order"]["payment"]["method"]["brand"], "mastercard");
    assert_eq!(available(&shop, &product).await, before - 2);
    assert!(data_dir.0.join("orders.db").exists());
    // The welcome and order emails, written to the data directory (no SMTP configured).
    let mut sent = shop
        .shop
        .subgraph::<notifications::Notifications>()
        .service
        .outcomes();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sent.wait_for(|n| *n >= 3),
    )
    .await
    .expect("three emails within 20 s")
    .unwrap();
    let mails = std::fs::read_dir(data_dir.0.join("mail")).unwrap().count();
    assert!(mails >= 3, "{mails} emails written");
    shop.shop.stop().await;

    // Second start: no second demo load, the account and the index are still there.
    let shop = TestShop::with_options(
        options,
        TempDir(std::env::temp_dir().join("unused-shop-dir")),
    )
    .await;
    assert_eq!(
        shop.search("", json!({ "first": 1 })).await["totalCount"],
        first
    );
    let all = shop
        .data("{ products(first: 1) { totalCount } }", json!({}), None)
        .await;
    assert_eq!(all["products"]["totalCount"], first);
    let token = shop
        .token("kept@example.com", "persistent-password-1")
        .await;
    let orders = shop
        .data(
            "{ me { orders(first: 5) { edges { node { status payment { status } } } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let order = &orders["me"]["orders"]["edges"][0]["node"];
    let status = order["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{orders}");
    assert_eq!(order["payment"]["status"], "CAPTURED");
    // The card processor started again with the shop: a new checkout is charged and paid (its
    // books kept, so its ids never repeat the first run's).
    let cart = fill_cart(&shop, &token, &product, 1).await;
    let again = checkout(
        &shop,
        &token,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "embedded-after-restart" }),
    )
    .await;
    let status = again["order"]["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{again:#}");
    assert_ne!(
        again["order"]["payment"]["providerReference"],
        placed["order"]["payment"]["providerReference"]
    );
    shop.shop.stop().await;
}
