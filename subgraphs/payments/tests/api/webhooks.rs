//! Provider webhooks into the payment store: a real charge at the test provider reaches a stored
//! payment through a real webhook endpoint; forged, stale and unreadable deliveries are refused,
//! and an event for a payment not recorded yet is left for the provider's next delivery.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use payments::domain::PaymentStatus;
use payments::provider::http::HttpProvider;
use payments::provider::test_provider::{ledger, TestProvider, TestProviderSettings};
use payments::provider::{Charge, ChargeOrder, PaymentProvider};
use payments::store::{Payment, PaymentStore};
use payments::webhooks::WebhookIntake;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const SECRET: &str = "whsec_intake";
const API_KEY: &str = "sk_intake";

/// The intake on a real endpoint with the test provider delivering to it.
struct Intake {
    intake: Arc<WebhookIntake>,
    store: PaymentStore,
    client: Arc<HttpProvider>,
    _provider: TestProvider,
}

async fn intake() -> Intake {
    intake_on(storage::db::testing::postgres(&payments::MIGRATIONS).await).await
}

/// The same on `db` (PostgreSQL, or SQLite as the embedded shop keeps payments).
async fn intake_on(db: storage::db::Database) -> Intake {
    let store = PaymentStore::new(db);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/provider",
        listener.local_addr().unwrap()
    );
    let settings = TestProviderSettings {
        retry_base: Duration::from_millis(20),
        ..TestProviderSettings::new(API_KEY, &url, SECRET)
    };
    let provider = TestProvider::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        settings,
        storage::db::testing::sqlite(&ledger::MIGRATIONS).await,
    );
    let client = Arc::new(HttpProvider::new(&provider.url(), API_KEY));
    let intake = Arc::new(WebhookIntake::new(
        store.clone(),
        client.clone(),
        vec![SECRET.into()],
        kit::webhook::DEFAULT_TOLERANCE,
    ));
    let routes = intake.clone().routes();
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    Intake {
        intake,
        store,
        client,
        _provider: provider,
    }
}

fn order(amount_minor: i64, reference: &str) -> ChargeOrder {
    ChargeOrder {
        amount_minor,
        currency: "USD".into(),
        token: "tok_visa".into(),
        reference: reference.into(),
        customer: "usr_1".into(),
    }
}

fn payment_of(charge: &Charge, order_id: &str) -> Payment {
    Payment {
        id: primitives::id::new_id("pay"),
        order_id: order_id.into(),
        amount_minor: charge.amount_minor,
        currency: commerce::money::CurrencyCode::Usd,
        provider_charge: charge.id.clone(),
        method_brand: charge.method.brand.clone(),
        method_last4: charge.method.last4.clone(),
        captured_minor: 0,
        refunded_minor: 0,
        failure_code: None,
        status: PaymentStatus::Authorized,
        customer_id: "usr_1".into(),
        created_at: primitives::time::now_millis(),
        action_url: None,
    }
}

fn signed(body: &[u8], at: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        kit::webhook::SIGNATURE_HEADER,
        HeaderValue::from_str(&kit::webhook::sign(SECRET.as_bytes(), at, body)).unwrap(),
    );
    headers
}

#[tokio::test]
async fn a_charge_at_the_provider_reaches_the_stored_payment_by_webhook() {
    let Intake {
        intake,
        store,
        client,
        _provider,
    } = intake().await;
    let mut applied = intake.applied();

    let charge = client
        .charge(&order(4_200, "ord_1"), "ord_1-pay")
        .await
        .unwrap();
    // The webhook may arrive before this insert: it waits a moment for it, or is refused with
    // 404 and delivered again.
    let payment = payment_of(&charge, "ord_1");
    store.insert(&payment).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n >= 1))
        .await
        .expect("the capture arrives within 10 s")
        .unwrap();
    let captured = store.by_id(&payment.id).await.unwrap().unwrap();
    assert_eq!(
        (captured.status, captured.captured_minor),
        (PaymentStatus::Captured, 4_200)
    );

    client
        .refund(&charge.id, 1_200, "ord_1-refund-1", "ord_1-refund-1")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n >= 2))
        .await
        .expect("the refund arrives within 10 s")
        .unwrap();
    let refunded = store.by_id(&payment.id).await.unwrap().unwrap();
    assert_eq!(
        (refunded.status, refunded.refunded_minor),
        (PaymentStatus::PartiallyRefunded, 1_200)
    );
}

