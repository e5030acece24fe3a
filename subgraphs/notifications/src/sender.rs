//! The sender: takes messages that are due (a lease each, so replicas share the work and a dead
//! one's messages are taken over), sends them, and records the outcome: sent, or tried again
//! after a doubling delay, or failed after the last attempt (visible to admins).

use std::sync::Arc;
use std::time::Duration;

use primitives::stop::StopSignal;

use crate::mailer::Mailer;
use crate::service::NotificationsService;
use crate::store::StoreError;

/// How long a sender holds the messages it took.
const LEASE: Duration = Duration::from_secs(60);
/// Messages taken at a time.
const BATCH: usize = 20;
/// How often the queue is looked at when nothing woke the sender (other replicas' messages,
/// retries coming due).
const POLL: Duration = Duration::from_millis(500);

pub struct Sender {
    service: Arc<NotificationsService>,
    mailer: Mailer,
}

impl Sender {
    pub fn new(service: Arc<NotificationsService>, mailer: Mailer) -> Self {
        Self { service, mailer }
    }

    pub async fn run(self, stop: StopSignal) {
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        loop {
            match self.send_due().await {
                // A full batch: more may be waiting.
                Ok(sent) if sent == BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "reading the notification queue failed"),
            }
            tokio::select! {
                _ = &mut stopped => return,
                _ = self.service.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sends what is due now; returns how many messages it took.
    pub async fn send_due(&self) -> Result<usize, StoreError> {
        let store = &self.service.store;
        let settings = self.service.settings();
        let lease_until = primitives::time::now_millis() + LEASE.as_millis() as i64;
        let due = store.claim_due(lease_until, BATCH).await?;
        for notification in &due {
            let attempts = notification.attempts + 1;
            match self.mailer.send(&settings.from, notification).await {
                Ok(()) => store.mark_sent(&notification.id, attempts).await?,
                Err(error) => {
                    let retry_at = (attempts < settings.max_attempts).then(|| {
                        let delay = settings.retry_base * 2u32.pow((attempts - 1).min(16) as u32);
                        primitives::time::now_millis() + delay.as_millis() as i64
                    });
                    if retry_at.is_none() {
                        tracing::error!(%error, id = %notification.id, attempts, "a notification could not be sent; marked failed");
                    } else {
                        tracing::warn!(%error, id = %notification.id, attempts, "sending a notification failed; it is tried again");
                    }
                    store
                        .mark_attempt_failed(
                            &notification.id,
                            attempts,
                            &error.to_string(),
                            retry_at,
                        )
                        .await?;
                }
            }
            self.service.outcome_recorded();
        }
        Ok(due.len())
    }
}
