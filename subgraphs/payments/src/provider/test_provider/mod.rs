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
//! | `tok_3ds` | 3-D Secure: the charge `requires_action` until the card holder completes or fails it on the "bank's" page (`next_action_url`, `GET /3ds/{id}`), then succeeds or fails with `authentication_failed`; `POST /v1/charges/{id}/cancel` abandons it (`authentication_abandoned`) |
//!
//! Like a real provider it answers a charge at once as pending and reports the result later by a
//! signed webhook ([`kit::webhook`]), retries a delivery until it is acknowledged with 2xx (or
//! gives up after `max_attempts`), and may deliver an event twice (`duplicate_every`); a repeated
//! `Idempotency-Key` returns the first answer, the same key for a different request is refused.
//! Its books ([`ledger`]) are kept in a database of its own, so its ids (random, like a real
//! processor's) and its answers survive a restart; deliveries still queued when it stops are
//! lost, as a real processor's late webhooks may be. `GET /v1/charges/{id}` and
//! `GET /v1/charges?created_from=&created_until=&after=` tell its state. Every call needs the
//! installation's API key.

pub mod ledger;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{Charge, ChargeOrder, ChargeStatus, EventKind, MethodSummary, ProviderEvent, Refund};
use ledger::{Answer, Ledger, RefundRefusal, StoredCharge};

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
    /// Settings with the given API key and webhook target; retries and timings as a real
    /// processor's, scaled down.
    pub fn new(api_key: &str, webhook_url: &str, webhook_secret: &str) -> Self {
        Self {
            api_key: api_key.into(),
            webhook_url: webhook_url.into(),
            webhook_secret: webhook_secret.into(),
            duplicate_every: 0,
            retry_base: Duration::from_millis(200),
            max_attempts: 8,
            slow: Duration::from_secs(3),
        }
    }
}

struct Provider {
    settings: TestProviderSettings,
    /// Where it is reached (the card holder's browser too, for the 3-D Secure page).
    url: String,
    ledger: Ledger,
    /// Keys whose first request is running: a concurrent repeat gets 409 and retries.
    running: Mutex<HashSet<String>>,
    events: mpsc::UnboundedSender<ProviderEvent>,
}

impl Provider {
    /// The charge as it is shown: with the page to confirm it while it waits for that.
    fn shown(&self, mut charge: Charge) -> Charge {
        charge.next_action_url = (charge.status == ChargeStatus::RequiresAction)
            .then(|| format!("{}/3ds/{}", self.url, charge.id));
        charge
    }

