//! HTTP: GraphQL over HTTP on `/` and `/graphql`, `/health`, and GraphiQL for browsers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Json;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use bytes::Bytes;

use crate::pipeline::request::{parse_get_query, parse_post_body, GraphQLRequest};
use crate::pipeline::respond::GraphQLResponse;
use crate::pipeline::{run_pipeline, PipelineError};
use crate::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn routes(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/", get(graphql_get).post(graphql_post))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(health))
        .with_state(state)
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
    let headers = with_forwarded_for(headers, peer);
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

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let headers = with_forwarded_for(headers, peer);
    let modern = accepts_graphql_response_json(&headers);
    let limit = state.config.limits.max_body_bytes;
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|len| len > limit) {
        return error_response(PipelineError::PayloadTooLarge(limit), modern);
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return error_response(PipelineError::PayloadTooLarge(limit), modern),
    };
    match parse_post_body(&headers, &bytes) {
        Ok(request) => run_request(state, request, &headers, modern).await,
        Err(error) => error_response(error, modern),
    }
}

/// Appends the caller's address to `x-forwarded-for`, which is forwarded to the subgraphs (the
/// accounts service throttles logins per client address).
fn with_forwarded_for(
    mut headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
) -> HeaderMap {
    if let Some(Extension(ConnectInfo(peer))) = peer {
        let ip = peer.ip().to_string();
        let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(existing) => format!("{existing}, {ip}"),
            None => ip,
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert("x-forwarded-for", value);
        }
    }
    headers
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

const GRAPHIQL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>GraphiQL</title>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql'))
      .render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"#;
