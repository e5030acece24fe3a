//! `user.email_verified`: the orders placed as a guest with the address a user just proved they
//! hold become theirs (in their order history, no longer found as a guest's). Only a confirmed
//! address counts: signing up with someone else's address gets none of their orders. Moving
//! them again moves nothing, so the event needs no processed mark.

use std::sync::Arc;

use commerce::email::Email;
use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::accounts::EmailVerified;

use crate::service::OrdersService;

pub struct GuestOrders(pub Arc<OrdersService>);

#[async_trait::async_trait]
impl Handler for GuestOrders {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let verified: EmailVerified = event.decode()?;
        let email = Email::parse(&verified.email)
            .map_err(|e| HandlerError::Reject(format!("{}: {e}", verified.email)))?;
        let moved = self
            .0
            .attach_guest_orders(&email, &verified.user_id)
            .await
            .map_err(HandlerError::retry)?;
        if moved > 0 {
            tracing::info!(moved, user_id = %verified.user_id, "guest orders attached to an account");
        }
        Ok(())
    }
}
