//! The provider's webhooks arriving: each delivery's signature and age are checked (forged,
//! tampered, replayed-late ones are refused with 401 and logged), then the event is applied once
//! ([`PaymentStore::apply`]). The answer tells the provider whether to deliver again: 2xx when the
//! event is applied (or was before); 422 when it does not fit its payment (another amount,
//! currency or charge, a refund beyond the charge: kept for review, nothing changed). A charge
//! not recorded after a short grace is looked up at the provider and, when it is real, recorded
//! as the payment of the order it names; otherwise 404 (the provider delivers it again later).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::watch;

use crate::provider::{PaymentProvider, ProviderEvent};
use crate::store::{Applied, PaymentStore};

pub struct WebhookIntake {
    store: PaymentStore,
    /// Asked of a charge the shop has not recorded.
    provider: Arc<dyn PaymentProvider>,
    /// The current secret first; during a rotation also the previous one.
    secrets: Vec<String>,
    tolerance: Duration,
    /// Counts events applied, so callers (tests) can await one.
    applied: watch::Sender<u64>,
    /// How long an event for a charge not recorded yet waits for it before the answer is 404.
    grace: Duration,
}

impl WebhookIntake {
    pub fn new(
        store: PaymentStore,
        provider: Arc<dyn PaymentProvider>,
        secrets: Vec<String>,
        tolerance: Duration,
    ) -> Self {
        Self {
            store,
            provider,
            secrets,
            tolerance,
            applied: watch::channel(0).0,
            grace: Duration::from_secs(1),
        }
    }

    /// How long an event for a charge not recorded yet waits for it (default 1 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// `POST /webhooks/provider`.
    pub fn routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/webhooks/provider", post(receive))
            .with_state(self)
    }

    /// Applies the event; when its payment is not recorded, waits up to the grace time for it to
    /// be recorded here (a provider sends the webhook as soon as it answered the charge, often
    /// before the payment is stored) before calling the charge unknown.
    async fn apply(&self, event: &ProviderEvent) -> Result<Applied, crate::store::StoreError> {
        let deadline = tokio::time::Instant::now() + self.grace;
        let mut recorded = self.store.recorded();
        loop {
            let applied = self.store.apply(event).await?;
            if applied != Applied::UnknownCharge {
                return Ok(applied);
            }
            if tokio::time::Instant::now() >= deadline {
                return self.look_up(event).await;
            }
            // Another replica may record it instead: look again at least every 100 ms.
            let recheck = tokio::time::Instant::now() + Duration::from_millis(100);
            tokio::select! {
                _ = recorded.changed() => {}
                _ = tokio::time::sleep_until(recheck.min(deadline)) => {}
            }
        }
    }

    /// An event for a charge still unknown after the grace: the provider says whether it is
    /// real; a real one is recorded (its answer to the charge request was lost), then the event
    /// applied.
    async fn look_up(&self, event: &ProviderEvent) -> Result<Applied, crate::store::StoreError> {
        let charge = match self.provider.retrieve(&event.charge).await {
            Ok(Some(charge)) => charge,
            Ok(None) => return Ok(Applied::UnknownCharge),
            Err(error) => {
                tracing::warn!(%error, charge = %event.charge, "the provider could not be asked about an unknown charge");
                return Ok(Applied::UnknownCharge);
            }
        };
        match self.store.record_found(&charge).await? {
            Applied::Changed(_) => self.store.apply(event).await,
            other => Ok(other),
        }
    }

    /// Checks and applies one delivery; the status is the answer to the provider.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> StatusCode {
        if let Err(error) =
            kit::webhook::verify_delivery(&self.secrets, headers, body, self.tolerance)
        {
            tracing::warn!(%error, "provider webhook refused");
            return StatusCode::UNAUTHORIZED;
        }
        if web::server::contains_nul(body) {
            tracing::error!("a signed provider webhook carries a NUL character");
            return StatusCode::BAD_REQUEST;
        }
        let event: ProviderEvent = match serde_json::from_slice(body) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(%error, "a signed provider webhook is not an event we know");
                return StatusCode::BAD_REQUEST;
            }
        };
        match self.apply(&event).await {
            Ok(Applied::Changed(payment)) => {
                tracing::info!(event = %event.id, payment = %payment.id, status = payment.status.as_str(), "provider event applied");
                self.applied.send_modify(|n| *n += 1);
                StatusCode::OK
            }
            Ok(Applied::Duplicate) => StatusCode::OK,
            Ok(Applied::Refused(reason)) => {
                tracing::error!(event = %event.id, charge = %event.charge, %reason, "provider event refused; kept for review");
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Ok(Applied::UnknownCharge) => {
                tracing::warn!(event = %event.id, charge = %event.charge, "provider event for an unknown charge; the provider will deliver it again");
                StatusCode::NOT_FOUND
            }
            Err(error) => {
                tracing::error!(%error, event = %event.id, "applying a provider event failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

async fn receive(
    State(intake): State<Arc<WebhookIntake>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    intake.handle(&headers, &body).await
}
