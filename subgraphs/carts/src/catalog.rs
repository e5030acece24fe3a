//! What carts need from the catalog, read with one batched service call per cart: whether each
//! product exists and is on sale, and its current price.

use std::collections::HashMap;
use std::sync::Arc;

use commerce::money::Money;
use serde_json::Value;
use web::client::{ServiceClient, ServiceError};

#[derive(Clone, Debug, PartialEq)]
pub struct ProductInfo {
    pub active: bool,
    pub price: Money,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Call(#[from] ServiceError),
    #[error("the catalog answered with an unreadable product {0}")]
    Unreadable(Value),
}

pub struct CatalogClient {
    client: Arc<ServiceClient>,
    url: String,
}

impl CatalogClient {
    pub fn new(client: Arc<ServiceClient>, url: String) -> Self {
        Self { client, url }
    }

    /// The products among `ids` that exist, by id.
    pub async fn products(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, ProductInfo>, CatalogError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let entities = self
            .client
            .entities(
                &self.url,
                "Product",
                ids,
                "id status price { amount currencyCode }",
            )
            .await?;
        let mut products = HashMap::new();
        for entity in &entities {
            if entity.is_null() {
                continue;
            }
            let unreadable = || CatalogError::Unreadable(entity.clone());
            let id = entity["id"].as_str().ok_or_else(unreadable)?;
            let price = Money::from_json(&entity["price"]).ok_or_else(unreadable)?;
            let active = match entity["status"].as_str() {
                Some("ACTIVE") => true,
                Some("DRAFT" | "ARCHIVED") => false,
                _ => return Err(unreadable()),
            };
            products.insert(id.to_string(), ProductInfo { active, price });
        }
        Ok(products)
    }
}