#[tokio::test]
async fn forged_stale_unreadable_and_early_deliveries_are_answered_so_the_provider_knows() {
    let Intake {
        intake, _provider, ..
    } = intake().await;
    let now = primitives::time::now_millis() / 1000;
    let body = br#"{"id":"evt_x","type":"charge.succeeded","created":0,"charge":"ch_none","sequence":1,"amount_minor":100,"currency":"USD","failure_code":null}"#;
    // Nobody records this charge within the grace: 404, so the provider delivers it again later.
    assert_eq!(
        intake.handle(&signed(body, now), body).await,
        StatusCode::NOT_FOUND
    );
    // Signed with another secret, signed an hour ago, not signed, tampered.
    let mut forged = HeaderMap::new();
    forged.insert(
        kit::webhook::SIGNATURE_HEADER,
        HeaderValue::from_str(&kit::webhook::sign(b"whsec_guess", now, body)).unwrap(),
    );
    assert_eq!(intake.handle(&forged, body).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        intake.handle(&signed(body, now - 3600), body).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        intake.handle(&HeaderMap::new(), body).await,
        StatusCode::UNAUTHORIZED
    );
    let tampered = body
        .iter()
        .copied()
        .map(|b| if b == b'1' { b'9' } else { b })
        .collect::<Vec<_>>();
    assert_eq!(
        intake.handle(&signed(body, now), &tampered).await,
        StatusCode::UNAUTHORIZED
    );
    // Genuine but not an event we know.
    let odd = br#"{"hello":"world"}"#;
    assert_eq!(
        intake.handle(&signed(odd, now), odd).await,
        StatusCode::BAD_REQUEST
    );
    // Nothing of it counted as applied.
    assert_eq!(*intake.applied().borrow(), 0);
}

/// A signed event of the provider's shape, delivered straight to the intake.
fn event_body(
    kind: &str,
    charge: &str,
    amount_minor: i64,
    currency: &str,
    refund: Value,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": primitives::id::new_id("evt"), "type": kind, "created": 0, "charge": charge,
        "sequence": 9, "amount_minor": amount_minor, "currency": currency,
        "failure_code": null, "refund": refund,
    }))
    .unwrap()
}

#[tokio::test]
async fn signed_events_that_do_not_fit_the_payment_change_nothing_and_are_kept_for_review() {
    for db in storage::db::testing::every_backend(&payments::MIGRATIONS).await {
        unfit_events_change_nothing(intake_on(db).await).await;
    }
}

