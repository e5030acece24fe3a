//! The inventory subgraph: warehouses, stock per variant and warehouse, the stock ledger,
//! reservations with a time limit, low-stock thresholds and `StockLow` events per variant, and
//! `availability` on the catalog's variants and products (summed over their variants).

pub mod catalog;
pub mod config;
pub mod demo;
pub mod domain;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use kit::subgraph::{Demo, NoCommands, Resources};
use kit::Subgraph;
use primitives::stop::StopSignal;

pub use config::InventorySettings;
use service::InventoryService;
use store::InventoryStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/inventory",
    ["0001_inventory.sql", "0002_stock_by_variant.sql"]
);

pub struct Inventory {
    pub service: Arc<InventoryService>,
}

impl Subgraph for Inventory {
    const NAME: &'static str = "inventory";
    const PORT: u16 = topology::INVENTORY.port;
    type Settings = InventorySettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, InventorySettings>) -> anyhow::Result<Self> {
        let settings = resources.settings.own.clone();
        let store = InventoryStore::new(resources.database, settings.low_stock_threshold);
        let catalog = catalog::CatalogClient::new(resources.services, settings.catalog_url.clone());
        let service = InventoryService::new(Arc::new(store), catalog, settings);
        Ok(Self {
            service: Arc::new(service),
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::InventorySchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// Releases reservations whose hold ran out, every `INVENTORY_EXPIRY_INTERVAL_SECS`.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let service = self.service.clone();
        let interval = service.settings.expiry_interval;
        let expiry = async move {
            let stopped = stop.stopped();
            tokio::pin!(stopped);
            let mut ticks = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = ticks.tick() => {}
                }
                match service.expire_due().await {
                    Ok(0) => {}
                    Ok(expired) => tracing::info!(expired, "expired reservations released"),
                    Err(error) => tracing::error!(%error, "releasing expired reservations failed"),
                }
            }
        };
        vec![Box::pin(expiry)]
    }

    async fn load_demo_data(&self, _demo: Demo) -> anyhow::Result<()> {
        if demo::load(&self.service).await? {
            tracing::info!("demo stock loaded");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Inventory>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Inventory>();
    }
}
