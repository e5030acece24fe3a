//! `product.changed`: which products are for sale (the latest change wins, by its time).

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::catalog::ProductChanged;

use crate::store::RecommendationStore;

pub struct ProductChanges(pub RecommendationStore);

#[async_trait::async_trait]
impl Handler for ProductChanges {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let changed: ProductChanged = event.decode()?;
        self.0
            .record_status(&changed.product_id, changed.status == "ACTIVE", event.time)
            .await
            .map_err(HandlerError::retry)
    }
}
