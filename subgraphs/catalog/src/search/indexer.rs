//! Keeps the search index in step with the database: follows the outbox (entries written in the
//! same transaction as each product change), and rebuilds the whole index on demand.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kit::db::now_millis;
use kit::pagination::PageRequest;
use tokio::sync::Notify;

use super::{SearchDocument, SearchEngine, SearchError};
use crate::domain::ProductStatus;
use crate::store::{
    CatalogStore, CategoryRow, ProductCursor, ProductFilter, ProductOrder, ProductRow, StoreError,
};
use crate::tree::category_path;

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// How often the outbox is polled when no in-process change wakes the indexer (changes made by
/// other replicas, or missed wake-ups).
const POLL_INTERVAL: Duration = Duration::from_millis(500);
const BATCH: usize = 500;

#[derive(Clone)]
pub struct Indexer {
    store: Arc<dyn CatalogStore>,
    engine: Arc<dyn SearchEngine>,
    wake: Arc<Notify>,
}

impl Indexer {
    pub fn new(store: Arc<dyn CatalogStore>, engine: Arc<dyn SearchEngine>) -> Self {
        Self {
            store,
            engine,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Call after committing a change so it is indexed without waiting for the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Indexes one batch of pending outbox entries; returns how many were handled.
    pub async fn run_once(&self) -> Result<usize, IndexerError> {
        let pending = self.store.pending_changes(BATCH).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut product_ids: Vec<String> = pending.iter().map(|c| c.product_id.clone()).collect();
        product_ids.sort();
        product_ids.dedup();
        let products = self.store.products_by_ids(&product_ids).await?;
        let active: Vec<ProductRow> = products
            .into_iter()
            .filter(|p| p.status == ProductStatus::Active.as_str())
            .collect();
        let removals: Vec<String> = product_ids
            .iter()
            .filter(|id| !active.iter().any(|p| &p.id == *id))
            .cloned()
            .collect();
        let documents = self.documents(&active).await?;
        self.engine.apply(documents, removals).await?;
        let change_ids: Vec<String> = pending.into_iter().map(|c| c.id).collect();
        self.store.mark_indexed(&change_ids, now_millis()).await?;
        Ok(change_ids.len())
    }

    /// Empties the index and fills it from the database; returns the number of products indexed.
    pub async fn rebuild(&self) -> Result<u64, IndexerError> {
        let started = now_millis();
        // Entries from before the rebuild are covered by it; later ones are followed as usual.
        self.store.mark_indexed_before(started, started).await?;
        self.engine.clear().await?;
        let filter = ProductFilter {
            status: Some(ProductStatus::Active.as_str().into()),
            ..Default::default()
        };
        let mut page = PageRequest::<ProductCursor> {
            cursor: None,
            limit: 2000,
            backward: false,
        };
        let mut indexed = 0u64;
        loop {
            let mut rows = self
                .store
                .list_products(&filter, ProductOrder::Newest, &page)
                .await?;
            let more = rows.len() > page.limit;
            rows.truncate(page.limit);
            let Some(last) = rows.last() else { break };
            page.cursor = Some(ProductCursor {
                price: None,
                id: last.id.clone(),
            });
            indexed += rows.len() as u64;
            let documents = self.documents(&rows).await?;
            self.engine.apply(documents, Vec::new()).await?;
            if !more {
                break;
            }
        }
        Ok(indexed)
    }

    /// Follows the outbox until `shutdown` resolves.
    pub async fn follow(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "search indexing failed; retrying"),
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    async fn documents(
        &self,
        products: &[ProductRow],
    ) -> Result<Vec<SearchDocument>, IndexerError> {
        if products.is_empty() {
            return Ok(Vec::new());
        }
        let categories: HashMap<String, CategoryRow> = self
            .store
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut brand_ids: Vec<String> =
            products.iter().filter_map(|p| p.brand_id.clone()).collect();
        brand_ids.sort();
        brand_ids.dedup();
        let brands: HashMap<String, String> = self
            .store
            .brands_by_ids(&brand_ids)
            .await?
            .into_iter()
            .map(|b| (b.id, b.name))
            .collect();
        Ok(products
            .iter()
            .map(|p| {
                let brand = p.brand_id.as_ref().and_then(|b| brands.get(b).cloned());
                search_document(p, &categories, brand)
            })
            .collect())
    }
}

/// What the index holds for a product, given the category tree and its brand's name.
pub fn search_document(
    product: &ProductRow,
    categories: &HashMap<String, CategoryRow>,
    brand_name: Option<String>,
) -> SearchDocument {
    let path = category_path(categories, &product.category_id);
    SearchDocument {
        id: product.id.clone(),
        sku: product.sku.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        brand_id: product.brand_id.clone(),
        brand_name,
        category_id: product.category_id.clone(),
        category_names: path
            .iter()
            .filter_map(|id| categories.get(id))
            .map(|c| c.name.clone())
            .collect(),
        category_path: path,
        price_minor: product.price_minor,
        created_at: product.created_at,
    }
}