    fn event(&self, kind: EventKind, stored: &StoredCharge, refund: Option<Refund>) {
        let charge = &stored.charge;
        let event = ProviderEvent {
            id: primitives::id::new_id("evt"),
            kind,
            created: primitives::time::now_millis() / 1000,
            charge: charge.id.clone(),
            sequence: stored.sequence,
            amount_minor: refund
                .as_ref()
                .map_or(charge.amount_minor, |r| r.amount_minor),
            currency: charge.currency.clone(),
            failure_code: charge.failure_code.clone(),
            refund,
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
    /// Serves on `listener`, keeping its books in `ledger` (migrated with
    /// [`ledger::MIGRATIONS`]), until dropped.
    pub fn start(
        listener: TcpListener,
        settings: TestProviderSettings,
        ledger: storage::db::Database,
    ) -> Self {
        let (events, queue) = mpsc::unbounded_channel();
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let provider = Arc::new(Provider {
            settings: settings.clone(),
            url: format!("http://{address}"),
            ledger: Ledger::new(ledger),
            running: Mutex::new(HashSet::new()),
            events,
        });
        let app = Router::new()
            .route("/v1/charges", post(create_charge).get(list_charges))
            .route("/v1/charges/{id}", get(retrieve_charge))
            .route("/v1/charges/{id}/cancel", post(cancel_action))
            .route("/3ds/{id}", get(action_page).post(finish_action))
            .route("/v1/refunds", post(create_refund))
            .with_state(provider);
        let server = tokio::spawn(async move {
            let limits = web::serve::HttpLimits::default();
            let _ = web::serve::serve(listener, app, &limits, std::future::pending()).await;
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

    /// Stops it at once, as a crash would (deliveries still queued are lost); returns when its
    /// address is free again.
    pub async fn stop(mut self) {
        self.server.abort();
        self.deliveries.abort();
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        let _ = server.await;
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
    let http = web::client::http_client();
    let mut sent = 0u64;
    let mut deliveries = tokio::task::JoinSet::new();
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
            // Deliveries run side by side, so they may arrive out of order, as real ones do;
            // they end with the provider (the set aborts them when dropped).
            deliveries.spawn(async move {
                let body = serde_json::to_vec(&event).expect("events serialize");
                let mut wait = settings.retry_base;
                for attempt in 1..=settings.max_attempts {
                    let signature = kit::webhook::sign(
                        settings.webhook_secret.as_bytes(),
                        primitives::time::now_millis() / 1000,
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
        // Finished deliveries are reaped as new events come.
        while deliveries.try_join_next().is_some() {}
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    answer(status, json!({ "error": message }))
}

fn internal(error: ledger::LedgerError) -> Response {
    tracing::error!(%error, "test provider ledger");
    error_response_500()
}

fn error_response_500() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "processor unavailable")
}

fn authorized(provider: &Provider, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        // Hashes compared, so the time taken tells nothing of the key.
        .is_some_and(|key| {
            primitives::id::sha256_hex(key.as_bytes())
                == primitives::id::sha256_hex(provider.settings.api_key.as_bytes())
        })
}

/// Holds an idempotency key while its first request runs; let go when dropped.
struct Running<'a> {
    provider: &'a Provider,
    key: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.provider
            .running
            .lock()
            .expect("never poisoned")
            .remove(&self.key);
    }
}

/// Checks the API key and the idempotency key: `Err` is the answer to give at once (a repeat's
/// first answer, or a refusal); `Ok` holds the key for this request.
async fn admit<'a>(
    provider: &'a Provider,
    headers: &HeaderMap,
    fingerprint: &str,
) -> Result<Running<'a>, Response> {
    if !authorized(provider, headers) {
        return Err(error(StatusCode::UNAUTHORIZED, "invalid API key"));
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "an Idempotency-Key header is required",
        ));
    };
    if !provider
        .running
        .lock()
        .expect("never poisoned")
        .insert(key.to_string())
    {
        return Err(error(
            StatusCode::CONFLICT,
            "a request with this Idempotency-Key is in progress",
        ));
    }
    let running = Running {
        provider,
        key: key.to_string(),
    };
    match provider.ledger.answer(key).await {
        Err(e) => Err(internal(e)),
        Ok(None) => Ok(running),
        Ok(Some(first)) if first.fingerprint == fingerprint => {
            let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
            let body: Value = serde_json::from_str(&first.body).unwrap_or(Value::Null);
            Err(answer(status, body))
        }
        Ok(Some(_)) => Err(error(
            StatusCode::BAD_REQUEST,
            "this Idempotency-Key was used for a different request",
        )),
    }
}

async fn create_charge(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Json(request): Json<ChargeOrder>,
) -> Response {
    let fingerprint = json!([
        request.amount_minor,
        request.currency,
        request.token,
        request.reference,
        request.customer
    ])
    .to_string();
    let running = match admit(&provider, &headers, &fingerprint).await {
        Ok(running) => running,
        Err(answer) => return answer,
    };
    if request.amount_minor <= 0 {
        return error(StatusCode::BAD_REQUEST, "the amount must be positive");
    }
    if request.currency.len() != 3 || !request.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return error(
            StatusCode::BAD_REQUEST,
            "the currency must be an ISO 4217 code",
        );
    }
    let (brand, last4, failure) = match request.token.as_str() {
        "tok_visa" | "tok_slow" => ("visa", "4242", None),
        "tok_3ds" => ("visa", "3184", None),
        "tok_mastercard" => ("mastercard", "4444", None),
        "tok_declined" => ("visa", "0002", Some("card_declined")),
        "tok_insufficient_funds" => ("visa", "9995", Some("insufficient_funds")),
        // Nothing is created and nothing remembered: a retry may succeed.
        "tok_error" => return error_response_500(),
        _ => return error(StatusCode::BAD_REQUEST, "unknown payment method token"),
    };
    if request.token == "tok_slow" {
        tokio::time::sleep(provider.settings.slow).await;
    }
    let pending = Charge {
        id: primitives::id::new_id("ch"),
        amount_minor: request.amount_minor,
        currency: request.currency,
        status: ChargeStatus::Pending,
        failure_code: None,
        method: MethodSummary {
            brand: brand.into(),
            last4: last4.into(),
        },
        reference: Some(request.reference),
        customer: Some(request.customer),
        created: primitives::time::now_millis(),
        refunds: Vec::new(),
        next_action_url: None,
    };
    // A 3-D Secure card waits for its holder: the answer says where to send them, and no
    // event follows until they completed, failed or abandoned it.
    let needs_action = request.token == "tok_3ds";
    let pending = if needs_action {
        provider.shown(Charge {
            status: ChargeStatus::RequiresAction,
            ..pending
        })
    } else {
        pending
    };
    let body = serde_json::to_value(&pending).expect("charges serialize");
    let (kind, status) = match failure {
        _ if needs_action => (EventKind::ChargeSucceeded, ChargeStatus::RequiresAction),
        None => (EventKind::ChargeSucceeded, ChargeStatus::Succeeded),
        Some(_) => (EventKind::ChargeFailed, ChargeStatus::Failed),
    };
    let settled = Charge {
        status,
        failure_code: failure.map(String::from),
        ..pending
    };
    let first = Answer {
        fingerprint,
        status: StatusCode::CREATED.as_u16(),
        body: body.to_string(),
    };
    if let Err(e) = provider
        .ledger
        .insert_charge(&settled, &running.key, &first)
        .await
    {
        return internal(e);
    }
    let stored = StoredCharge {
        charge: settled,
        refunded_minor: 0,
        sequence: 1,
    };
    if !needs_action {
        provider.event(kind, &stored, None);
    }
    answer(StatusCode::CREATED, body)
}

#[derive(Deserialize)]
struct RefundRequest {
    charge: String,
    amount_minor: i64,
    reference: Option<String>,
}

async fn create_refund(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Json(request): Json<RefundRequest>,
) -> Response {
    let fingerprint = json!([request.charge, request.amount_minor, request.reference]).to_string();
    let running = match admit(&provider, &headers, &fingerprint).await {
        Ok(running) => running,
        Err(answer) => return answer,
    };
    if request.amount_minor <= 0 {
        return error(StatusCode::BAD_REQUEST, "the amount must be positive");
    }
    let refund = Refund {
        id: primitives::id::new_id("re"),
        charge: request.charge,
        amount_minor: request.amount_minor,
        reference: request.reference,
    };
    let body = serde_json::to_value(&refund).expect("refunds serialize");
    let first = Answer {
        fingerprint,
        status: StatusCode::CREATED.as_u16(),
        body: body.to_string(),
    };
    match provider.ledger.refund(&refund, &running.key, &first).await {
        Err(e) => internal(e),
        Ok(Err(RefundRefusal::NoSuchCharge)) => error(StatusCode::NOT_FOUND, "no such charge"),
        Ok(Err(RefundRefusal::NotSucceeded)) => error(
            StatusCode::BAD_REQUEST,
            "only a succeeded charge can be refunded",
        ),
        Ok(Err(RefundRefusal::TooLarge { left })) => error(
            StatusCode::BAD_REQUEST,
            &format!("at most {left} can be refunded"),
        ),
        Ok(Ok(charge)) => {
            provider.event(EventKind::RefundSucceeded, &charge, Some(refund));
            answer(StatusCode::CREATED, body)
        }
    }
}

async fn retrieve_charge(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&provider, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    current_charge(&provider, &id).await
}

/// The charge as it is now (404 when there is none).
async fn current_charge(provider: &Provider, id: &str) -> Response {
    match provider.ledger.charge(id).await {
        Ok(Some(stored)) => answer(
            StatusCode::OK,
            serde_json::to_value(provider.shown(stored.charge)).expect("charges serialize"),
        ),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such charge"),
        Err(e) => internal(e),
    }
}

/// Ends a 3-D Secure wait as `outcome` says, once: the charge succeeds or fails and its
/// webhook goes out. A charge that is not waiting (completed before, abandoned, or never a
/// 3-D Secure one) is left as it is, so completing twice captures once.
async fn settle_action(
    provider: &Provider,
    id: &str,
    outcome: ActionOutcome,
) -> Result<Option<StoredCharge>, ledger::LedgerError> {
    let (status, failure) = match outcome {
        ActionOutcome::Complete => (ChargeStatus::Succeeded, None),
        ActionOutcome::Fail => (ChargeStatus::Failed, Some("authentication_failed")),
        ActionOutcome::Abandon => (ChargeStatus::Failed, Some("authentication_abandoned")),
    };
    let finished = provider.ledger.finish_action(id, status, failure).await?;
    if let Some(stored) = &finished {
        let kind = match status {
            ChargeStatus::Succeeded => EventKind::ChargeSucceeded,
            _ => EventKind::ChargeFailed,
        };
        provider.event(kind, stored, None);
    }
    Ok(finished)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActionOutcome {
    Complete,
    Fail,
    Abandon,
}

/// `POST /v1/charges/{id}/cancel`: the merchant gives up waiting for the card holder.
async fn cancel_action(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&provider, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    if let Err(e) = settle_action(&provider, &id, ActionOutcome::Abandon).await {
        return internal(e);
    }
    current_charge(&provider, &id).await
}

#[derive(Deserialize)]
struct ActionQuery {
    return_url: Option<String>,
}

/// `GET /3ds/{id}`: the "bank's" page where the card holder completes or fails the check.
async fn action_page(
    State(provider): State<Arc<Provider>>,
    Path(id): Path<String>,
    Query(query): Query<ActionQuery>,
) -> Response {
    let stored = match provider.ledger.charge(&id).await {
        Ok(Some(stored)) => stored,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "No such payment",
                "<p>There is no such payment.</p>",
            )
        }
        Err(e) => return internal(e),
    };
    let charge = &stored.charge;
    let return_url = query
        .return_url
        .filter(|u| is_web_address(u))
        .unwrap_or_default();
    let body = if charge.status == ChargeStatus::RequiresAction {
        format!(
            "<p>Confirm the payment of {amount} {currency} with card ending {last4}.</p>             <form method=\"post\"><input type=\"hidden\" name=\"return_url\" value=\"{url}\">             <button name=\"outcome\" value=\"complete\">Complete authentication</button>              <button name=\"outcome\" value=\"fail\">Fail authentication</button></form>",
            amount = minor_units(charge.amount_minor),
            currency = html_escape(&charge.currency),
            last4 = html_escape(&charge.method.last4),
            url = html_escape(&return_url),
        )
    } else {
        finished_body(&return_url)
    };
    page(StatusCode::OK, "Confirm your payment", &body)
}

