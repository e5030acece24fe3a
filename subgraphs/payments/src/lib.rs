//! The payments subgraph: `Payment` and `Order.payment`, the charge checkout asks for (once per
//! order), admin refunds, the provider abstraction ([`provider::PaymentProvider`], spoken over
//! HTTP) with a built-in test provider that behaves like a real one (tokens instead of card
//! numbers, asynchronous results by signed webhooks, retried, sometimes twice), and the webhook
//! intake that checks each delivery and applies provider events once each, in any order.

pub mod config;
pub mod domain;
pub mod graphql;
pub mod provider;
pub mod service;
pub mod store;
pub mod webhooks;

use std::sync::Arc;

use kit::subgraph::{NoCommands, Resources};
use kit::Subgraph;

pub use config::PaymentsSettings;
use provider::http::HttpProvider;
use service::PaymentsService;
use store::PaymentStore;
use webhooks::WebhookIntake;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/payments",
    [
        "0001_payments.sql",
        "0002_provider_truth.sql",
        "0003_payment_actions.sql"
    ]
);

pub struct Payments {
    pub service: Arc<PaymentsService>,
    pub webhooks: Arc<WebhookIntake>,
}

impl Subgraph for Payments {
    const NAME: &'static str = "payments";
    const PORT: u16 = topology::PAYMENTS.port;
    type Settings = PaymentsSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, PaymentsSettings>) -> anyhow::Result<Self> {
        let settings = resources.settings.own.clone();
        let store = PaymentStore::new(resources.database);
        let provider = Arc::new(
            HttpProvider::new(&settings.provider_url, &settings.provider_api_key)
                .with_http(resources.http.clone()),
        );
        let webhooks = Arc::new(WebhookIntake::new(
            store.clone(),
            provider.clone(),
            settings.webhook_secrets.clone(),
            settings.webhook_tolerance,
        ));
        let service = PaymentsService::new(store, provider, settings, webhooks.applied());
        Ok(Self {
            service: Arc::new(service),
            webhooks,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::PaymentsSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// `POST /webhooks/provider`: the provider's signed event deliveries.
    fn routes(self: &Arc<Self>) -> axum::Router {
        self.webhooks.clone().routes()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Payments>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Payments>();
        let ledger = &crate::provider::test_provider::ledger::MIGRATIONS;
        assert_eq!(ledger.unlisted().unwrap(), Vec::<String>::new());
    }
}
