//! Confirming addresses through the router, with the links read from the mail sink: a sign-up's
//! address confirmed once (and the orders its holder placed as a guest become theirs only
//! then), and an address changed only once the new one is confirmed, the old one told.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::TestShop;
use crate::purchase::{address, stocked_product};

const VERIFY: &str = "mutation($token: String!) { verifyEmail(input: { token: $token }) {
    user { email } userErrors { code } } }";

/// The newest email of `kind` to `email` (waiting until notifications wrote more than `seen`).
async fn newest_email(shop: &TestShop, kind: &str, email: &str, seen: usize) -> String {
    let notifications = shop.shop.subgraph::<notifications::Notifications>();
    let mut outcomes = notifications.service.outcomes();
    let pool = notifications.service.store.database().pool().clone();
    let written = async {
        loop {
            let bodies: Vec<String> = sqlx::query_scalar(
                "SELECT text_body FROM notifications WHERE kind = $1 AND email = $2 \
                 ORDER BY created_at",
            )
            .bind(kind)
            .bind(email)
            .fetch_all(&pool)
            .await
            .unwrap();
            if bodies.len() > seen {
                return bodies.last().unwrap().clone();
            }
            outcomes.changed().await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(20), written)
        .await
        .unwrap_or_else(|_| panic!("a {kind} email to {email} within 20 s"))
}

fn link_token(body: &str) -> String {
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/verify-email?token="))
        .unwrap_or_else(|| panic!("a link in {body}"));
    link.split("token=").nth(1).unwrap().to_string()
}

/// A guest's paid order placed with `email`.
async fn guest_order(shop: &TestShop, email: &str) -> String {
    let (product, _, _) = stocked_product(shop, 5).await;
    let created = shop
        .data(
            "mutation { createGuestCart { cartToken cart { id } } }",
            json!({}),
            None,
        )
        .await["createGuestCart"]
        .clone();
    let (token, cart) = (created["cartToken"].clone(), created["cart"]["id"].clone());
    shop.data(
        "mutation($input: CartLineInput!) { addCartLine(input: $input) { userErrors { code } } }",
        json!({ "input": { "cartToken": token, "productId": product, "quantity": 1 } }),
        None,
    )
    .await;
    let placed = shop
        .data(
            "mutation($input: CheckoutInput!) { checkout(input: $input) {
                order { id status } userErrors { code message } } }",
            json!({ "input": { "cartId": cart, "cartToken": token, "email": email,
                "shippingAddress": address(), "paymentToken": "tok_visa",
                "idempotencyKey": format!("guest-{email}") } }),
            None,
        )
        .await["checkout"]
        .clone();
    assert_eq!(placed["order"]["status"], "PAID", "{placed}");
    placed["order"]["id"].as_str().unwrap().to_string()
}

async fn my_orders(shop: &TestShop, token: &str) -> Vec<Value> {
    shop.data(
        "{ me { orders(first: 10) { edges { node { id } } } } }",
        json!({}),
        Some(token),
    )
    .await["me"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect()
}

#[tokio::test]
async fn a_confirmed_address_brings_its_guest_orders_and_a_changed_one_replaces_the_old() {
    let shop = TestShop::start(10).await;
    let email = "lin@example.com";
    let order = guest_order(&shop, email).await;

    // Signing up with the address gives nothing until it is confirmed.
    let registered = shop.register(email, "quiet-harbour-77", "Lin").await;
    let token = registered["accessToken"].as_str().unwrap().to_string();
    let me = shop
        .data("{ me { emailVerified } }", json!({}), Some(&token))
        .await;
    assert_eq!(me["me"]["emailVerified"], false);
    assert!(my_orders(&shop, &token).await.is_empty());

    let orders = shop.shop.subgraph::<orders::Orders>();
    let mut looked = orders.service.emails_verified();
    let seen = *looked.borrow_and_update();
    let link = link_token(&newest_email(&shop, "email_verification", email, 0).await);
    let verified = shop.data(VERIFY, json!({ "token": link }), None).await;
    assert_eq!(
        verified["verifyEmail"]["user"]["email"], email,
        "{verified}"
    );
    // The link works once.
    let again = shop.data(VERIFY, json!({ "token": link }), None).await;
    assert_eq!(
        again["verifyEmail"]["userErrors"][0]["code"],
        "INVALID_VERIFICATION_TOKEN"
    );
    tokio::time::timeout(Duration::from_secs(20), looked.wait_for(|n| *n > seen))
        .await
        .expect("orders sees the confirmed address within 20 s")
        .unwrap();
    assert_eq!(my_orders(&shop, &token).await, vec![json!(order)]);
    let me = shop
        .data("{ me { emailVerified } }", json!({}), Some(&token))
        .await;
    assert_eq!(me["me"]["emailVerified"], true);

    // A new address: the password is needed, and it replaces the old one once confirmed.
    const CHANGE: &str = "mutation($email: String!, $password: String!) {
        changeEmail(input: { newEmail: $email, password: $password }) { success userErrors { code } } }";
    let wrong = shop
        .data(
            CHANGE,
            json!({ "email": "lin@example.org", "password": "not-my-password" }),
            Some(&token),
        )
        .await;
    assert_eq!(
        wrong["changeEmail"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let taken = shop
        .data(
            CHANGE,
            json!({ "email": shop::DEMO_CUSTOMER.0, "password": "quiet-harbour-77" }),
            Some(&token),
        )
        .await;
    assert_eq!(taken["changeEmail"]["userErrors"][0]["code"], "EMAIL_TAKEN");
    let asked = shop
        .data(
            CHANGE,
            json!({ "email": "Lin@Example.org", "password": "quiet-harbour-77" }),
            Some(&token),
        )
        .await;
    assert_eq!(asked["changeEmail"]["success"], true, "{asked}");
    let me = shop.data("{ me { email } }", json!({}), Some(&token)).await;
    assert_eq!(me["me"]["email"], email, "unchanged until confirmed");

    let link = link_token(&newest_email(&shop, "email_verification", "lin@example.org", 0).await);
    let verified = shop.data(VERIFY, json!({ "token": link }), None).await;
    assert_eq!(verified["verifyEmail"]["user"]["email"], "lin@example.org");
    let me = shop
        .data("{ me { email emailVerified } }", json!({}), Some(&token))
        .await;
    assert_eq!(
        me["me"],
        json!({ "email": "lin@example.org", "emailVerified": true })
    );
    // The old address is told, and the new one signs in.
    let notice = newest_email(&shop, "email_changed", email, 0).await;
    assert!(notice.contains("lin@example.org"), "{notice}");
    shop.token("lin@example.org", "quiet-harbour-77").await;
    assert!(shop.login(email, "quiet-harbour-77").await["accessToken"].is_null());
}
