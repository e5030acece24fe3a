//! `Product.availability`: the inventory's fields on the catalog's `Product`, resolved by key.
//! This is the model for a subgraph that extends another's entity: a stub with the key field,
//! an entity finder that needs no lookup, and fields loaded in batches by key.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use kit::ApiError;

use crate::service::{InventoryError, InventoryService};
use crate::store::StockLevel;

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
}

/// Whether a product can be bought now, summed over the active warehouses.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProductAvailability {
    pub in_stock: bool,
    pub available_quantity: i64,
    #[graphql(skip)]
    levels: Vec<StockLevel>,
}

/// Stock of a product in one warehouse.
#[derive(SimpleObject, Clone, Debug)]
pub struct WarehouseStock {
    pub warehouse_id: ID,
    pub active: bool,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[ComplexObject]
impl Product {
    async fn availability(&self, ctx: &Context<'_>) -> async_graphql::Result<ProductAvailability> {
        let levels = ctx
            .data_unchecked::<DataLoader<StockLoader>>()
            .load_one(self.id.to_string())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        let available: i64 = levels
            .iter()
            .filter(|l| l.warehouse_active)
            .map(|l| l.available().max(0))
            .sum();
        Ok(ProductAvailability {
            in_stock: available > 0,
            available_quantity: available,
            levels,
        })
    }
}

#[ComplexObject]
impl ProductAvailability {
    /// Stock per warehouse (admins).
    #[graphql(requires_scopes = "admin")]
    async fn warehouses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WarehouseStock>> {
        super::viewer(ctx).require_admin()?;
        Ok(self
            .levels
            .iter()
            .map(|l| WarehouseStock {
                warehouse_id: ID(l.warehouse_id.clone()),
                active: l.warehouse_active,
                on_hand: l.on_hand,
                reserved: l.reserved,
                available: l.available(),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    /// Any product id resolves: one the inventory never stocked is simply not in stock.
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }
}

/// Stock rows of a batch of products: one query per batch.
pub struct StockLoader(pub Arc<InventoryService>);

impl Loader<String> for StockLoader {
    type Value = Vec<StockLevel>;
    type Error = Arc<InventoryError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<StockLevel>>, Self::Error> {
        let levels = self.0.levels(ids).await.map_err(Arc::new)?;
        let mut by_product: HashMap<String, Vec<StockLevel>> = HashMap::new();
        for level in levels {
            by_product
                .entry(level.product_id.clone())
                .or_default()
                .push(level);
        }
        Ok(by_product)
    }
}
