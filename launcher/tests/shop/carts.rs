//! Carts through the router: a guest fills a cart, signs in, and the carts merge; lines show the
//! catalog's products and prices.

use serde_json::{json, Value};

use crate::client::{error_code, TestShop};

const CART: &str = "itemCount subtotal { amount currencyCode }
    lines { quantity available unitPrice { amount } product { id name availability { inStock } } }";

async fn first_products(shop: &TestShop, n: usize) -> Vec<(String, String)> {
    let page = shop
        .data(
            "query($n: Int) { products(first: $n) { edges { node { id name } } } }",
            json!({ "n": n }),
            None,
        )
        .await;
    page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_string(),
                e["node"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn add(shop: &TestShop, input: Value, token: Option<&str>) -> Value {
    shop.data(
        &format!("mutation($input: CartLineInput!) {{ addCartLine(input: $input) {{ cart {{ {CART} }} userErrors {{ code }} }} }}"),
        json!({ "input": input }),
        token,
    )
    .await["addCartLine"]
        .clone()
}

#[tokio::test]
async fn a_guest_adds_to_a_cart_signs_in_and_the_carts_merge() {
    let shop = TestShop::start(12).await;
    let products = first_products(&shop, 4).await;
    let (a, a_name) = products[2].clone();
    let (b, _) = products[3].clone();

    let created = shop
        .data(
            "mutation { createGuestCart { cartToken } }",
            json!({}),
            None,
        )
        .await;
    let cart_token = created["createGuestCart"]["cartToken"]
        .as_str()
        .unwrap()
        .to_string();
    let guest = add(
        &shop,
        json!({ "cartToken": cart_token, "productId": a, "quantity": 2 }),
        None,
    )
    .await;
    assert_eq!(guest["userErrors"], json!([]), "{guest}");
    let line = &guest["cart"]["lines"][0];
    assert_eq!(
        line["product"]["name"],
        json!(a_name),
        "the catalog's product, through federation"
    );
    assert_eq!(
        line["product"]["availability"]["inStock"], true,
        "and the inventory's field"
    );

    // The customer already had b in their cart; after login the guest cart merges into it.
    let customer = shop.customer_token().await;
    add(
        &shop,
        json!({ "productId": b, "quantity": 1 }),
        Some(&customer),
    )
    .await;
    add(
        &shop,
        json!({ "productId": a, "quantity": 1 }),
        Some(&customer),
    )
    .await;
    let merged = shop
        .data(
            &format!("mutation($input: MergeGuestCartInput!) {{ mergeGuestCart(input: $input) {{ cart {{ {CART} }} userErrors {{ code }} }} }}"),
            json!({ "input": { "cartToken": cart_token } }),
            Some(&customer),
        )
        .await;
    let cart = &merged["mergeGuestCart"]["cart"];
    assert_eq!(cart["itemCount"], 4, "{merged}");
    let quantities: Vec<(String, i64)> = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"]["id"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(quantities.contains(&(a.clone(), 3)), "{quantities:?}");
    assert!(quantities.contains(&(b.clone(), 1)), "{quantities:?}");

    // The same cart as `me { cart }` (User.cart) and as `cart`; the guest cart is gone.
    let me = shop
        .data(
            &format!("{{ me {{ cart {{ {CART} }} }} cart {{ {CART} }} }}"),
            json!({}),
            Some(&customer),
        )
        .await;
    assert_eq!(me["me"]["cart"], *cart);
    assert_eq!(me["cart"], *cart);
    let gone = shop
        .data(
            "query($t: String!) { guestCart(cartToken: $t) { itemCount } }",
            json!({ "t": cart_token }),
            None,
        )
        .await;
    assert_eq!(gone["guestCart"], Value::Null);

    // Nobody reads another user's cart, and an anonymous caller has none.
    let admin = shop.admin_token().await;
    let (_, body) = shop.post("{ cart { itemCount } }", json!({}), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let admin_cart = shop
        .data("{ cart { itemCount } }", json!({}), Some(&admin))
        .await;
    assert_eq!(admin_cart["cart"], Value::Null);
}
