//! What the inventory asks the catalog (a service call): which variant an admin's stock change is
//! for, and its product, before stock is recorded for it.

use std::sync::Arc;

use web::client::{ServiceClient, ServiceError};

pub struct CatalogClient {
    client: Arc<ServiceClient>,
    url: String,
}

/// The variants of a product that are not archived.
pub enum ProductVariants {
    Unknown,
    Variants(Vec<String>),
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

    /// The product of the variant with this id (in any status), if the catalog has it.
    pub async fn product_of(&self, variant_id: &str) -> Result<Option<String>, ServiceError> {
        let entities = self
            .client
            .entities(
                &self.url,
                "ProductVariant",
                &[variant_id.to_string()],
                "id product { id }",
            )
            .await?;
        Ok(entities
            .first()
            .filter(|e| e["id"].as_str() == Some(variant_id))
            .and_then(|e| e["product"]["id"].as_str())
            .map(str::to_string))
    }

    /// The product's variants on sale or in draft (not archived).
    pub async fn variants_of(&self, product_id: &str) -> Result<ProductVariants, ServiceError> {
        let entities = self
            .client
            .entities(
                &self.url,
                "Product",
                &[product_id.to_string()],
                "id variants { id }",
            )
            .await?;
        let Some(product) = entities
            .first()
            .filter(|e| e["id"].as_str() == Some(product_id))
        else {
            return Ok(ProductVariants::Unknown);
        };
        Ok(ProductVariants::Variants(
            product["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["id"].as_str().map(str::to_string))
                .collect(),
        ))
    }
}
