//! Promotions on orders alone: a code for 10% off a collection with automatic free shipping
//! over 50.00 in the preview and the order; codes refused with their reason (ended, used up,
//! below the minimum, unknown); a discount larger than the order; a promotion ending between
//! preview and checkout; a declined or cancelled checkout giving its use back; and a thousand
//! buyers racing for a code limited to a hundred uses.

use std::sync::Arc;

use commerce::money::{CurrencyCode, Money};
use kit::testing::TestApp;
use orders::services::CartLine;
use orders::Orders;
use serde_json::{json, Value};

use crate::checkout::{start_with, CART, CUSTOMER, LAMP};
use crate::fakes::{customer, FakeServices, DECLINED};

const CREATE: &str = "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) {
    promotion { id code uses active } userErrors { field code message } } }";

const APPLY: &str = "mutation($input: PromotionCodeInput!) { applyPromotionCode(input: $input) {
    codes userErrors { field code message } } }";

const PREVIEW: &str = "query($input: CheckoutPreviewInput!) { checkoutPreview(input: $input) {
    preview { token promotionCodes subtotal { amount } discount { amount } shipping { amount }
      shippingDiscount { amount } total { amount } discounts { name code amount { amount } } }
    userErrors { code message } } }";

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id status discount { amount } shippingDiscount { amount } total { amount }
      discounts { name code amount { amount } } }
    userErrors { field code message } } }";

/// Orders on PostgreSQL with lamps (10.00 each, in the collection `col_lights`) in stock and
/// `quantity` in Ada's cart.
async fn shop(quantity: i64) -> (TestApp<Orders>, Arc<FakeServices>) {
    start_with(false, 10_000, quantity, &[]).await
}

/// Like [`shop`], on SQLite (the embedded shop's storage).
async fn embedded_shop(quantity: i64) -> (TestApp<Orders>, Arc<FakeServices>) {
    start_with(true, 10_000, quantity, &[]).await
}

pub(crate) async fn create(app: &TestApp<Orders>, input: Value) -> Value {
    let admin = app.tokens.admin("usr_admin");
    let created = app
        .data(CREATE, json!({ "input": input }), Some(&admin))
        .await;
    let payload = created["createPromotion"].clone();
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    payload["promotion"].clone()
}

async fn apply(app: &TestApp<Orders>, customer: &str, cart: &str, code: &str) -> Value {
    let token = app.tokens.customer(customer);
    app.data(
        APPLY,
        json!({ "input": { "cartId": cart, "code": code } }),
        Some(&token),
    )
    .await["applyPromotionCode"]
        .clone()
}

async fn preview(app: &TestApp<Orders>) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        PREVIEW,
        json!({ "input": { "cartId": CART, "addressId": "adr_home" } }),
        Some(&ada),
    )
    .await["checkoutPreview"]
        .clone()
}

async fn checkout_as(
    app: &TestApp<Orders>,
    customer: &str,
    cart: &str,
    card: &str,
    key: &str,
    preview: Option<&str>,
) -> Value {
    let token = app.tokens.customer(customer);
    app.data(
        CHECKOUT,
        json!({ "input": { "cartId": cart, "addressId": "adr_home", "paymentToken": card,
                "idempotencyKey": key, "previewToken": preview } }),
        Some(&token),
    )
    .await["checkout"]
        .clone()
}

fn amount(value: &Value) -> &str {
    value["amount"].as_str().expect("an amount")
}

fn usd(amount: &str) -> i64 {
    Money::parse(amount, CurrencyCode::Usd).unwrap().minor_units
}

#[tokio::test]
async fn a_collection_code_and_free_shipping_over_fifty_show_in_the_preview_and_the_order() {
    for (app, fakes) in [shop(6).await, embedded_shop(6).await] {
        collection_code_and_free_shipping(app, fakes).await;
    }
}

