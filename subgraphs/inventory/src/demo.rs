//! Demo stock: three warehouses and stock for every variant of the active demo products, read
//! from the catalog with a service call. Deterministic by position: every tenth is out of stock, every
//! tenth after that low, the rest well stocked in two or three warehouses.

use serde_json::{json, Value};

use crate::catalog::CatalogClient;
use crate::service::InventoryService;
use crate::store::{DemoStock, Warehouse};

const WAREHOUSES: [(&str, &str); 3] = [
    ("BER-1", "Berlin"),
    ("AMS-1", "Amsterdam"),
    ("MAD-1", "Madrid"),
];

/// Every variant of the catalog's active products with its product id, newest product first.
async fn catalog_variants(catalog: &CatalogClient) -> anyhow::Result<Vec<(String, String)>> {
    let (client, catalog_url) = (catalog.client(), catalog.url());
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = client
            .query(
                catalog_url,
                "query($after: String) { products(first: 100, after: $after) {
                    edges { node { id variants { id } } } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await?;
        let products = &page["products"];
        for edge in products["edges"].as_array().into_iter().flatten() {
            let Some(product_id) = edge["node"]["id"].as_str() else {
                continue;
            };
            for variant in edge["node"]["variants"].as_array().into_iter().flatten() {
                if let Some(variant_id) = variant["id"].as_str() {
                    ids.push((variant_id.to_string(), product_id.to_string()));
                }
            }
        }
        if products["pageInfo"]["hasNextPage"] != json!(true) {
            return Ok(ids);
        }
        after = products["pageInfo"]["endCursor"].clone();
    }
}

/// Loads the demo stock into an empty inventory; returns false when there was data.
pub async fn load(service: &InventoryService) -> anyhow::Result<bool> {
    if !service.store.warehouses().await?.is_empty() {
        return Ok(false);
    }
    let mut warehouses: Vec<Warehouse> = Vec::new();
    for (code, name) in WAREHOUSES {
        warehouses.push(service.create_warehouse(code, name).await?);
    }
    let variants = catalog_variants(&service.catalog).await?;
    let mut levels = Vec::new();
    for (i, (variant_id, product_id)) in variants.iter().enumerate() {
        let spread = 2 + i % 2;
        for (w, warehouse) in warehouses.iter().take(spread).enumerate() {
            let on_hand = match i % 10 {
                0 => 0,
                1 => i64::from(w == 0) * 2,
                _ => 10 + ((i * 7 + w * 13) % 50) as i64,
            };
            levels.push(DemoStock {
                variant_id: variant_id.clone(),
                product_id: product_id.clone(),
                warehouse_id: warehouse.id.clone(),
                on_hand,
            });
        }
    }
    for chunk in levels.chunks(2000) {
        service.store.insert_demo_stock(chunk).await?;
    }
    Ok(true)
}
