//! The embedded shop: every subgraph and the router in one process, SQLite files and the search
//! index in a data directory, demo data on first start. Production runs each of these as its own
//! process instead (see README.md).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use accounts::{Accounts, ClientKind};
use kit::launch::{launch, Launch, Running};
use kit::settings::Env;
use kit::subgraph::{Demo, Subgraph};
use payments::provider::test_provider::{ledger, TestProvider, TestProviderSettings};
use primitives::stop::StopSignal;
use router::config::{RouterConfig, SubgraphConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use accounts::{DEMO_ADMIN, DEMO_CUSTOMER};

/// The composed supergraph, built into the binary so the shop starts from any directory.
pub const SUPERGRAPH: &str = include_str!("../../schema/supergraph.graphql");
/// The persisted-operation manifest of `frontend-queries/` (`router manifest` writes it).
pub const PERSISTED_OPERATIONS: &str =
    include_str!("../../frontend-queries/persisted-operations.json");

/// The shop's subgraphs, in the order of `topology::SUBGRAPHS` (where their names and ports
/// are listed). Adding a subgraph to the shop is one line there and one here.
pub fn subgraphs() -> Vec<Box<dyn Launch>> {
    vec![
        launch::<accounts::Accounts>(),
        launch::<catalog::Catalog>(),
        launch::<inventory::Inventory>(),
        launch::<carts::Carts>(),
        launch::<orders::Orders>(),
        launch::<payments::Payments>(),
        launch::<shipping::Shipping>(),
        launch::<reviews::Reviews>(),
        launch::<notifications::Notifications>(),
        launch::<recommendations::Recommendations>(),
    ]
}

#[derive(Clone, Debug)]
pub struct ShopOptions {
    pub data_dir: PathBuf,
    pub host: IpAddr,
    /// The router's port; the subgraphs follow it. 0 picks free ports for all (tests).
    pub base_port: u16,
    /// Demo products generated into an empty catalog; 0 loads no demo data at all.
    pub demo_products: usize,
    /// Whether the subgraphs also read their settings from the process environment (e.g.
    /// `CATALOG_DATABASE_URL`); tests turn it off.
    pub read_environment: bool,
    /// Settings by variable name, over the defaults and the environment (e.g. a test's
    /// `ACCOUNTS_DATABASE_URL`).
    pub settings: HashMap<String, String>,
}

impl ShopOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            base_port: topology::ROUTER.port,
            demo_products: 1000,
            read_environment: true,
            settings: HashMap::new(),
        }
    }

    /// Sets a subgraph setting by its variable name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.settings.insert(name.into(), value.into());
        self
    }

    /// The port of a subgraph whose own port is `port`: as far above the base as its port is
    /// above the router's (with the default base, its own).
    fn port(&self, port: u16) -> u16 {
        match self.base_port {
            0 => 0,
            base => base + (port - topology::ROUTER.port),
        }
    }

    /// The built-in payment test provider's port: 90 above the router's.
    fn provider_port(&self) -> u16 {
        match self.base_port {
            0 => 0,
            base => base + 90,
        }
    }

    /// The router's metrics port: 99 above the router's.
    fn router_metrics_port(&self) -> u16 {
        match self.base_port {
            0 => 0,
            base => base + 99,
        }
    }

    /// The settings source of subgraph `name`.
    pub fn env(&self, name: &str) -> Env {
        let env = if self.read_environment {
            Env::process(name)
        } else {
            Env::isolated(name)
        };
        let env = env.set("SHOP_DATA_DIR", self.data_dir.display().to_string());
        self.settings
            .iter()
            .fold(env, |env, (key, value)| env.set(key.clone(), value.clone()))
    }
}