async fn collection_code_and_free_shipping(app: TestApp<Orders>, fakes: Arc<FakeServices>) {
    create(
        &app,
        json!({ "name": "Summer lights", "code": "Summer10", "kind": "PERCENT_OFF",
                "percent": "10", "appliesTo": "COLLECTIONS", "appliesToIds": ["col_lights"],
                "currencyCode": "USD" }),
    )
    .await;
    create(
        &app,
        json!({ "name": "Free shipping over 50", "kind": "FREE_SHIPPING",
                "minimumSubtotal": "50.00", "currencyCode": "USD" }),
    )
    .await;
    // Codes are case-insensitive.
    let applied = apply(&app, CUSTOMER, CART, " summer10 ").await;
    assert_eq!(applied["codes"], json!(["SUMMER10"]), "{applied}");

    // Six lamps at 10.00: 6.00 off, and the 5.00 shipping free.
    let shown = preview(&app).await;
    assert_eq!(shown["userErrors"], json!([]), "{shown}");
    let shown = &shown["preview"];
    assert_eq!(shown["promotionCodes"], json!(["SUMMER10"]));
    assert_eq!(
        shown["discounts"],
        json!([
            { "name": "Summer lights", "code": "SUMMER10", "amount": { "amount": "6.00" } },
            { "name": "Free shipping over 50", "code": null, "amount": { "amount": "5.00" } },
        ])
    );
    assert_eq!(amount(&shown["discount"]), "6.00");
    assert_eq!(amount(&shown["shippingDiscount"]), "5.00");
    assert_eq!(amount(&shown["total"]), "54.00");
    let token = shown["token"].as_str().unwrap();
    let paid = checkout_as(&app, CUSTOMER, CART, "tok_visa", "k-1", Some(token)).await;
    assert_eq!(paid["userErrors"], json!([]), "{paid}");
    let order = &paid["order"];
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["discounts"], shown["discounts"]);
    assert_eq!(amount(&order["total"]), "54.00");
    let order_id = order["id"].as_str().unwrap();
    fakes.with(|w| assert_eq!(w.charges[order_id].amount_minor, 5_400));

    // The code was for that order: the cart's next order starts without it.
    fakes.with(|w| {
        w.carts.insert(
            (CUSTOMER.into(), CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: "prod_lamp".into(),
                quantity: 6,
            }],
        )
    });
    let next = preview(&app).await;
    assert_eq!(next["preview"]["promotionCodes"], json!([]), "{next}");
    assert_eq!(
        next["preview"]["discounts"][0]["name"],
        "Free shipping over 50"
    );
}

#[tokio::test]
async fn ended_used_up_below_minimum_and_unknown_codes_are_refused_saying_why() {
    let (app, fakes) = shop(1).await;
    let code = |code: &str, extra: Value| {
        let mut input = json!({ "name": code, "code": code, "kind": "AMOUNT_OFF",
            "amount": "1.00", "currencyCode": "USD" });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        input
    };
    create(
        &app,
        code("ENDED", json!({ "endsAt": "2020-01-01T00:00:00Z" })),
    )
    .await;
    create(&app, code("BIG100", json!({ "minimumSubtotal": "100.00" }))).await;
    create(&app, code("ONCE", json!({ "usageLimit": 1 }))).await;
    // Someone else uses ONCE up.
    fakes.with(|w| {
        w.carts.insert(
            ("usr_bob".into(), "cart_bob".into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: "prod_lamp".into(),
                quantity: 1,
            }],
        );
        w.customers
            .insert("usr_bob".into(), customer("bob@example.com", "adr_home"));
    });
    assert_eq!(
        apply(&app, "usr_bob", "cart_bob", "once").await["userErrors"],
        json!([])
    );
    let bobs = checkout_as(&app, "usr_bob", "cart_bob", "tok_visa", "b-1", None).await;
    assert_eq!(bobs["order"]["status"], "PAID", "{bobs}");

    for (code, error, message) in [
        ("ended", "PROMOTION_UNAVAILABLE", "ENDED has ended"),
        (
            "big100",
            "PROMOTION_UNAVAILABLE",
            "BIG100 needs a subtotal of at least 100.00 USD",
        ),
        ("once", "PROMOTION_UNAVAILABLE", "ONCE has been used up"),
        (
            "NOPE",
            "UNKNOWN_PROMOTION_CODE",
            "no promotion has this code",
        ),
        ("no spaces!", "INVALID_INPUT", "a code is 1 to 40"),
    ] {
        let refused = apply(&app, CUSTOMER, CART, code).await;
        assert_eq!(refused["codes"], Value::Null, "{refused}");
        assert_eq!(refused["userErrors"][0]["code"], error, "{code}: {refused}");
        let said = refused["userErrors"][0]["message"].as_str().unwrap();
        assert!(said.starts_with(message), "{code}: {said}");
    }
    // Nothing was applied: the preview has no discount.
    let shown = preview(&app).await;
    assert_eq!(shown["preview"]["discounts"], json!([]), "{shown}");
}

