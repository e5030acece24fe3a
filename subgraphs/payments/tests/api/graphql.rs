//! The payments subgraph alone (its own `spawn_app`) with the test provider over real HTTP:
//! charges once per order and only for services, `Order.payment` for its customer, refunds never
//! beyond the capture, also when requested concurrently.

use futures_util::future::join_all;
use kit::testing::{error_code, spawn_app_with, TestApp};
use payments::provider::test_provider::{ledger, TestProvider, TestProviderSettings};
use payments::provider::{ChargeStatus, PaymentProvider};
use payments::Payments;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const SECRET: &str = "whsec_graphql_tests";
const API_KEY: &str = "sk_graphql_tests";

const CHARGE: &str = "mutation($input: ChargeOrderInput!) { chargeOrder(input: $input) {
    payment { id status failureCode amount { amount } capturedAmount { amount } method { brand last4 } }
    userErrors { field code message } } }";

const REFUND: &str = "mutation($input: RefundPaymentInput!) { refundPayment(input: $input) {
    refund { id amount { amount } } payment { id } userErrors { field code message } } }";

async fn payments() -> (TestApp<Payments>, TestProvider) {
    payments_with(true).await
}

/// Payments and the test provider; with `webhooks_arrive` false the provider's webhooks go to a
/// port nobody listens on (every delivery is lost).
async fn payments_with(webhooks_arrive: bool) -> (TestApp<Payments>, TestProvider) {
    // The provider must know the webhook URL before payments starts, so payments gets a port
    // picked here.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = TestProvider::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TestProviderSettings {
            max_attempts: 1,
            ..TestProviderSettings::new(
                API_KEY,
                &format!(
                    "http://127.0.0.1:{}/webhooks/provider",
                    if webhooks_arrive { port } else { 9 }
                ),
                SECRET,
            )
        },
        storage::db::testing::sqlite(&ledger::MIGRATIONS).await,
    );
    let url = provider.url();
    let app = spawn_app_with::<Payments>(|env| {
        env.set("PAYMENTS_LISTEN", format!("127.0.0.1:{port}"))
            .set("PAYMENTS_PROVIDER_URL", url)
            .set("PAYMENTS_WEBHOOK_SECRETS", SECRET)
            .set("PAYMENTS_PROVIDER_API_KEY", API_KEY)
            .set("PAYMENTS_SETTLE_WAIT_MS", "500")
    })
    .await;
    (app, provider)
}

fn charge(order: &str, amount: &str, token: &str) -> Value {
    json!({ "input": { "orderId": order, "customerId": "user_1", "paymentToken": token,
        "amount": { "amount": amount, "currencyCode": "USD" } } })
}

#[tokio::test]
async fn an_order_is_charged_once_and_only_services_may_ask() {
    let (app, _provider) = payments().await;
    let service = app.tokens.token("cli_orders", &["service"]);
    let customer = app.tokens.customer("user_1");

    let first = app
        .data(CHARGE, charge("ord_1", "42.00", "tok_visa"), Some(&service))
        .await;
    let payment = &first["chargeOrder"]["payment"];
    assert_eq!(payment["status"], "CAPTURED", "{first}");
    assert_eq!(payment["capturedAmount"]["amount"], "42.00");
    assert_eq!(
        payment["method"],
        json!({ "brand": "visa", "last4": "4242" })
    );
    let again = app
        .data(CHARGE, charge("ord_1", "42.00", "tok_visa"), Some(&service))
        .await;
    assert_eq!(again["chargeOrder"]["payment"]["id"], payment["id"]);

    let declined = app
        .data(
            CHARGE,
            charge("ord_2", "5.00", "tok_declined"),
            Some(&service),
        )
        .await;
    assert_eq!(declined["chargeOrder"]["payment"]["status"], "FAILED");
    assert_eq!(
        declined["chargeOrder"]["payment"]["failureCode"],
        "card_declined"
    );
    let unknown = app
        .data(CHARGE, charge("ord_3", "5.00", "tok_nope"), Some(&service))
        .await;
    assert_eq!(
        unknown["chargeOrder"]["userErrors"][0]["code"],
        "PAYMENT_METHOD_REFUSED"
    );

    let refused = app
        .graphql(CHARGE, charge("ord_4", "5.00", "tok_visa"), Some(&customer))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    // `Order.payment`: the customer sees it, another customer is refused.
    let entity = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Order { payment { id status } } } }";
    let r = json!({ "r": [{ "__typename": "Order", "id": "ord_1" }] });
    let mine = app.data(entity, r.clone(), Some(&customer)).await;
    assert_eq!(mine["_entities"][0]["payment"]["id"], payment["id"]);
    let other = app
        .graphql(entity, r, Some(&app.tokens.customer("user_2")))
        .await;
    assert_eq!(error_code(&other), "FORBIDDEN", "{other}");
}

