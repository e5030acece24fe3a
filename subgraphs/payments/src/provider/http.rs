//! The provider's HTTP API as a [`PaymentProvider`]: `POST /v1/charges`, `POST /v1/refunds`
//! (the idempotency key in the `Idempotency-Key` header), `GET /v1/charges/{id}` and
//! `GET /v1/charges?created_from=&created_until=&after=`, a bearer API key.

use std::time::Duration;

use serde_json::json;

use super::{Charge, ChargeOrder, ChargePage, PaymentProvider, ProviderError, Refund};

pub struct HttpProvider {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl HttpProvider {
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            http: web::client::http_client(),
            base_url: base_url.trim_end_matches('/').into(),
            api_key: api_key.into(),
        }
    }

    /// Calls through `http` (the subgraph's client, trusting its configured CA) instead.
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
        idempotency_key: &str,
    ) -> Result<T, ProviderError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("idempotency-key", idempotency_key)
            .json(&body);
        self.send(request).await
    }

    /// `None` when the provider answers 404.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, ProviderError> {
        let request = self
            .http
            .get(format!("{}{path}", self.base_url))
            .query(query);
        match self.send(request).await {
            Err(ProviderError::Refused(why)) if why.starts_with("status 404") => Ok(None),
            answer => answer.map(Some),
        }
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let response = request
            .bearer_auth(&self.api_key)
            .timeout(Duration::from_secs(30))
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
        order: &ChargeOrder,
        idempotency_key: &str,
    ) -> Result<Charge, ProviderError> {
        let body = serde_json::to_value(order).expect("charge requests serialize");
        self.post("/v1/charges", body, idempotency_key).await
    }

    async fn refund(
        &self,
        charge: &str,
        amount_minor: i64,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        self.post(
            "/v1/refunds",
            json!({ "charge": charge, "amount_minor": amount_minor, "reference": reference }),
            idempotency_key,
        )
        .await
    }

    async fn cancel_action(&self, charge: &str) -> Result<Charge, ProviderError> {
        self.post(
            &format!("/v1/charges/{charge}/cancel"),
            serde_json::json!({}),
            &format!("cancel:{charge}"),
        )
        .await
    }

    async fn retrieve(&self, charge: &str) -> Result<Option<Charge>, ProviderError> {
        if charge.is_empty()
            || !charge
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Ok(None);
        }
        self.get(&format!("/v1/charges/{charge}"), &[]).await
    }

    async fn charges(
        &self,
        from: i64,
        until: i64,
        after: Option<&str>,
    ) -> Result<ChargePage, ProviderError> {
        let mut query = vec![
            ("created_from", from.to_string()),
            ("created_until", until.to_string()),
        ];
        if let Some(after) = after {
            query.push(("after", after.to_string()));
        }
        self.get("/v1/charges", &query)
            .await?
            .ok_or_else(|| ProviderError::Unavailable("the charges list answered 404".into()))
    }
}
