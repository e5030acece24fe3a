//! What a subgraph supplies to the scaffold: its name and port, migrations, settings, schema,
//! per-request data, extra routes, background tasks, demo data and commands. Everything else
//! (settings parsing, connecting, migrating, token verification, serving, the CLI, stopping) is
//! [`App`](crate::app::App) and [`cli`](crate::cli).

use std::future::Future;
use std::sync::Arc;

use async_graphql::{EmptySubscription, ObjectType, Schema, SchemaBuilder};
use futures_util::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;

use crate::settings::{CommonSettings, ConfigError, Env};
use event_bus::consumer::{Consumer, ConsumerSettings, Handler};
use event_bus::{Event, EventBus, Fact};
use primitives::stop::StopSignal;
use storage::db::Database;
use storage::migrations::Migrations;
use storage::outbox::Relay;
use web::client::ServiceClient;

/// A subgraph's own settings, read from its prefix with one set of defaults (e.g.
/// `env.parse_or("RESERVATION_TTL_SECS", 900)` reads `INVENTORY_RESERVATION_TTL_SECS`).
pub trait OwnSettings: Clone + std::fmt::Debug + Send + Sync + Sized + 'static {
    fn from_env(env: &Env, common: &CommonSettings) -> Result<Self, ConfigError>;
}

/// A subgraph's settings: the shared ones and its own.
#[derive(Clone, Debug)]
pub struct Settings<T> {
    pub common: CommonSettings,
    pub own: T,
}

impl<T: OwnSettings> Settings<T> {
    /// Reads both parts from `env`.
    pub fn load<S: Subgraph<Settings = T>>(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonSettings::load(env, S::PORT)?;
        let own = T::from_env(env, &common)?;
        Ok(Self { common, own })
    }
}

/// What [`Subgraph::build`] gets: its settings, its migrated database, the event bus, a
/// client for calls to other services, and an HTTP client for calls outside (a payment
/// processor) that trusts the configured CA (`TLS_CA_FILE`) besides the public roots.
pub struct Resources<'a, T> {
    pub settings: &'a Settings<T>,
    pub database: Database,
    pub events: Events,
    pub services: Arc<ServiceClient>,
    pub http: reqwest::Client,
}

/// A subgraph's handle on the event bus: it writes events to its outbox (see
/// [`storage::outbox::append`]; committing the transaction wakes the relay) and consumes topics
/// in its own consumer group.
#[derive(Clone)]
pub struct Events {
    pub bus: Arc<dyn EventBus>,
    pub relay: Relay,
    service: &'static str,
    consumer_settings: ConsumerSettings,
}

impl Events {
    pub fn new(bus: Arc<dyn EventBus>, relay: Relay, service: &'static str) -> Self {
        Self {
            bus,
            relay,
            service,
            consumer_settings: ConsumerSettings::default(),
        }
    }

    /// A new event from this service.
    pub fn event<F: Fact>(&self, fact: &F) -> Event {
        Event::new(self.service, fact)
    }

    /// A member of this service's consumer group for `topic`.
    pub fn consumer(&self, topic: &str, handler: Arc<dyn Handler>) -> Consumer {
        Consumer::new(
            self.bus.clone(),
            topic,
            self.service,
            handler,
            self.consumer_settings,
        )
    }
}

/// Demo data options from the launcher.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// How many demo products the catalog generates (other subgraphs scale with it).
    pub products: usize,
}

/// A subgraph: implement this (about a screen of code) and the scaffold builds, serves, tests
/// and launches it. See README.md, "Adding a subgraph".
pub trait Subgraph: Send + Sync + Sized + 'static {
    /// Lower case: the prefix of its settings (`CATALOG_...`), its SQLite file, its SDL file.
    const NAME: &'static str;
    /// Its default listen port, also its port in the embedded shop.
    const PORT: u16;
    /// Settings of its own, read with the same prefix.
    type Settings: OwnSettings;
    type Query: ObjectType + Default + 'static;
    type Mutation: ObjectType + Default + 'static;
    /// Commands of its own beside `serve` and `sdl` ([`NoCommands`] when it has none).
    type Command: clap::Subcommand + Send + 'static;

    /// Its migrations (`storage::migrations!("../../migrations/<name>", [files])`).
    const MIGRATIONS: &'static Migrations;

    /// The schema without data: enough to print the SDL. Federation on, queries at most 16
    /// deep and of complexity 2,000 unless a subgraph says otherwise.
    fn schema_builder() -> SchemaBuilder<Self::Query, Self::Mutation, EmptySubscription> {
        Schema::build(
            Self::Query::default(),
            Self::Mutation::default(),
            EmptySubscription,
        )
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(2000)
    }

    /// Builds the subgraph's state (services, stores) on its migrated database.
    fn build(
        resources: Resources<'_, Self::Settings>,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// The schema with the data its resolvers read.
    fn schema(self: &Arc<Self>) -> Schema<Self::Query, Self::Mutation, EmptySubscription>;

    /// Request-scoped data (dataloaders).
    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        request
    }

    /// Routes beside `/graphql` and `/health`.
    fn routes(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
    }

    /// Tasks that run while the app serves; each ends when `stop` resolves.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let _ = stop;
        Vec::new()
    }

    /// Keys of its own to verify tokens with, instead of the configured JWKS (the issuer).
    fn verification_keys(&self) -> Option<JwkSet> {
        None
    }

    /// Loads demo data into an empty database; does nothing when there is data already.
    fn load_demo_data(&self, demo: Demo) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = demo;
        async { Ok(()) }
    }

    /// Runs one of its own commands.
    fn run_command(
        command: Self::Command,
        settings: Settings<Self::Settings>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = (command, settings);
        async { Ok(()) }
    }

    /// The federation SDL it serves.
    fn sdl() -> String {
        crate::schema::federation_sdl(&Self::schema_builder().finish())
    }
}

/// The commands of a subgraph that has none of its own.
#[derive(clap::Subcommand, Clone, Copy, Debug)]
pub enum NoCommands {}
