//! Admin operations: warehouses, stock adjustments (recorded in the ledger), low-stock
//! thresholds and the low-stock report. Reading needs `inventory:read`, changing `inventory:write`.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::product::{Product, ProductVariant};
use super::{payload, service, viewer, InventoryUserError};
use crate::domain::AdjustmentKind;
use crate::service::{AdjustmentInput, StockTarget};
use crate::store::{Adjustment, Warehouse as WarehouseRow};

#[derive(SimpleObject, Clone, Debug)]
pub struct Warehouse {
    pub id: ID,
    pub code: String,
    pub name: String,
    /// Stock in an inactive warehouse is neither available nor reserved from.
    pub active: bool,
}

impl From<WarehouseRow> for Warehouse {
    fn from(row: WarehouseRow) -> Self {
        Self {
            id: ID(row.id),
            code: row.code,
            name: row.name,
            active: row.active,
        }
    }
}

/// One entry of the stock ledger.
#[derive(SimpleObject, Clone, Debug)]
pub struct StockAdjustment {
    pub id: ID,
    pub product: Product,
    pub variant: ProductVariant,
    pub warehouse_id: ID,
    pub kind: AdjustmentKind,
    /// The change of on-hand units (negative for damage, sales and downward corrections).
    pub delta: i64,
    pub on_hand_after: i64,
    pub reason: String,
    /// The admin's user id, or `order:<reference>` for sales.
    pub actor: String,
    pub created_at: String,
}

impl From<Adjustment> for StockAdjustment {
    fn from(a: Adjustment) -> Self {
        Self {
            id: ID(a.id),
            product: Product {
                id: ID(a.product_id),
            },
            variant: ProductVariant {
                id: ID(a.variant_id),
            },
            warehouse_id: ID(a.warehouse_id),
            kind: a.kind,
            delta: a.delta,
            on_hand_after: a.on_hand_after,
            reason: a.reason,
            actor: a.actor,
            created_at: primitives::time::format_millis(a.created_at),
        }
    }
}

/// A variant at or below its low-stock threshold.
#[derive(SimpleObject, Clone, Debug)]
pub struct LowStockItem {
    pub product: Product,
    pub variant: ProductVariant,
    pub available: i64,
    pub threshold: i64,
    pub out_of_stock: bool,
}

