//! Sending one GraphQL request to one subgraph: its keep-alive connections (`connection.rs`),
//! per-subgraph URL and timeout, identical in-flight query requests sharing one call, and a
//! typed error for everything that can go wrong on the way.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector;

use apollo_compiler::response::{JsonMap, JsonValue};
use http::{HeaderMap, HeaderName};
use serde::Deserialize;
use tracing::Instrument;

use super::breaker::CircuitBreaker;
use super::connection::{CallError, Connections, Write};
use super::value::Value;
use crate::config::RouterConfig;
use crate::inflight::{HashedKey, Inflight};

/// The largest subgraph response body read; a larger one is a failed fetch, not an OOM.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Headers copied from the client request to every subgraph request that can change the
/// answer: requests that differ in any of them never share a call or an execution.
/// Names, not strings: a header looked up or set by a string is parsed every time.
pub static IDENTITY_HEADERS: [&HeaderName; 2] = [&AUTHORIZATION, &X_FORWARDED_FOR];
static AUTHORIZATION: HeaderName = http::header::AUTHORIZATION;
pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Also forwarded: the request id (`web::server::REQUEST_ID`), and the W3C trace context. A
/// shared call carries the first caller's.
static TRACE_CONTEXT_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];
static ROUTER_SECRET: HeaderName = HeaderName::from_static(web::server::ROUTER_SECRET_HEADER);

/// The values of the [`IDENTITY_HEADERS`] in a client request, in that order.
pub fn identity_header_values(headers: &HeaderMap) -> Vec<Option<http::HeaderValue>> {
    IDENTITY_HEADERS
        .iter()
        .map(|name| headers.get(*name).cloned())
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the subgraph is not known to the router")]
    UnknownSubgraph,
    #[error("the subgraph is failing; calls to it are paused for a moment")]
    CircuitOpen,
    #[error("the request timed out")]
    Timeout,
    #[error("the subgraph could not be reached")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The subgraph's TLS certificate did not verify (against the system's roots and
    /// `subgraph_ca_file`), or the handshake failed.
    #[error("the subgraph's TLS certificate was refused: {0}")]
    Tls(String),
    #[error("the subgraph's answer could not be read")]
    ReadBody(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the subgraph answered with HTTP status {0}")]
    Status(u16),
    #[error("the subgraph response is larger than {0} bytes")]
    TooLarge(usize),
    /// The parser's reason (a `String`, so that a shared call's waiters each get their own).
    #[error("the subgraph response is not a valid GraphQL response: {0}")]
    InvalidResponse(String),
    #[error("the shared request to the subgraph failed unexpectedly")]
    SharedCallPanicked,
    /// A failure of a call this request shared with others.
    #[error("{0}")]
    SharedCallFailed(String),
}

impl TransportError {
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Timeout => "SUBREQUEST_TIMEOUT",
            TransportError::InvalidResponse(_) => "SUBREQUEST_MALFORMED_RESPONSE",
            TransportError::CircuitOpen => "SUBGRAPH_CIRCUIT_OPEN",
            _ => "SUBREQUEST_HTTP_ERROR",
        }
    }
}

/// The subgraph's answer: `data` and `errors` as sent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SubgraphResponse {
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub errors: Option<Vec<SubgraphError>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubgraphError {
    pub message: String,
    #[serde(default)]
    pub path: Option<Vec<JsonValue>>,
    #[serde(default)]
    pub extensions: Option<JsonMap>,
}