#[tokio::test]
async fn a_discount_larger_than_the_order_leaves_the_shipping_and_never_goes_below_zero() {
    let (app, fakes) = shop(2).await;
    create(
        &app,
        json!({ "name": "Everything", "code": "ALL", "kind": "AMOUNT_OFF",
                "amount": "1000.00", "currencyCode": "USD" }),
    )
    .await;
    apply(&app, CUSTOMER, CART, "all").await;
    let shown = preview(&app).await;
    let shown = &shown["preview"];
    assert_eq!(amount(&shown["discount"]), "20.00", "{shown}");
    assert_eq!(
        amount(&shown["total"]),
        "5.00",
        "the shipping is still paid"
    );
    let paid = checkout_as(
        &app,
        CUSTOMER,
        CART,
        "tok_visa",
        "k",
        shown["token"].as_str(),
    )
    .await;
    assert_eq!(amount(&paid["order"]["total"]), "5.00", "{paid}");
    let order_id = paid["order"]["id"].as_str().unwrap();
    fakes.with(|w| assert_eq!(w.charges[order_id].amount_minor, 500));
}

#[tokio::test]
async fn a_promotion_ending_between_preview_and_checkout_stops_the_checkout_by_name() {
    let (app, fakes) = shop(6).await;
    let automatic = create(
        &app,
        json!({ "name": "Free shipping over 50", "kind": "FREE_SHIPPING",
                "minimumSubtotal": "50.00", "currencyCode": "USD" }),
    )
    .await;
    let code = create(
        &app,
        json!({ "name": "Five off", "code": "FIVE", "kind": "AMOUNT_OFF", "amount": "5.00",
                "currencyCode": "USD" }),
    )
    .await;
    apply(&app, CUSTOMER, CART, "five").await;
    let shown = preview(&app).await;
    let token = shown["preview"]["token"].as_str().unwrap().to_string();
    assert_eq!(amount(&shown["preview"]["total"]), "55.00", "{shown}");

    // The automatic promotion ends: the preview's token names it.
    let admin = app.tokens.admin("usr_admin");
    let switch = "mutation($input: SetPromotionActiveInput!) { setPromotionActive(input: $input) {
        promotion { active } userErrors { code } } }";
    let off = |id: &Value| json!({ "input": { "id": id, "active": false } });
    app.data(switch, off(&automatic["id"]), Some(&admin)).await;
    let refused = checkout_as(&app, CUSTOMER, CART, "tok_visa", "k-1", Some(&token)).await;
    assert_eq!(
        refused["userErrors"][0]["code"], "PRICE_CHANGED",
        "{refused}"
    );
    let message = refused["userErrors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Free shipping over 50 no longer applies"),
        "{message}"
    );

    // The code ends too: checkout says so, whatever the token.
    app.data(switch, off(&code["id"]), Some(&admin)).await;
    let refused = checkout_as(&app, CUSTOMER, CART, "tok_visa", "k-2", None).await;
    assert_eq!(
        refused["userErrors"][0]["code"], "PROMOTION_UNAVAILABLE",
        "{refused}"
    );
    assert_eq!(refused["userErrors"][0]["message"], "FIVE is not active");
    fakes.with(|w| assert!(w.charges.is_empty()));
}

#[tokio::test]
async fn a_declined_or_cancelled_checkout_gives_its_use_back() {
    for (app, fakes) in [shop(1).await, embedded_shop(1).await] {
        declined_and_cancelled(app, fakes).await;
    }
}

async fn declined_and_cancelled(app: TestApp<Orders>, fakes: Arc<FakeServices>) {
    let once = create(
        &app,
        json!({ "name": "One use", "code": "ONCE", "kind": "PERCENT_OFF", "percent": "50",
                "usageLimit": 1, "currencyCode": "USD" }),
    )
    .await;
    let uses = || async {
        let admin = app.tokens.admin("usr_admin");
        let all = app
            .data("{ promotions { id uses } }", json!({}), Some(&admin))
            .await;
        all["promotions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == once["id"])
            .unwrap()["uses"]
            .as_i64()
            .unwrap()
    };
    apply(&app, CUSTOMER, CART, "once").await;
    let declined = checkout_as(&app, CUSTOMER, CART, DECLINED, "k-1", None).await;
    assert_eq!(declined["order"]["status"], "FAILED", "{declined}");
    assert_eq!(uses().await, 0, "the declined checkout gave its use back");

    let paid = checkout_as(&app, CUSTOMER, CART, "tok_visa", "k-2", None).await;
    assert_eq!(paid["order"]["status"], "PAID", "{paid}");
    assert_eq!(amount(&paid["order"]["discount"]), "5.00");
    assert_eq!(uses().await, 1);

    let ada = app.tokens.customer(CUSTOMER);
    let cancelled = app
        .data(
            "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) {
                order { status } userErrors { code } } }",
            json!({ "input": { "orderId": paid["order"]["id"] } }),
            Some(&ada),
        )
        .await;
    assert_eq!(cancelled["cancelOrder"]["order"]["status"], "CANCELLED");
    assert_eq!(uses().await, 0, "the cancelled order gave its use back");
    fakes.with(|w| assert_eq!(w.charges.len(), 2));
}

