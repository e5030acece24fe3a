//! The app builder every subgraph runs on: connect and migrate, build the subgraph, verify
//! tokens, bind (port 0 in tests), serve, run background tasks and stop them with the server.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::{KeySource, TokenVerifier};
use crate::db::{Database, DbError};
use crate::events::outbox::Relay;
use crate::events::EventError;
use crate::revocation::Revocations;
use crate::server::Server;
use crate::settings::{Env, VerificationKeys};
use crate::subgraph::{Demo, Events, Resources, Settings, StopSignal, Subgraph};

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
    #[error("{subgraph} could not start: {source:#}")]
    Build {
        subgraph: &'static str,
        #[source]
        source: anyhow::Error,
    },
}

/// Connects to the subgraph's database (migrated) and the event bus and builds its state,
/// without serving: for commands and for [`App`].
pub async fn prepare<S: Subgraph>(
    settings: &Settings<S::Settings>,
) -> Result<(Arc<S>, Database, Events), StartError> {
    let common = &settings.common;
    let database = Database::connect(&common.database_url, common.max_connections, S::MIGRATIONS)
        .await
        .map_err(|source| StartError::Database {
            setting: common.names.database_url.clone(),
            source,
        })?;
    let bus = crate::events::connect(&common.events.url, &common.events.namespace)
        .await
        .map_err(|source| StartError::Events {
            setting: "EVENTS_URL",
            source,
        })?;
    let events = Events::new(bus.clone(), Relay::new(database.clone(), bus), S::NAME);
    let subgraph = S::build(Resources {
        settings,
        database: database.clone(),
        events: events.clone(),
        services: Arc::new(crate::client::ServiceClient::new(
            common.credentials.clone(),
        )),
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
        let (subgraph, database, events) = prepare::<S>(settings).await?;
        let common = &settings.common;
        let source = match (subgraph.verification_keys(), &common.keys) {
            (Some(own), _) => KeySource::Static(own),
            (None, VerificationKeys::Fixed(keys)) => KeySource::Static(keys.clone()),
            (None, VerificationKeys::Jwks(url)) => KeySource::Remote {
                url: url.clone(),
                client: crate::client::http_client(),
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
                crate::metrics::record_pool(S::NAME, &metrics_database);
                crate::metrics::render()
            }),
        )
        .merge(subgraph.routes())
        .layer(axum::middleware::from_fn(|request, next| {
            crate::metrics::track_http(S::NAME, request, next)
        }));
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

/// A subgraph the launcher can start without knowing its type.
pub trait Launch: Send + Sync {
    fn name(&self) -> &'static str;
    fn port(&self) -> u16;
    /// Builds it from `env` on `listener`, loads demo data when asked, and serves it until
    /// `stop` resolves.
    fn start(
        &self,
        env: Env,
        listener: TcpListener,
        demo: Option<Demo>,
        stop: StopSignal,
    ) -> BoxFuture<'static, anyhow::Result<Running>>;

    /// Runs its command line (the program name first), as its own binary would.
    fn cli(&self, args: Vec<std::ffi::OsString>) -> BoxFuture<'static, anyhow::Result<()>>;
}

/// A subgraph the launcher started.
pub struct Running {
    pub name: &'static str,
    pub address: SocketAddr,
    pub task: JoinHandle<std::io::Result<()>>,
    /// The subgraph's state (`Arc<S>`), for tests that reach inside: see [`Running::subgraph`].
    state: Arc<dyn Any + Send + Sync>,
}

impl Running {
    pub fn subgraph<S: Subgraph>(&self) -> Option<Arc<S>> {
        self.state.clone().downcast::<S>().ok()
    }
}

struct Launcher<S>(std::marker::PhantomData<fn() -> S>);

/// The launcher's handle on subgraph `S`.
pub fn launch<S: Subgraph>() -> Box<dyn Launch> {
    Box::new(Launcher::<S>(std::marker::PhantomData))
}

impl<S: Subgraph> Launch for Launcher<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn port(&self) -> u16 {
        S::PORT
    }

    fn start(
        &self,
        env: Env,
        listener: TcpListener,
        demo: Option<Demo>,
        stop: StopSignal,
    ) -> BoxFuture<'static, anyhow::Result<Running>> {
        Box::pin(async move {
            let settings = Settings::<S::Settings>::load::<S>(&env)?;
            let app = App::<S>::build_on(listener, &settings).await?;
            if let Some(demo) = demo {
                app.subgraph.load_demo_data(demo).await?;
            }
            let address = app.local_addr();
            let state: Arc<dyn Any + Send + Sync> = app.subgraph.clone();
            let task = tokio::spawn(app.run_until(stop.stopped()));
            Ok(Running {
                name: S::NAME,
                address,
                task,
                state,
            })
        })
    }

    fn cli(&self, args: Vec<std::ffi::OsString>) -> BoxFuture<'static, anyhow::Result<()>> {
        Box::pin(crate::cli::run_from::<S>(args))
    }
}