#[tokio::test]
async fn refunds_never_exceed_the_capture_even_when_requested_at_once() {
    let (app, _provider) = payments().await;
    let service = app.tokens.token("cli_orders", &["service"]);
    let admin = app.tokens.admin("user_admin");
    let charged = app
        .data(CHARGE, charge("ord_9", "10.00", "tok_visa"), Some(&service))
        .await;
    let payment = charged["chargeOrder"]["payment"]["id"].clone();
    let refund = |amount: &str, key: &str| {
        json!({ "input": { "paymentId": payment, "amount": amount, "reason": "test",
            "idempotencyKey": key } })
    };

    // Ten refunds of 3.00 at once against 10.00 captured: three go through.
    let results =
        join_all((0..10).map(|i| app.data(REFUND, refund("3.00", &format!("k{i}")), Some(&admin))))
            .await;
    let done = results
        .iter()
        .filter(|r| r["refundPayment"]["userErrors"] == json!([]))
        .count();
    let too_large = results
        .iter()
        .filter(|r| r["refundPayment"]["userErrors"][0]["code"] == "REFUND_TOO_LARGE")
        .count();
    assert_eq!((done, too_large), (3, 7));

    // The same key again: the same refund; the key with another amount: refused.
    let first = results
        .iter()
        .position(|r| r["refundPayment"]["userErrors"] == json!([]))
        .unwrap();
    let key = format!("k{first}");
    let repeat = app.data(REFUND, refund("3.00", &key), Some(&admin)).await;
    assert_eq!(
        repeat["refundPayment"]["refund"],
        results[first]["refundPayment"]["refund"]
    );
    let reused = app.data(REFUND, refund("1.00", &key), Some(&admin)).await;
    assert_eq!(
        reused["refundPayment"]["userErrors"][0]["code"],
        "IDEMPOTENCY_KEY_REUSED"
    );
    // 1.00 is left; a bad amount and a customer are refused.
    let rest = app.data(REFUND, refund("1.00", "last"), Some(&admin)).await;
    assert_eq!(rest["refundPayment"]["userErrors"], json!([]), "{rest}");
    // Each kind of mistake in an amount says what is wrong with it.
    for (amount, says) in [
        ("-1", "the amount must not be negative"),
        (
            "abc",
            "the amount must be a decimal number such as \"19.99\"",
        ),
        (
            "1e2",
            "the amount must be a decimal number such as \"19.99\"",
        ),
        ("12.345", "the amount has more than 2 decimal places"),
        ("99999999999999999999", "the amount is too large"),
        ("0.00", "the amount must be greater than zero"),
    ] {
        let bad = app
            .data(
                REFUND,
                refund(amount, &format!("bad {amount}")),
                Some(&admin),
            )
            .await;
        let error = &bad["refundPayment"]["userErrors"][0];
        assert_eq!(error["code"], "INVALID_INPUT", "{amount}: {bad}");
        assert_eq!(error["message"], says, "{amount}: {bad}");
        assert_eq!(
            error["field"],
            json!(["input", "amount"]),
            "{amount}: {bad}"
        );
    }
    let customer = app
        .graphql(
            REFUND,
            refund("1.00", "c"),
            Some(&app.tokens.customer("user_1")),
        )
        .await;
    assert_eq!(error_code(&customer), "FORBIDDEN", "{customer}");
}

#[tokio::test]
async fn a_charge_whose_webhook_is_lost_is_settled_from_the_provider() {
    let (app, _provider) = payments_with(false).await;
    let service = app.tokens.token("cli_orders", &["service"]);
    // No webhook ever arrives: after the settle wait payments asks the provider.
    let paid = app
        .data(
            CHARGE,
            charge("ord_lost", "42.00", "tok_visa"),
            Some(&service),
        )
        .await;
    let payment = &paid["chargeOrder"]["payment"];
    assert_eq!(payment["status"], "CAPTURED", "{paid:#}");
    assert_eq!(payment["capturedAmount"]["amount"], "42.00");
    let declined = app
        .data(
            CHARGE,
            charge("ord_no", "5.00", "tok_declined"),
            Some(&service),
        )
        .await;
    assert_eq!(
        declined["chargeOrder"]["payment"]["status"], "FAILED",
        "{declined:#}"
    );
}

