//! What accounts consumes: `audit.recorded` from every subgraph, into the audit log (a
//! redelivered event finds its record there and adds nothing).

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::audit::AuditRecorded;

use crate::domain::audit::AuditEntry;
use crate::service::AccountsService;

pub struct AuditLog(pub Arc<AccountsService>);

#[async_trait::async_trait]
impl Handler for AuditLog {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let recorded: AuditRecorded = event.decode()?;
        self.0
            .record_audit(&AuditEntry::from_event(event, recorded))
            .await
            .map_err(HandlerError::retry)?;
        Ok(())
    }
}
