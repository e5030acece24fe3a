//! The orders subgraph: `Order` (lines as sold, totals, shipping address, status with its
//! history), `User.orders`, checkout as a saga that survives crashes (reserve stock, take the
//! payment, confirm, empty the cart; compensate on failure; shipping priced by the shipping
//! service), fulfilment and delivery from shipping's events, and the admin's orders list and
//! status changes.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod reconcile;
pub mod saga;
pub mod service;
pub mod services;
pub mod store;
pub mod taxes;

use std::sync::Arc;

use events::payments::PaymentUpdated;
use events::shipping::ShipmentUpdated;
use events::Fact;
use futures_util::future::BoxFuture;
use kit::subgraph::{Resources, Settings};
use kit::Subgraph;
use primitives::stop::StopSignal;

pub use config::OrdersSettings;
use saga::Saga;
use service::OrdersService;
use services::{HttpServices, Services};
use store::OrderStore;
use taxes::{TableTaxes, TaxProvider};

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/orders",
    [
        "0001_orders.sql",
        "0002_shipping_method.sql",
        "0003_one_checkout_per_cart.sql",
        "0004_reservation_reference.sql",
        "0005_lines_by_variant.sql",
        "0006_taxes.sql",
        "0007_promotions.sql",
        "0008_billing_and_notes.sql",
        "0009_guest_checkout.sql",
    ]
);

/// The orders' own commands.
#[derive(clap::Subcommand, Debug)]
pub enum OrdersCommand {
    /// Compare the provider's charges and the orders of the reconciliation window
    /// (`ORDERS_RECONCILE_WINDOW_HOURS`), list every disagreement, and repair what can be
    /// repaired. Calls payments, so it needs the service's API client
    /// (`ORDERS_CLIENT_ID`, `ORDERS_CLIENT_SECRET`) like `orders serve`.
    Reconcile {
        /// Only list; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub struct Orders {
    pub service: Arc<OrdersService>,
    events: kit::subgraph::Events,
}

impl Orders {
    /// The subgraph calling the other services through `services` (over HTTP when served; in
    /// memory in the tests of orders alone), taxing with the built-in rates.
    pub async fn build_with(
        resources: Resources<'_, OrdersSettings>,
        services: Arc<dyn Services>,
    ) -> anyhow::Result<Self> {
        Self::build_with_taxes(resources, services, None).await
    }

    /// Like [`Orders::build_with`], with an external tax engine instead of the built-in rates
    /// when `taxes` is given.
    pub async fn build_with_taxes(
        resources: Resources<'_, OrdersSettings>,
        services: Arc<dyn Services>,
        taxes: Option<Arc<dyn TaxProvider>>,
    ) -> anyhow::Result<Self> {
        let settings = resources.settings.own.clone();
        let store = OrderStore::new(resources.database);
        let taxes =
            taxes.unwrap_or_else(|| TableTaxes::new(store.clone(), settings.tax_rates.clone()));
        let saga = Arc::new(Saga::new(
            store.clone(),
            services.clone(),
            resources.events.clone(),
            settings.saga_lease,
            settings.sweep_interval,
            settings.call_attempts,
            settings.payment_action,
        ));
        let service = OrdersService::new(
            store,
            saga,
            services,
            taxes,
            resources.events.clone(),
            settings,
        );
        Ok(Self {
            service: Arc::new(service),
            events: resources.events,
        })
    }
}

impl Subgraph for Orders {
    const NAME: &'static str = "orders";
    const PORT: u16 = topology::ORDERS.port;
    type Settings = OrdersSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = OrdersCommand;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, OrdersSettings>) -> anyhow::Result<Self> {
        let urls = resources.settings.own.urls.clone();
        let services = Arc::new(HttpServices::new(resources.services.clone(), urls));
        Self::build_with(resources, services).await
    }

    fn schema(self: &Arc<Self>) -> graphql::OrdersSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// Resumes checkouts: on `payment.updated`, and every `ORDERS_SWEEP_INTERVAL_SECS` for any
    /// checkout nobody holds (its process died, or a call failed and is due again). Moves
    /// orders to fulfilled and delivered on `shipment.updated`, and a guest's orders to the
    /// account that confirmed their address on `user.email_verified`. Reconciles money and orders
    /// every `ORDERS_RECONCILE_INTERVAL_SECS`.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let results = self.events.consumer(
            PaymentUpdated::TOPIC,
            Arc::new(consumers::payment_updated::PaymentResults(
                self.service.saga.clone(),
            )),
        );
        let saga = self.service.saga.clone();
        let interval = saga.retry_after();
        let sweep_stop = stop.clone();
        let sweep = async move {
            let stopped = sweep_stop.stopped();
            tokio::pin!(stopped);
            // Not at once: the services it calls may be starting beside it.
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = ticks.tick() => {}
                }
                if let Err(error) = saga.sweep().await {
                    tracing::error!(%error, "looking for unfinished checkouts failed");
                }
            }
        };
        let shipments = self.events.consumer(
            ShipmentUpdated::TOPIC,
            Arc::new(consumers::shipment_updated::ShipmentProgress(
                self.service.clone(),
            )),
        );
        let guest_orders = self.events.consumer(
            <events::accounts::EmailVerified as event_bus::Fact>::TOPIC,
            Arc::new(consumers::email_verified::GuestOrders(self.service.clone())),
        );
        let reconciliation = service::reconcile_periodically(self.service.clone(), stop.clone());
        vec![
            Box::pin(results.run(stop.clone())),
            Box::pin(guest_orders.run(stop.clone())),
            Box::pin(shipments.run(stop)),
            Box::pin(sweep),
            Box::pin(reconciliation),
        ]
    }

    async fn run_command(
        command: OrdersCommand,
        settings: Settings<OrdersSettings>,
    ) -> anyhow::Result<()> {
        let (orders, _, _) = kit::app::prepare::<Self>(&settings).await?;
        match command {
            OrdersCommand::Reconcile { dry_run } => {
                let findings = orders.service.reconcile(!dry_run).await?;
                for finding in &findings {
                    println!("{finding}");
                }
                println!("{} disagreements", findings.len());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Orders>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Orders>();
    }
}