#[tokio::test]
async fn refunding_an_order_whose_payment_waits_for_the_bank_gives_the_payment_up_first() {
    let (app, provider) = payments().await;
    let service = app.tokens.token("cli_orders", &["service"]);
    let waiting = app
        .data(
            CHARGE,
            charge("ord_3ds", "42.00", "tok_3ds"),
            Some(&service),
        )
        .await;
    assert_eq!(
        waiting["chargeOrder"]["payment"]["status"], "REQUIRES_ACTION",
        "{waiting}"
    );
    // The checkout compensates (its charge step kept failing): the order's payment is refunded.
    let refunded = app
        .data(
            "mutation($input: RefundOrderInput!) { refundOrder(input: $input) { userErrors { code } } }",
            json!({ "input": { "orderId": "ord_3ds", "reason": "checkout failed" } }),
            Some(&service),
        )
        .await;
    assert_eq!(
        refunded["refundOrder"]["userErrors"],
        json!([]),
        "{refunded}"
    );
    let after = app
        .data(
            CHARGE,
            charge("ord_3ds", "42.00", "tok_3ds"),
            Some(&service),
        )
        .await;
    let payment = &after["chargeOrder"]["payment"];
    assert_eq!(payment["status"], "FAILED", "{after}");
    assert_eq!(payment["failureCode"], "authentication_abandoned");
    // The customer confirming with the bank after that captures nothing.
    let client = payments::provider::http::HttpProvider::new(&provider.url(), API_KEY);
    let listed = client.charges(0, i64::MAX, None).await.unwrap();
    let charge = &listed.charges[0];
    let completed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/3ds/{}", provider.url(), charge.id))
        .form(&[("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert!(completed.status().is_success(), "{}", completed.status());
    let after = client.retrieve(&charge.id).await.unwrap().unwrap();
    assert_eq!(after.status, ChargeStatus::Failed);
    assert_eq!(
        after.failure_code.as_deref(),
        Some("authentication_abandoned")
    );
}

#[tokio::test]
async fn a_bank_confirmation_whose_webhook_is_lost_is_found_at_the_provider() {
    let (app, provider) = payments_with(false).await;
    let service = app.tokens.token("cli_orders", &["service"]);
    let waiting = app
        .data(
            CHARGE,
            charge("ord_3ds_lost", "42.00", "tok_3ds"),
            Some(&service),
        )
        .await;
    assert_eq!(
        waiting["chargeOrder"]["payment"]["status"], "REQUIRES_ACTION",
        "{waiting}"
    );
    let client = payments::provider::http::HttpProvider::new(&provider.url(), API_KEY);
    let listed = client.charges(0, i64::MAX, None).await.unwrap();
    let page = listed.charges[0]
        .next_action_url
        .clone()
        .expect("the bank's page");
    let completed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(page)
        .form(&[("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert!(completed.status().is_success(), "{}", completed.status());
    // No webhook arrives. Asked again at once, the payment still waits (the provider is not
    // asked within the settle time)...
    let again = app
        .data(
            CHARGE,
            charge("ord_3ds_lost", "42.00", "tok_3ds"),
            Some(&service),
        )
        .await;
    assert_eq!(
        again["chargeOrder"]["payment"]["status"], "REQUIRES_ACTION",
        "{again}"
    );
    // ...and once the settle time (500 ms here) has passed (the payment made older instead of
    // waiting), asking again asks the provider, whose charge was captured.
    sqlx::query(
        "UPDATE payments SET created_at = created_at - 1000 WHERE order_id = 'ord_3ds_lost'",
    )
    .execute(app.database.pool())
    .await
    .unwrap();
    let answer = app
        .data(
            CHARGE,
            charge("ord_3ds_lost", "42.00", "tok_3ds"),
            Some(&service),
        )
        .await;
    let payment = &answer["chargeOrder"]["payment"];
    assert_eq!(payment["status"], "CAPTURED", "{answer}");
    assert_eq!(payment["capturedAmount"]["amount"], "42.00");
}
