//! The provider's HTTP API as a [`PaymentProvider`]: `POST /v1/charges`, `POST /v1/refunds`, the
//! idempotency key in the `Idempotency-Key` header, a bearer API key.

use std::time::Duration;

use serde_json::json;

use super::{Charge, PaymentProvider, ProviderError, Refund};

pub struct HttpProvider {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl HttpProvider {
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').into(),
            api_key: api_key.into(),
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
        idempotency_key: &str,
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.api_key)
            .header("idempotency-key", idempotency_key)
            .timeout(Duration::from_secs(30))
            .json(&body)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let status = response.status();
        // 5xx: it may or may not have acted; 409: the same key is still being worked on. Either
        // way a retry with the same key is the answer.
        if status.is_server_error() || status == reqwest::StatusCode::CONFLICT {
            return Err(ProviderError::Unavailable(format!("status {status}")));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(ProviderError::Refused(format!("status {status}: {text}")));
        }
        response
            .json()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("unreadable answer: {e}")))
    }
}

#[async_trait::async_trait]
impl PaymentProvider for HttpProvider {
    async fn charge(
        &self,
        amount_minor: i64,
        currency: &str,
        token: &str,
        idempotency_key: &str,
    ) -> Result<Charge, ProviderError> {
        self.post(
            "/v1/charges",
            json!({ "amount_minor": amount_minor, "currency": currency, "token": token }),
            idempotency_key,
        )
        .await
    }

    async fn refund(
        &self,
        charge: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        self.post(
            "/v1/refunds",
            json!({ "charge": charge, "amount_minor": amount_minor }),
            idempotency_key,
        )
        .await
    }
}