#[derive(Deserialize)]
struct ActionForm {
    outcome: ActionOutcome,
    return_url: Option<String>,
}

/// `POST /3ds/{id}`: the card holder's answer; back to the shop (`return_url`) after it.
async fn finish_action(
    State(provider): State<Arc<Provider>>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    if form.outcome == ActionOutcome::Abandon {
        return error(StatusCode::BAD_REQUEST, "complete or fail");
    }
    if let Err(e) = settle_action(&provider, &id, form.outcome).await {
        return internal(e);
    }
    match form.return_url.filter(|u| is_web_address(u)) {
        Some(url) => (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, url)]).into_response(),
        None => page(StatusCode::OK, "Payment confirmed", &finished_body("")),
    }
}

fn finished_body(return_url: &str) -> String {
    let back = if return_url.is_empty() {
        String::new()
    } else {
        format!(
            "<p><a href=\"{}\">Back to the shop</a></p>",
            html_escape(return_url)
        )
    };
    format!("<p>This payment needs nothing more from you.</p>{back}")
}

fn is_web_address(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

fn minor_units(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, axum::response::Html(html)).into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    created_from: i64,
    created_until: i64,
    after: Option<String>,
}

const PAGE: i64 = 100;

async fn list_charges(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if !authorized(&provider, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    match provider
        .ledger
        .charges(
            query.created_from,
            query.created_until,
            query.after.as_deref(),
            PAGE + 1,
        )
        .await
    {
        Ok(mut charges) => {
            let has_more = charges.len() as i64 > PAGE;
            charges.truncate(PAGE as usize);
            let charges: Vec<Charge> = charges.into_iter().map(|c| provider.shown(c)).collect();
            answer(
                StatusCode::OK,
                json!({ "charges": charges, "has_more": has_more }),
            )
        }
        Err(e) => internal(e),
    }
}
