//! The simulated carrier of the embedded shop: every step it moves each parcel on its way one
//! status along (in transit, out for delivery, delivered) by a signed webhook, through the same
//! intake real carriers' webhooks take. Its event ids follow from the shipment and the status,
//! so a step repeated after a restart changes nothing.

use std::sync::Arc;
use std::time::Duration;

use primitives::stop::StopSignal;

use crate::store::ShippingStore;
use crate::webhooks::{signed, CarrierEvent, WebhookIntake};

/// Parcels moved per step.
const BATCH: usize = 200;

pub async fn run(
    store: ShippingStore,
    intake: Arc<WebhookIntake>,
    step: Duration,
    stop: StopSignal,
) {
    let stopped = stop.stopped();
    tokio::pin!(stopped);
    let mut ticks = tokio::time::interval(step);
    // The first tick is immediate: a parcel stays at least one step in each status.
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = advance(&store, &intake).await {
            tracing::error!(%error, "the simulated carrier could not move parcels");
        }
    }
}

/// Moves every parcel on its way one status along; returns how many moved.
pub async fn advance(
    store: &ShippingStore,
    intake: &WebhookIntake,
) -> Result<usize, crate::store::StoreError> {
    let mut moved = 0;
    for shipment in store.on_the_way(BATCH).await? {
        let Some(next) = shipment.status.next_on_the_way() else {
            continue;
        };
        let event = CarrierEvent {
            id: format!("sim-{}-{}", shipment.id, next.as_str()),
            carrier: shipment.carrier.clone(),
            tracking_number: shipment.tracking_number.clone(),
            status: next.as_str().into(),
            occurred_at: primitives::time::format_millis(primitives::time::now_millis()),
            location: Some(format!("{} hub", shipment.address.city)),
            description: None,
        };
        let (headers, body) = signed(&event, intake.current_secret());
        let answer = intake.handle(&headers, &body).await;
        if answer.status.is_success() {
            moved += 1;
        } else {
            tracing::warn!(shipment = %shipment.id, status = %answer.status, error = ?answer.error, "the simulated carrier's webhook was refused");
        }
    }
    Ok(moved)
}