/// A checkout sent until it is answered: a repeat with the same key while the database is
/// busy (SERVICE_UNAVAILABLE) or the first run goes on (STILL_RUNNING).
async fn checkout_until_answered(app: &TestApp<Orders>, buyer: &str) -> Value {
    for _ in 0..20 {
        let cart = format!("cart_{buyer}");
        let answer = checkout_as(app, buyer, &cart, "tok_visa", buyer, None).await;
        let retry = matches!(
            answer["userErrors"][0]["code"].as_str(),
            Some("SERVICE_UNAVAILABLE" | "STILL_RUNNING")
        );
        if !retry {
            return answer;
        }
    }
    panic!("{buyer}: no answer after 20 attempts");
}

// Both cores, as the router's thousand-buyer test: PostgreSQL's row lock on the promotion is
// what keeps the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_buyers_racing_for_a_code_limited_to_a_hundred_uses_get_exactly_a_hundred() {
    let (app, fakes) = shop(1).await;
    create(
        &app,
        json!({ "name": "Hundred", "code": "HUNDRED", "kind": "PERCENT_OFF", "percent": "20",
                "usageLimit": 100, "currencyCode": "USD" }),
    )
    .await;
    let buyers: Vec<String> = (0..1000).map(|i| format!("usr_{i:04}")).collect();
    fakes.with(|w| {
        for buyer in &buyers {
            w.carts.insert(
                (buyer.clone(), format!("cart_{buyer}")),
                vec![CartLine {
                    variant_id: LAMP.into(),
                    product_id: "prod_lamp".into(),
                    quantity: 1,
                }],
            );
            w.customers
                .insert(buyer.clone(), customer("buyer@example.com", "adr_home"));
        }
    });
    // Each buyer applies the code while it has uses left (the first hundred to check out use
    // them up; the rest are told then).
    for buyer in &buyers {
        let applied = apply(&app, buyer, &format!("cart_{buyer}"), "hundred").await;
        assert_eq!(applied["userErrors"], json!([]), "{applied}");
    }
    let app = Arc::new(app);
    let races = buyers.iter().map(|buyer| {
        let (app, buyer) = (app.clone(), buyer.clone());
        tokio::spawn(async move { checkout_until_answered(&app, &buyer).await })
    });
    let answers: Vec<Value> = futures_util::future::join_all(races)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let discounted: Vec<&Value> = answers
        .iter()
        .filter(|a| a["order"]["status"] == "PAID")
        .collect();
    assert_eq!(discounted.len(), 100, "exactly a hundred orders");
    for order in &discounted {
        assert_eq!(amount(&order["order"]["discount"]), "2.00", "{order}");
        assert_eq!(order["order"]["discounts"][0]["code"], "HUNDRED");
    }
    for refused in answers.iter().filter(|a| a["order"]["status"] != "PAID") {
        // Stopped before anything was made: no order, the reason named.
        assert_eq!(refused["order"], Value::Null, "{refused}");
        assert_eq!(refused["userErrors"][0]["code"], "PROMOTION_UNAVAILABLE");
        let said = refused["userErrors"][0]["message"].as_str().unwrap();
        assert_eq!(said, "HUNDRED has been used up");
    }
    let charged: Vec<i64> = fakes.with(|w| w.charges.values().map(|c| c.amount_minor).collect());
    assert_eq!(
        charged.len(),
        100,
        "nobody paid without the discount they asked for"
    );
    assert!(
        charged.iter().all(|&c| c == usd("13.00")),
        "8.00 + 5.00 shipping"
    );
    let redemptions = app
        .subgraph
        .service
        .store
        .promotions(10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(redemptions.uses, 100);
}
