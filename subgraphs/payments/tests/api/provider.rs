//! The test provider behaves like a real one: charges answered pending, results by signed
//! webhooks, idempotency keys honoured (also for concurrent repeats), refunds bounded by what was
//! captured, deliveries retried until acknowledged and sometimes duplicated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use payments::provider::http::HttpProvider;
use payments::provider::test_provider::{ledger, TestProvider, TestProviderSettings};
use payments::provider::{
    ChargeOrder, ChargeStatus, EventKind, PaymentProvider, ProviderError, ProviderEvent,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SECRET: &str = "whsec_test";
const API_KEY: &str = "sk_provider_tests";

/// A charge of `amount_minor` USD on `token` for order `ord_1`.
fn order(amount_minor: i64, token: &str) -> ChargeOrder {
    ChargeOrder {
        amount_minor,
        currency: "USD".into(),
        token: token.into(),
        reference: "ord_1".into(),
        customer: "user_1".into(),
    }
}

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
                let now = primitives::time::now_millis() / 1000;
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
    let ledger = storage::db::testing::sqlite(&ledger::MIGRATIONS).await;
    let running = TestProvider::start(listener, settings, ledger);
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
        ..TestProviderSettings::new(API_KEY, url, SECRET)
    }
}

#[tokio::test]
async fn a_charge_is_pending_then_a_signed_webhook_tells_how_it_ended() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let charge = client
        .charge(&order(1999, "tok_visa"), "order-1")
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
        .charge(&order(500, "tok_declined"), "order-2")
        .await
        .unwrap();
    let declined = next(&mut events).await;
    assert_eq!(declined.kind, EventKind::ChargeFailed);
    assert_eq!(declined.failure_code.as_deref(), Some("card_declined"));
    client
        .charge(&order(500, "tok_insufficient_funds"), "order-3")
        .await
        .unwrap();
    assert_eq!(
        next(&mut events).await.failure_code.as_deref(),
        Some("insufficient_funds")
    );

    // An error charges nothing and a retry with the same key may go through.
    assert!(matches!(
        client.charge(&order(700, "tok_error"), "order-4").await,
        Err(ProviderError::Unavailable(_))
    ));
    assert!(matches!(
        client.charge(&order(700, "tok_unknown"), "order-5").await,
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
            tokio::spawn(async move { client.charge(&order(2500, "tok_slow"), "order-same").await })
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
        .charge(&order(2500, "tok_slow"), "order-same")
        .await
        .unwrap();
    assert_eq!(again.id, ids[0]);
    assert!(matches!(
        client.charge(&order(9999, "tok_visa"), "order-same").await,
        Err(ProviderError::Refused(_))
    ));
    assert_eq!(next(&mut events).await.charge, ids[0]);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_captured() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let charge = client
        .charge(&order(10_000, "tok_visa"), "order-r")
        .await
        .unwrap();
    next(&mut events).await;
    let part = client
        .refund(&charge.id, 4_000, "refund-1", "refund-1")
        .await
        .unwrap();
    assert_eq!(part.amount_minor, 4_000);
    // The same key again: the first refund, not a second one.
    assert_eq!(
        client
            .refund(&charge.id, 4_000, "refund-1", "refund-1")
            .await
            .unwrap(),
        part
    );
    assert!(matches!(
        client
            .refund(&charge.id, 6_001, "refund-2", "refund-2")
            .await,
        Err(ProviderError::Refused(_))
    ));
    client
        .refund(&charge.id, 6_000, "refund-3", "refund-3")
        .await
        .unwrap();
    assert!(matches!(
        client.refund(&charge.id, 1, "refund-4", "refund-4").await,
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
        .charge(&order(100, "tok_mastercard"), "order-d")
        .await
        .unwrap();
    // Two deliveries were refused by the receiver; both copies arrive in the end.
    let first = next(&mut events).await;
    let second = next(&mut events).await;
    assert_eq!(first, second, "the same event twice (same id)");
    assert_eq!(first.charge, charge.id);
}

#[tokio::test]
async fn a_restarted_provider_keeps_its_books_and_never_reuses_an_id() {
    let (url, mut events) = receiver(0).await;
    let ledger_url = storage::db::testing::sqlite_url();
    let start = |listener: TcpListener| {
        let (settings, ledger_url) = (quick(&url), ledger_url.clone());
        async move {
            let ledger = storage::db::Database::connect(&ledger_url, 2, &ledger::MIGRATIONS)
                .await
                .unwrap();
            TestProvider::start(listener, settings, ledger)
        }
    };
    let running = start(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let address = running.address;
    let client = HttpProvider::new(&running.url(), API_KEY);
    let first = client
        .charge(&order(1_000, "tok_visa"), "restart-1")
        .await
        .unwrap();
    assert_eq!(next(&mut events).await.charge, first.id);

    // Stopped and started again on the same books.
    running.stop().await;
    let _again = start(TcpListener::bind(address).await.unwrap()).await;
    let second = client
        .charge(&order(2_000, "tok_visa"), "restart-2")
        .await
        .unwrap();
    let event = next(&mut events).await;
    assert_ne!(second.id, first.id, "a new charge gets a new id");
    assert_eq!(event.charge, second.id);
    // The first key still answers with the first charge; the provider still knows it.
    let repeat = client
        .charge(&order(1_000, "tok_visa"), "restart-1")
        .await
        .unwrap();
    assert_eq!(repeat.id, first.id);
    let known = client.retrieve(&first.id).await.unwrap().unwrap();
    assert_eq!(
        (known.status, known.amount_minor, known.reference.as_deref()),
        (ChargeStatus::Succeeded, 1_000, Some("ord_1"))
    );
    // Both in the list of the window they were made in.
    let page = client.charges(0, i64::MAX, None).await.unwrap();
    let ids: Vec<&str> = page.charges.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec![first.id.as_str(), second.id.as_str()]);
    assert!(client.retrieve("ch_unknown").await.unwrap().is_none());
}

#[tokio::test]
async fn a_wrong_api_key_is_refused() {
    let (url, _events) = receiver(0).await;
    let (running, _client) = provider(quick(&url)).await;
    let stranger = HttpProvider::new(&running.url(), "sk_test");
    assert!(matches!(
        stranger.charge(&order(100, "tok_visa"), "key-1").await,
        Err(ProviderError::Refused(why)) if why.contains("401")
    ));
    assert!(matches!(
        stranger.retrieve("ch_any").await,
        Err(ProviderError::Refused(why)) if why.contains("401")
    ));
}

/// The card holder's answer on the bank's page, as their browser posts it.
async fn answer_bank(page: &str, outcome: &str) -> reqwest::Response {
    // Not following the way back to the shop: the test looks at where it leads.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(page)
        .form(&[
            ("outcome", outcome),
            ("return_url", "http://shop.example/orders/1"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_3d_secure_charge_waits_for_its_holder_and_is_completed_once_failed_or_abandoned() {
    let (url, mut events) = receiver(0).await;
    let (_running, client) = provider(quick(&url)).await;
    let charge = client
        .charge(&order(2500, "tok_3ds"), "order-3ds-1")
        .await
        .unwrap();
    assert_eq!(charge.status, ChargeStatus::RequiresAction);
    let page = charge.next_action_url.clone().expect("where to confirm");
    // The holder's bank page, without the API key.
    let shown = web::client::http_client().get(&page).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    let html = shown.text().await.unwrap();
    assert!(
        html.contains("25.00 USD") && html.contains("Complete authentication"),
        "{html}"
    );
    // The same request again answers the same waiting charge.
    let repeat = client
        .charge(&order(2500, "tok_3ds"), "order-3ds-1")
        .await
        .unwrap();
    assert_eq!(
        (repeat.id.as_str(), repeat.status),
        (charge.id.as_str(), ChargeStatus::RequiresAction)
    );

    // Completed, then completed again (a double click): one success, one event.
    let back = answer_bank(&page, "complete").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let again = answer_bank(&page, "complete").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let event = next(&mut events).await;
    assert_eq!(
        (event.kind, event.charge.as_str(), event.amount_minor),
        (EventKind::ChargeSucceeded, charge.id.as_str(), 2500)
    );
    let now = client.retrieve(&charge.id).await.unwrap().unwrap();
    assert_eq!(
        (now.status, now.next_action_url),
        (ChargeStatus::Succeeded, None)
    );
    // Giving up on a completed charge leaves it completed.
    let kept = client.cancel_action(&charge.id).await.unwrap();
    assert_eq!(kept.status, ChargeStatus::Succeeded);

    // Failed at the bank.
    let failing = client
        .charge(&order(900, "tok_3ds"), "order-3ds-2")
        .await
        .unwrap();
    answer_bank(failing.next_action_url.as_deref().unwrap(), "fail").await;
    let failed = next(&mut events).await;
    assert_eq!(
        (
            failed.kind,
            failed.charge.as_str(),
            failed.failure_code.as_deref()
        ),
        (
            EventKind::ChargeFailed,
            failing.id.as_str(),
            Some("authentication_failed")
        )
    );

    // Abandoned: the merchant gives up; a completion after that captures nothing.
    let abandoned = client
        .charge(&order(700, "tok_3ds"), "order-3ds-3")
        .await
        .unwrap();
    let given_up = client.cancel_action(&abandoned.id).await.unwrap();
    assert_eq!(
        (given_up.status, given_up.failure_code.as_deref()),
        (ChargeStatus::Failed, Some("authentication_abandoned"))
    );
    assert_eq!(next(&mut events).await.charge, abandoned.id);
    answer_bank(abandoned.next_action_url.as_deref().unwrap(), "complete").await;
    let after = client.retrieve(&abandoned.id).await.unwrap().unwrap();
    assert_eq!(after.status, ChargeStatus::Failed);
}
