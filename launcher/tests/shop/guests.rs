//! Guest checkout through the router: a guest cart bought with an email and a promotion code
//! without an account; the confirmation goes to that email; the order is found with its number
//! and the email, and a wrong email finds nothing, the same as a wrong number.

use serde_json::{json, Value};

use crate::client::TestShop;
use crate::purchase::{address, stocked_product};
use crate::taxes::confirmation_email;

const LOOKUP: &str = "query($number: String!, $email: String!) {
    guestOrder(number: $number, email: $email) { id number status email total { amount }
      discount { amount } discounts { code } customer { id } } }";

#[tokio::test]
async fn a_guest_buys_with_a_code_gets_the_confirmation_and_finds_the_order_by_number_and_email() {
    let shop = TestShop::start(30).await;
    let admin = shop.admin_token().await;
    let made = shop
        .data(
            "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) {
                userErrors { message } } }",
            json!({ "input": { "name": "Welcome", "code": "WELCOME10", "kind": "PERCENT_OFF",
                "percent": "10", "currencyCode": "USD" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(made["createPromotion"]["userErrors"], json!([]), "{made}");
    let (product, _, _) = stocked_product(&shop, 5).await;

    // A guest: a cart by token, no sign-in anywhere.
    let created = shop
        .data(
            "mutation { createGuestCart { cartToken cart { id } } }",
            json!({}),
            None,
        )
        .await;
    let token = created["createGuestCart"]["cartToken"]
        .as_str()
        .unwrap()
        .to_string();
    let cart = created["createGuestCart"]["cart"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let added = shop
        .data(
            "mutation($input: CartLineInput!) { addCartLine(input: $input) {
                cart { itemCount } userErrors { code } } }",
            json!({ "input": { "cartToken": token, "productId": product, "quantity": 2 } }),
            None,
        )
        .await;
    assert_eq!(added["addCartLine"]["cart"]["itemCount"], 2, "{added}");
    let applied = shop
        .data(
            "mutation($input: PromotionCodeInput!) { applyPromotionCode(input: $input) {
                codes userErrors { code message } } }",
            json!({ "input": { "cartId": cart, "cartToken": token, "code": "welcome10" } }),
            None,
        )
        .await;
    assert_eq!(
        applied["applyPromotionCode"]["codes"],
        json!(["WELCOME10"]),
        "{applied}"
    );
    let preview = shop
        .data(
            "query($input: CheckoutPreviewInput!) { checkoutPreview(input: $input) {
                preview { token total { amount } } userErrors { code message } } }",
            json!({ "input": { "cartId": cart, "cartToken": token,
                "shippingAddress": address() } }),
            None,
        )
        .await["checkoutPreview"]
        .clone();
    assert_eq!(preview["userErrors"], json!([]), "{preview}");
    let total = preview["preview"]["total"]["amount"].clone();

    let (status, body) = shop
        .post(
            "mutation($input: CheckoutInput!) { checkout(input: $input) {
                order { id number status email total { amount } discount { amount }
                  discounts { code } customer { id } }
                userErrors { field code message } } }",
            json!({ "input": { "cartId": cart, "cartToken": token, "email": "Grace@Example.com",
                "shippingAddress": address(), "paymentToken": "tok_visa",
                "idempotencyKey": "guest-1", "previewToken": preview["preview"]["token"] } }),
            None,
        )
        .await;
    assert!(status == 200 && body.get("errors").is_none(), "{body:#}");
    let order = body["data"]["checkout"]["order"].clone();
    assert_eq!(order["status"], "PAID", "{body:#}");
    assert_eq!(order["email"], "grace@example.com");
    assert_eq!(
        order["total"]["amount"], total,
        "charged what the preview showed"
    );
    assert_eq!(order["discounts"], json!([{ "code": "WELCOME10" }]));
    assert_eq!(order["customer"], Value::Null);
    let number = order["number"].as_str().unwrap();

    // The confirmation goes to the guest's email.
    let (recipient, text) = confirmation_email(&shop, number).await;
    assert_eq!(recipient, "grace@example.com");
    let discount = order["discount"]["amount"].as_str().unwrap();
    assert!(text.contains(&format!("{discount} USD")), "{text}");

    // Number and email find it (any case); a wrong email or number find nothing, alike.
    let found = shop
        .data(
            LOOKUP,
            json!({ "number": number, "email": "GRACE@example.com" }),
            None,
        )
        .await;
    assert_eq!(found["guestOrder"], order, "{found}");
    for (number, email) in [
        (number, "ada@example.com"),
        ("SO-000000-NONE0000", "grace@example.com"),
    ] {
        let nothing = shop
            .data(LOOKUP, json!({ "number": number, "email": email }), None)
            .await;
        assert_eq!(nothing, json!({ "guestOrder": null }));
    }
    // The guest cart was emptied of what was bought.
    let left = shop
        .data(
            "query($t: String!) { guestCart(cartToken: $t) { itemCount } }",
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(left["guestCart"]["itemCount"], 0, "{left}");
}
