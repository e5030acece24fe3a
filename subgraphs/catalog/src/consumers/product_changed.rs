//! `product.changed` (the catalog's own): the product's current state goes into the search
//! index. Indexing writes the current state, so handling an event twice changes nothing: no
//! processed-event marks.

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::catalog::ProductChanged;

use crate::search::indexer::Indexer;

pub struct ProductChanges(pub Indexer);

#[async_trait::async_trait]
impl Handler for ProductChanges {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let changed: ProductChanged = event.decode()?;
        self.0
            .index_changed(&changed.product_id)
            .await
            .map_err(HandlerError::retry)
    }
}
