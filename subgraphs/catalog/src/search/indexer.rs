//! Keeps the search index in step with the database: each product change indexed (from
//! `product.changed` events, written to the outbox in the same transaction as the change; see
//! `consumers::product_changed`), and a rebuild of the whole index on demand. Indexing a product writes its current state, so handling an event twice
//! changes nothing: the index needs no processed-event marks.

use std::collections::HashMap;
use std::sync::Arc;

use kit::pagination::PageRequest;
use tokio::sync::watch;

use super::{option_facet, SearchDocument, SearchEngine, SearchError};
use crate::domain::attributes::facet_keys;
use crate::domain::{Product, ProductStatus, Variant};
use crate::store::{
    CatalogStore, CategoryRow, ProductCursor, ProductFilter, ProductOrder, ProductRow, StoreError,
};
use crate::tree::{attribute_definitions, category_path};

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

#[derive(Clone)]
pub struct Indexer {
    store: Arc<CatalogStore>,
    engine: Arc<dyn SearchEngine>,
    /// Counts the product changes indexed, so callers can await one.
    indexed: Arc<watch::Sender<u64>>,
}

impl Indexer {
    pub fn new(store: Arc<CatalogStore>, engine: Arc<dyn SearchEngine>) -> Self {
        Self {
            store,
            engine,
            indexed: Arc::new(watch::channel(0).0),
        }
    }

    /// Indexes a changed product's current state and counts it (see [`Indexer::indexed`]).
    pub async fn index_changed(&self, product_id: &str) -> Result<(), IndexerError> {
        self.index_products(&[product_id.to_string()]).await?;
        self.count_indexed();
        Ok(())
    }

    /// Counts a product change whose current state is in the index already (a batch indexed
    /// it after the change was written).
    pub fn count_indexed(&self) {
        self.indexed.send_modify(|n| *n += 1);
    }

    /// How many product changes were indexed from the bus; `changed()` resolves on the next.
    pub fn indexed(&self) -> watch::Receiver<u64> {
        self.indexed.subscribe()
    }

    /// Writes the current state of `product_ids` to the index: active products are indexed,
    /// others (or missing ones) removed.
    pub async fn index_products(&self, product_ids: &[String]) -> Result<(), IndexerError> {
        let products = parse(self.store.products_by_ids(product_ids).await?)?;
        let active: Vec<Product> = products
            .into_iter()
            .filter(|p| p.status == ProductStatus::Active)
            .collect();
        let removals: Vec<String> = product_ids
            .iter()
            .filter(|id| !active.iter().any(|p| &p.id == *id))
            .cloned()
            .collect();
        let documents = self.documents(&active).await?;
        self.engine.apply(documents, removals).await?;
        Ok(())
    }

    /// Empties the index and fills it from the database; returns the number of products indexed.
    /// Changes made meanwhile are also in the event stream, and indexing them again is harmless.
    pub async fn rebuild(&self) -> Result<u64, IndexerError> {
        self.engine.clear().await?;
        self.index_active(Vec::new()).await
    }

    /// Indexes the active products of these categories again (all, for none): after their
    /// attribute definitions changed, say.
    pub async fn index_categories(&self, category_ids: Vec<String>) -> Result<u64, IndexerError> {
        if category_ids.is_empty() {
            return Ok(0);
        }
        self.index_active(category_ids).await
    }

    async fn index_active(&self, category_ids: Vec<String>) -> Result<u64, IndexerError> {
        let filter = ProductFilter {
            status: Some(ProductStatus::Active.as_str().into()),
            category_ids,
            ..Default::default()
        };
        let mut page = PageRequest::<ProductCursor> {
            cursor: None,
            limit: 2000,
            backward: false,
        };
        let mut indexed = 0u64;
        loop {
            let mut rows = parse(
                self.store
                    .list_products(&filter, ProductOrder::Newest, &page)
                    .await?,
            )?;
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

    /// What the index holds (or would hold) for `products`.
    pub(crate) async fn documents(
        &self,
        products: &[Product],
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
        let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
        let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
        for row in self.store.variants_of_products(&ids).await? {
            let variant = Variant::try_from(row)?;
            variants
                .entry(variant.product_id.clone())
                .or_default()
                .push(variant);
        }
        Ok(products
            .iter()
            .map(|p| {
                let brand = p.brand_id.as_ref().and_then(|b| brands.get(b).cloned());
                let variants = variants.get(&p.id).map_or(&[][..], Vec::as_slice);
                search_document(p, variants, &categories, brand)
            })
            .collect())
    }
}

/// Rows parsed into products (a corrupt row fails the batch, to be retried and logged).
fn parse(rows: Vec<ProductRow>) -> Result<Vec<Product>, StoreError> {
    rows.into_iter().map(Product::try_from).collect()
}

/// What the index holds for a product, given its variants, the category tree and its brand's
/// name: the option values of its variants on sale, their lowest price (a product's "from"
/// price) when it has any, and the attribute values shoppers filter by.
pub fn search_document(
    product: &Product,
    variants: &[Variant],
    categories: &HashMap<String, CategoryRow>,
    brand_name: Option<String>,
) -> SearchDocument {
    let path = category_path(categories, &product.category_id);
    let on_sale = variants
        .iter()
        .filter(|v| v.status == ProductStatus::Active);
    let mut options: Vec<String> = on_sale
        .clone()
        .flat_map(|v| &v.option_values)
        .map(|o| option_facet(&o.name, &o.value))
        .collect();
    options.sort();
    options.dedup();
    let mut attributes = facet_keys(
        &product.attributes,
        &attribute_definitions(categories, &product.category_id),
    );
    attributes.sort();
    let price_minor = on_sale
        .map(|v| v.price.minor_units)
        .min()
        .unwrap_or(product.price.minor_units);
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
        price_minor,
        created_at: product.created_at,
        options,
        attributes,
    }
}
