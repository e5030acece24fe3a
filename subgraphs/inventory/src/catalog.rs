//! What the inventory asks the catalog (a service call): whether a product exists, before stock
//! is recorded for it.

use std::sync::Arc;

use web::client::{ServiceClient, ServiceError};

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
        let entities = self
            .client
            .entities(&self.url, "Product", &[product_id.to_string()], "id")
            .await?;
        Ok(entities.first().and_then(|e| e["id"].as_str()) == Some(product_id))
    }
}
