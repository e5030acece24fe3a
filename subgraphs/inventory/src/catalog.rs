//! What the inventory asks the catalog (a service call): whether a product exists, before stock
//! is recorded for it.

use std::sync::Arc;

use kit::client::{ServiceClient, ServiceError};
use serde_json::json;

pub struct CatalogClient {
    client: Arc<ServiceClient>,
    url: String,
}

impl CatalogClient {
    pub fn new(client: Arc<ServiceClient>, url: String) -> Self {
        Self { client, url }
    }

    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the catalog has a product with this id (in any status).
    pub async fn exists(&self, product_id: &str) -> Result<bool, ServiceError> {
        let data = self
            .client
            .query(
                &self.url,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } } }",
                json!({ "r": [{ "__typename": "Product", "id": product_id }] }),
            )
            .await?;
        Ok(data["_entities"][0]["id"].as_str() == Some(product_id))
    }
}
