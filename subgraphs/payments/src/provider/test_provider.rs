//! The built-in test provider: a small HTTP service that behaves like a real card processor, for
//! the embedded shop and the tests. Tokens stand in for cards:
//!
//! | token | result |
//! |---|---|
//! | `tok_visa`, `tok_mastercard` | the charge succeeds |
//! | `tok_declined` | it fails: `card_declined` |
//! | `tok_insufficient_funds` | it fails: `insufficient_funds` |
//! | `tok_slow` | the answer takes `slow` (then it succeeds) |
//! | `tok_error` | 500, nothing charged |
//!
//! Like a real provider it answers a charge at once as pending and reports the result later by a
//! signed webhook ([`kit::webhook`]), retries a delivery until it is acknowledged with 2xx, and
//! may deliver an event twice (`duplicate_every`); a repeated `Idempotency-Key` returns the first
//! answer, the same key for a different request is refused. Its state is in memory: it stands in
//! for an outside service, not for our storage.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{Charge, ChargeStatus, EventKind, MethodSummary, ProviderEvent, Refund};

#[derive(Clone, Debug)]
pub struct TestProviderSettings {
    pub api_key: String,
    pub webhook_url: String,
    pub webhook_secret: String,
    /// Every n-th event is delivered twice (0: never).
    pub duplicate_every: u64,
    /// The first retry of a failed delivery; each next one doubles it.
    pub retry_base: Duration,
    pub max_attempts: u32,
    /// How long `tok_slow` takes.
    pub slow: Duration,
}

impl TestProviderSettings {
    pub fn new(webhook_url: &str, webhook_secret: &str) -> Self {
        Self {
            api_key: "sk_test".into(),
            webhook_url: webhook_url.into(),
            webhook_secret: webhook_secret.into(),
            duplicate_every: 0,
            retry_base: Duration::from_millis(200),
            max_attempts: 8,
            slow: Duration::from_secs(3),
        }
    }
}

struct ChargeRecord {
    charge: Charge,
    refunded_minor: i64,
    sequence: u64,
}

struct Remembered {
    fingerprint: Value,
    status: StatusCode,
    body: Value,
}

struct Provider {
    settings: TestProviderSettings,
    charges: Mutex<HashMap<String, ChargeRecord>>,
    answers: Mutex<HashMap<String, Remembered>>,
    events: mpsc::UnboundedSender<ProviderEvent>,
    counter: AtomicU64,
}

impl Provider {
    fn next_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}_{}",
            self.counter.fetch_add(1, Ordering::SeqCst) + 1
        )
    }

    fn event(&self, kind: EventKind, record: &ChargeRecord, amount_minor: i64, code: Option<&str>) {
        let event = ProviderEvent {
            id: self.next_id("evt"),
            kind,
            created: kit::db::now_millis() / 1000,
            charge: record.charge.id.clone(),
            sequence: record.sequence,
            amount_minor,
            failure_code: code.map(String::from),
        };
        let _ = self.events.send(event);
    }
}

/// A running test provider.
pub struct TestProvider {
    pub address: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    deliveries: tokio::task::JoinHandle<()>,
}

