//! A subgraph's GraphQL routes: POST `/graphql` (and `/`), `/health`, bearer-token verification
//! into a [`Viewer`](auth::Viewer), the gate that keeps the port to the router and services,
//! NUL characters refused. Request ids, tracing and panics turned into 500s are the layers every
//! server gets from `web::server`.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use auth::{TokenVerifier, Viewer};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use web::server::{contains_nul, ROUTER_SECRET_HEADER};

use crate::ApiError;

/// The client address a request came from: for a request from the router, its
/// `x-forwarded-for` (the client address the router resolved); else the peer address, whatever
/// `x-forwarded-for` claims.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

/// The address the request came from (see [`ClientAddress`]); "unknown" outside a request.
pub fn client_address<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a str {
    ctx.data_opt::<ClientAddress>()
        .map(|c| c.0.as_str())
        .unwrap_or("unknown")
}

/// Who may call a subgraph's GraphQL endpoint besides other services. With a router secret
/// configured (production), only requests that carry it (the router's) or a service token are
/// served: `_service`, `_entities` and every operation are closed to anyone who reaches the
/// port otherwise. Partners' tokens work only through the router, which holds them to their
/// published operations.
#[derive(Clone)]
pub struct Gate {
    router_secret: Option<[u8; 32]>,
}

impl Gate {
    /// `router_secret`: `ROUTER_SUBGRAPH_SECRET`; `None` leaves the port open to direct callers
    /// (a subgraph run alone), who still cannot use a partner token or a forwarded address.
    pub fn new(router_secret: Option<&str>) -> Self {
        Self {
            router_secret: router_secret.map(|secret| digest(secret.as_bytes())),
        }
    }

    /// Whether the request carries the router's secret.
    fn is_from_router(&self, headers: &HeaderMap) -> bool {
        let (Some(expected), Some(presented)) =
            (&self.router_secret, headers.get(ROUTER_SECRET_HEADER))
        else {
            return false;
        };
        // Digests of equal length, compared without an early exit.
        let presented = digest(presented.as_bytes());
        expected
            .iter()
            .zip(presented)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Why a request that did not come through the router is refused, if it is.
    fn refusal(&self, viewer: &Viewer) -> Option<&'static str> {
        if viewer.has_scope(auth::SERVICE_SCOPE) {
            None
        } else if self.router_secret.is_some() {
            Some("this port serves the router and other services; send requests to the router")
        } else if viewer.is_partner() {
            Some("partners' requests must come through the router")
        } else {
            None
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

type RequestHook = Arc<dyn Fn(async_graphql::Request) -> async_graphql::Request + Send + Sync>;

struct GraphqlState<Q, M, S> {
    schema: Schema<Q, M, S>,
    verifier: Arc<TokenVerifier>,
    gate: Gate,
    per_request: RequestHook,
}

/// Routes for one subgraph. `per_request` adds request-scoped data (dataloaders) to each request.
pub fn graphql_routes<Q, M, S>(
    schema: Schema<Q, M, S>,
    verifier: Arc<TokenVerifier>,
    gate: Gate,
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
        gate,
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
    let refuse = |error: ApiError| -> GraphQLResponse {
        let error: async_graphql::Error = error.into();
        async_graphql::Response::from_errors(vec![
            error.into_server_error(async_graphql::Pos::default())
        ])
        .into()
    };
    let viewer = match state.verifier.viewer(authorization).await {
        Ok(viewer) => viewer,
        Err(error) => return refuse(error.into()),
    };
    let from_router = state.gate.is_from_router(&headers);
    let forwarded = from_router
        .then(|| headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if !from_router {
        if let Some(reason) = state.gate.refusal(&viewer) {
            return refuse(ApiError::ForbiddenBecause(reason.into()));
        }
    }
    let client = forwarded.unwrap_or_else(|| peer.ip().to_string());
    let request = request.into_inner();
    if request_mentions_nul(&request) {
        return refuse(ApiError::BadUserInput(NUL_REFUSED.into()));
    }
    let request = request
        .data(viewer)
        .data(ClientAddress(client))
        .data(RequestHeaders(headers));
    let request = (state.per_request)(request);
    state.schema.execute(request).await.into()
}

const NUL_REFUSED: &str = "text must not contain the NUL character (U+0000)";

fn request_mentions_nul(request: &async_graphql::Request) -> bool {
    fn in_value(value: &async_graphql::Value) -> bool {
        match value {
            async_graphql::Value::String(s) => s.contains('\0'),
            async_graphql::Value::List(items) => items.iter().any(in_value),
            async_graphql::Value::Object(fields) => {
                fields.iter().any(|(k, v)| k.contains('\0') || in_value(v))
            }
            _ => false,
        }
    }
    contains_nul(request.query.as_bytes())
        || request
            .variables
            .iter()
            .any(|(k, v)| k.contains('\0') || in_value(v))
}

/// The incoming headers, for resolvers that need one (e.g. to forward the bearer token).
#[derive(Clone, Debug)]
pub struct RequestHeaders(pub HeaderMap);