/// The test card processor as a process of its own (a staging deployment without a real
/// processor): `TEST_PROVIDER_LISTEN` (default `127.0.0.1:4090`), `TEST_PROVIDER_WEBHOOK_URL`
/// (default payments' `/webhooks/provider` on this machine), `TEST_PROVIDER_WEBHOOK_SECRET`
/// (required; one of payments' `PAYMENTS_WEBHOOK_SECRETS`), `TEST_PROVIDER_API_KEY` (required;
/// payments' `PAYMENTS_PROVIDER_API_KEY`), `TEST_PROVIDER_DATABASE_URL` (default
/// `sqlite://data/payment-test-provider.db`): its books, kept apart from the shop's, as an
/// outside service's are.
pub async fn serve_test_provider() -> anyhow::Result<()> {
    let source = configuration::Source::process();
    let listen = source
        .var("TEST_PROVIDER_LISTEN")
        .unwrap_or_else(|| "127.0.0.1:4090".into());
    let webhook_url = source
        .var("TEST_PROVIDER_WEBHOOK_URL")
        .unwrap_or_else(|| topology::PAYMENTS.local_url("/webhooks/provider"));
    let settings = TestProviderSettings::new(
        &source.required("TEST_PROVIDER_API_KEY")?,
        &webhook_url,
        &source.required("TEST_PROVIDER_WEBHOOK_SECRET")?,
    );
    let database = source
        .var("TEST_PROVIDER_DATABASE_URL")
        .unwrap_or_else(|| "sqlite://data/payment-test-provider.db".into());
    let ledger = storage::db::Database::connect(&database, 4, &ledger::MIGRATIONS)
        .await
        .map_err(|e| anyhow::anyhow!("TEST_PROVIDER_DATABASE_URL: {e}"))?;
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("TEST_PROVIDER_LISTEN: cannot listen on {listen}: {e}"))?;
    let provider = TestProvider::start(listener, settings, ledger);
    tracing::info!(address = %provider.address, "payment test provider listening");
    web::server::shutdown_signal().await;
    Ok(())
}

/// How the embedded shop runs its built-in test provider, so a test can restart it.
#[derive(Clone, Debug)]
pub struct ProviderSetup {
    pub address: SocketAddr,
    pub settings: TestProviderSettings,
    pub database_url: String,
}

impl ProviderSetup {
    /// Starts the provider on its address with its books.
    pub async fn start(&self) -> anyhow::Result<TestProvider> {
        let ledger =
            storage::db::Database::connect(&self.database_url, 4, &ledger::MIGRATIONS).await?;
        let listener = TcpListener::bind(self.address).await.map_err(|e| {
            anyhow::anyhow!(
                "payment test provider: cannot listen on {}: {e}",
                self.address
            )
        })?;
        Ok(TestProvider::start(listener, self.settings.clone(), ledger))
    }
}

/// A running shop.
/// The most an operation may cost in the shop (demand control; `ROUTER_MAX_COST` overrides it).
/// Derived from the published operations: the costliest costs at most a quarter of it
/// (`launcher/tests/shop/frontend_queries.rs` holds that), while a query nesting lists of
/// unbounded size is refused.
pub const SHOP_MAX_COST: u64 = 10_000;

pub struct Shop {
    pub router: SocketAddr,
    /// Where the router serves `/metrics`.
    pub router_metrics: Option<SocketAddr>,
    /// The router's shared state (its counters, its revocations).
    pub router_state: Arc<router::AppState>,
    pub subgraphs: Vec<Running>,
    /// The built-in payment test provider, when no provider is configured.
    pub payment_provider: Option<TestProvider>,
    /// How it was started (tests stop and start it again).
    pub provider_setup: Option<ProviderSetup>,
    stop: watch::Sender<bool>,
    router_task: JoinHandle<std::io::Result<()>>,
    /// How the router was configured (tests start more replicas like it).
    pub router_config: RouterConfig,
}