impl TestProvider {
    /// Serves on `listener` until dropped or stopped.
    pub fn start(listener: TcpListener, settings: TestProviderSettings) -> Self {
        let (events, queue) = mpsc::unbounded_channel();
        let provider = Arc::new(Provider {
            settings: settings.clone(),
            charges: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
            events,
            counter: AtomicU64::new(0),
        });
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let app = Router::new()
            .route("/v1/charges", post(create_charge))
            .route("/v1/refunds", post(create_refund))
            .with_state(provider);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let deliveries = tokio::spawn(deliver(queue, settings));
        Self {
            address,
            server,
            deliveries,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.server.abort();
        self.deliveries.abort();
    }
}

/// Sends each event to the webhook URL, signed, until it is acknowledged (or the attempts run
/// out); every `duplicate_every`-th event twice.
async fn deliver(
    mut queue: mpsc::UnboundedReceiver<ProviderEvent>,
    settings: TestProviderSettings,
) {
    let http = reqwest::Client::new();
    let mut sent = 0u64;
    while let Some(event) = queue.recv().await {
        sent += 1;
        let copies =
            if settings.duplicate_every > 0 && sent.is_multiple_of(settings.duplicate_every) {
                2
            } else {
                1
            };
        for _ in 0..copies {
            let (http, settings, event) = (http.clone(), settings.clone(), event.clone());
            // Deliveries run side by side, so they may arrive out of order, as real ones do.
            tokio::spawn(async move {
                let body = serde_json::to_vec(&event).expect("events serialize");
                let mut wait = settings.retry_base;
                for attempt in 1..=settings.max_attempts {
                    let signature = kit::webhook::sign(
                        settings.webhook_secret.as_bytes(),
                        kit::db::now_millis() / 1000,
                        &body,
                    );
                    let delivered = http
                        .post(&settings.webhook_url)
                        .header(kit::webhook::SIGNATURE_HEADER, signature)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if delivered {
                        return;
                    }
                    tracing::warn!(event = %event.id, attempt, "webhook delivery failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                tracing::error!(event = %event.id, "webhook given up");
            });
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Checks the API key and the idempotency key: `Err` is the answer to give at once (a repeat's
/// first answer, or a refusal).
fn admit(
    provider: &Provider,
    headers: &HeaderMap,
    fingerprint: &Value,
) -> Result<String, (StatusCode, Value)> {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", provider.settings.api_key));
    if !authorized {
        return Err((
            StatusCode::UNAUTHORIZED,
            json!({ "error": "invalid API key" }),
        ));
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return Err((
            StatusCode::BAD_REQUEST,
            json!({ "error": "an Idempotency-Key header is required" }),
        ));
    };
    let mut answers = provider.answers.lock().expect("never poisoned");
    match answers.get(key) {
        Some(first) if first.fingerprint == *fingerprint => Err((first.status, first.body.clone())),
        Some(_) => Err((
            StatusCode::BAD_REQUEST,
            json!({ "error": "this Idempotency-Key was used for a different request" }),
        )),
        None => {
            // Held while the request runs: a concurrent repeat gets 409 and retries.
            answers.insert(
                key.to_string(),
                Remembered {
                    fingerprint: fingerprint.clone(),
                    status: StatusCode::CONFLICT,
                    body: json!({ "error": "a request with this Idempotency-Key is in progress" }),
                },
            );
            Ok(key.to_string())
        }
    }
}

/// Frees a key whose request did nothing (a retry may then go through).
fn forget(provider: &Provider, key: &str) {
    provider.answers.lock().expect("never poisoned").remove(key);
}

fn remember(
    provider: &Provider,
    key: String,
    fingerprint: Value,
    status: StatusCode,
    body: Value,
) -> Response {
    provider.answers.lock().expect("never poisoned").insert(
        key,
        Remembered {
            fingerprint,
            status,
            body: body.clone(),
        },
    );
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct ChargeRequest {
    amount_minor: i64,
    currency: String,
    token: String,
}

async fn create_charge(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Json(request): Json<ChargeRequest>,
) -> Response {
    let fingerprint = json!([request.amount_minor, request.currency, request.token]);
    let key = match admit(&provider, &headers, &fingerprint) {
        Ok(key) => key,
        Err((status, body)) => return (status, Json(body)).into_response(),
    };
    if request.amount_minor <= 0 {
        forget(&provider, &key);
        return error(StatusCode::BAD_REQUEST, "the amount must be positive");
    }
    let (brand, last4, failure) = match request.token.as_str() {
        "tok_visa" | "tok_slow" => ("visa", "4242", None),
        "tok_mastercard" => ("mastercard", "4444", None),
        "tok_declined" => ("visa", "0002", Some("card_declined")),
        "tok_insufficient_funds" => ("visa", "9995", Some("insufficient_funds")),
        // Nothing is created and nothing remembered: a retry may succeed.
        "tok_error" => {
            forget(&provider, &key);
            return error(StatusCode::INTERNAL_SERVER_ERROR, "processor unavailable");
        }
        _ => {
            forget(&provider, &key);
            return error(StatusCode::BAD_REQUEST, "unknown payment method token");
        }
    };
    if request.token == "tok_slow" {
        tokio::time::sleep(provider.settings.slow).await;
    }
    let record = ChargeRecord {
        charge: Charge {
            id: provider.next_id("ch"),
            amount_minor: request.amount_minor,
            currency: request.currency,
            status: ChargeStatus::Pending,
            method: MethodSummary {
                brand: brand.into(),
                last4: last4.into(),
            },
        },
        refunded_minor: 0,
        sequence: 1,
    };
    let answer = serde_json::to_value(&record.charge).expect("charges serialize");
    let (kind, status) = match failure {
        None => (EventKind::ChargeSucceeded, ChargeStatus::Succeeded),
        Some(_) => (EventKind::ChargeFailed, ChargeStatus::Failed),
    };
    provider.event(kind, &record, record.charge.amount_minor, failure);
    let mut settled = record;
    settled.charge.status = status;
    provider
        .charges
        .lock()
        .expect("never poisoned")
        .insert(settled.charge.id.clone(), settled);
    remember(&provider, key, fingerprint, StatusCode::CREATED, answer)
}

#[derive(Deserialize)]
struct RefundRequest {
    charge: String,
    amount_minor: i64,
}

async fn create_refund(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Json(request): Json<RefundRequest>,
) -> Response {
    let fingerprint = json!([request.charge, request.amount_minor]);
    let key = match admit(&provider, &headers, &fingerprint) {
        Ok(key) => key,
        Err((status, body)) => return (status, Json(body)).into_response(),
    };
    let refund = {
        let mut charges = provider.charges.lock().expect("never poisoned");
        let refusal = match charges.get(&request.charge) {
            None => Some((StatusCode::NOT_FOUND, "no such charge".to_string())),
            Some(record) if record.charge.status != ChargeStatus::Succeeded => Some((
                StatusCode::BAD_REQUEST,
                "only a succeeded charge can be refunded".to_string(),
            )),
            Some(record) => {
                let left = record.charge.amount_minor - record.refunded_minor;
                (request.amount_minor <= 0 || request.amount_minor > left).then(|| {
                    (
                        StatusCode::BAD_REQUEST,
                        format!("at most {left} can be refunded"),
                    )
                })
            }
        };
        if let Some((status, message)) = refusal {
            drop(charges);
            forget(&provider, &key);
            return error(status, &message);
        }
        let record = charges
            .get_mut(&request.charge)
            .expect("checked just above");
        record.refunded_minor += request.amount_minor;
        record.sequence += 1;
        provider.event(
            EventKind::RefundSucceeded,
            record,
            request.amount_minor,
            None,
        );
        Refund {
            id: provider.next_id("re"),
            charge: record.charge.id.clone(),
            amount_minor: request.amount_minor,
        }
    };
    let answer = serde_json::to_value(&refund).expect("refunds serialize");
    remember(&provider, key, fingerprint, StatusCode::CREATED, answer)
}
