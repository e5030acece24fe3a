//! A shop's data from before variants, made by that version of the shop through its own API
//! (`launcher/tests/fixtures/before-variants/`: 30 demo products, a paid order of two units of a
//! product, a cart with one unit of another): today's shop starts on it, and the old product
//! ids, slugs, SKUs, the cart and the order resolve and check out.

use serde_json::json;
use shop::ShopOptions;

use crate::client::{TempDir, TestShop};
use crate::purchase::{address, available, checkout};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/before-variants"
);

#[tokio::test]
async fn a_shop_from_before_variants_migrates_and_sells_on() {
    let data_dir = TempDir::new();
    for entry in std::fs::read_dir(FIXTURE).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, data_dir.0.join(path.file_name().unwrap())).unwrap();
    }
    let mut options = ShopOptions::new(&data_dir.0);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 30;
    let shop = TestShop::with_options(options, data_dir).await;
    let customer = shop
        .token(shop::DEMO_CUSTOMER.0, shop::DEMO_CUSTOMER.1)
        .await;

    // The order placed before: its line now names the product's default variant.
    let orders = shop
        .data(
            "{ me { orders(first: 5) { edges { node { id status lines { sku quantity variantTitle
                variant { id } product { id slug sku } } } } } } }",
            json!({}),
            Some(&customer),
        )
        .await;
    let edges = orders["me"]["orders"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{orders:#}");
    let line = &edges[0]["node"]["lines"][0];
    let ordered = line["product"].clone();
    let product_id = ordered["id"].as_str().unwrap();
    assert_eq!(line["variant"]["id"], format!("var_{product_id}"));
    assert_eq!(
        (line["quantity"].as_i64(), line["variantTitle"].as_str()),
        (Some(2), Some(""))
    );
    assert_eq!(line["sku"], ordered["sku"]);

    // Its id, slug and SKU find it, sold as its default variant with its stock.
    let by_id = shop
        .data(
            "query($id: ID!) { product(id: $id) { slug variants { id sku } availability { availableQuantity } } }",
            json!({ "id": product_id }),
            None,
        )
        .await["product"]
        .clone();
    assert_eq!(
        by_id["variants"],
        json!([{ "id": format!("var_{product_id}"), "sku": ordered["sku"] }])
    );
    let by_slug = shop
        .data(
            "query($slug: String!) { product(slug: $slug) { id } }",
            json!({ "slug": ordered["slug"] }),
            None,
        )
        .await;
    assert_eq!(by_slug["product"]["id"], product_id);
    let by_sku = shop
        .data(
            "query($sku: String!) { product(sku: $sku) { id } }",
            json!({ "sku": ordered["sku"] }),
            None,
        )
        .await;
    assert_eq!(by_sku["product"]["id"], product_id);

    // The cart filled before holds the other product's default variant, and checks out.
    let cart = shop
        .data(
            "{ cart { id lines { quantity variant { id } product { id } } } }",
            json!({}),
            Some(&customer),
        )
        .await["cart"]
        .clone();
    let carted = cart["lines"][0]["product"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        cart["lines"],
        json!([{ "quantity": 1, "variant": { "id": format!("var_{carted}") }, "product": { "id": carted } }])
    );
    let before = available(&shop, &carted).await;
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart["id"], "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "after-variants" }),
    )
    .await;
    let status = placed["order"]["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{placed:#}");
    assert_eq!(available(&shop, &carted).await, before - 1);
}