#[derive(InputObject)]
pub struct CreateWarehouseInput {
    /// 2 to 16 letters, digits or dashes; stored upper case.
    pub code: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct UpdateWarehouseInput {
    pub id: ID,
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AdjustStockInput {
    /// The variant whose stock changes.
    pub variant_id: Option<ID>,
    /// A product without options stands for its one variant; with options, give `variantId`.
    pub product_id: Option<ID>,
    pub warehouse_id: ID,
    /// RESTOCK and DAMAGE take a positive quantity; CORRECTION a signed one.
    pub kind: AdjustmentKind,
    pub quantity: i64,
    pub reason: String,
    /// A repeat with the same key returns the first adjustment and changes nothing.
    pub idempotency_key: String,
}

/// The threshold is per variant: `variantId`, or `productId` for a product without options.
#[derive(InputObject)]
pub struct SetLowStockThresholdInput {
    pub variant_id: Option<ID>,
    pub product_id: Option<ID>,
    pub threshold: i64,
}

#[derive(SimpleObject, Default)]
pub struct WarehousePayload {
    pub warehouse: Option<Warehouse>,
    pub user_errors: Vec<InventoryUserError>,
}

#[derive(SimpleObject, Default)]
pub struct AdjustStockPayload {
    pub adjustment: Option<StockAdjustment>,
    pub user_errors: Vec<InventoryUserError>,
}

#[derive(SimpleObject, Default)]
pub struct SetLowStockThresholdPayload {
    pub threshold: Option<i64>,
    pub user_errors: Vec<InventoryUserError>,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    #[graphql(requires_scopes = "inventory:read")]
    async fn warehouses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Warehouse>> {
        viewer(ctx).require_permission(Permission::InventoryRead)?;
        let rows = service(ctx)
            .store
            .warehouses()
            .await
            .map_err(ApiError::internal)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Variants at or below their threshold (out of stock included), by variant id.
    #[graphql(requires_scopes = "inventory:read")]
    async fn low_stock_products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, LowStockItem>> {
        viewer(ctx).require_permission(Permission::InventoryRead)?;
        let page = PageRequest::<String>::from_args(first, after, None, None)?;
        let rows = service(ctx)
            .low_stock(page.cursor.as_deref(), page.limit + 1)
            .await
            .map_err(ApiError::internal)?;
        Ok(connection(
            &page,
            rows,
            |row| row.variant_id.clone(),
            |row| LowStockItem {
                product: Product {
                    id: ID(row.product_id),
                },
                variant: ProductVariant {
                    id: ID(row.variant_id),
                },
                available: row.available,
                threshold: row.threshold,
                out_of_stock: row.available <= 0,
            },
        ))
    }

    /// The stock ledger of a product (all its variants) or of one variant, newest first.
    #[graphql(requires_scopes = "inventory:read")]
    async fn stock_adjustments(
        &self,
        ctx: &Context<'_>,
        product_id: Option<ID>,
        variant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, StockAdjustment>> {
        viewer(ctx).require_permission(Permission::InventoryRead)?;
        let page = PageRequest::<String>::from_args(first, after, None, None)?;
        let target = StockTarget {
            product_id: product_id.map(|id| id.0),
            variant_id: variant_id.map(|id| id.0),
        };
        let rows = match service(ctx)
            .adjustments(&target, page.cursor.as_deref(), page.limit + 1)
            .await
        {
            Ok(rows) => rows,
            Err(crate::service::InventoryError::Rule(rule)) => {
                return Err(ApiError::BadUserInput(rule.to_string()).into())
            }
            Err(error) => return Err(ApiError::internal(error).into()),
        };
        Ok(connection(
            &page,
            rows,
            |row| row.id.clone(),
            StockAdjustment::from,
        ))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    #[graphql(requires_scopes = "inventory:write")]
    async fn create_warehouse(
        &self,
        ctx: &Context<'_>,
        input: CreateWarehouseInput,
    ) -> async_graphql::Result<WarehousePayload> {
        viewer(ctx).require_permission(Permission::InventoryWrite)?;
        let result = service(ctx)
            .create_warehouse(&input.code, &input.name)
            .await;
        payload(result, |row, user_errors| WarehousePayload {
            warehouse: row.map(Into::into),
            user_errors,
        })
    }

    /// Renames, closes (`active: false`) or reopens a warehouse.
    #[graphql(requires_scopes = "inventory:write")]
    async fn update_warehouse(
        &self,
        ctx: &Context<'_>,
        input: UpdateWarehouseInput,
    ) -> async_graphql::Result<WarehousePayload> {
        viewer(ctx).require_permission(Permission::InventoryWrite)?;
        let result = service(ctx)
            .update_warehouse(&input.id, input.name.as_deref(), input.active)
            .await;
        payload(result, |row, user_errors| WarehousePayload {
            warehouse: row.map(Into::into),
            user_errors,
        })
    }

    #[graphql(requires_scopes = "inventory:write")]
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        input: AdjustStockInput,
    ) -> async_graphql::Result<AdjustStockPayload> {
        let staff = kit::audit::Auditor::require(ctx, Permission::InventoryWrite)?;
        let result = service(ctx)
            .adjust(
                &staff,
                AdjustmentInput {
                    target: StockTarget {
                        product_id: input.product_id.map(|id| id.0),
                        variant_id: input.variant_id.map(|id| id.0),
                    },
                    warehouse_id: input.warehouse_id.0,
                    kind: input.kind,
                    quantity: input.quantity,
                    reason: input.reason,
                    idempotency_key: input.idempotency_key,
                },
            )
            .await;
        payload(result, |row, user_errors| AdjustStockPayload {
            adjustment: row.map(Into::into),
            user_errors,
        })
    }

    #[graphql(requires_scopes = "inventory:write")]
    async fn set_low_stock_threshold(
        &self,
        ctx: &Context<'_>,
        input: SetLowStockThresholdInput,
    ) -> async_graphql::Result<SetLowStockThresholdPayload> {
        viewer(ctx).require_permission(Permission::InventoryWrite)?;
        let target = StockTarget {
            product_id: input.product_id.map(|id| id.0),
            variant_id: input.variant_id.map(|id| id.0),
        };
        let result = service(ctx).set_threshold(&target, input.threshold).await;
        payload(result, |threshold, user_errors| {
            SetLowStockThresholdPayload {
                threshold,
                user_errors,
            }
        })
    }
}