async fn unfit_events_change_nothing(intake: Intake) {
    let Intake {
        intake,
        store,
        client,
        _provider,
    } = intake;
    let mut applied = intake.applied();
    let charge = client
        .charge(&order(4_599, "ord_fit"), "ord_fit-pay")
        .await
        .unwrap();
    let payment = store.insert(&payment_of(&charge, "ord_fit")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n >= 1))
        .await
        .unwrap()
        .unwrap();
    let before = store.by_id(&payment.id).await.unwrap().unwrap();
    assert_eq!(before.captured_minor, 4_599);

    let now = primitives::time::now_millis() / 1000;
    let refund = |amount: i64, charge: &str| json!({ "id": primitives::id::new_id("re"), "charge": charge, "amount_minor": amount, "reference": null });
    let unfit = [
        // Ten times the amount, another currency, a refund of 10,000,000.00, a refund naming
        // another charge.
        event_body("charge.succeeded", &charge.id, 45_990, "USD", Value::Null),
        event_body("charge.succeeded", &charge.id, 4_599, "EUR", Value::Null),
        event_body(
            "refund.succeeded",
            &charge.id,
            1_000_000_000,
            "USD",
            refund(1_000_000_000, &charge.id),
        ),
        event_body(
            "refund.succeeded",
            &charge.id,
            100,
            "USD",
            refund(100, "ch_other"),
        ),
    ];
    for body in &unfit {
        assert_eq!(
            intake.handle(&signed(body, now), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(store.by_id(&payment.id).await.unwrap().unwrap(), before);
    let reviews = store.reviews(10).await.unwrap();
    assert_eq!(reviews.len(), unfit.len(), "{reviews:?}");
    assert!(reviews.iter().all(|r| r.charge == charge.id));

    // A fitting refund still applies, and one beyond what is left is refused.
    let fits = event_body(
        "refund.succeeded",
        &charge.id,
        599,
        "USD",
        refund(599, &charge.id),
    );
    assert_eq!(
        intake.handle(&signed(&fits, now), &fits).await,
        StatusCode::OK
    );
    let over = event_body(
        "refund.succeeded",
        &charge.id,
        4_001,
        "USD",
        refund(4_001, &charge.id),
    );
    assert_eq!(
        intake.handle(&signed(&over, now), &over).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let after = store.by_id(&payment.id).await.unwrap().unwrap();
    assert_eq!(
        (after.refunded_minor, after.status),
        (599, PaymentStatus::PartiallyRefunded)
    );
}

#[tokio::test]
async fn a_charge_the_shop_never_recorded_is_found_at_the_provider_and_recorded() {
    let Intake {
        intake,
        store,
        client,
        _provider,
    } = intake().await;
    let mut applied = intake.applied();
    // The provider charged, but the answer never reached a stored payment.
    let charge = client
        .charge(&order(7_700, "ord_lost"), "ord_lost-pay")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n >= 1))
        .await
        .expect("the webhook is applied once the charge is found")
        .unwrap();
    let found = store.by_order("ord_lost").await.unwrap().unwrap();
    assert_eq!(
        (
            found.provider_charge.as_str(),
            found.captured_minor,
            found.status
        ),
        (charge.id.as_str(), 7_700, PaymentStatus::Captured)
    );
}

#[tokio::test]
async fn fuzzed_signed_deliveries_are_answered_without_a_server_error_and_keep_the_books_sound() {
    let Intake {
        store,
        client,
        _provider,
        ..
    } = intake().await;
    // No grace: an event for an unknown charge is looked up at once.
    let intake = WebhookIntake::new(
        store.clone(),
        client.clone(),
        vec![SECRET.into()],
        kit::webhook::DEFAULT_TOLERANCE,
    )
    .grace(Duration::ZERO);
    let charge = client
        .charge(&order(5_000, "ord_fuzz"), "ord_fuzz-pay")
        .await
        .unwrap();
    let payment = payment_of(&charge, "ord_fuzz");
    store.insert(&payment).await.unwrap();
    let valid = [
        event_body("charge.succeeded", &charge.id, 5_000, "USD", Value::Null),
        event_body(
            "charge.refunded",
            &charge.id,
            1_000,
            "USD",
            json!({ "id": "re_fuzz", "reference": "ref_fuzz", "amount_minor": 1_000 }),
        ),
    ];
    let mut fuzz = fuzzer::Fuzzer::from_env(5_000);
    let now = primitives::time::now_millis() / 1000;
    let cases = fuzzer::Fuzzer::cases(300);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..cases {
        let body = match fuzz.below(3) {
            0 => serde_json::to_vec(&fuzz.json_value(3)).unwrap(),
            _ => {
                let valid = fuzz.pick(&valid).clone();
                fuzz.mutate(&valid)
            }
        };
        let status = intake.handle(&signed(&body, now), &body).await;
        assert!(
            !status.is_server_error(),
            "case {case} (seed {}): {status} for {}",
            fuzz.seed,
            String::from_utf8_lossy(&body)
        );
        *statuses.entry(status.as_u16()).or_default() += 1;
        let books = store.by_id(&payment.id).await.unwrap().unwrap();
        assert!(
            books.captured_minor <= books.amount_minor
                && books.refunded_minor <= books.captured_minor
                && books.refunded_minor >= 0,
            "case {case}: {books:?}"
        );
    }
    println!("{cases} deliveries, seed {}: {statuses:?}", fuzz.seed);
}
