//! The catalog subgraph: products, categories, brands and product search.

pub mod config;
pub mod consumers;
pub mod demo;
pub mod domain;
pub mod export_store;
pub mod graphql;
pub mod media_store;
pub mod search;
pub mod service;
pub mod sitemap;
pub mod store;
pub mod tree;

use std::sync::Arc;

use event_bus::Fact;
use futures_util::future::BoxFuture;
use kit::subgraph::{Demo, Events, Resources, Settings};
use kit::Subgraph;
use primitives::stop::StopSignal;

pub use config::{CatalogSettings, SearchSettings};
use events::catalog::ProductChanged;
use search::meilisearch_engine::MeilisearchEngine;
use search::tantivy_engine::TantivyEngine;
use search::SearchEngine;
use service::CatalogService;
use store::CatalogStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/catalog",
    [
        "0001_catalog.sql",
        "0002_events.sql",
        "0003_variants.sql",
        "0004_product_options.sql",
        "0005_slug_history.sql",
        "0006_category_attributes.sql",
        "0007_product_seo.sql",
        "0008_collections.sql",
        "0009_product_imports.sql",
        "0010_product_tax_class.sql"
    ]
);

pub struct Catalog {
    pub service: Arc<CatalogService>,
    events: Events,
    storefront_url: Option<String>,
}

/// The catalog's own commands.
#[derive(clap::Subcommand, Debug)]
pub enum CatalogCommand {
    /// Rebuild the search index from the database.
    Reindex,
    /// Load a generated demo catalog into an empty database.
    Seed {
        #[arg(long, default_value_t = 1000)]
        products: usize,
    },
    /// Import products and variants from a CSV file (Shopify's product CSV columns) or, for a
    /// `.jsonl` file, JSON lines (see README). A file with errors changes nothing and lists
    /// every row and column at fault.
    Import { file: std::path::PathBuf },
    /// Write every product and its variants to a file the import reads (CSV, or JSON lines for
    /// a `.jsonl` file).
    Export { file: std::path::PathBuf },
}

/// The search engine the settings ask for.
pub async fn search_engine(settings: &SearchSettings) -> anyhow::Result<Arc<dyn SearchEngine>> {
    Ok(match settings {
        SearchSettings::Meilisearch(meili) => Arc::new(
            MeilisearchEngine::connect(&meili.url, meili.api_key.as_deref(), &meili.index).await?,
        ),
        SearchSettings::Directory(dir) => Arc::new(TantivyEngine::open(dir)?),
        SearchSettings::Memory => Arc::new(TantivyEngine::in_memory()?),
    })
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
    service.store.insert_variants(&demo.variants).await?;
    for collection in demo::collections(&demo) {
        service.store.insert_collection(&collection).await?;
    }
    service.indexer.rebuild().await?;
    Ok(true)
}

impl Catalog {
    /// What the catalog serves besides GraphQL, on its port and (in the embedded shop) beside
    /// the apps: `/media/{key}` (uploaded images), `/media/exports/{name}` (admins' exports)
    /// and `/sitemap.xml`.
    pub fn public_routes(&self) -> axum::Router {
        let sitemaps = Arc::new(sitemap::Sitemaps::new(
            self.service.clone(),
            self.storefront_url.clone(),
        ));
        self.service
            .media
            .clone()
            .routes()
            .merge(self.service.exports.clone().routes())
            .merge(sitemaps.routes())
    }
}

impl Subgraph for Catalog {
    const NAME: &'static str = "catalog";
    const PORT: u16 = topology::CATALOG.port;
    type Settings = CatalogSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = CatalogCommand;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    fn schema_builder() -> async_graphql::SchemaBuilder<
        graphql::Query,
        graphql::Mutation,
        async_graphql::EmptySubscription,
    > {
        graphql::builder()
    }

