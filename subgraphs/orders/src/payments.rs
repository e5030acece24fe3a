//! Payment results arriving as events: a checkout that waited for its payment's webhook goes on
//! as soon as payments publishes `payment.updated` (the sweep is the backstop). Driving a
//! checkout is idempotent, so the event needs no processed mark.

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use event_bus::Fact;
use serde::{Deserialize, Serialize};

use crate::saga::Saga;

/// The part of payments' `payment.updated` this consumer reads.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentUpdated {
    order_id: String,
}

impl Fact for PaymentUpdated {
    const TOPIC: &'static str = "payment.updated";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

pub const TOPIC: &str = PaymentUpdated::TOPIC;

pub struct PaymentResults(pub Arc<Saga>);

#[async_trait::async_trait]
impl Handler for PaymentResults {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let updated: PaymentUpdated = event.decode()?;
        let owner = primitives::id::new_id("lease");
        self.0
            .drive(&updated.order_id, &owner)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }
}
