//! What every HTTP server of the shop does the same way, the router's and the subgraphs': request
//! ids, a trace span per request, panics turned into 500s, the router's secret header, refusing
//! NUL characters, and stopping on SIGTERM.

use std::future::Future;
use std::net::SocketAddr;

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The header the router proves itself with to the subgraphs: the shared secret
/// `ROUTER_SUBGRAPH_SECRET`.
pub const ROUTER_SECRET_HEADER: &str = "x-router-secret";

/// Whether `bytes` (JSON or GraphQL text) carry U+0000, raw or as the escape `\u0000`.
/// PostgreSQL cannot store it in text, and no genuine input has it: requests and webhook
/// bodies carrying it are refused at the door instead of failing in the database.
pub fn contains_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// Request ids (kept from the router's `x-request-id` or made here), one trace span per
/// request carrying that id and continuing the caller's trace, and panics turned into 500
/// responses. `service` names the subgraph in the span (the embedded shop runs them all in one
/// process).
pub fn with_platform_layers(service: &'static str, router: Router) -> Router {
    router
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(
            move |request: &Request<axum::body::Body>| {
                let id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                let span = tracing::info_span!(
                    "request",
                    otel.name = %format_args!("{service} {}", request.uri().path()),
                    otel.kind = "server",
                    service,
                    method = %request.method(),
                    uri = %request.uri(),
                    request_id = %id,
                );
                telemetry::continue_trace(&span, request.headers());
                span
            },
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .layer(tower::util::MapRequestLayer::new(drop_invalid_request_id))
}

/// The longest request id kept from a client; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's `x-request-id` may be kept, logged and echoed: 1 to 128 characters of
/// letters, digits and `-_.:` (a UUID, a ULID, a trace id, `<host>:<n>`).
pub fn is_valid_request_id(value: &http::HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Drops an `x-request-id` that is not [valid](is_valid_request_id), so the request gets a new
/// one instead of carrying the client's bytes into logs and back out. For
/// `tower::util::MapRequestLayer`, which calls it in line (axum's `map_request` would box the
/// request's future).
pub fn drop_invalid_request_id<B>(mut request: Request<B>) -> Request<B> {
    if request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|id| !is_valid_request_id(id))
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// A server on a bound listener: tests bind port 0 and read the port before running it.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    limits: crate::serve::HttpLimits,
}

impl Server {
    pub fn new(
        service: &'static str,
        listener: tokio::net::TcpListener,
        router: Router,
        limits: crate::serve::HttpLimits,
    ) -> Self {
        Self {
            listener,
            router: with_platform_layers(service, router),
            limits,
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::serve::serve(self.listener, self.router, &self.limits, shutdown).await
    }
}

/// Resolves when the process gets SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
