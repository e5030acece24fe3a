//! The carts API over HTTP, with a real catalog subgraph behind its price reads.

use carts::Carts;
use catalog::Catalog;
use kit::testing::{error_code, spawn_app_with, TestApp};
use serde_json::{json, Value};

struct Shop {
    carts: TestApp<Carts>,
    catalog: TestApp<Catalog>,
    /// Active demo products: (id, price amount).
    products: Vec<(String, String)>,
}

const CART: &str = "id itemCount subtotal { amount currencyCode }
    lines { product { id } quantity unitPrice { amount } lineTotal { amount } available }";

impl Shop {
    async fn start() -> Self {
        let catalog = catalog::spawn_with_demo(12).await;
        let page = catalog
            .data(
                "{ products(first: 5) { edges { node { id price { amount } } } } }",
                json!({}),
                None,
            )
            .await;
        let products = page["products"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["node"]["id"].as_str().unwrap().to_string(),
                    e["node"]["price"]["amount"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let url = catalog.url();
        let carts = spawn_app_with::<Carts>(|env| env.set("CATALOG_URL", url)).await;
        Self {
            carts,
            catalog,
            products,
        }
    }

    async fn mutate(
        &self,
        field: &str,
        input_type: &str,
        input: Value,
        token: Option<&str>,
    ) -> Value {
        let query = format!(
            "mutation($input: {input_type}!) {{ {field}(input: $input) {{ cart {{ {CART} }} userErrors {{ field code message }} }} }}"
        );
        let body = self
            .carts
            .graphql(&query, json!({ "input": input }), token)
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        body["data"][field].clone()
    }

    async fn add(&self, input: Value, token: Option<&str>) -> Value {
        self.mutate("addCartLine", "CartLineInput", input, token)
            .await
    }

    async fn guest_cart(&self) -> String {
        let data = self
            .carts
            .data(
                "mutation { createGuestCart { cartToken cart { id itemCount } } }",
                json!({}),
                None,
            )
            .await;
        assert_eq!(data["createGuestCart"]["cart"]["itemCount"], 0);
        data["createGuestCart"]["cartToken"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn cents(amount: &str) -> i64 {
    let (whole, fraction) = amount.split_once('.').unwrap();
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

#[tokio::test]
async fn a_guest_fills_a_cart_with_totals_at_current_prices() {
    let shop = Shop::start().await;
    let token = shop.guest_cart().await;
    let (a, price_a) = shop.products[0].clone();
    let (b, price_b) = shop.products[1].clone();
    shop.add(
        json!({ "cartToken": token, "productId": a, "quantity": 2 }),
        None,
    )
    .await;
    let payload = shop
        .add(
            json!({ "cartToken": token, "productId": b, "quantity": 1 }),
            None,
        )
        .await;
    assert_eq!(payload["userErrors"], json!([]));
    let cart = &payload["cart"];
    assert_eq!(cart["itemCount"], 3);
    assert_eq!(cart["lines"][0]["quantity"], 2);
    assert_eq!(
        cents(cart["lines"][0]["lineTotal"]["amount"].as_str().unwrap()),
        2 * cents(&price_a)
    );
    assert_eq!(
        cents(cart["subtotal"]["amount"].as_str().unwrap()),
        2 * cents(&price_a) + cents(&price_b)
    );

    let updated = shop
        .mutate(
            "updateCartLine",
            "CartLineInput",
            json!({ "cartToken": token, "productId": a, "quantity": 5 }),
            None,
        )
        .await;
    assert_eq!(updated["cart"]["itemCount"], 6);
    let removed = shop
        .mutate(
            "removeCartLine",
            "RemoveCartLineInput",
            json!({ "cartToken": token, "productId": b }),
            None,
        )
        .await;
    assert_eq!(removed["cart"]["itemCount"], 5);
    let read = shop
        .carts
        .data(
            &format!("query($t: String!) {{ guestCart(cartToken: $t) {{ {CART} }} }}"),
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(read["guestCart"], removed["cart"]);
    let cleared = shop
        .mutate(
            "clearCart",
            "ClearCartInput",
            json!({ "cartToken": token }),
            None,
        )
        .await;
    assert_eq!(cleared["cart"]["itemCount"], 0);
    assert_eq!(cleared["cart"]["subtotal"], Value::Null);
}

#[tokio::test]
async fn bad_input_is_a_user_error_and_changes_nothing() {
    let shop = Shop::start().await;
    let token = shop.guest_cart().await;
    let (a, _) = shop.products[0].clone();
    shop.add(
        json!({ "cartToken": token, "productId": a, "quantity": 98 }),
        None,
    )
    .await;
    for (input, code) in [
        (
            json!({ "cartToken": token, "productId": a, "quantity": 0 }),
            "INVALID_INPUT",
        ),
        (
            json!({ "cartToken": token, "productId": a, "quantity": -3 }),
            "INVALID_INPUT",
        ),
        (
            json!({ "cartToken": token, "productId": a, "quantity": 1000 }),
            "INVALID_INPUT",
        ),
        (
            json!({ "cartToken": token, "productId": a, "quantity": 2 }),
            "QUANTITY_LIMIT",
        ),
        (
            json!({ "cartToken": token, "productId": primitives::id::new_id("prod"), "quantity": 1 }),
            "UNKNOWN_PRODUCT",
        ),
        (
            json!({ "cartToken": token, "productId": "bogus", "quantity": 1 }),
            "UNKNOWN_PRODUCT",
        ),
        (
            json!({ "cartToken": "gct_guessed", "productId": a, "quantity": 1 }),
            "NOT_FOUND",
        ),
        (
            json!({ "cartToken": format!("gct_{}", "A".repeat(43)), "productId": a, "quantity": 1 }),
            "NOT_FOUND",
        ),
    ] {
        let payload = shop.add(input.clone(), None).await;
        assert_eq!(payload["cart"], Value::Null, "{input}");
        assert_eq!(payload["userErrors"][0]["code"], code, "{input}: {payload}");
    }
    let read = shop
        .carts
        .data(
            "query($t: String!) { guestCart(cartToken: $t) { itemCount } }",
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(read["guestCart"]["itemCount"], 98);
    let guessed = shop
        .carts
        .data(
            "{ guestCart(cartToken: \"gct_guessed\") { itemCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(guessed["guestCart"], Value::Null);
}

#[tokio::test]
async fn an_archived_product_stays_in_the_cart_flagged_and_out_of_the_subtotal() {
    let shop = Shop::start().await;
    let user = shop.carts.tokens.customer("usr_flag");
    let (a, _) = shop.products[0].clone();
    let (b, price_b) = shop.products[1].clone();
    shop.add(json!({ "productId": a, "quantity": 1 }), Some(&user))
        .await;
    shop.add(json!({ "productId": b, "quantity": 2 }), Some(&user))
        .await;
    shop.catalog
        .subgraph
        .service
        .archive_product(&a)
        .await
        .unwrap();
    let cart = shop
        .carts
        .data(&format!("{{ cart {{ {CART} }} }}"), json!({}), Some(&user))
        .await;
    let lines = cart["cart"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["available"], false);
    assert_eq!(lines[1]["available"], true);
    assert_eq!(
        cents(cart["cart"]["subtotal"]["amount"].as_str().unwrap()),
        2 * cents(&price_b)
    );
    // And it cannot be added again.
    let again = shop
        .add(json!({ "productId": a, "quantity": 1 }), Some(&user))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "PRODUCT_UNAVAILABLE");
}

#[tokio::test]
async fn a_user_sees_only_their_own_cart() {
    let shop = Shop::start().await;
    let (alice, bob) = (
        shop.carts.tokens.customer("usr_alice"),
        shop.carts.tokens.customer("usr_bob"),
    );
    let (a, _) = shop.products[0].clone();
    shop.add(json!({ "productId": a, "quantity": 3 }), Some(&alice))
        .await;
    let mine = shop
        .carts
        .data("{ cart { itemCount } }", json!({}), Some(&alice))
        .await;
    assert_eq!(mine["cart"]["itemCount"], 3);
    let theirs = shop
        .carts
        .data("{ cart { itemCount } }", json!({}), Some(&bob))
        .await;
    assert_eq!(theirs["cart"], Value::Null);
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { cart { itemCount } } } }";
    let representations = json!({ "r": [{ "__typename": "User", "id": "usr_alice" }] });
    let body = shop
        .carts
        .graphql(query, representations.clone(), Some(&bob))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = shop
        .carts
        .graphql(query, representations.clone(), Some(&alice))
        .await;
    assert_eq!(body["data"]["_entities"][0]["cart"]["itemCount"], 3);
    let body = shop
        .carts
        .graphql("{ cart { itemCount } }", json!({}), None)
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = shop
        .carts
        .graphql("mutation { addCartLine(input: { productId: \"prod_x\", quantity: 1 }) { userErrors { code } } }", json!({}), None)
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_users_cart_at_sign_in() {
    let shop = Shop::start().await;
    let user = shop.carts.tokens.customer("usr_merge");
    let token = shop.guest_cart().await;
    let (a, _) = shop.products[0].clone();
    let (b, _) = shop.products[1].clone();
    shop.add(
        json!({ "cartToken": token, "productId": a, "quantity": 60 }),
        None,
    )
    .await;
    shop.add(
        json!({ "cartToken": token, "productId": b, "quantity": 1 }),
        None,
    )
    .await;
    shop.add(json!({ "productId": a, "quantity": 50 }), Some(&user))
        .await;
    let merged = shop
        .mutate(
            "mergeGuestCart",
            "MergeGuestCartInput",
            json!({ "cartToken": token }),
            Some(&user),
        )
        .await;
    assert_eq!(merged["userErrors"], json!([]));
    assert_eq!(
        merged["cart"]["itemCount"], 100,
        "99 of a (capped) and 1 of b"
    );
    let again = shop
        .mutate(
            "mergeGuestCart",
            "MergeGuestCartInput",
            json!({ "cartToken": token }),
            Some(&user),
        )
        .await;
    assert_eq!(again["userErrors"][0]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_product_priced_in_another_currency_than_the_shops_never_enters_a_cart() {
    let shop = Shop::start().await;
    // Carts of a shop selling in EUR, before a catalog whose prices are in USD.
    let url = shop.catalog.url();
    let euro_carts =
        spawn_app_with::<Carts>(|env| env.set("CATALOG_URL", url).set("SHOP_CURRENCY", "EUR"))
            .await;
    let token = euro_carts.tokens.customer("usr_euro");
    let body = euro_carts
        .graphql(
            "mutation($input: CartLineInput!) { addCartLine(input: $input) {
                cart { itemCount } userErrors { field code message } } }",
            json!({ "input": { "productId": shop.products[0].0, "quantity": 1 } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        body["data"]["addCartLine"]["userErrors"],
        json!([{ "field": ["input", "productId"], "code": "PRODUCT_UNAVAILABLE",
            "message": "this product is priced in USD; the shop sells in EUR" }]),
        "{body:#}"
    );
    assert!(body["data"]["addCartLine"]["cart"].is_null(), "{body:#}");
}
