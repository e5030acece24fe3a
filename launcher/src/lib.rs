//! The embedded shop: every subgraph and the router in one process, SQLite files and the search
//! index in a data directory, demo data on first start. Production runs each of these as its own
//! process instead (see README.md).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use accounts::domain::{Email, Password, Role};
use accounts::service::AccountsService;
use accounts::{AccountsApp, AccountsConfig};
use catalog::service::CatalogService;
use catalog::{CatalogApp, CatalogConfig};
use router::config::{RouterConfig, SubgraphConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The composed supergraph, built into the binary so the shop starts from any directory.
pub const SUPERGRAPH: &str = include_str!("../../schema/supergraph.graphql");

/// Demo accounts created on first start: (email, password, name).
pub const DEMO_ADMIN: (&str, &str, &str) = ("admin@example.com", "orchid-lantern-47", "Demo Admin");
pub const DEMO_CUSTOMER: (&str, &str, &str) =
    ("customer@example.com", "meadow-copper-82", "Demo Customer");

#[derive(Clone, Debug)]
pub struct ShopOptions {
    pub data_dir: PathBuf,
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub router_port: u16,
    pub accounts_port: u16,
    pub catalog_port: u16,
    /// Demo products generated into an empty catalog; 0 loads no demo data at all.
    pub demo_products: usize,
    /// Database URLs; default SQLite files in the data directory.
    pub accounts_database_url: Option<String>,
    pub catalog_database_url: Option<String>,
    /// Keep the search index in memory instead of the data directory.
    pub in_memory_search: bool,
}

impl ShopOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            router_port: 4000,
            accounts_port: 4001,
            catalog_port: 4002,
            demo_products: 1000,
            accounts_database_url: None,
            catalog_database_url: None,
            in_memory_search: false,
        }
    }

    fn sqlite(&self, name: &str) -> String {
        format!(
            "sqlite://{}",
            self.data_dir.join(format!("{name}.db")).display()
        )
    }

    pub fn catalog_config(&self, jwks_url: &str) -> CatalogConfig {
        let url = self
            .catalog_database_url
            .clone()
            .unwrap_or_else(|| self.sqlite("catalog"));
        let mut config = CatalogConfig::for_database(&url, jwks_url);
        config.listen = SocketAddr::new(self.host, self.catalog_port);
        config.search_dir = (!self.in_memory_search).then(|| self.data_dir.join("search"));
        config
    }

    pub fn accounts_config(&self) -> AccountsConfig {
        let url = self
            .accounts_database_url
            .clone()
            .unwrap_or_else(|| self.sqlite("accounts"));
        let mut config = AccountsConfig::for_database(&url);
        config.listen = SocketAddr::new(self.host, self.accounts_port);
        config
    }
}

/// A running shop.
pub struct Shop {
    pub router: SocketAddr,
    pub accounts: SocketAddr,
    pub catalog: SocketAddr,
    pub accounts_service: Arc<AccountsService>,
    pub catalog_service: Arc<CatalogService>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

async fn stopped(mut receiver: watch::Receiver<bool>) {
    let _ = receiver.wait_for(|stop| *stop).await;
}

impl Shop {
    /// Starts accounts, catalog and the router, loading demo data into empty databases.
    pub async fn start(options: &ShopOptions) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&options.data_dir)?;
        let (stop, receiver) = watch::channel(false);
        let mut tasks = Vec::new();

        let accounts = AccountsApp::build(&options.accounts_config()).await?;
        let accounts_addr = accounts.local_addr();
        let accounts_service = accounts.service.clone();
        if options.demo_products > 0 {
            create_demo_users(&accounts_service).await?;
        }
        tasks.push(tokio::spawn(accounts.run_until(stopped(receiver.clone()))));

        let jwks_url = format!("http://{accounts_addr}/.well-known/jwks.json");
        let catalog_config = options.catalog_config(&jwks_url);
        let catalog_service = catalog::service(&catalog_config).await?;
        if options.demo_products > 0
            && catalog::load_demo_data(&catalog_service, options.demo_products).await?
        {
            tracing::info!(products = options.demo_products, "demo catalog loaded");
        }
        let catalog = CatalogApp::with_service(&catalog_config, catalog_service.clone()).await?;
        let catalog_addr = catalog.local_addr();
        tasks.push(tokio::spawn(catalog.run_until(stopped(receiver.clone()))));

        let mut router_config = RouterConfig {
            listen: SocketAddr::new(options.host, options.router_port),
            ..RouterConfig::default()
        };
        router_config.auth.jwks_url = Some(jwks_url);
        for (name, addr) in [("accounts", accounts_addr), ("catalog", catalog_addr)] {
            router_config.subgraphs.insert(
                name.into(),
                SubgraphConfig {
                    url: Some(format!("http://{addr}/graphql")),
                    timeout_ms: None,
                    dedupe: None,
                },
            );
        }
        let router = router::App::build(router_config, SUPERGRAPH).await?;
        let router_addr = router.local_addr();
        tasks.push(tokio::spawn(router.run_until(stopped(receiver))));

        Ok(Self {
            router: router_addr,
            accounts: accounts_addr,
            catalog: catalog_addr,
            accounts_service,
            catalog_service,
            stop,
            tasks,
        })
    }

    pub fn router_url(&self) -> String {
        format!("http://{}/graphql", self.router)
    }

    /// Stops every server after the requests in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Resolves when a server stops on its own (an error), or never.
    pub async fn wait_for_failure(&mut self) -> anyhow::Result<()> {
        let (result, _, _) = futures_util::future::select_all(self.tasks.iter_mut()).await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn create_demo_users(service: &AccountsService) -> anyhow::Result<()> {
    for ((email, password, name), roles) in [
        (DEMO_ADMIN, &[Role::Customer, Role::Admin][..]),
        (DEMO_CUSTOMER, &[Role::Customer][..]),
    ] {
        if service.store.user_by_email(email).await?.is_some() {
            continue;
        }
        let email = Email::parse(email)?;
        let password = Password::parse(password, email.as_str())?;
        service.create_user(&email, &password, name, roles).await?;
    }
    Ok(())
}
