//! The carts subgraph: carts of variants, one per signed-in user (`cart`, `User.cart`), guest
//! carts reached by an unguessable token, merging a guest cart at login, limits, and totals at
//! the catalog's current prices. Carts live in Redis in production and in the subgraph's database when embedded.

pub mod catalog;
pub mod config;
pub mod domain;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use kit::subgraph::{NoCommands, Resources};
use kit::Subgraph;

pub use config::CartsSettings;
use service::CartsService;
use store::{CartStore, RedisCarts, SqlCarts};

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/carts",
    ["0001_carts.sql", "0002_cart_items_by_variant.sql"]
);

pub struct Carts {
    pub service: Arc<CartsService>,
}

impl Subgraph for Carts {
    const NAME: &'static str = "carts";
    const PORT: u16 = topology::CARTS.port;
    type Settings = CartsSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    /// Redis when `CARTS_REDIS_URL` is set, else the subgraph's own database.
    async fn build(resources: Resources<'_, CartsSettings>) -> anyhow::Result<Self> {
        let own = &resources.settings.own;
        let store: Arc<dyn CartStore> = match &own.redis_url {
            Some(url) => Arc::new(
                RedisCarts::connect(
                    url,
                    &own.redis_namespace,
                    resources.settings.common.tls_ca_file.as_deref(),
                )
                .await?,
            ),
            None => Arc::new(SqlCarts::new(resources.database)),
        };
        let catalog = catalog::CatalogClient::new(resources.services, own.catalog_url.clone());
        Ok(Self {
            service: Arc::new(CartsService::new(
                store,
                catalog,
                resources.settings.common.currency,
            )),
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::CartsSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        request.data(graphql::cart::PriceCache::default())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Carts>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Carts>();
    }
}
