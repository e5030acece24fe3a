//! Dataloaders: every batch of keys is one database query.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::service::CatalogService;
use crate::store::{BrandRow, CategoryRow, ProductRow, StoreError};

pub struct ProductIdLoader(pub Arc<CatalogService>);
pub struct ProductSkuLoader(pub Arc<CatalogService>);
pub struct BrandLoader(pub Arc<CatalogService>);
pub struct CategoryLoader(pub Arc<CatalogService>);

impl Loader<String> for ProductIdLoader {
    type Value = ProductRow;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, ProductRow>, Self::Error> {
        let rows = self.0.store.products_by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

impl Loader<String> for ProductSkuLoader {
    type Value = ProductRow;
    type Error = Arc<StoreError>;

    async fn load(&self, skus: &[String]) -> Result<HashMap<String, ProductRow>, Self::Error> {
        let rows = self
            .0
            .store
            .products_by_skus(skus)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.sku.clone(), r)).collect())
    }
}

impl Loader<String> for BrandLoader {
    type Value = BrandRow;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, BrandRow>, Self::Error> {
        let rows = self.0.store.brands_by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

/// Categories are few: one query reads the whole tree and answers every key.
impl Loader<String> for CategoryLoader {
    type Value = CategoryRow;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, CategoryRow>, Self::Error> {
        let rows = self.0.store.categories().await.map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .map(|r| (r.id.clone(), r))
            .collect())
    }
}
