//! `payment.updated`: a checkout that waited for its payment's webhook goes on as soon as
//! payments publishes the result (the sweep is the backstop). Driving a
//! checkout is idempotent, so the event needs no processed mark.

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::payments::PaymentUpdated;

use crate::saga::Saga;

pub struct PaymentResults(pub Arc<Saga>);

#[async_trait::async_trait]
impl Handler for PaymentResults {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let updated: PaymentUpdated = event.decode()?;
        let owner = primitives::id::new_id("lease");
        self.0
            .drive(&updated.order_id, &owner)
            .await
            .map_err(HandlerError::retry)
    }
}
