//! What carts need from the catalog, read with one batched service call per cart: whether each
//! variant exists and is on sale (it and its product active), its current price and its product.

use std::collections::HashMap;
use std::sync::Arc;

use commerce::money::Money;
use serde_json::Value;
use web::client::{ServiceClient, ServiceError};

#[derive(Clone, Debug, PartialEq)]
pub struct VariantInfo {
    pub product_id: String,
    /// The variant and its product are both active.
    pub active: bool,
    pub price: Money,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Call(#[from] ServiceError),
    #[error("the catalog answered with an unreadable entity {0}")]
    Unreadable(Value),
}

pub struct CatalogClient {
    client: Arc<ServiceClient>,
    url: String,
}

fn active(status: &Value, unreadable: impl Fn() -> CatalogError) -> Result<bool, CatalogError> {
    match status.as_str() {
        Some("ACTIVE") => Ok(true),
        Some("DRAFT" | "ARCHIVED") => Ok(false),
        _ => Err(unreadable()),
    }
}

impl CatalogClient {
    pub fn new(client: Arc<ServiceClient>, url: String) -> Self {
        Self { client, url }
    }

    /// The variants among `ids` that exist, by id.
    pub async fn variants(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, VariantInfo>, CatalogError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let entities = self
            .client
            .entities(
                &self.url,
                "ProductVariant",
                ids,
                "id status price { amount currencyCode } product { id status }",
            )
            .await?;
        let mut variants = HashMap::new();
        for entity in &entities {
            if entity.is_null() {
                continue;
            }
            let unreadable = || CatalogError::Unreadable(entity.clone());
            let id = entity["id"].as_str().ok_or_else(unreadable)?;
            let product_id = entity["product"]["id"].as_str().ok_or_else(unreadable)?;
            let price = Money::from_json(&entity["price"]).ok_or_else(unreadable)?;
            let on_sale = active(&entity["status"], unreadable)?
                && active(&entity["product"]["status"], unreadable)?;
            variants.insert(
                id.to_string(),
                VariantInfo {
                    product_id: product_id.to_string(),
                    active: on_sale,
                    price,
                },
            );
        }
        Ok(variants)
    }

    /// The ids of a product's variants that are not archived; `None` for an unknown product.
    pub async fn variants_of(&self, product_id: &str) -> Result<Option<Vec<String>>, CatalogError> {
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
            return Ok(None);
        };
        Ok(Some(
            product["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["id"].as_str().map(str::to_string))
                .collect(),
        ))
    }
}
