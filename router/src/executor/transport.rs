//! Sending one GraphQL request to one subgraph: a shared keep-alive HTTP client, per-subgraph
//! URL and timeout, and a typed error for everything that can go wrong on the way.

use std::collections::HashMap;
use std::time::Duration;

use apollo_compiler::response::{JsonMap, JsonValue};
use http::HeaderMap;
use serde::Deserialize;

use super::value::Value;
use crate::config::RouterConfig;

/// The largest subgraph response body read; a larger one is a failed fetch, not an OOM.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Headers copied from the client request to every subgraph request.
const FORWARDED_HEADERS: &[&str] = &[
    "authorization",
    "x-request-id",
    "traceparent",
    "tracestate",
    "x-forwarded-for",
];

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the subgraph is not known to the router")]
    UnknownSubgraph,
    #[error("the request timed out")]
    Timeout,
    #[error("the subgraph could not be reached")]
    Connect(#[source] reqwest::Error),
    #[error("the subgraph answered with HTTP status {0}")]
    Status(u16),
    #[error("the subgraph response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the subgraph response is not a valid GraphQL response")]
    InvalidResponse(#[source] sonic_rs::Error),
}

impl TransportError {
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Timeout => "SUBREQUEST_TIMEOUT",
            TransportError::InvalidResponse(_) => "SUBREQUEST_MALFORMED_RESPONSE",
            _ => "SUBREQUEST_HTTP_ERROR",
        }
    }
}

/// The subgraph's answer: `data` and `errors` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct SubgraphResponse {
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub errors: Option<Vec<SubgraphError>>,
}

#[derive(Debug, Deserialize)]
pub struct SubgraphError {
    pub message: String,
    #[serde(default)]
    pub path: Option<Vec<JsonValue>>,
    #[serde(default)]
    pub extensions: Option<JsonMap>,
}

struct Endpoint {
    url: String,
    timeout: Duration,
}

pub struct Transport {
    client: reqwest::Client,
    endpoints: HashMap<String, Endpoint>,
}

impl Transport {
    /// `urls` are the supergraph's `join__Graph` URLs; configuration may override each.
    pub fn new(urls: &HashMap<String, String>, config: &RouterConfig) -> Self {
        let endpoints = urls
            .iter()
            .map(|(name, url)| {
                let url = config
                    .subgraphs
                    .get(name)
                    .and_then(|s| s.url.clone())
                    .unwrap_or_else(|| url.clone());
                let endpoint = Endpoint {
                    url,
                    timeout: config.subgraph_timeout(name),
                };
                (name.clone(), endpoint)
            })
            .collect();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .expect("an HTTP client with static settings builds");
        Self { client, endpoints }
    }

    pub async fn fetch(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        client_headers: &HeaderMap,
    ) -> Result<SubgraphResponse, TransportError> {
        let endpoint = self
            .endpoints
            .get(subgraph)
            .ok_or(TransportError::UnknownSubgraph)?;
        let mut request = self
            .client
            .post(&endpoint.url)
            .timeout(endpoint.timeout)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::ACCEPT,
                "application/graphql-response+json, application/json",
            )
            .body(body);
        for name in FORWARDED_HEADERS {
            if let Some(value) = client_headers.get(*name) {
                request = request.header(*name, value);
            }
        }
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(TransportError::TooLarge(MAX_RESPONSE_BYTES));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(TransportError::TooLarge(MAX_RESPONSE_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        // sonic-rs parses with SIMD; the values are the same serde_json_bytes values.
        match sonic_rs::from_slice::<SubgraphResponse>(&body) {
            Ok(parsed) => Ok(parsed),
            // A non-2xx answer without a GraphQL body is an HTTP failure, not a bad response.
            Err(_) if !status.is_success() => Err(TransportError::Status(status.as_u16())),
            Err(e) => Err(TransportError::InvalidResponse(e)),
        }
    }
}

fn classify(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout
    } else {
        TransportError::Connect(error)
    }
}
