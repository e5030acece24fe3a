//! Guest checkout on orders alone: a guest cart (by its token) bought with an email and a code,
//! the order found again by its number and that email and by nothing else, and the limits per
//! client address on guest checkouts and lookups.

use kit::testing::{error_code, TestApp};
use orders::services::CartLine;
use orders::Orders;
use serde_json::{json, Value};

use crate::checkout::{start_with, CART, CUSTOMER, LAMP};
use crate::fakes::{address, Hold};
use crate::promotions::create;

/// The guest cart's token (what `createGuestCart` gave the browser) and its id.
const GUEST_TOKEN: &str = "gct_guest-token";
const GUEST_CART: &str = "cart_guest";

const PREVIEW: &str = "query($input: CheckoutPreviewInput!) { checkoutPreview(input: $input) {
    preview { token total { amount } discount { amount } } userErrors { field code message } } }";

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id number status email customer { id } total { amount } discounts { code } }
    userErrors { field code message } } }";

const LOOKUP: &str = "query($number: String!, $email: String!) {
    guestOrder(number: $number, email: $email) { id number status email total { amount }
      lines { sku quantity } } }";

fn fill_guest_cart(fakes: &crate::fakes::FakeServices, token: &str, quantity: i64) {
    fakes.with(|w| {
        w.carts.insert(
            (token.into(), GUEST_CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: "prod_lamp".into(),
                quantity,
            }],
        )
    });
}

fn shipping_address() -> Value {
    let a = address();
    json!({ "fullName": a.full_name, "line1": a.line1, "city": a.city, "region": a.region,
            "postalCode": a.postal_code, "countryCode": a.country_code })
}

fn guest_checkout(email: Option<&str>, key: &str, preview: Option<&str>) -> Value {
    json!({ "input": { "cartId": GUEST_CART, "cartToken": GUEST_TOKEN, "email": email,
        "shippingAddress": shipping_address(), "paymentToken": "tok_visa",
        "idempotencyKey": key, "previewToken": preview } })
}

async fn lookup(app: &TestApp<Orders>, number: &str, email: &str) -> Value {
    app.graphql(LOOKUP, json!({ "number": number, "email": email }), None)
        .await
}

