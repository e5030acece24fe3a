//! Carriers' tracking webhooks: each delivery's signature and age are checked (forged, tampered,
//! replayed-late ones are refused with 401 and logged), then the event is recorded once
//! ([`ShippingService::carrier_event`]), in any order. The answer tells the carrier what to do:
//! 2xx recorded (or recorded before), 400 not a tracking event, 404 an unknown tracking number,
//! 422 an event that does not fit its shipment (another carrier than the tracking number's, a
//! time more than five minutes ahead: kept in `tracking_reviews` for a person, nothing changed),
//! 503 try again later. Error answers carry `{"error": "..."}`.
//!
//! Body: `{"id", "carrier", "trackingNumber", "status", "occurredAt", "location"?,
//! "description"?}`, `status` one of `label_created`, `in_transit`, `out_for_delivery`,
//! `delivered`, `exception`, `returned`; `occurredAt` RFC 3339.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::domain::status::ShipmentStatus;
use crate::service::{ShippingError, ShippingService, TrackingUpdate};
use crate::store::Recorded;

pub const PATH: &str = "/webhooks/carrier";

/// A carrier's tracking event as it is posted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CarrierEvent {
    pub id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub status: String,
    pub occurred_at: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

pub struct WebhookIntake {
    service: Arc<ShippingService>,
    /// The current secret first; during a rotation also the previous one.
    secrets: Vec<String>,
    tolerance: Duration,
}

/// An answer to the carrier: a status and, for refusals, why.
pub struct Answer {
    pub status: StatusCode,
    pub error: Option<String>,
}

impl Answer {
    fn ok() -> Self {
        Self {
            status: StatusCode::OK,
            error: None,
        }
    }

    fn refused(status: StatusCode, error: impl ToString) -> Self {
        Self {
            status,
            error: Some(error.to_string()),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error });
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("cache-control", HeaderValue::from_static("no-store"));
        response
    }
}

impl WebhookIntake {
    pub fn new(service: Arc<ShippingService>, secrets: Vec<String>, tolerance: Duration) -> Self {
        Self {
            service,
            secrets,
            tolerance,
        }
    }

    /// `POST /webhooks/carrier`.
    pub fn routes(self: Arc<Self>) -> Router {
        Router::new().route(PATH, post(receive)).with_state(self)
    }

    /// The secret new deliveries are signed with (the simulated carrier's).
    pub fn current_secret(&self) -> &str {
        &self.secrets[0]
    }

    /// A signed event that does not fit its shipment: kept for a person, refused with 422.
    async fn unfit(&self, event: &CarrierEvent, body: &[u8], reason: String) -> Answer {
        tracing::error!(event = %event.id, tracking = %event.tracking_number, %reason, "carrier event refused; kept for review");
        let id = format!("{}:{}", event.carrier, event.id);
        match self
            .service
            .keep_for_review(&id, &event.tracking_number, &reason, body)
            .await
        {
            Ok(()) => Answer::refused(StatusCode::UNPROCESSABLE_ENTITY, reason),
            Err(error) => {
                tracing::error!(%error, "keeping a carrier event for review failed");
                Answer::refused(StatusCode::SERVICE_UNAVAILABLE, "try again later")
            }
        }
    }

    /// Checks and records one delivery.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Answer {
        if let Err(error) =
            kit::webhook::verify_delivery(&self.secrets, headers, body, self.tolerance)
        {
            tracing::warn!(%error, "carrier webhook refused");
            return Answer::refused(StatusCode::UNAUTHORIZED, error);
        }
        if web::server::contains_nul(body) {
            return Answer::refused(
                StatusCode::BAD_REQUEST,
                "a tracking event must not contain NUL characters".to_string(),
            );
        }
        let event: CarrierEvent = match serde_json::from_slice(body) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(%error, "a signed carrier webhook is not a tracking event");
                return Answer::refused(
                    StatusCode::BAD_REQUEST,
                    format!("not a tracking event: {error}"),
                );
            }
        };
        let Some(status) = ShipmentStatus::parse(&event.status) else {
            return Answer::refused(
                StatusCode::BAD_REQUEST,
                format!("unknown status {:?}", event.status),
            );
        };
        let update = TrackingUpdate {
            status,
            description: event.description.clone(),
            location: event.location.clone(),
            occurred_at: Some(event.occurred_at.clone()),
        };
        let recorded = self
            .service
            .carrier_event(&event.carrier, &event.id, &event.tracking_number, update)
            .await;
        match recorded {
            Ok(Recorded::Recorded(shipment)) => {
                tracing::info!(event = %event.id, shipment = %shipment.id, status = shipment.status.as_str(), "carrier event recorded");
                Answer::ok()
            }
            Ok(Recorded::Duplicate) => Answer::ok(),
            Ok(Recorded::OtherCarrier(carrier)) => {
                let reason = format!(
                    "the tracking number is {carrier}'s, not {}'s",
                    event.carrier
                );
                self.unfit(&event, body, reason).await
            }
            Err(error @ ShippingError::FutureTime) => {
                self.unfit(&event, body, error.to_string()).await
            }
            Ok(Recorded::UnknownTracking) => {
                tracing::warn!(event = %event.id, tracking = %event.tracking_number, "carrier event for an unknown tracking number");
                Answer::refused(StatusCode::NOT_FOUND, ShippingError::UnknownTracking)
            }
            Err(error @ ShippingError::InvalidTime) => {
                Answer::refused(StatusCode::BAD_REQUEST, error)
            }
            Err(error) => {
                tracing::error!(%error, event = %event.id, "recording a carrier event failed");
                Answer::refused(StatusCode::SERVICE_UNAVAILABLE, "try again later")
            }
        }
    }
}

async fn receive(
    State(intake): State<Arc<WebhookIntake>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    intake.handle(&headers, &body).await
}

/// Signs `event` for delivery with `secret` (a carrier's side; the simulated carrier and tests).
pub fn signed(event: &CarrierEvent, secret: &str) -> (HeaderMap, Vec<u8>) {
    let body = serde_json::to_vec(event).expect("events serialize");
    let signature = kit::webhook::sign(
        secret.as_bytes(),
        primitives::time::now_millis() / 1000,
        &body,
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        kit::webhook::SIGNATURE_HEADER,
        HeaderValue::from_str(&signature).expect("a signature is a valid header value"),
    );
    (headers, body)
}