/// TLS for `https://` subgraphs: the system's usual web roots (webpki-roots) and the
/// certificates of `subgraph_ca_file` (a private CA).
fn tls_config(config: &RouterConfig) -> Result<rustls::ClientConfig, InvalidSubgraphUrl> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.subgraph_ca_file {
        use rustls::pki_types::pem::PemObject;
        let invalid = |reason: String| InvalidSubgraphUrl {
            subgraph: "*".into(),
            url: path.display().to_string(),
            reason,
        };
        let certificates = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| invalid(format!("subgraph_ca_file: {e}")))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| invalid(format!("subgraph_ca_file: {e}")))?;
            roots
                .add(certificate)
                .map_err(|e| invalid(format!("subgraph_ca_file: {e}")))?;
        }
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| InvalidSubgraphUrl {
            subgraph: "*".into(),
            url: String::new(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

#[derive(Debug, thiserror::Error)]
#[error("the URL {url:?} of subgraph {subgraph} is invalid: {reason}")]
pub struct InvalidSubgraphUrl {
    subgraph: String,
    url: String,
    reason: String,
}

struct Endpoint {
    /// The subgraph's name, shared by the deduplication keys of its calls.
    name: Arc<str>,
    /// Parsed once: parsing on every request showed in profiles.
    uri: http::Uri,
    /// What a request names: the path (origin form), and the host in `Host`.
    path: http::Uri,
    host: http::HeaderValue,
    connections: Connections,
    timeout: Duration,
    /// Whether identical in-flight query requests share one call.
    dedupe: bool,
    /// `None` when circuit breaking is off.
    breaker: Option<CircuitBreaker>,
}

/// What identifies a subgraph request for deduplication: the body and the values of the
/// [`IDENTITY_HEADERS`] it is sent with.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CallKey {
    subgraph: Arc<str>,
    body: Bytes,
    headers: Vec<Option<http::HeaderValue>>,
}

/// A subgraph's raw answer: the status and the body, read in full.
#[derive(Clone)]
struct RawAnswer {
    status: http::StatusCode,
    body: Bytes,
}

/// A shared call's result: the answer parsed once, for every waiter.
type CallResult = Result<Arc<SubgraphResponse>, Arc<TransportError>>;

thread_local! {
    /// Which serving thread this is (see [`crate::config::HttpConfig::threads`]); 0 elsewhere.
    static SERVING_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as serving thread `index`: its subgraph calls use connections of
/// its own, made and driven on its runtime (see `connection.rs`).
pub fn set_serving_thread(index: usize) {
    SERVING_THREAD.with(|thread| thread.set(index));
}

pub struct Transport {
    /// `x-router-secret` for every subgraph request, when configured.
    router_secret: Option<http::HeaderValue>,
    /// Proxies in front of the router, for the client address the subgraphs get.
    trusted_proxy_hops: usize,
    endpoints: HashMap<String, Arc<Endpoint>>,
    inflight: Arc<Inflight<CallKey, CallResult>>,
}

impl Transport {
    /// `urls` are the supergraph's `join__Graph` URLs; configuration may override each.
    pub fn new(
        urls: &HashMap<String, String>,
        config: &RouterConfig,
    ) -> Result<Self, InvalidSubgraphUrl> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // `https://` URLs need the connector to leave the scheme check to TLS.
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(config)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let endpoints: HashMap<String, Arc<Endpoint>> = urls
            .iter()
            .map(|(name, url)| {
                let url = config
                    .subgraphs
                    .get(name)
                    .and_then(|s| s.url.as_deref())
                    .unwrap_or(url);
                let invalid = |reason: String| InvalidSubgraphUrl {
                    subgraph: name.clone(),
                    url: url.to_string(),
                    reason,
                };
                let uri = url
                    .parse::<http::Uri>()
                    .map_err(|e| invalid(e.to_string()))?;
                let (Some(authority), Some(_)) = (uri.authority(), uri.scheme()) else {
                    return Err(invalid(
                        "it needs a scheme and a host, as in http://host:4001/graphql".into(),
                    ));
                };
                let host = http::HeaderValue::from_str(authority.as_str())
                    .map_err(|e| invalid(e.to_string()))?;
                let path = uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .parse::<http::Uri>()
                    .map_err(|e| invalid(e.to_string()))?;
                let endpoint = Endpoint {
                    name: Arc::from(name.as_str()),
                    uri,
                    path,
                    host,
                    connections: Connections::new(
                        connector.clone(),
                        config.http.serving_threads(),
                        512,
                        // Below the subgraphs' idle limit, so a reused connection is never one
                        // they close.
                        web::client::POOL_IDLE_TIMEOUT,
                    ),
                    timeout: config.subgraph_timeout(name),
                    dedupe: config.subgraph_dedupe(name),
                    breaker: config.circuit_breaker.enabled.then(|| {
                        CircuitBreaker::new(
                            config.circuit_breaker.failure_threshold,
                            Duration::from_millis(config.circuit_breaker.open_ms),
                        )
                    }),
                };
                Ok((name.clone(), Arc::new(endpoint)))
            })
            .collect::<Result<_, _>>()?;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close_expired_connections(
                endpoints.values().map(Arc::downgrade).collect(),
            ));
        }
        let router_secret = config.subgraph_secret.as_deref().and_then(|secret| {
            let mut value = http::HeaderValue::from_str(secret).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        Ok(Self {
            router_secret,
            trusted_proxy_hops: config.rate_limits.trusted_proxy_hops,
            endpoints,
            inflight: Inflight::new(),
        })
    }

    /// Whether calls to `subgraph` are paused by its circuit breaker.
    pub fn circuit_open(&self, subgraph: &str) -> bool {
        self.endpoints
            .get(subgraph)
            .and_then(|e| e.breaker.as_ref())
            .is_some_and(CircuitBreaker::is_open)
    }

    /// How many subgraph requests so far shared an identical call in flight.
    pub fn calls_shared(&self) -> u64 {
        self.inflight.joined()
    }

    /// Sends one request and parses the answer. A query request (`shareable`) waits for an
    /// identical one already in flight instead of calling again, where the subgraph allows it;
    /// the shared answer is parsed once, and each caller gets its own copy.
    pub async fn fetch(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        client_headers: &HeaderMap,
        shareable: bool,
    ) -> Result<SubgraphResponse, TransportError> {
        let json = http::HeaderValue::from_static("application/json");
        self.fetch_measured(subgraph, body, json, client_headers, shareable)
            .await
    }

    /// Sends a multipart request (a mutation's files, see [`crate::pipeline::uploads`]);
    /// never shared.
    pub async fn fetch_multipart(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        boundary: &str,
        client_headers: &HeaderMap,
    ) -> Result<SubgraphResponse, TransportError> {
        let content_type =
            http::HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                .expect("a boundary of letters, digits and dashes is a valid header value");
        self.fetch_measured(subgraph, body, content_type, client_headers, false)
            .await
    }

    async fn fetch_measured(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        content_type: http::HeaderValue,
        client_headers: &HeaderMap,
        shareable: bool,
    ) -> Result<SubgraphResponse, TransportError> {
        let started = std::time::Instant::now();
        let span = tracing::info_span!(
            "fetch",
            otel.name = %format_args!("fetch {subgraph}"),
            otel.kind = "client",
            subgraph,
        );
        let answer = self
            .fetch_unmeasured(subgraph, body, content_type, client_headers, shareable)
            .instrument(span)
            .await;
        let code = answer.as_ref().err().map(TransportError::code);
        crate::metrics::record_fetch(subgraph, code, started.elapsed());
        answer
    }

    async fn fetch_unmeasured(
        &self,
        subgraph: &str,
        body: Vec<u8>,
        content_type: http::HeaderValue,
        client_headers: &HeaderMap,
        shareable: bool,
    ) -> Result<SubgraphResponse, TransportError> {
        let endpoint = self
            .endpoints
            .get(subgraph)
            .ok_or(TransportError::UnknownSubgraph)?;
        let body = Bytes::from(body);
        let headers = self.forwarded_headers(client_headers);
        if !(shareable && endpoint.dedupe) {
            let answer = send(
                endpoint.clone(),
                Write::NextTurn,
                body,
                content_type,
                headers,
            )
            .await?;
            return parse_answer(&answer);
        }
        // What the subgraph is sent, not what the client sent: two clients whose forged
        // `x-forwarded-for` entries differ before the address the router resolved send the
        // subgraph the same request.
        let identity = IDENTITY_HEADERS
            .iter()
            .map(|name| {
                headers
                    .iter()
                    .find(|(forwarded, _)| forwarded == name)
                    .map(|(_, value)| value.clone())
            })
            .collect();
        let key = HashedKey::new(CallKey {
            subgraph: endpoint.name.clone(),
            body: body.clone(),
            headers: identity,
        });
        // The shared call is a task of its own (see `Inflight::run`). The answer is parsed
        // once, inside it: its waiters go on to their next fetch at once (and together, so they
        // share that one too) instead of each parsing it first. The last waiter takes the
        // parsed answer, the others copy it.
        let endpoint = endpoint.clone();
        let shared = self
            .inflight
            .run(key, move || async move {
                let call = send(endpoint, Write::AtOnce, body, content_type, headers);
                let answer = call.await.map_err(Arc::new)?;
                parse_answer(&answer).map(Arc::new).map_err(Arc::new)
            })
            .await
            .unwrap_or_else(|| Err(Arc::new(TransportError::SharedCallPanicked)));
        match shared {
            Ok(response) => {
                Ok(Arc::try_unwrap(response).unwrap_or_else(|shared| (*shared).clone()))
            }
            Err(shared) => Err(own_error(&shared)),
        }
    }
}

impl Transport {
    /// The client's authorization and address (`x-forwarded-for`: the one address the router
    /// resolved, see [`crate::pipeline::rate_limit::client_address`]), its request id, the trace
    /// context naming the current fetch span as the caller (the client's own when nothing is
    /// traced here), and the router's secret.
    fn forwarded_headers(
        &self,
        client_headers: &HeaderMap,
    ) -> Vec<(HeaderName, http::HeaderValue)> {
        let traced = telemetry::trace_headers();
        let trace_headers = if traced.is_empty() {
            client_headers
        } else {
            &traced
        };
        let from_client = [&AUTHORIZATION, &web::server::REQUEST_ID]
            .into_iter()
            .filter_map(|name| Some((name.clone(), client_headers.get(name)?.clone())));
        let address =
            crate::pipeline::rate_limit::client_address(client_headers, self.trusted_proxy_hops)
                .and_then(|address| http::HeaderValue::from_str(address).ok())
                .map(|address| (X_FORWARDED_FOR.clone(), address));
        let trace = TRACE_CONTEXT_HEADERS
            .iter()
            .filter_map(|name| Some((name.clone(), trace_headers.get(name)?.clone())));
        let secret = self
            .router_secret
            .iter()
            .map(|value| (ROUTER_SECRET.clone(), value.clone()));
        from_client
            .chain(address)
            .chain(trace)
            .chain(secret)
            .collect()
    }
}

/// Every idle timeout, closes the subgraph connections idle past it, until the transport is
/// dropped.
async fn close_expired_connections(endpoints: Vec<std::sync::Weak<Endpoint>>) {
    let mut ticks = tokio::time::interval(web::client::POOL_IDLE_TIMEOUT);
    loop {
        ticks.tick().await;
        let mut alive = false;
        for endpoint in endpoints.iter().filter_map(std::sync::Weak::upgrade) {
            alive = true;
            endpoint.connections.close_expired();
        }
        if !alive {
            return;
        }
    }
}

async fn send(
    endpoint: Arc<Endpoint>,
    write: Write,
    body: Bytes,
    content_type: http::HeaderValue,
    headers: Vec<(HeaderName, http::HeaderValue)>,
) -> Result<RawAnswer, TransportError> {
    let permit = match &endpoint.breaker {
        Some(breaker) => Some(breaker.permit().ok_or(TransportError::CircuitOpen)?),
        None => None,
    };
    let answer = call(&endpoint, write, body, content_type, headers).await;
    if let Some(permit) = permit {
        permit.record(matches!(&answer, Ok(a) if !a.status.is_server_error()));
    }
    answer
}

async fn call(
    endpoint: &Endpoint,
    write: Write,
    body: Bytes,
    content_type: http::HeaderValue,
    headers: Vec<(HeaderName, http::HeaderValue)>,
) -> Result<RawAnswer, TransportError> {
    let make_request = || {
        let mut request = http::Request::post(endpoint.path.clone())
            .header(http::header::HOST, endpoint.host.clone())
            .header(http::header::CONTENT_TYPE, content_type.clone())
            .header(
                http::header::ACCEPT,
                "application/graphql-response+json, application/json",
            )
            .body(Full::new(body.clone()))
            .expect("a request from a valid URI and static headers builds");
        for (name, value) in &headers {
            request.headers_mut().insert(name, value.clone());
        }
        request
    };
    let thread = SERVING_THREAD.with(std::cell::Cell::get);
    // Boxed: the call holds the connection's read state, and the futures around it (a fetch
    // is boxed by the executor) would otherwise copy it each time they move.
    let call = Box::pin(endpoint.connections.call(
        thread,
        write,
        &endpoint.uri,
        make_request,
        read_answer,
    ));
    match tokio::time::timeout(endpoint.timeout, call).await {
        Err(_elapsed) => Err(TransportError::Timeout),
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(CallError::Answer(error))) => Err(error),
        Ok(Err(CallError::Connect(error))) => Err(connect_error(error)),
        Ok(Err(CallError::Http(error))) => Err(connect_error(error.into())),
    }
}

