//! HTTP: GraphQL over HTTP on `/` and `/graphql`, `/health`, and GraphiQL for browsers;
//! `/metrics` (Prometheus) on a listener of its own. With a site (`App::with_site`), a
//! browser's page requests go to the site instead (`site_or_api`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Json;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use bytes::Bytes;

use crate::pipeline::request::{parse_get_query, GraphQLRequest};
use crate::pipeline::respond::GraphQLResponse;
use crate::pipeline::uploads::{is_multipart, parse_multipart, UploadLimits};
use crate::pipeline::{run_pipeline, PipelineError};
use crate::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn routes(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/", get(graphql_get).post(graphql_post))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(health))
        .route("/graphiql/{file}", get(graphiql_asset))
        .with_state(state)
        .layer(telemetry::metrics::TrackHttpLayer::new("router"))
}

/// A request for a web page goes to `site`, any other to the API (`next`).
pub(crate) async fn site_or_api(
    site: axum::Router,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if is_page_request(&request) {
        use tower::ServiceExt;
        match site.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else {
        next.run(request).await
    }
}

fn is_page_request(request: &axum::extract::Request) -> bool {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return false;
    }
    match request.uri().path() {
        "/graphql" | "/health" => false,
        path if path.starts_with("/graphiql/") => false,
        "/" => {
            let query = request.uri().query().unwrap_or_default();
            wants_html(request.headers())
                && !["query=", "extensions=", "documentId="]
                    .iter()
                    .any(|parameter| query.contains(parameter))
        }
        // A page (a browser navigating asks for HTML) or a file the page loads (a name with
        // an extension); anything else, `/metrics` say, is the router's and not found.
        path => {
            wants_html(request.headers())
                || path
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.contains('.'))
        }
    }
}

/// `/metrics` for the metrics listener, which only the scraper should reach.
pub fn metrics_routes() -> axum::Router {
    axum::Router::new().route("/metrics", get(|| async { telemetry::metrics::render() }))
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "UP" }))
}

fn accepts_graphql_response_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(GRAPHQL_RESPONSE_JSON))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

async fn graphql_get(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let headers = with_forwarded_for(headers, peer.map(|Extension(ConnectInfo(peer))| peer));
    let query = query.unwrap_or_default();
    if wants_html(&headers) && !query.contains("query=") {
        return Html(GRAPHIQL_PAGE).into_response();
    }
    let modern = accepts_graphql_response_json(&headers);
    match parse_get_query(&Method::GET, &query) {
        Ok(request) => run_request(state, request, &headers, modern).await,
        Err(error) => error_response(error, modern),
    }
}

/// Takes the request whole: its headers are moved out, not copied as axum's `HeaderMap`
/// extractor would.
async fn graphql_post(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let headers = with_forwarded_for(parts.headers, peer);
    let modern = accepts_graphql_response_json(&headers);
    let limits = &state.config.limits;
    let multipart = is_multipart(&headers) && limits.max_uploads > 0;
    let upload_limits = UploadLimits {
        max_body_bytes: limits.max_body_bytes,
        max_upload_bytes: limits.max_upload_bytes,
        max_uploads: limits.max_uploads,
    };
    let limit = if multipart {
        upload_limits.max_request_bytes()
    } else {
        limits.max_body_bytes
    };
    // Files are held in memory: only a caller with a token that verifies may make the router
    // read them (checked before the body is read; the pipeline checks the token again).
    if multipart {
        if let Err(error) = may_upload(&state, &headers).await {
            let mut response = error_response(error, modern);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    }
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = match read_body(body, limit, declared_length).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let mut response = error_response(error, modern);
            // What is left of the body is not read: this connection cannot serve another.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    let request = if multipart {
        parse_multipart(&headers, bytes, upload_limits).await
    } else {
        state.parsed_bodies.parse(&headers, &bytes)
    };
    match request {
        Ok(request) => run_request(state, request, &headers, modern).await,
        Err(error) => error_response(error, modern),
    }
}

