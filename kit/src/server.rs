//! Subgraph HTTP server: GraphQL on POST `/graphql` (and `/`), `/health`, request ids, tracing,
//! bearer-token verification into a [`Viewer`](crate::auth::Viewer), panics turned into 500s.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, Request};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::TokenVerifier;
use crate::ApiError;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The client address a request came from: the last `x-forwarded-for` entry (added by the
/// router), else the peer address.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

type RequestHook = Arc<dyn Fn(async_graphql::Request) -> async_graphql::Request + Send + Sync>;

struct GraphqlState<Q, M, S> {
    schema: Schema<Q, M, S>,
    verifier: Arc<TokenVerifier>,
    per_request: RequestHook,
}

/// Routes for one subgraph. `per_request` adds request-scoped data (dataloaders) to each request.
pub fn graphql_routes<Q, M, S>(
    schema: Schema<Q, M, S>,
    verifier: Arc<TokenVerifier>,
    per_request: impl Fn(async_graphql::Request) -> async_graphql::Request + Send + Sync + 'static,
) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let state = Arc::new(GraphqlState {
        schema,
        verifier,
        per_request: Arc::new(per_request),
    });
    Router::new()
        .route("/graphql", post(graphql::<Q, M, S>))
        .route("/", post(graphql::<Q, M, S>))
        .with_state(state)
        .route("/health", get(|| async { "ok" }))
}

async fn graphql<Q, M, S>(
    State(state): State<Arc<GraphqlState<Q, M, S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let viewer = match state.verifier.viewer(authorization).await {
        Ok(viewer) => viewer,
        Err(error) => {
            let error: async_graphql::Error = ApiError::from(error).into();
            let response = async_graphql::Response::from_errors(vec![
                error.into_server_error(async_graphql::Pos::default())
            ]);
            return response.into();
        }
    };
    let client = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| peer.ip().to_string());
    let request = request
        .into_inner()
        .data(viewer)
        .data(ClientAddress(client))
        .data(RequestHeaders(headers));
    let request = (state.per_request)(request);
    state.schema.execute(request).await.into()
}

/// The incoming headers, for resolvers that need one (e.g. to forward the bearer token).
#[derive(Clone, Debug)]
pub struct RequestHeaders(pub HeaderMap);

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
                crate::telemetry::continue_trace(&span, request.headers());
                span
            },
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}

/// A server on a bound listener: tests bind port 0 and read the port before running it.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Server {
    pub fn new(service: &'static str, listener: tokio::net::TcpListener, router: Router) -> Self {
        Self {
            listener,
            router: with_platform_layers(service, router),
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
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
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
