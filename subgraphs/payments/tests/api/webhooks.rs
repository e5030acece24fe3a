//! Provider webhooks into the payment store: a real charge at the test provider reaches a stored
//! payment through a real webhook endpoint; forged, stale and unreadable deliveries are refused,
//! and an event for a payment not recorded yet is left for the provider's next delivery.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use payments::domain::PaymentStatus;
use payments::provider::http::HttpProvider;
use payments::provider::test_provider::{TestProvider, TestProviderSettings};
use payments::provider::PaymentProvider;
use payments::store::{Payment, PaymentStore};
use payments::webhooks::WebhookIntake;
use tokio::net::TcpListener;

const SECRET: &str = "whsec_intake";

async fn intake() -> (Arc<WebhookIntake>, PaymentStore, String) {
    let store = PaymentStore::new(kit::db::testing::postgres(&payments::MIGRATIONS).await);
    let intake = Arc::new(WebhookIntake::new(
        store.clone(),
        vec![SECRET.into()],
        kit::webhook::DEFAULT_TOLERANCE,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/provider",
        listener.local_addr().unwrap()
    );
    let routes = intake.clone().routes();
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    (intake, store, url)
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
    let (intake, store, url) = intake().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = TestProviderSettings {
        retry_base: Duration::from_millis(20),
        ..TestProviderSettings::new(&url, SECRET)
    };
    let provider = TestProvider::start(listener, settings);
    let client = HttpProvider::new(&provider.url(), "sk_test");
    let mut applied = intake.applied();

    let charge = client
        .charge(4_200, "USD", "tok_visa", "ord_1-pay")
        .await
        .unwrap();
    // The webhook may arrive before this insert: it waits a moment for it, or is refused with
    // 404 and delivered again.
    let payment = Payment {
        id: kit::id::new_id("pay"),
        order_id: "ord_1".into(),
        amount_minor: 4_200,
        currency: kit::money::CurrencyCode::Usd,
        provider_charge: charge.id.clone(),
        method_brand: charge.method.brand.clone(),
        method_last4: charge.method.last4.clone(),
        captured_minor: 0,
        refunded_minor: 0,
        failure_code: None,
        status: PaymentStatus::Authorized,
        customer_id: "usr_1".into(),
        created_at: kit::db::now_millis(),
    };
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
        .refund(&charge.id, 1_200, "ord_1-refund-1")
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
    let (intake, _store, _url) = intake().await;
    let now = kit::db::now_millis() / 1000;
    let body = br#"{"id":"evt_x","type":"charge.succeeded","created":0,"charge":"ch_none","sequence":1,"amount_minor":100,"failure_code":null}"#;
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