async fn may_upload(state: &AppState, headers: &HeaderMap) -> Result<(), PipelineError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Err(PipelineError::Unauthenticated(
            "sign in to send files".into(),
        ));
    }
    crate::pipeline::authenticate::authenticate(state.verifier.as_ref(), headers)
        .await
        .map(|_| ())
}

/// How much of an oversized body is read and dropped before the 413 is sent: a client still
/// sending when the connection closes sees a broken pipe, not the answer (as web servers
/// do, a bounded amount, in bounded time).
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The request body, at most `limit` bytes; a larger one is drained (within bounds) and
/// refused.
async fn read_body(
    body: Body,
    limit: usize,
    declared_length: Option<usize>,
) -> Result<Bytes, PipelineError> {
    use futures::StreamExt;

    let mut stream = body.into_data_stream();
    if let Some(declared) = declared_length.filter(|len| *len > limit) {
        drain(&mut stream, declared).await;
        return Err(PipelineError::PayloadTooLarge(limit));
    }
    let mut buffer = bytes::BytesMut::with_capacity(declared_length.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            PipelineError::BadRequest(format!("the request body could not be read: {e}"))
        })?;
        if buffer.len() + chunk.len() > limit {
            drain(&mut stream, DRAIN_BYTES).await;
            return Err(PipelineError::PayloadTooLarge(limit));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

/// Reads and drops the rest of the body when it is expected to end within [`DRAIN_BYTES`]
/// (a larger one is not worth reading: the connection closes at once).
async fn drain(stream: &mut axum::body::BodyDataStream, expected: usize) {
    use futures::StreamExt;

    if expected > DRAIN_BYTES {
        return;
    }
    let mut drained = 0;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = stream.next().await {
            drained += chunk.len();
            if drained > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

/// Appends the caller's address to `x-forwarded-for`, which is forwarded to the subgraphs (the
/// accounts service throttles logins per client address).
fn with_forwarded_for(mut headers: HeaderMap, peer: Option<std::net::SocketAddr>) -> HeaderMap {
    use crate::executor::transport::X_FORWARDED_FOR;
    if let Some(peer) = peer {
        let address = address_value(peer.ip());
        let value = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(existing) => {
                let address = address.to_str().expect("an address is text");
                HeaderValue::try_from(format!("{existing}, {address}")).ok()
            }
            None => Some(address),
        };
        if let Some(value) = value {
            headers.insert(X_FORWARDED_FOR.clone(), value);
        }
    }
    headers
}

/// A caller's address as a header value. Formatting it was most of what appending it cost, and
/// the same few addresses come again and again (a load balancer's, each keep-alive
/// connection's), so each thread keeps the last one it formatted.
fn address_value(ip: std::net::IpAddr) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(std::net::IpAddr, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((cached, value)) if *cached == ip => value.clone(),
        _ => {
            let value =
                HeaderValue::try_from(ip.to_string()).expect("an address is a valid header value");
            *last = Some((ip, value.clone()));
            value
        }
    })
}

async fn run_request(
    state: Arc<AppState>,
    request: GraphQLRequest,
    headers: &HeaderMap,
    modern: bool,
) -> Response {
    match run_pipeline(&state, request, headers).await {
        Ok(body) => body_response(StatusCode::OK, body, modern),
        Err(error) => error_response(error, modern),
    }
}

fn error_response(error: PipelineError, modern: bool) -> Response {
    let status = error.status(modern);
    let retry_after = error.retry_after_secs();
    let mut response = json_response(
        status,
        GraphQLResponse::from_errors(error.into_errors()),
        modern,
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

fn json_response(status: StatusCode, body: GraphQLResponse, modern: bool) -> Response {
    body_response(status, Bytes::from(body.into_bytes()), modern)
}

fn body_response(status: StatusCode, bytes: Bytes, modern: bool) -> Response {
    let content_type = if modern {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json; charset=utf-8"
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// GraphiQL's page and its assets, served by the router itself (no CDN): it works without
/// internet access. The assets are vendored in `router/assets/graphiql/` (see its LICENSES.txt).
const GRAPHIQL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql'))
      .render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"#;

const GRAPHIQL_ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

async fn graphiql_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match GRAPHIQL_ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
