//! The app builder every subgraph runs on: connect and migrate, build the subgraph, verify
//! tokens, bind (port 0 in tests), serve, run background tasks and stop them with the server.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::settings::{CommonSettings, VerificationKeys};
use crate::subgraph::{Events, Resources, Settings, Subgraph};
use auth::revocation::Revocations;
use auth::{KeySource, TokenVerifier};
use event_bus::EventError;
use primitives::stop::StopSignal;
use storage::db::{Database, DbError};
use storage::outbox::Relay;
use web::server::Server;

/// Why a subgraph did not start; each names the setting or the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{setting}: {source}")]
    Database {
        setting: String,
        #[source]
        source: DbError,
    },
    #[error("{setting}: cannot listen on {address}: {source}")]
    Listen {
        setting: String,
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{setting}: {source}")]
    Events {
        setting: &'static str,
        #[source]
        source: EventError,
    },
    #[error("{setting}: {source}")]
    Tls {
        setting: &'static str,
        #[source]
        source: web::client::TlsError,
    },
    #[error("{subgraph} could not start: {source:#}")]
    Build {
        subgraph: &'static str,
        #[source]
        source: anyhow::Error,
    },
}

/// How a subgraph's state is built from its resources: [`Subgraph::build`], or, in a test of
/// the subgraph alone, a constructor taking in-memory fakes of the services it calls.
pub type Build<S> = Box<
    dyn for<'a> FnOnce(Resources<'a, <S as Subgraph>::Settings>) -> BoxFuture<'a, anyhow::Result<S>>
        + Send,
>;

/// [`Subgraph::build`] as a [`Build`].
pub fn default_build<S: Subgraph>() -> Build<S> {
    Box::new(|resources| Box::pin(S::build(resources)))
}

/// Connects to the subgraph's database (migrated) and the event bus and builds its state,
/// without serving: for commands and for [`App`].
pub async fn prepare<S: Subgraph>(
    settings: &Settings<S::Settings>,
) -> Result<(Arc<S>, Database, Events), StartError> {
    let http = outgoing_http(&settings.common)?;
    prepare_with(settings, default_build::<S>(), http).await
}

/// The HTTP client for calls out of the subgraph (service calls, the JWKS, a payment
/// processor): the public roots and `TLS_CA_FILE`.
fn outgoing_http(common: &CommonSettings) -> Result<reqwest::Client, StartError> {
    web::client::http_client_trusting(common.tls_ca_file.as_deref()).map_err(|source| {
        StartError::Tls {
            setting: "TLS_CA_FILE",
            source,
        }
    })
}

/// Like [`prepare`], building the state with `build` and calling out through `http`.
pub async fn prepare_with<S: Subgraph>(
    settings: &Settings<S::Settings>,
    build: Build<S>,
    http: reqwest::Client,
) -> Result<(Arc<S>, Database, Events), StartError> {
    let common = &settings.common;
    let database = Database::connect(&common.database_url, common.max_connections, S::MIGRATIONS)
        .await
        .map_err(|source| StartError::Database {
            setting: common.names.database_url.clone(),
            source,
        })?;
    let bus = storage::bus::connect(
        &common.events.url,
        &common.events.namespace,
        common.tls_ca_file.as_deref(),
    )
    .await
    .map_err(|source| StartError::Events {
        setting: "EVENTS_URL",
        source,
    })?;
    let events = Events::new(bus.clone(), Relay::new(database.clone(), bus), S::NAME);
    let subgraph = build(Resources {
        settings,
        database: database.clone(),
        events: events.clone(),
        services: Arc::new(web::client::ServiceClient::new(
            http.clone(),
            common.credentials.clone(),
        )),
        http,
    })
    .await
    .map_err(|source| StartError::Build {
        subgraph: S::NAME,
        source,
    })?;
    Ok((Arc::new(subgraph), database, events))
}

/// A built subgraph, bound and ready to serve.
pub struct App<S: Subgraph> {
    server: Server,
    pub subgraph: Arc<S>,
    pub database: Database,
    pub events: Events,
    /// Users whose older tokens this app refuses, kept from the bus.
    pub revocations: Arc<Revocations>,
}

impl<S: Subgraph> App<S> {
    /// Builds the subgraph and binds its configured listen address.
    pub async fn build(settings: &Settings<S::Settings>) -> Result<Self, StartError> {
        let address = settings.common.listen;
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| StartError::Listen {
                setting: settings.common.names.listen.clone(),
                address,
                source,
            })?;
        Self::build_on(listener, settings).await
    }

    /// Builds the subgraph to serve on a listener bound already (the launcher binds every port
    /// first, so each subgraph knows the others' addresses).
    pub async fn build_on(
        listener: TcpListener,
        settings: &Settings<S::Settings>,
    ) -> Result<Self, StartError> {
        Self::build_on_with(listener, settings, default_build::<S>()).await
    }

    /// Like [`App::build_on`], building the subgraph's state with `build`.
    pub async fn build_on_with(
        listener: TcpListener,
        settings: &Settings<S::Settings>,
        build: Build<S>,
    ) -> Result<Self, StartError> {
        let common = &settings.common;
        let http = outgoing_http(common)?;
        let (subgraph, database, events) = prepare_with::<S>(settings, build, http.clone()).await?;
        let source = match (subgraph.verification_keys(), &common.keys) {
            (Some(own), _) => KeySource::Static(own),
            (None, VerificationKeys::Fixed(keys)) => KeySource::Static(keys.clone()),
            (None, VerificationKeys::Jwks(url)) => KeySource::Remote {
                url: url.clone(),
                client: http,
            },
        };
        let revocations = Arc::new(Revocations::default());
        let verifier = Arc::new(
            TokenVerifier::new(source, &common.jwt.issuer, &common.jwt.audience)
                .with_max_lifetime(common.jwt.max_lifetime_secs)
                .with_revocations(revocations.clone()),
        );
        let per_request = {
            let subgraph = subgraph.clone();
            move |request| subgraph.per_request(request)
        };
        let metrics_database = database.clone();
        let routes = crate::server::graphql_routes(
            subgraph.schema(),
            verifier,
            crate::server::Gate::new(common.router_secret.as_deref()),
            per_request,
        )
        .route(
            "/metrics",
            axum::routing::get(move || async move {
                metrics_database.record_pool_metrics(S::NAME);
                telemetry::metrics::render()
            }),
        )
        .merge(subgraph.routes())
        .layer(telemetry::metrics::TrackHttpLayer::new(S::NAME));
        Ok(Self {
            server: Server::new(S::NAME, listener, routes, common.http.clone()),
            subgraph,
            database,
            events,
            revocations,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves, relays the outbox to the bus, applies revocations and runs the background tasks
    /// until `shutdown`; then the tasks are told to stop and awaited.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, receiver) = watch::channel(false);
        let relay = self
            .events
            .relay
            .clone()
            .follow(StopSignal::new(receiver.clone()));
        let revocations = self
            .revocations
            .clone()
            .follow(self.events.bus.clone(), StopSignal::new(receiver.clone()));
        let platform: [BoxFuture<'static, ()>; 2] = [Box::pin(relay), Box::pin(revocations)];
        let tasks: Vec<JoinHandle<()>> = platform
            .into_iter()
            .chain(self.subgraph.background_tasks(StopSignal::new(receiver)))
            .map(tokio::spawn)
            .collect();
        let served = self.server.run_until(shutdown).await;
        let _ = stop.send(true);
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(subgraph = S::NAME, %error, "a background task failed");
            }
        }
        served
    }
}
