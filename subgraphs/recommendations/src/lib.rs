//! The recommendations subgraph: "customers who bought this also bought" (`Product.alsoBought`)
//! and `recommendedForYou`, from co-purchase counts kept up to date as `order.paid` arrives, with
//! products the catalog took off sale (`product.changed`) left out.
//!
//! A subgraph of its own rather than part of orders: it is a read model derived from events,
//! rebuilt by replaying them, read on every product page (orders' database is for writes that
//! move money), and it may change its method (weights, decay, another store) without touching
//! checkout.

pub mod consumers;
pub mod graphql;
pub mod store;

use std::sync::Arc;

use events::catalog::ProductChanged;
use events::orders::OrderPaid;
use events::Fact;
use futures_util::future::BoxFuture;
use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::{NoCommands, OwnSettings, Resources};
use kit::Subgraph;
use primitives::stop::StopSignal;

use store::RecommendationStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/recommendations",
    ["0001_recommendations.sql"]
);

/// Recommendations has only the shared settings.
#[derive(Clone, Debug)]
pub struct RecommendationsSettings;

impl OwnSettings for RecommendationsSettings {
    fn from_env(_env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        Ok(Self)
    }
}

pub struct Recommendations {
    pub store: Arc<RecommendationStore>,
    events: kit::subgraph::Events,
}

impl Subgraph for Recommendations {
    const NAME: &'static str = "recommendations";
    const PORT: u16 = topology::RECOMMENDATIONS.port;
    type Settings = RecommendationsSettings;
    type Query = graphql::Query;
    type Mutation = async_graphql::EmptyMutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, RecommendationsSettings>) -> anyhow::Result<Self> {
        Ok(Self {
            store: Arc::new(RecommendationStore::new(resources.database)),
            events: resources.events,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::RecommendationsSchema {
        Self::schema_builder().data(self.store.clone()).finish()
    }

    /// Learns from `order.paid` and `product.changed`.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let store = (*self.store).clone();
        let order_paid = self.events.consumer(
            OrderPaid::TOPIC,
            Arc::new(consumers::order_paid::PaidOrders(store.clone())),
        );
        let product_changed = self.events.consumer(
            ProductChanged::TOPIC,
            Arc::new(consumers::product_changed::ProductChanges(store)),
        );
        vec![
            Box::pin(order_paid.run(stop.clone())),
            Box::pin(product_changed.run(stop)),
        ]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Recommendations>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Recommendations>();
    }
}
