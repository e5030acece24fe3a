//! `product.changed` (the catalog's own): the product's current state goes into the search
//! index. Indexing writes the current state, so handling an event twice changes nothing: no
//! processed-event marks.
//!
//! A fetched batch of events is indexed at once, with one commit (an import creates products
//! hundreds to a transaction, and a commit per event was most of its time); each event then
//! only counts. An event the batch did not index (it failed, or the event came alone) is indexed
//! on its own.

use std::collections::HashSet;
use std::sync::Mutex;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::catalog::ProductChanged;

use crate::search::indexer::Indexer;

pub struct ProductChanges {
    indexer: Indexer,
    /// Events whose product a batch indexed after they were written.
    indexed_in_batch: Mutex<HashSet<String>>,
}

impl ProductChanges {
    pub fn new(indexer: Indexer) -> Self {
        Self {
            indexer,
            indexed_in_batch: Mutex::new(HashSet::new()),
        }
    }
}

#[async_trait::async_trait]
impl Handler for ProductChanges {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let changed: ProductChanged = event.decode()?;
        let done = self
            .indexed_in_batch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&event.id);
        if done {
            self.indexer.count_indexed();
            return Ok(());
        }
        self.indexer
            .index_changed(&changed.product_id)
            .await
            .map_err(HandlerError::retry)
    }

    async fn before_batch(&self, events: &[Event]) {
        if events.len() < 2 {
            return;
        }
        let changed: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| Some((e.id.clone(), e.decode::<ProductChanged>().ok()?.product_id)))
            .collect();
        let mut products: Vec<String> = changed.iter().map(|(_, p)| p.clone()).collect();
        products.sort();
        products.dedup();
        match self.indexer.index_products(&products).await {
            Ok(()) => self
                .indexed_in_batch
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(changed.into_iter().map(|(event, _)| event)),
            Err(error) => {
                tracing::warn!(%error, "indexing a batch of product changes failed; one by one")
            }
        }
    }
}
