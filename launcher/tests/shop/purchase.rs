//! What a customer does on the way to an order, for the tests that need an order placed: a
//! stocked product, a filled cart, a shipping address, the checkout itself.

use serde_json::{json, Value};

use crate::client::TestShop;

pub(crate) const ORDER: &str = "id number status email
    subtotal { amount currencyCode } shipping { amount } total { amount }
    lines { sku name quantity unitPrice { amount } lineTotal { amount } product { id name } }
    statusHistory { status actor reason }
    shippingAddress { fullName city countryCode }
    payment { id status amount { amount } capturedAmount { amount } refundedAmount { amount }
        method { brand last4 } providerReference }";

const ADDRESS: &str = r#"{ "fullName": "Ada Lovelace", "line1": "1 Main St", "city": "London",
    "postalCode": "N1 9GU", "countryCode": "gb" }"#;

/// Minor units of a `Money`'s amount like "12.34".
pub(crate) fn minor(money: &Value) -> i64 {
    let amount = money["amount"].as_str().expect("an amount");
    let (whole, cents) = amount.split_once('.').expect("two decimals");
    whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

/// A product with at least `units` in stock, its price and stock.
pub(crate) async fn stocked_product(shop: &TestShop, units: i64) -> (String, String, i64) {
    let page = shop
        .data(
            "{ products(first: 20) { edges { node { id price { amount }
                availability { availableQuantity } } } } }",
            json!({}),
            None,
        )
        .await;
    page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["availability"]["availableQuantity"].as_i64().unwrap_or(0) >= units)
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_string(),
                n["price"]["amount"].as_str().unwrap().to_string(),
                n["availability"]["availableQuantity"].as_i64().unwrap(),
            )
        })
        .expect("a stocked demo product")
}

/// On-hand and reserved units of a product over all warehouses (an admin's view).
pub(crate) async fn stock(shop: &TestShop, admin: &str, product: &str) -> (i64, i64) {
    let data = shop
        .data(
            "query($id: ID!) { product(id: $id) { availability { warehouses { onHand reserved } } } }",
            json!({ "id": product }),
            Some(admin),
        )
        .await;
    data["product"]["availability"]["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .fold((0, 0), |(on_hand, reserved), w| {
            (
                on_hand + w["onHand"].as_i64().unwrap(),
                reserved + w["reserved"].as_i64().unwrap(),
            )
        })
}

pub(crate) async fn available(shop: &TestShop, product: &str) -> i64 {
    shop.data(
        "query($id: ID!) { product(id: $id) { availability { availableQuantity } } }",
        json!({ "id": product }),
        None,
    )
    .await["product"]["availability"]["availableQuantity"]
        .as_i64()
        .unwrap()
}

/// Adds `quantity` of `product` (a product with one variant) to the customer's cart; returns
/// the cart's id.
pub(crate) async fn fill_cart(
    shop: &TestShop,
    token: &str,
    product: &str,
    quantity: i64,
) -> String {
    add_line(
        shop,
        token,
        json!({ "productId": product, "quantity": quantity }),
    )
    .await
}

/// Adds a line (a `CartLineInput`) to the customer's cart; returns the cart's id.
pub(crate) async fn add_line(shop: &TestShop, token: &str, line: Value) -> String {
    let data = shop
        .data(
            "mutation($input: CartLineInput!) { addCartLine(input: $input) {
                cart { id } userErrors { code message } } }",
            json!({ "input": line }),
            Some(token),
        )
        .await;
    assert_eq!(data["addCartLine"]["userErrors"], json!([]), "{data}");
    data["addCartLine"]["cart"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Sends a checkout; the HTTP status and the body.
pub(crate) async fn send_checkout(shop: &TestShop, token: &str, input: &Value) -> (u16, Value) {
    shop.post(
        &format!(
            "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
                order {{ {ORDER} }} userErrors {{ field code message }} }} }}"
        ),
        json!({ "input": input }),
        Some(token),
    )
    .await
}

pub(crate) async fn checkout(shop: &TestShop, token: &str, input: Value) -> Value {
    let (status, body) = send_checkout(shop, token, &input).await;
    assert!(
        status == 200 && body.get("errors").is_none(),
        "{status}: {body:#}"
    );
    body["data"]["checkout"].clone()
}

pub(crate) fn address() -> Value {
    serde_json::from_str(ADDRESS).unwrap()
}
