//! `availability` on the catalog's `Product` (summed over its variants) and `ProductVariant`,
//! resolved by key. This is the model for a subgraph that extends another's entity: a stub with
//! the key field, an entity finder that needs no lookup, and fields loaded in batches by key.

use auth::Permission;
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

/// The catalog's variant, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProductVariant {
    pub id: ID,
}

/// Whether a product (any of its variants) or a variant can be bought now, summed over the
/// active warehouses.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProductAvailability {
    pub in_stock: bool,
    pub available_quantity: i64,
    #[graphql(skip)]
    levels: Vec<StockLevel>,
}

/// Stock in one warehouse (a product's: summed over its variants).
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
    /// Summed over the product's variants.
    async fn availability(&self, ctx: &Context<'_>) -> async_graphql::Result<ProductAvailability> {
        let levels = ctx
            .data_unchecked::<DataLoader<StockLoader>>()
            .load_one(self.id.to_string())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(ProductAvailability::of(levels))
    }
}

#[ComplexObject]
impl ProductVariant {
    async fn availability(&self, ctx: &Context<'_>) -> async_graphql::Result<ProductAvailability> {
        let levels = ctx
            .data_unchecked::<DataLoader<VariantStockLoader>>()
            .load_one(self.id.to_string())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(ProductAvailability::of(levels))
    }
}

impl ProductAvailability {
    fn of(levels: Vec<StockLevel>) -> Self {
        let available: i64 = levels
            .iter()
            .filter(|l| l.warehouse_active)
            .map(|l| l.available().max(0))
            .sum();
        Self {
            in_stock: available > 0,
            available_quantity: available,
            levels,
        }
    }
}

#[ComplexObject]
impl ProductAvailability {
    /// Stock per warehouse (admins).
    #[graphql(requires_scopes = "inventory:read")]
    async fn warehouses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WarehouseStock>> {
        super::viewer(ctx).require_permission(Permission::InventoryRead)?;
        let mut stock: Vec<WarehouseStock> = Vec::new();
        for level in &self.levels {
            let row = match stock
                .iter_mut()
                .find(|s| s.warehouse_id.0 == level.warehouse_id)
            {
                Some(row) => row,
                None => {
                    stock.push(WarehouseStock {
                        warehouse_id: ID(level.warehouse_id.clone()),
                        active: level.warehouse_active,
                        on_hand: 0,
                        reserved: 0,
                        available: 0,
                    });
                    stock.last_mut().expect("just pushed")
                }
            };
            row.on_hand += level.on_hand;
            row.reserved += level.reserved;
            row.available += level.available();
        }
        Ok(stock)
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

    /// Any variant id resolves: one the inventory never stocked is simply not in stock.
    #[graphql(entity)]
    async fn find_product_variant_by_id(&self, id: ID) -> ProductVariant {
        ProductVariant { id }
    }
}

/// Stock rows of a batch of products' variants: one query per batch.
pub struct StockLoader(pub Arc<InventoryService>);

impl Loader<String> for StockLoader {
    type Value = Vec<StockLevel>;
    type Error = Arc<InventoryError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<StockLevel>>, Self::Error> {
        let levels = self.0.levels_of_products(ids).await.map_err(Arc::new)?;
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

/// Stock rows of a batch of variants: one query per batch.
pub struct VariantStockLoader(pub Arc<InventoryService>);

impl Loader<String> for VariantStockLoader {
    type Value = Vec<StockLevel>;
    type Error = Arc<InventoryError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<StockLevel>>, Self::Error> {
        let levels = self.0.levels_of_variants(ids).await.map_err(Arc::new)?;
        let mut by_variant: HashMap<String, Vec<StockLevel>> = HashMap::new();
        for level in levels {
            by_variant
                .entry(level.variant_id.clone())
                .or_default()
                .push(level);
        }
        Ok(by_variant)
    }
}
