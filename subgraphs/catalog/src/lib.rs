//! The catalog subgraph: products, categories, brands and product search.

pub mod config;
pub mod demo;
pub mod domain;
pub mod graphql;
pub mod search;
pub mod service;
pub mod store;
pub mod tree;

use std::net::SocketAddr;
use std::sync::Arc;

use kit::auth::{KeySource, TokenVerifier};
use kit::db::Database;
use kit::server::Server;

pub use config::CatalogConfig;
use search::meilisearch_engine::MeilisearchEngine;
use search::tantivy_engine::TantivyEngine;
use search::SearchEngine;
use service::CatalogService;
use store::{CatalogStore, SqlStore};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/catalog");

/// The SDL this subgraph serves (checked in as `schema/catalog.graphql`).
pub fn sdl() -> String {
    kit::schema::federation_sdl(&graphql::builder().finish())
}

/// The search engine the configuration asks for: Meilisearch when configured, else the
/// embedded index (in a directory, or in memory).
pub async fn search_engine(config: &CatalogConfig) -> anyhow::Result<Arc<dyn SearchEngine>> {
    if let Some(meili) = &config.meilisearch {
        let engine =
            MeilisearchEngine::connect(&meili.url, meili.api_key.as_deref(), &meili.index).await?;
        return Ok(Arc::new(engine));
    }
    Ok(match &config.search_dir {
        Some(dir) => Arc::new(TantivyEngine::open(dir)?),
        None => Arc::new(TantivyEngine::in_memory()?),
    })
}

/// Connects storage and search without serving: for commands (demo data, reindex).
pub async fn service(config: &CatalogConfig) -> anyhow::Result<Arc<CatalogService>> {
    let database =
        Database::connect(&config.database_url, config.max_connections, &MIGRATIONS).await?;
    let store: Arc<dyn CatalogStore> = Arc::new(SqlStore::new(database));
    Ok(Arc::new(CatalogService::new(
        store,
        search_engine(config).await?,
    )))
}

/// Writes a generated demo catalog of `count` products and rebuilds the search index. Does
/// nothing when the catalog already has categories.
pub async fn load_demo_data(service: &CatalogService, count: usize) -> anyhow::Result<bool> {
    if !service.store.categories().await?.is_empty() {
        return Ok(false);
    }
    let demo = demo::generate(count, 42);
    for brand in &demo.brands {
        service.store.insert_brand(brand).await?;
    }
    for category in &demo.categories {
        service.store.insert_category(category).await?;
    }
    for chunk in demo.products.chunks(5000) {
        service.store.insert_products(chunk).await?;
    }
    service.indexer.rebuild().await?;
    Ok(true)
}

pub struct CatalogApp {
    server: Server,
    pub service: Arc<CatalogService>,
}

impl CatalogApp {
    /// Connects storage and search, binds the listener. The index is rebuilt when it is empty but
    /// the database has products.
    pub async fn build(config: &CatalogConfig) -> anyhow::Result<Self> {
        let service = service(config).await?;
        Self::with_service(config, service).await
    }

    pub async fn with_service(
        config: &CatalogConfig,
        service: Arc<CatalogService>,
    ) -> anyhow::Result<Self> {
        if service.search.document_count().await? == 0 {
            let indexed = service.indexer.rebuild().await?;
            if indexed > 0 {
                tracing::info!(indexed, "search index rebuilt from the database");
            }
        }
        let verifier = Arc::new(TokenVerifier::new(
            KeySource::Remote {
                url: config.jwks_url.clone(),
                client: reqwest::Client::new(),
            },
            &config.jwt.issuer,
            &config.jwt.audience,
        ));
        let schema = graphql::schema(service.clone());
        let routes =
            kit::server::graphql_routes(schema, verifier, graphql::per_request(service.clone()));
        let server = Server::bind(config.listen, routes).await?;
        Ok(Self { server, service })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves and follows the outbox into the search index until `shutdown`.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let indexer = tokio::spawn(self.service.indexer.clone().follow(std::future::pending()));
        let result = self.server.run_until(shutdown).await;
        indexer.abort();
        result
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/catalog.graphql");
        kit::schema::assert_file_fresh(
            &path,
            &kit::schema::sdl_file("http://127.0.0.1:4002/graphql", &super::sdl()),
        );
    }
}
