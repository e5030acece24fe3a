use serde_json::json;
use shop::ShopOptions;

use crate::client::{TempDir, TestShop};

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
    assert!(shop
        .login("kept@example.com", "persistent-password-1")
        .await["accessToken"]
        .is_string());
    shop.shop.stop().await;
}
