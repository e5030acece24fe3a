//! The notifications subgraph: the shop's emails. It consumes events (registration, orders
//! placed, paid, cancelled or failed, refunds, every shipment step, delivery's review request,
//! low stock for admins) and records one message per fact (a dedupe key), so an event delivered
//! twice sends one email. Messages are written from templates (per kind and language, editable
//! by admins, rendered with minijinja), sent by SMTP (lettre) or, embedded, written to the data
//! directory; failed sends are retried with a doubling delay and then marked failed for admins.
//! `User.notifications` shows what was sent; customers may turn off marketing emails only.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod graphql;
pub mod mailer;
pub mod sender;
pub mod service;
pub mod store;
pub mod testing;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use kit::subgraph::{NoCommands, Resources};
use kit::Subgraph;
use primitives::stop::StopSignal;
use tokio::sync::Notify;

pub use config::NotificationsSettings;
use service::NotificationsService;
use store::NotificationStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/notifications",
    ["0001_notifications.sql", "0002_order_receipts.sql"]
);

pub struct Notifications {
    pub service: Arc<NotificationsService>,
    events: kit::subgraph::Events,
}

impl Notifications {
    /// A sender of this process's queue (the background task's; tests drive one by hand).
    pub fn sender(&self) -> anyhow::Result<sender::Sender> {
        let mailer = mailer::Mailer::new(&self.service.settings().delivery)?;
        Ok(sender::Sender::new(self.service.clone(), mailer))
    }
}

impl Subgraph for Notifications {
    const NAME: &'static str = "notifications";
    const PORT: u16 = topology::NOTIFICATIONS.port;
    type Settings = NotificationsSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = NoCommands;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    async fn build(resources: Resources<'_, NotificationsSettings>) -> anyhow::Result<Self> {
        let settings = resources.settings.own.clone();
        // Checked now: a bad SMTP URL stops the start, not the first email.
        mailer::Mailer::new(&settings.delivery)
            .map_err(|e| anyhow::anyhow!("NOTIFICATIONS_SMTP_URL: {e}"))?;
        let wake = Arc::new(Notify::new());
        let store = NotificationStore::new(resources.database);
        let service = NotificationsService::new(store, settings, wake);
        Ok(Self {
            service: Arc::new(service),
            events: resources.events,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::NotificationsSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    /// A consumer per topic, and the sender.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let mut tasks: Vec<BoxFuture<'static, ()>> = consumers::TOPICS
            .iter()
            .map(|topic| {
                let consumer = self
                    .events
                    .consumer(topic, Arc::new(consumers::Inbox(self.service.clone())));
                Box::pin(consumer.run(stop.clone())) as BoxFuture<'static, ()>
            })
            .collect();
        match self.sender() {
            Ok(sender) => tasks.push(Box::pin(sender.run(stop))),
            Err(error) => tracing::error!(%error, "the notification sender cannot start"),
        }
        tasks
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Notifications>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Notifications>();
    }
}