/// Reads a subgraph's answer whole, up to [`MAX_RESPONSE_BYTES`].
async fn read_answer(
    response: http::Response<hyper::body::Incoming>,
) -> Result<RawAnswer, TransportError> {
    let status = response.status();
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
        return Err(TransportError::TooLarge(MAX_RESPONSE_BYTES));
    }
    // A body of one chunk is taken without a copy.
    let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                TransportError::TooLarge(MAX_RESPONSE_BYTES)
            } else {
                TransportError::ReadBody(e)
            }
        })?
        .to_bytes();
    Ok(RawAnswer { status, body })
}

fn parse_answer(answer: &RawAnswer) -> Result<SubgraphResponse, TransportError> {
    // sonic-rs parses with SIMD into the router's own values.
    match sonic_rs::from_slice::<SubgraphResponse>(&answer.body) {
        Ok(parsed) => Ok(parsed),
        // A non-2xx answer without a GraphQL body is an HTTP failure, not a bad response.
        Err(_) if !answer.status.is_success() => {
            Err(TransportError::Status(answer.status.as_u16()))
        }
        Err(e) => Err(TransportError::InvalidResponse(e.to_string())),
    }
}

/// A failed connection, told apart when TLS refused the subgraph's certificate.
fn connect_error(error: Box<dyn std::error::Error + Send + Sync>) -> TransportError {
    match tls_failure(&*error) {
        Some(tls) => TransportError::Tls(tls.to_string()),
        None => TransportError::Connect(error),
    }
}