#[tokio::test]
async fn a_guest_buys_with_a_code_and_finds_the_order_by_its_number_and_email_only() {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 10, 1, &[]).await;
        fill_guest_cart(&fakes, GUEST_TOKEN, 3);
        create(
            &app,
            json!({ "name": "Welcome", "code": "WELCOME10", "kind": "PERCENT_OFF",
                    "percent": "10", "currencyCode": "USD" }),
        )
        .await;
        // No sign-in: the cart's token stands for the guest.
        let applied = app
            .data(
                "mutation($input: PromotionCodeInput!) { applyPromotionCode(input: $input) {
                    codes userErrors { code } } }",
                json!({ "input": { "cartId": GUEST_CART, "cartToken": GUEST_TOKEN,
                    "code": "welcome10" } }),
                None,
            )
            .await;
        assert_eq!(applied["applyPromotionCode"]["codes"], json!(["WELCOME10"]));
        let shown = app
            .data(
                PREVIEW,
                json!({ "input": { "cartId": GUEST_CART, "cartToken": GUEST_TOKEN,
                    "shippingAddress": shipping_address() } }),
                None,
            )
            .await["checkoutPreview"]
            .clone();
        assert_eq!(shown["userErrors"], json!([]), "{shown}");
        // Three lamps at 10.00, 3.00 off, 5.00 shipping.
        assert_eq!(shown["preview"]["total"]["amount"], "32.00");
        let token = shown["preview"]["token"].as_str().unwrap();

        // A guest checkout needs the email the confirmation goes to.
        let refused = app
            .data(CHECKOUT, guest_checkout(None, "g-1", Some(token)), None)
            .await;
        let error = &refused["checkout"]["userErrors"][0];
        assert_eq!(
            (&error["code"], &error["field"]),
            (&json!("INVALID_INPUT"), &json!(["input", "email"])),
            "{refused}"
        );
        let bad = app
            .data(
                CHECKOUT,
                guest_checkout(Some("not an email"), "g-1", None),
                None,
            )
            .await;
        assert_eq!(
            bad["checkout"]["userErrors"][0]["field"],
            json!(["input", "email"])
        );

        let placed = app
            .data(
                CHECKOUT,
                guest_checkout(Some(" Guest@Example.COM "), "g-1", Some(token)),
                None,
            )
            .await["checkout"]
            .clone();
        assert_eq!(placed["userErrors"], json!([]), "{placed}");
        let order = &placed["order"];
        assert_eq!(order["status"], "PAID", "{order}");
        assert_eq!(order["email"], "guest@example.com");
        assert_eq!(order["customer"], Value::Null, "a guest has no account");
        assert_eq!(order["total"]["amount"], "32.00");
        assert_eq!(order["discounts"], json!([{ "code": "WELCOME10" }]));
        let (order_id, number) = (
            order["id"].as_str().unwrap().to_string(),
            order["number"].as_str().unwrap().to_string(),
        );
        fakes.with(|w| {
            assert_eq!(w.charges[&order_id].amount_minor, 3_200);
            assert_eq!(w.holds[&order_id].1, Hold::Confirmed);
            assert!(
                w.carts[&(GUEST_TOKEN.to_string(), GUEST_CART.to_string())].is_empty(),
                "the guest cart was emptied of what was bought"
            );
        });
        // The same checkout again (a lost answer) is the same order, charged once.
        let again = app
            .data(
                CHECKOUT,
                guest_checkout(Some("guest@example.com"), "g-1", Some(token)),
                None,
            )
            .await;
        assert_eq!(again["checkout"]["order"]["id"], json!(order_id));
        fakes.with(|w| assert_eq!(w.charges.len(), 1));

        // Found by number and email (any case); a wrong email or number finds nothing, alike.
        let found = lookup(&app, &number, "GUEST@example.com").await;
        assert_eq!(
            found["data"]["guestOrder"]["id"],
            json!(order_id),
            "{found}"
        );
        assert_eq!(
            found["data"]["guestOrder"]["lines"],
            json!([{ "sku": "LAMP-1", "quantity": 3 }])
        );
        for (number, email) in [
            (number.as_str(), "someone@example.com"),
            ("SO-000000-NOPE0000", "guest@example.com"),
            (number.as_str(), "not an email"),
        ] {
            let nothing = lookup(&app, number, email).await;
            assert_eq!(nothing, json!({ "data": { "guestOrder": null } }));
        }
        // A signed-in customer's order is not a guest's to find, even with the right email.
        let ada = app.tokens.customer(CUSTOMER);
        let hers = app
            .data(
                "mutation($input: CheckoutInput!) { checkout(input: $input) {
                    order { number email } userErrors { code } } }",
                json!({ "input": { "cartId": CART, "addressId": "adr_home",
                    "paymentToken": "tok_visa", "idempotencyKey": "ada-1" } }),
                Some(&ada),
            )
            .await["checkout"]["order"]
            .clone();
        let hers = lookup(&app, hers["number"].as_str().unwrap(), "ada@example.com").await;
        assert_eq!(hers["data"]["guestOrder"], Value::Null);

        // A signed-in customer does not check out a guest cart; nobody checks out without one.
        let mixed = app
            .data(
                CHECKOUT,
                guest_checkout(Some("ada@example.com"), "g-2", None),
                Some(&ada),
            )
            .await;
        assert_eq!(
            mixed["checkout"]["userErrors"][0]["field"],
            json!(["input", "cartToken"])
        );
        let nobody = app
            .graphql(
                CHECKOUT,
                json!({ "input": { "cartId": GUEST_CART, "shippingAddress": shipping_address(),
                    "paymentToken": "tok_visa", "idempotencyKey": "g-3" } }),
                None,
            )
            .await;
        assert_eq!(error_code(&nobody), "UNAUTHENTICATED");
        // Another guest's token does not open this cart.
        let stranger = app
            .data(
                PREVIEW,
                json!({ "input": { "cartId": GUEST_CART, "cartToken": "gct_other",
                    "shippingAddress": shipping_address() } }),
                None,
            )
            .await;
        assert_eq!(
            stranger["checkoutPreview"]["userErrors"][0]["code"],
            "CART_NOT_FOUND"
        );
    }
}

#[tokio::test]
async fn guest_checkouts_and_lookups_are_limited_per_client_address() {
    let (app, fakes) = start_with(
        false,
        100,
        1,
        &[
            ("ORDERS_GUEST_CHECKOUTS_PER_HOUR", "2"),
            ("ORDERS_GUEST_LOOKUPS_PER_HOUR", "3"),
        ],
    )
    .await;
    let mut placements = Vec::new();
    for key in ["a", "b", "c"] {
        fill_guest_cart(&fakes, GUEST_TOKEN, 1);
        let placed = app
            .data(
                CHECKOUT,
                guest_checkout(Some("guest@example.com"), key, None),
                None,
            )
            .await["checkout"]
            .clone();
        placements.push(placed);
    }
    assert_eq!(
        placements[0]["order"]["status"], "PAID",
        "{}",
        placements[0]
    );
    assert_eq!(
        placements[1]["order"]["status"], "PAID",
        "{}",
        placements[1]
    );
    assert_eq!(placements[2]["userErrors"][0]["code"], "TOO_MANY_ATTEMPTS");
    assert_eq!(
        placements[2]["order"],
        Value::Null,
        "nothing placed, nothing charged"
    );
    fakes.with(|w| assert_eq!(w.charges.len(), 2));
    // A client asking again after a lost answer gets its order: a repeat is not a new attempt.
    let repeat = app
        .data(
            CHECKOUT,
            guest_checkout(Some("guest@example.com"), "a", None),
            None,
        )
        .await["checkout"]
        .clone();
    assert_eq!(repeat["userErrors"], json!([]), "{repeat}");
    assert_eq!(repeat["order"]["id"], placements[0]["order"]["id"]);

    let number = placements[0]["order"]["number"].as_str().unwrap();
    for _ in 0..3 {
        let found = lookup(&app, number, "guest@example.com").await;
        assert_eq!(found["data"]["guestOrder"]["number"], json!(number));
    }
    let limited = lookup(&app, number, "guest@example.com").await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
}