impl Shop {
    /// Starts every subgraph and the router, loading demo data into empty databases.
    pub async fn start(options: &ShopOptions) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&options.data_dir)?;
        let (stop, receiver) = watch::channel(false);
        let list = subgraphs();
        // Every port is bound first, so each subgraph knows where the others are.
        let mut listeners = Vec::new();
        for subgraph in &list {
            let address = SocketAddr::new(options.host, options.port(subgraph.port()));
            let listener = TcpListener::bind(address).await.map_err(|e| {
                anyhow::anyhow!("{}: cannot listen on {address}: {e}", subgraph.name())
            })?;
            listeners.push(listener);
        }
        let address_of = |name: &str| {
            list.iter()
                .position(|s| s.name() == name)
                .and_then(|i| listeners[i].local_addr().ok())
        };
        let accounts = address_of("accounts").expect("the shop has accounts");
        let jwks_url = format!("http://{accounts}/.well-known/jwks.json");
        let demo = (options.demo_products > 0).then_some(Demo {
            products: options.demo_products,
        });

        // Service calls find each other by `<NAME>_URL`.
        let urls: Vec<(String, String)> = list
            .iter()
            .zip(&listeners)
            .map(|(s, l)| {
                let address = l.local_addr().expect("a bound listener has an address");
                (
                    format!("{}_URL", s.name().to_uppercase()),
                    format!("http://{address}/graphql"),
                )
            })
            .collect();

        let mut shared = urls;
        // Payments talks to a card processor: the built-in test provider, unless one is
        // configured. Its books are a file in the data directory; it is called with an API key
        // and signs its webhooks with a secret, both made for this run.
        let provider_setup = if options.env("payments").optional("PROVIDER_URL").is_none() {
            let payments = address_of("payments").expect("the shop has payments");
            let requested = SocketAddr::new(options.host, options.provider_port());
            // A fixed address, so the provider can be started again where payments looks.
            let address = TcpListener::bind(requested)
                .await
                .and_then(|l| l.local_addr())
                .map_err(|e| {
                    anyhow::anyhow!("payment test provider: cannot listen on {requested}: {e}")
                })?;
            let secret = primitives::id::new_secret("whsec");
            let api_key = primitives::id::new_secret("sk");
            let setup = ProviderSetup {
                address,
                settings: TestProviderSettings::new(
                    &api_key,
                    &format!("http://{payments}/webhooks/provider"),
                    &secret,
                ),
                database_url: format!(
                    "sqlite://{}",
                    options.data_dir.join("payment-provider.db").display()
                ),
            };
            shared.push(("PAYMENTS_PROVIDER_URL".into(), format!("http://{address}")));
            shared.push(("PAYMENTS_PROVIDER_API_KEY".into(), api_key));
            shared.push(("PAYMENTS_WEBHOOK_SECRETS".into(), secret));
            Some(setup)
        } else {
            None
        };
        let payment_provider = match &provider_setup {
            Some(setup) => Some(setup.start().await?),
            None => None,
        };
        // Carriers sign tracking webhooks; the simulated carrier signs with a secret made for
        // this run unless one is configured.
        if options
            .env("shipping")
            .optional("CARRIER_WEBHOOK_SECRETS")
            .is_none()
        {
            let secret = primitives::id::new_secret("whsec");
            shared.push(("SHIPPING_CARRIER_WEBHOOK_SECRETS".into(), secret));
        }
        // The router proves itself to the subgraphs with a secret made for this run unless one
        // is configured: their GraphQL ports then serve only it and other services.
        let router_secret = options
            .env("router")
            .shared("ROUTER_SUBGRAPH_SECRET")
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| primitives::id::new_secret("rts"));
        shared.push(("ROUTER_SUBGRAPH_SECRET".into(), router_secret.clone()));
        shared.push(("JWKS_URL".into(), jwks_url.clone()));
        shared.push((
            "ACCOUNTS_TOKEN_URL".into(),
            format!("http://{accounts}/oauth/token"),
        ));

        let mut running: Vec<Running> = Vec::new();
        for (subgraph, listener) in list.iter().zip(listeners) {
            let mut env = shared
                .iter()
                .fold(options.env(subgraph.name()), |env, (k, v)| {
                    env.set(k.clone(), v.clone())
                });
            // Accounts starts first; every other subgraph gets an API client of its own for
            // service calls (a new secret each start).
            if let Some(accounts) = running.iter().find_map(|r| r.subgraph::<Accounts>()) {
                let scopes = [auth::SERVICE_SCOPE.to_string()];
                let (client, secret) = accounts
                    .service
                    .register_client(subgraph.name(), ClientKind::Service, &scopes)
                    .await?;
                let prefix = subgraph.name().to_uppercase();
                env = env
                    .set(format!("{prefix}_CLIENT_ID"), client.id)
                    .set(format!("{prefix}_CLIENT_SECRET"), secret);
            }
            running.push(
                subgraph
                    .start(env, listener, demo, StopSignal::new(receiver.clone()))
                    .await?,
            );
        }

        let router_env = options.env("router");
        let mut router_config = RouterConfig::load(router_env.source(), [])?;
        router_config.listen = SocketAddr::new(options.host, options.base_port);
        if router_config.metrics_listen.is_none() {
            // Prometheus scrapes here; the public port does not serve it.
            router_config.metrics_listen = Some(SocketAddr::new(
                std::net::Ipv4Addr::LOCALHOST.into(),
                options.router_metrics_port(),
            ));
        }
        if router_config.persisted.manifest.is_none() {
            // The operations published with this build, in a file an operator may edit (the
            // router reads it again when it changes).
            let path = options.data_dir.join("persisted-operations.json");
            std::fs::write(&path, PERSISTED_OPERATIONS)?;
            router_config.persisted.manifest = Some(path);
        }
        if router_config.demand_control.max_cost.is_none() {
            router_config.demand_control.max_cost = Some(SHOP_MAX_COST);
        }
        router_config.auth.jwks_url = Some(jwks_url);
        router_config.subgraph_secret = Some(router_secret);
        // The router applies revocations from the bus the subgraphs share.
        let events = kit::settings::EventBusSettings::load(&router_env)?;
        let ca_file = router_env
            .shared("TLS_CA_FILE")
            .map(std::path::PathBuf::from);
        let bus = storage::bus::connect(&events.url, &events.namespace, ca_file.as_deref()).await?;
        for subgraph in &running {
            router_config.subgraphs.insert(
                subgraph.name.into(),
                SubgraphConfig {
                    url: Some(format!("http://{}/graphql", subgraph.address)),
                    timeout_ms: None,
                    dedupe: None,
                },
            );
        }
        let supergraph = router::supergraph::Supergraph::parse(SUPERGRAPH)?;
        let router = router::App::with_event_bus(router_config.clone(), supergraph, Some(bus))
            .await?
            .with_site(site_routes(&running));
        let router_addr = router.local_addr();
        let router_metrics = router.metrics_addr();
        let router_state = router.state();
        let router_task = tokio::spawn(router.run_until(StopSignal::new(receiver).stopped()));

        Ok(Self {
            router: router_addr,
            router_metrics,
            router_state,
            subgraphs: running,
            payment_provider,
            provider_setup,
            stop,
            router_task,
            router_config,
        })
    }

    pub fn router_url(&self) -> String {
        format!("http://{}/graphql", self.router)
    }

    /// Where subgraph `name` listens.
    pub fn address(&self, name: &str) -> SocketAddr {
        self.subgraphs
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("the shop has no subgraph {name}"))
            .address
    }

    /// The state of subgraph `S` (tests reach inside with it).
    pub fn subgraph<S: Subgraph>(&self) -> Arc<S> {
        self.subgraphs
            .iter()
            .find_map(|s| s.subgraph::<S>())
            .unwrap_or_else(|| panic!("the shop has no subgraph {}", S::NAME))
    }

    /// Creates `n` customers straight in accounts and signs an access token for each with
    /// accounts' key: for tests and benchmarks that need many customers (registering them would
    /// hash a password each). They cannot log in.
    pub async fn new_customers(&self, n: usize) -> anyhow::Result<Vec<String>> {
        use accounts::domain::{Grants, Role};
        let accounts = self.subgraph::<Accounts>();
        let now = primitives::time::now_millis();
        let mut tokens = Vec::with_capacity(n);
        for _ in 0..n {
            let id = primitives::id::new_id("user");
            let user = accounts::store::UserRow {
                id: id.clone(),
                email: format!("{id}@customers.example.com"),
                password_hash: "none: created without a password".into(),
                name: "Customer".into(),
                roles: accounts::domain::role::encode(&[Role::Customer]),
                created_at: now,
                updated_at: now,
                disabled_at: None,
            };
            accounts.service.store.insert_user(&user).await?;
            tokens.push(accounts.service.signer().sign(
                &id,
                &Grants::new(&[Role::Customer], Vec::new()),
                now / 1000,
            )?);
        }
        Ok(tokens)
    }

    /// Stops every server after the requests in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.router_task.await;
        for subgraph in self.subgraphs {
            let _ = subgraph.task.await;
        }
    }

    /// Resolves when a server stops on its own (an error), or never.
    pub async fn wait_for_failure(&mut self) -> anyhow::Result<()> {
        let tasks = std::iter::once(&mut self.router_task)
            .chain(self.subgraphs.iter_mut().map(|s| &mut s.task));
        let (result, _, _) = futures_util::future::select_all(tasks).await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(e.into()),
        }
    }
}

/// What the router serves besides GraphQL: the apps, and the catalog's uploaded images at
/// `/media` (the URLs the catalog gives them) and `/sitemap.xml`, so they share one origin.
fn site_routes(running: &[Running]) -> axum::Router {
    let catalog = running
        .iter()
        .find_map(|r| r.subgraph::<catalog::Catalog>())
        .map(|catalog| catalog.public_routes())
        .unwrap_or_default();
    catalog.merge(site::routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shop starts the subgraphs of the one list, each on its own port.
    #[test]
    fn the_shop_runs_the_listed_subgraphs_on_their_ports() {
        let listed: Vec<(&str, u16)> = topology::SUBGRAPHS
            .iter()
            .map(|p| (p.name, p.port))
            .collect();
        let started: Vec<(&str, u16)> = subgraphs().iter().map(|s| (s.name(), s.port())).collect();
        assert_eq!(started, listed);
        let options = ShopOptions::new("data");
        for subgraph in subgraphs() {
            assert_eq!(options.port(subgraph.port()), subgraph.port());
        }
        let mut shifted = ShopOptions::new("data");
        shifted.base_port = 5000;
        assert_eq!(shifted.port(topology::ORDERS.port), 5005);
    }
}