/// The rustls error somewhere in `error`'s chain; `io::Error`s hide the errors they wrap from
/// `source()`, so they are looked into too.
fn tls_failure<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if let Some(tls) = tls_failure(inner) {
            return Some(tls);
        }
    }
    error.source().and_then(tls_failure)
}

/// A waiter's own copy of a shared call's error (the sources are not `Clone`; their text is
/// logged where the call failed).
fn own_error(shared: &TransportError) -> TransportError {
    match shared {
        TransportError::UnknownSubgraph => TransportError::UnknownSubgraph,
        TransportError::Timeout => TransportError::Timeout,
        TransportError::CircuitOpen => TransportError::CircuitOpen,
        TransportError::Status(status) => TransportError::Status(*status),
        TransportError::TooLarge(limit) => TransportError::TooLarge(*limit),
        TransportError::InvalidResponse(reason) => TransportError::InvalidResponse(reason.clone()),
        TransportError::Connect(_)
        | TransportError::Tls(_)
        | TransportError::ReadBody(_)
        | TransportError::SharedCallPanicked
        | TransportError::SharedCallFailed(_) => {
            TransportError::SharedCallFailed(shared.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subgraph_url_without_a_scheme_or_host_is_refused_at_start() {
        let config = RouterConfig::default();
        for url in ["localhost:4001", "/graphql"] {
            let urls = HashMap::from([("products".to_string(), url.to_string())]);
            let error = Transport::new(&urls, &config).err().expect("refused");
            assert!(
                error.to_string().contains("needs a scheme and a host"),
                "{url}: {error}"
            );
        }
        let urls = HashMap::from([(
            "products".to_string(),
            "http://127.0.0.1:4001/graphql?x=1".to_string(),
        )]);
        let transport = Transport::new(&urls, &config).expect("accepted");
        let endpoint = &transport.endpoints["products"];
        assert_eq!(endpoint.path, "/graphql?x=1");
        assert_eq!(endpoint.host, "127.0.0.1:4001");
    }
}
