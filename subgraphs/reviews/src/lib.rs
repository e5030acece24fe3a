//! The reviews subgraph: `Review` (rating 1 to 5, title, text, author, product, verified buyer,
//! moderation status), `Product.reviews` (newest, most helpful, by rating), `Product.rating`
//! (average, count, histogram, changed with each review in its transaction), `User.reviews`,
//! helpful votes and reports once per reader, and admins' moderation. Who may review comes from
//! shipping's `shipment.updated`: customers who received the product, once per product.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod graphql;
pub mod service;
pub mod store;

use std::sync::Arc;

use events::shipping::ShipmentUpdated;
use events::Fact;
use futures_util::future::BoxFuture;
use kit::subgraph::{NoCommands, Resources};
use kit::Subgraph;
use primitives::stop::StopSignal;

pub use config::ReviewsSettings;
use service::ReviewsService;
use store::ReviewStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/reviews",
    ["0001_reviews.sql", "0002_variants.sql"]
);

pub struct Reviews {
    pub service: Arc<ReviewsService>,
    events: kit::subgraph::Events,
}

impl Subgraph for Reviews {
    const NAME: &'static str = "reviews";
    const PORT: u16 = topology::REVIEWS.port;
    type Settings = ReviewsSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, ReviewsSettings>) -> anyhow::Result<Self> {
        let store = ReviewStore::new(resources.database);
        let service = ReviewsService::new(store, resources.settings.own.clone());
        Ok(Self {
            service: Arc::new(service),
            events: resources.events,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::ReviewsSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// Learns deliveries (who may review what) from `shipment.updated`.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let deliveries = self.events.consumer(
            ShipmentUpdated::TOPIC,
            Arc::new(consumers::shipment_updated::Deliveries(
                self.service.store.clone(),
            )),
        );
        vec![Box::pin(deliveries.run(stop))]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Reviews>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Reviews>();
    }
}
