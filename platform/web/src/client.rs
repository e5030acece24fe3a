//! Service calls: one subgraph calling another's GraphQL API for a command that must happen now
//! (reserve stock, read prices). Calls carry a client-credentials access token from accounts
//! (cached until shortly before it expires), have a timeout, and are retried a bounded number of
//! times when the failure says nothing happened (no connection, 502/503/504) or when the call is
//! safe to repeat (queries, commands with an idempotency key).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tracing::Instrument;

pub use primitives::error::with_causes;

/// How long our HTTP clients keep an idle connection: less than any of our servers' idle limit
/// ([`crate::serve::HttpLimits::idle_timeout`]), so a client never reuses a connection the
/// server is closing.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP client for calls between the shop's processes (and to the test processor), trusting
/// the web's public roots for `https://` (see [`http_client_trusting`] for a private CA).
pub fn http_client() -> reqwest::Client {
    http_client_trusting(None).expect("a client without a CA file builds")
}

/// An HTTP client that trusts, for `https://`, the web's public roots and the PEM certificates
/// in `ca_file` (a private CA between the shop's services: `TLS_CA_FILE`).
pub fn http_client_trusting(ca_file: Option<&Path>) -> Result<reqwest::Client, TlsError> {
    let mut builder = reqwest::Client::builder().pool_idle_timeout(POOL_IDLE_TIMEOUT);
    if let Some(path) = ca_file {
        for certificate in telemetry::trust::ca_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| TlsError {
        path: ca_file.map(|p| p.display().to_string()).unwrap_or_default(),
        message: e.to_string(),
    })
}

/// A CA file that cannot be trusted: unreadable, or without a PEM certificate.
pub use telemetry::trust::CaFileError as TlsError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{url}: {message}")]
    Unavailable { url: String, message: String },
    #[error("{url} answered with errors: {errors}")]
    GraphQl { url: String, errors: Value },
    #[error("token endpoint {url}: {message}")]
    Token { url: String, message: String },
}

/// The client id and secret accounts registered for this service.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

pub struct ServiceClient {
    http: reqwest::Client,
    credentials: Option<Credentials>,
    token: Mutex<Option<(String, Instant)>>,
    timeout: Duration,
    retries: u32,
}

impl ServiceClient {
    /// A client that calls through `http` with `credentials`' tokens, or anonymously without
    /// them.
    pub fn new(http: reqwest::Client, credentials: Option<Credentials>) -> Self {
        Self {
            http,
            credentials,
            token: Mutex::new(None),
            timeout: Duration::from_secs(5),
            retries: 2,
        }
    }

    async fn access_token(&self) -> Result<Option<String>, ServiceError> {
        let Some(credentials) = &self.credentials else {
            return Ok(None);
        };
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(Some(token.clone()));
            }
        }
        let error = |message: String| ServiceError::Token {
            url: credentials.token_url.clone(),
            message,
        };
        let response = self
            .http
            .post(&credentials.token_url)
            .timeout(self.timeout)
            .headers(telemetry::trace_headers())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| error(with_causes(&e)))?;
        if !response.status().is_success() {
            return Err(error(format!("status {}", response.status())));
        }
        let token: TokenResponse = response.json().await.map_err(|e| error(e.to_string()))?;
        // Renewed a minute early, so a token never expires on its way.
        let until = Instant::now() + Duration::from_secs(token.expires_in.saturating_sub(60));
        *cached = Some((token.access_token.clone(), until));
        Ok(Some(token.access_token))
    }

    /// Runs a query at `url`; retried on failures, since reading twice is harmless.
    pub async fn query(
        &self,
        url: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, ServiceError> {
        self.call(url, query, variables, None).await
    }

    /// Another subgraph's entities of `typename` by id (`_entities`), with `selection` (e.g.
    /// `"id price { amount currencyCode }"`): one call for all, in the order of `ids`, null
    /// where the subgraph has no such entity.
    pub async fn entities(
        &self,
        url: &str,
        typename: &str,
        ids: &[String],
        selection: &str,
    ) -> Result<Vec<Value>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let representations: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "__typename": typename, "id": id }))
            .collect();
        let query = format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on {typename} {{ {selection} }} }} }}"
        );
        let mut data = self
            .query(url, &query, json!({ "r": representations }))
            .await?;
        Ok(match data["_entities"].take() {
            Value::Array(entities) => entities,
            _ => Vec::new(),
        })
    }

    /// Runs a mutation carrying `idempotency_key` (also sent as the `Idempotency-Key` header):
    /// retried like a query, since the callee returns the first result for a repeated key.
    pub async fn command(
        &self,
        url: &str,
        query: &str,
        variables: Value,
        idempotency_key: &str,
    ) -> Result<Value, ServiceError> {
        self.call(url, query, variables, Some(idempotency_key))
            .await
    }

    /// One call, in a client span whose trace context goes along with each attempt.
    async fn call(
        &self,
        url: &str,
        query: &str,
        variables: Value,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ServiceError> {
        let span = tracing::info_span!("service call", otel.kind = "client", url);
        self.call_in_span(url, query, variables, idempotency_key)
            .instrument(span)
            .await
    }

    async fn call_in_span(
        &self,
        url: &str,
        query: &str,
        variables: Value,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ServiceError> {
        let body = json!({ "query": query, "variables": variables });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.access_token().await?;
            let mut request = self
                .http
                .post(url)
                .timeout(self.timeout)
                .headers(telemetry::trace_headers())
                .json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(key) = idempotency_key {
                request = request.header("idempotency-key", key);
            }
            let outcome = match request.send().await {
                Ok(response) if is_transient(response.status()) => {
                    Err(format!("status {}", response.status()))
                }
                Ok(response) => Ok(response),
                Err(e) => Err(with_causes(&e)),
            };
            match outcome {
                Ok(response) => {
                    let status = response.status();
                    let body: Value =
                        response
                            .json()
                            .await
                            .map_err(|e| ServiceError::Unavailable {
                                url: url.into(),
                                message: format!("status {status}: {e}"),
                            })?;
                    if let Some(errors) = body.get("errors").filter(|e| !e.is_null()) {
                        return Err(ServiceError::GraphQl {
                            url: url.into(),
                            errors: errors.clone(),
                        });
                    }
                    return Ok(body["data"].clone());
                }
                Err(message) if attempt <= self.retries => {
                    tracing::warn!(%url, attempt, %message, "service call failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(message) => {
                    return Err(ServiceError::Unavailable {
                        url: url.into(),
                        message,
                    })
                }
            }
        }
    }
}

fn is_transient(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}
