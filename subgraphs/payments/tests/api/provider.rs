//! The test provider behaves like a real one: charges answered pending, results by signed
//! webhooks, idempotency keys honoured (also for concurrent repeats), refunds bounded by what was
//! captured, deliveries retried until acknowledged and sometimes duplicated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use payments::provider::http::HttpProvider;
use payments::provider::test_provider::{TestProvider, TestProviderSettings};
use payments::provider::{ChargeStatus, EventKind, PaymentProvider, ProviderError, ProviderEvent};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SECRET: &str = "whsec_test";

/// A webhook endpoint that verifies each delivery and passes it on; it answers 500 to the first
/// `fail_first` deliveries (a receiver that was down).
async fn receiver(fail_first: usize) -> (String, mpsc::UnboundedReceiver<ProviderEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let failures = Arc::new(AtomicUsize::new(fail_first));
    let app = axum::Router::new().route(
        "/webhooks",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (tx, failures) = (tx.clone(), failures.clone());
            async move {
                let header = headers
                    .get(kit::webhook::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok());
                let now = kit::db::now_millis() / 1000;
                if kit::webhook::verify(
                    &[SECRET.as_bytes()],
                    header,
                    &body,
                    now,
                    kit::webhook::DEFAULT_TOLERANCE,
                )
                .is_err()
                {
                    return StatusCode::UNAUTHORIZED;
                }
                if failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let _ = tx.send(serde_json::from_slice(&body).unwrap());
                StatusCode::OK
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn provider(settings: TestProviderSettings) -> (TestProvider, HttpProvider) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_key = settings.api_key.clone();
    let running = TestProvider::start(listener, settings);
    let client = HttpProvider::new(&running.url(), &api_key);
    (running, client)
}

async fn next(events: &mut mpsc::UnboundedReceiver<ProviderEvent>) -> ProviderEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("a webhook within 10 s")
        .expect("the receiver is up")
}

fn quick(url: &str) -> TestProviderSettings {
    TestProviderSettings {
        retry_base: Duration::from_millis(20),
        slow: Duration::from_millis(300),
        ..TestProviderSettings::new(url, SECRET)
    }
}

#[tokio::test]
async fn a_charge_is_pending_then_a_signed_webhook_tells_how_it_ended() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let charge = client
        .charge(1999, "USD", "tok_visa", "order-1")
        .await
        .unwrap();
    assert_eq!(charge.status, ChargeStatus::Pending);
    assert_eq!(
        (charge.method.brand.as_str(), charge.method.last4.as_str()),
        ("visa", "4242")
    );
    let event = next(&mut events).await;
    assert_eq!(
        (event.kind, event.charge.as_str(), event.amount_minor),
        (EventKind::ChargeSucceeded, charge.id.as_str(), 1999)
    );

    client
        .charge(500, "USD", "tok_declined", "order-2")
        .await
        .unwrap();
    let declined = next(&mut events).await;
    assert_eq!(declined.kind, EventKind::ChargeFailed);
    assert_eq!(declined.failure_code.as_deref(), Some("card_declined"));
    client
        .charge(500, "USD", "tok_insufficient_funds", "order-3")
        .await
        .unwrap();
    assert_eq!(
        next(&mut events).await.failure_code.as_deref(),
        Some("insufficient_funds")
    );

    // An error charges nothing and a retry with the same key may go through.
    assert!(matches!(
        client.charge(700, "USD", "tok_error", "order-4").await,
        Err(ProviderError::Unavailable(_))
    ));
    assert!(matches!(
        client.charge(700, "USD", "tok_unknown", "order-5").await,
        Err(ProviderError::Refused(_))
    ));
}

#[tokio::test]
async fn an_idempotency_key_charges_once_even_for_concurrent_repeats() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let client = Arc::new(client);
    // tok_slow keeps the first request running while the others arrive.
    let repeats: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.charge(2500, "USD", "tok_slow", "order-same").await })
        })
        .collect();
    let mut ids = Vec::new();
    let mut in_progress = 0;
    for repeat in repeats {
        match repeat.await.unwrap() {
            Ok(charge) => ids.push(charge.id),
            Err(ProviderError::Unavailable(_)) => in_progress += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(ids.len() + in_progress, 5);
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "one charge: {ids:?}");
    // Retries after the first finished get its answer.
    let again = client
        .charge(2500, "USD", "tok_slow", "order-same")
        .await
        .unwrap();
    assert_eq!(again.id, ids[0]);
    assert!(matches!(
        client.charge(9999, "USD", "tok_visa", "order-same").await,
        Err(ProviderError::Refused(_))
    ));
    assert_eq!(next(&mut events).await.charge, ids[0]);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_captured() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let charge = client
        .charge(10_000, "USD", "tok_visa", "order-r")
        .await
        .unwrap();
    next(&mut events).await;
    let part = client.refund(&charge.id, 4_000, "refund-1").await.unwrap();
    assert_eq!(part.amount_minor, 4_000);
    // The same key again: the first refund, not a second one.
    assert_eq!(
        client.refund(&charge.id, 4_000, "refund-1").await.unwrap(),
        part
    );
    assert!(matches!(
        client.refund(&charge.id, 6_001, "refund-2").await,
        Err(ProviderError::Refused(_))
    ));
    client.refund(&charge.id, 6_000, "refund-3").await.unwrap();
    assert!(matches!(
        client.refund(&charge.id, 1, "refund-4").await,
        Err(ProviderError::Refused(_))
    ));
    let refunds: Vec<ProviderEvent> = vec![next(&mut events).await, next(&mut events).await];
    let mut amounts: Vec<i64> = refunds.iter().map(|e| e.amount_minor).collect();
    amounts.sort();
    assert_eq!(amounts, vec![4_000, 6_000]);
    assert!(refunds
        .iter()
        .all(|e| e.kind == EventKind::RefundSucceeded && e.sequence > 1));
}

#[tokio::test]
async fn deliveries_are_retried_until_acknowledged_and_sometimes_sent_twice() {
    let (url, mut events) = receiver(2).await;
    let settings = TestProviderSettings {
        duplicate_every: 1,
        ..quick(&url)
    };
    let (_running, client) = provider(settings).await;
    let charge = client
        .charge(100, "USD", "tok_mastercard", "order-d")
        .await
        .unwrap();
    // Two deliveries were refused by the receiver; both copies arrive in the end.
    let first = next(&mut events).await;
    let second = next(&mut events).await;
    assert_eq!(first, second, "the same event twice (same id)");
    assert_eq!(first.charge, charge.id);
}
