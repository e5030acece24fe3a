//! HTTP: GraphQL over HTTP on `/` and `/graphql`, `/health`, and GraphiQL for browsers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Json;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use kit::auth::{TokenError, TokenVerifier, Viewer};

use crate::config::RouterConfig;
use crate::executor::execute_plan;
use crate::executor::transport::Transport;
use crate::graphql_error::GraphQLError;
use crate::pipeline::prepare::{OperationPreparer, PreparedOperation};
use crate::pipeline::request::{parse_get_query, parse_post_body, GraphQLRequest};
use crate::pipeline::respond::{shape_response, GraphQLResponse};
use crate::pipeline::PipelineError;
use crate::supergraph::Supergraph;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub struct AppState {
    pub supergraph: Supergraph,
    pub preparer: OperationPreparer,
    pub transport: Transport,
    pub config: RouterConfig,
    /// Verifies bearer tokens when `auth.jwks_url` is configured.
    pub verifier: Option<TokenVerifier>,
}

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

/// The caller, from a verified bearer token; `None` when the router does not check tokens.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, PipelineError> {
    let Some(verifier) = &state.verifier else {
        return Ok(None);
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    match verifier.viewer(authorization).await {
        Ok(viewer) => Ok(Some(viewer)),
        Err(TokenError::KeysUnavailable(detail)) => Err(PipelineError::AuthUnavailable(detail)),
        Err(error) => Err(PipelineError::Unauthenticated(format!(
            "the access token is invalid: {error}"
        ))),
    }
}

async fn run_request(
    state: Arc<AppState>,
    request: GraphQLRequest,
    headers: &HeaderMap,
    modern: bool,
) -> Response {
    match execute_request(state, request, headers).await {
        Ok(response) => json_response(StatusCode::OK, &response, modern),
        Err(error) => error_response(error, modern),
    }
}

/// prepare -> coerce variables -> execute -> shape.
async fn execute_request(
    state: Arc<AppState>,
    request: GraphQLRequest,
    headers: &HeaderMap,
) -> Result<GraphQLResponse, PipelineError> {
    let viewer = authenticate(&state, headers).await?;
    let prepared = prepare_operation(&state, &request).await?;
    if request.is_get && !prepared.operation_type().is_query() {
        return Err(PipelineError::MutationOverGet);
    }
    if let Some(viewer) = &viewer {
        crate::pipeline::authorize::authorize(&prepared.access, viewer)?;
    }
    let variables = apollo_compiler::request::coerce_variable_values(
        &state.supergraph.api_schema,
        &prepared.operation,
        &request.variables,
    )
    .map_err(|e| {
        let mut error = GraphQLError::new(e.message().to_string(), "BAD_USER_INPUT");
        if let Some(location) = e
            .location()
            .and_then(|l| l.line_column(&prepared.document.sources))
        {
            error.locations.push(crate::graphql_error::Location {
                line: location.line,
                column: location.column,
            });
        }
        PipelineError::InvalidVariables(Box::new(error))
    })?;
    let (data, errors) = match &prepared.plan {
        Some(plan) => {
            let output = execute_plan(
                &state.supergraph,
                &state.transport,
                plan,
                &variables,
                headers,
            )
            .await;
            (output.data, output.errors)
        }
        None => (crate::executor::value::Value::Null, Vec::new()),
    };
    Ok(shape_response(
        &state.supergraph,
        &prepared,
        &variables,
        &data,
        errors,
    ))
}

/// From the cache, or prepared on a blocking thread so that planning never stalls the workers
/// that serve other requests.
async fn prepare_operation(
    state: &Arc<AppState>,
    request: &GraphQLRequest,
) -> Result<Arc<PreparedOperation>, PipelineError> {
    let operation_name = request.operation_name.as_deref();
    if let Some(prepared) = state.preparer.cached(&request.query, operation_name) {
        return Ok(prepared);
    }
    let state = state.clone();
    let query = request.query.clone();
    let operation_name = request.operation_name.clone();
    tokio::task::spawn_blocking(move || {
        state.preparer.prepare_operation_with_cache(
            &state.supergraph,
            &query,
            operation_name.as_deref(),
        )
    })
    .await
    .unwrap_or_else(|_| Err(PipelineError::Planning("preparation panicked".into())))
}

fn error_response(error: PipelineError, modern: bool) -> Response {
    let status = error.status(modern);
    let mut response = json_response(
        status,
        &GraphQLResponse::from_errors(error.into_errors()),
        modern,
    );
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

fn json_response(status: StatusCode, body: &GraphQLResponse, modern: bool) -> Response {
    let bytes = body.to_bytes();
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
