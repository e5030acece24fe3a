//! The shipping subgraph: carriers' rate tables and quotes (`shippingRates`, priced by weight
//! band and destination zone), `Shipment` and `Order.shipments` for paid orders (made when
//! `order.paid` arrives, or by an admin), tracking numbers in each carrier's format, tracking
//! events from signed carrier webhooks (once each, in any order) or admins, `shipment.updated`
//! for every status change, and a simulated carrier that moves demo parcels along.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod graphql;
pub mod service;
pub mod simulator;
pub mod store;
pub mod webhooks;

use std::sync::Arc;

use events::Fact;
use futures_util::future::BoxFuture;
use kit::subgraph::{NoCommands, Resources};
use kit::Subgraph;
use primitives::stop::StopSignal;

pub use config::ShippingSettings;
use service::ShippingService;
use store::ShippingStore;
use webhooks::WebhookIntake;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/shipping",
    ["0001_shipping.sql", "0002_tracking_reviews.sql"]
);

pub struct Shipping {
    pub service: Arc<ShippingService>,
    pub webhooks: Arc<WebhookIntake>,
    events: kit::subgraph::Events,
}

impl Subgraph for Shipping {
    const NAME: &'static str = "shipping";
    const PORT: u16 = topology::SHIPPING.port;
    type Settings = ShippingSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, ShippingSettings>) -> anyhow::Result<Self> {
        let settings = resources.settings.own.clone();
        let store = ShippingStore::new(resources.database, resources.events.clone());
        let service = Arc::new(ShippingService::new(
            store,
            settings.clone(),
            resources.services,
        ));
        let webhooks = Arc::new(WebhookIntake::new(
            service.clone(),
            settings.webhook_secrets,
            settings.webhook_tolerance,
        ));
        Ok(Self {
            service,
            webhooks,
            events: resources.events,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::ShippingSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// `POST /webhooks/carrier`: carriers' signed tracking events.
    fn routes(self: &Arc<Self>) -> axum::Router {
        self.webhooks.clone().routes()
    }

    /// Ships paid orders as `order.paid` arrives, and runs the simulated carrier when
    /// `SHIPPING_SIMULATOR_STEP_SECS` is set.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let paid = self.events.consumer(
            events::orders::OrderPaid::TOPIC,
            Arc::new(consumers::order_paid::PaidOrders(self.service.clone())),
        );
        let mut tasks: Vec<BoxFuture<'static, ()>> = vec![Box::pin(paid.run(stop.clone()))];
        if let Some(step) = self.service.settings().simulator_step {
            tasks.push(Box::pin(simulator::run(
                self.service.store.clone(),
                self.webhooks.clone(),
                step,
                stop,
            )));
        }
        tasks
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Shipping>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Shipping>();
    }
}
