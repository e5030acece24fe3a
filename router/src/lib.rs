//! A federation router for Apollo Federation v2 supergraphs.
//!
//! [`server`] takes HTTP requests and runs each through the stages of [`pipeline`] (listed in
//! `pipeline/mod.rs`); the [`executor`] runs query plans against the subgraphs.

pub mod cli;
pub mod config;
pub mod executor;
pub mod graphql_error;
pub mod inflight;
pub mod metrics;
pub mod persisted;
pub mod pipeline;
pub mod rate_limit;
pub mod server;
pub mod serving;
pub mod shared_store;
pub mod supergraph;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth::revocation::Revocations;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::RouterConfig;
use crate::executor::transport::Transport;
use crate::persisted::apq::ApqStore;
use crate::persisted::PersistedOperations;
use crate::pipeline::dedupe::ClientDedupe;
use crate::pipeline::prepare::OperationPreparer;
use crate::rate_limit::RateLimiter;
use crate::shared_store::SharedStore;
use crate::supergraph::{Supergraph, SupergraphError};

/// What every request shares: the supergraph, the prepared-operation cache, the subgraph
/// transport, the configuration, the token verifier, the in-flight client operations and the
/// persisted operations.
pub struct AppState {
    pub supergraph: Supergraph,
    pub preparer: OperationPreparer,
    pub transport: Transport,
    pub config: RouterConfig,
    /// Verifies bearer tokens when `auth.jwks_url` is configured.
    pub verifier: Option<auth::TokenVerifier>,
    /// Users whose older tokens are refused, read from the event bus (`auth.events_url`).
    pub revocations: Option<(Arc<Revocations>, Arc<dyn event_bus::EventBus>)>,
    pub client_dedupe: ClientDedupe,
    /// JSON request bodies already read, by their bytes.
    pub parsed_bodies: crate::pipeline::request::ParsedBodies,
    /// The published operations and APQ registrations.
    pub persisted: PersistedOperations,
    /// `None` when rate limits are off.
    pub rate_limiter: Option<RateLimiter>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Supergraph(#[from] SupergraphError),
    #[error(transparent)]
    SubgraphUrl(#[from] crate::executor::transport::InvalidSubgraphUrl),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("subgraph_ca_file: {0}")]
    Tls(#[from] web::client::TlsError),
    #[error("auth.events_url: {0}")]
    Events(#[from] event_bus::EventError),
    #[error("redis_url: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("persisted.manifest: {0}")]
    Manifest(#[from] crate::persisted::manifest::ManifestError),
}

/// A router bound to its address, ready to serve.
pub struct App {
    listener: TcpListener,
    /// `/metrics`, on its own listener when `metrics_listen` is set.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    state: Arc<AppState>,
}

impl App {
    /// Builds the router from a supergraph SDL and binds the listener (port 0 picks a free port).
    pub async fn build(config: RouterConfig, supergraph_sdl: &str) -> Result<Self, StartError> {
        Self::with_supergraph(config, Supergraph::parse(supergraph_sdl)?).await
    }

    /// Like [`App::build`], for a supergraph already parsed (to configure by its subgraphs).
    /// Revocations are read from the Redis bus at `auth.events_url`, when set.
    pub async fn with_supergraph(
        config: RouterConfig,
        supergraph: Supergraph,
    ) -> Result<Self, StartError> {
        let bus = match &config.auth.events_url {
            Some(url) => Some(
                event_bus::connect(
                    url,
                    &config.auth.events_namespace,
                    config.subgraph_ca_file.as_deref(),
                )
                .await?,
            ),
            None => None,
        };
        Self::with_event_bus(config, supergraph, bus).await
    }

    /// Like [`App::with_supergraph`], reading revocations from `bus` instead of
    /// `auth.events_url`: the embedded shop hands over the bus its subgraphs share.
    pub async fn with_event_bus(
        config: RouterConfig,
        supergraph: Supergraph,
        bus: Option<Arc<dyn event_bus::EventBus>>,
    ) -> Result<Self, StartError> {
        // Series recorded from now on reach `/metrics`.
        telemetry::metrics::handle();
        let transport = Transport::new(&supergraph.subgraph_urls, &config)?;
        let preparer = OperationPreparer::new(
            config.plan_cache_size,
            config.limits.clone(),
            config.introspection,
        );
        let addr = config.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let revocations = bus.map(|bus| (Arc::new(Revocations::default()), bus));
        // The JWKS host is one of the shop's services: trusted like the subgraphs.
        let jwks_client = web::client::http_client_trusting(config.subgraph_ca_file.as_deref())?;
        let verifier = config.auth.jwks_url.as_ref().map(|url| {
            let verifier = auth::TokenVerifier::new(
                auth::KeySource::Remote {
                    url: url.clone(),
                    client: jwks_client.clone(),
                },
                &config.auth.issuer,
                &config.auth.audience,
            )
            .with_max_lifetime(config.auth.max_token_lifetime_secs);
            match &revocations {
                Some((revocations, _)) => verifier.with_revocations(revocations.clone()),
                None => verifier,
            }
        });
        let client_dedupe = ClientDedupe::new(config.dedupe.client_requests);
        let shared = match &config.redis_url {
            Some(url) => Some(
                SharedStore::connect(
                    url,
                    &config.redis_namespace,
                    config.subgraph_ca_file.as_deref(),
                )
                .await?,
            ),
            None => None,
        };
        let apq = config.persisted.apq.then(|| {
            ApqStore::new(
                config.persisted.apq_local_entries,
                shared
                    .clone()
                    .map(|store| (store, Duration::from_secs(config.persisted.apq_ttl_secs))),
            )
        });
        let persisted = PersistedOperations::load(
            config.persisted.manifest.clone(),
            &supergraph,
            apq,
            config.persisted.safelist,
        )?;
        let rate_limiter = config
            .rate_limits
            .enabled
            .then(|| RateLimiter::new(&config.rate_limits, shared.clone()));
        let state = Arc::new(AppState {
            supergraph,
            preparer,
            transport,
            config,
            verifier,
            revocations,
            client_dedupe,
            parsed_bodies: Default::default(),
            persisted,
            rate_limiter,
        });
        let mut router = server::routes(state.clone());
        if let Some(cors) = cors_layer(&state.config.cors_allow_origins) {
            router = router.layer(cors);
        }
        let router = router
            // Outermost first: every request gets an `x-request-id` (kept when the client sent
            // a valid one: see `web::server::is_valid_request_id`) that is logged, forwarded to
            // the subgraphs and returned to the client.
            .layer(
                tower::ServiceBuilder::new()
                    .layer(tower::util::MapRequestLayer::new(
                        web::server::drop_invalid_request_id,
                    ))
                    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                    .layer(TraceLayer::new_for_http().make_span_with(request_span))
                    .layer(PropagateRequestIdLayer::x_request_id())
                    .layer(tower_http::catch_panic::CatchPanicLayer::new()),
            );
        Ok(Self {
            listener,
            metrics_listener,
            router,
            state,
        })
    }

    /// Serves web pages from `site` beside the API: a browser's GET or HEAD of a page (it
    /// accepts HTML) or of a file (a name with an extension) goes to `site`, but for
    /// `/graphql`, `/health` and GraphiQL's files, and `/` when it carries an operation;
    /// GraphQL requests (POST, or GET with an operation) stay the router's.
    pub fn with_site(mut self, site: axum::Router) -> Self {
        self.router = self
            .router
            .layer(axum::middleware::from_fn(move |request, next| {
                server::site_or_api(site.clone(), request, next)
            }));
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    /// The state requests share (for its counters).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight; meanwhile applies
    /// revocations from the event bus when one is configured.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let follower = self.state.revocations.clone().map(|(revocations, bus)| {
            tokio::spawn(
                revocations.follow(bus, primitives::stop::StopSignal::new(stopped.clone())),
            )
        });
        let manifest_follower = tokio::spawn(PersistedOperations::follow(
            self.state.clone(),
            Duration::from_millis(self.state.config.persisted.reload_interval_ms),
            primitives::stop::StopSignal::new(stopped.clone()),
        ));
        let limits = self.state.config.http.limits();
        let metrics = self.metrics_listener.map(|listener| {
            let stopped = primitives::stop::StopSignal::new(stopped.clone()).stopped();
            let limits = limits.clone();
            tokio::spawn(async move {
                web::serve::serve(listener, server::metrics_routes(), &limits, stopped).await
            })
        });
        let served = match self.state.config.http.threads {
            None => web::serve::serve(self.listener, self.router, &limits, shutdown).await,
            Some(_) => {
                let threads = self.state.config.http.serving_threads();
                serving::serve_on_threads(self.listener, self.router, limits, threads, shutdown)
                    .await
            }
        };
        let _ = stop.send(true);
        if let Some(follower) = follower {
            let _ = follower.await;
        }
        let _ = manifest_follower.await;
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        served
    }
}

/// CORS for browser clients (the storefront) on other origins; no layer when none is allowed
/// (a browser then refuses cross-origin answers, as it would without CORS headers).
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    let cors = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            http::header::ACCEPT,
            http::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([http::HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(3600));
    Some(cors)
}

fn request_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&web::server::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = request.uri().path();
    // A span is made for every request: its fields are recorded as strings, not formatted, and
    // the endpoints' names are fixed (5.5 to 4.3 thousand instructions a request).
    let name = match path {
        "/graphql" => "router /graphql",
        "/" => "router /",
        "/health" => "router /health",
        // Web pages and GraphiQL's files: span names stay few, as OpenTelemetry advises.
        _ => "router",
    };
    let span = tracing::info_span!(
        "request",
        otel.name = name,
        otel.kind = "server",
        service = "router",
        method = request.method().as_str(),
        path,
        request_id,
    );
    telemetry::continue_trace(&span, request.headers());
    span
}