    /// Connects storage and search. The index is rebuilt when it is empty but the database has
    /// products.
    async fn build(resources: Resources<'_, CatalogSettings>) -> anyhow::Result<Self> {
        let store: Arc<CatalogStore> = Arc::new(CatalogStore::new(resources.database));
        let engine = search_engine(&resources.settings.own.search).await?;
        let media = Arc::new(media_store::MediaStore::open(
            &resources.settings.own.media,
        )?);
        let service = Arc::new(CatalogService::new(
            store,
            engine,
            media,
            resources.events.clone(),
            resources.settings.common.currency,
        ));
        if service.search.document_count().await? == 0 {
            let indexed = service.indexer.rebuild().await?;
            if indexed > 0 {
                tracing::info!(indexed, "search index rebuilt from the database");
            }
        }
        Ok(Self {
            service,
            events: resources.events,
            storefront_url: resources.settings.own.storefront_url.clone(),
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::CatalogSchema {
        graphql::schema(self.service.clone())
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    fn routes(self: &Arc<Self>) -> axum::Router {
        self.public_routes()
    }

    /// Indexes product changes as they arrive on the bus, and takes over imports whose
    /// process stopped.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let indexer = self.events.consumer(
            ProductChanged::TOPIC,
            Arc::new(consumers::product_changed::ProductChanges::new(
                self.service.indexer.clone(),
            )),
        );
        let imports = self.service.clone().resume_imports(stop.clone());
        vec![Box::pin(indexer.run(stop)), Box::pin(imports)]
    }

    async fn load_demo_data(&self, demo: Demo) -> anyhow::Result<()> {
        if load_demo_data(&self.service, demo.products).await? {
            tracing::info!(products = demo.products, "demo catalog loaded");
        }
        Ok(())
    }

    async fn run_command(
        command: CatalogCommand,
        settings: Settings<CatalogSettings>,
    ) -> anyhow::Result<()> {
        let (catalog, _, _) = kit::app::prepare::<Self>(&settings).await?;
        match command {
            CatalogCommand::Reindex => {
                let indexed = catalog.service.indexer.rebuild().await?;
                println!("indexed {indexed} active products");
            }
            CatalogCommand::Import { file } => {
                let opened = std::fs::File::open(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let started = std::time::Instant::now();
                let format = domain::import::ImportFormat::of_path(&file);
                let (progress, mut watched) =
                    tokio::sync::watch::channel(service::ImportProgress::Checking);
                // A line each time another tenth of the products is applied.
                let told = tokio::spawn(async move {
                    let mut tenths = 0;
                    while watched.changed().await.is_ok() {
                        let step = *watched.borrow_and_update();
                        if let service::ImportProgress::Applying { done, total } = step {
                            if total > 0 && done * 10 / total > tenths {
                                tenths = done * 10 / total;
                                eprintln!("{done} of {total} products applied");
                            }
                        }
                    }
                });
                let report = catalog.service.import(opened, format, &progress).await?;
                drop(progress);
                told.await?;
                for error in &report.errors {
                    let column = error.column.as_deref().unwrap_or("-");
                    println!("row {}, {column}: {}", error.row, error.message);
                }
                if !report.errors.is_empty() {
                    anyhow::bail!("{} errors: nothing was imported", report.errors.len());
                }
                let rows =
                    report.variants_created + report.variants_updated + report.variants_unchanged;
                println!(
                    "{} products created, {} updated; {} variants created, {} updated, {} unchanged \
                     ({rows} rows in {:.1} s, {:.0} rows/s)",
                    report.products_created,
                    report.products_updated,
                    report.variants_created,
                    report.variants_updated,
                    report.variants_unchanged,
                    started.elapsed().as_secs_f64(),
                    rows as f64 / started.elapsed().as_secs_f64().max(0.001),
                );
            }
            CatalogCommand::Export { file } => {
                let out = std::fs::File::create(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let rows = catalog
                    .service
                    .export(
                        std::io::BufWriter::new(out),
                        domain::import::ImportFormat::of_path(&file),
                    )
                    .await?;
                println!("wrote {rows} variant rows to {}", file.display());
            }
            CatalogCommand::Seed { products } => {
                if load_demo_data(&catalog.service, products).await? {
                    println!("loaded {products} demo products");
                } else {
                    println!("the catalog already has data; nothing loaded");
                }
            }
        }
        Ok(())
    }
}

/// Test support for this and other subgraphs' tests: the catalog alone on a free port, with an
/// in-memory index and `products` generated demo products.
pub async fn spawn_with_demo(products: usize) -> kit::testing::TestApp<Catalog> {
    let app =
        kit::testing::spawn_app_with::<Catalog>(|env| env.set("CATALOG_SEARCH_DIR", ":memory:"))
            .await;
    load_demo_data(&app.subgraph.service, products)
        .await
        .expect("demo data loads");
    app
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Catalog>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Catalog>();
    }
}
