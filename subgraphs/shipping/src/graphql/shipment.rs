//! `Shipment`, `Order.shipments`, and the loaders behind them.

use auth::Permission;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use commerce::address::Address;
use kit::ApiError;

use super::{service, viewer};
use crate::domain::status::ShipmentStatus as DomainStatus;
use crate::domain::tracking;
use crate::service::ShippingService;
use crate::store::{Shipment as ShipmentRow, StoreError, TrackingEventRow};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "DomainStatus")]
pub enum ShipmentStatus {
    LabelCreated,
    InTransit,
    OutForDelivery,
    Delivered,
    /// The carrier cannot deliver as planned; it may still recover.
    Exception,
    /// Back with the sender.
    Returned,
}

/// A step of the parcel's journey, as the carrier reported it.
#[derive(SimpleObject, Clone, Debug)]
pub struct TrackingEvent {
    pub status: ShipmentStatus,
    pub description: String,
    pub location: Option<String>,
    /// When it happened (carriers report late and out of order).
    pub occurred_at: String,
}

impl From<TrackingEventRow> for TrackingEvent {
    fn from(row: TrackingEventRow) -> Self {
        Self {
            status: row.status.into(),
            description: row.description,
            location: row.location,
            occurred_at: primitives::time::format_millis(row.occurred_at),
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct ShipmentLine {
    pub product: Product,
    pub variant: ProductVariant,
    pub quantity: i64,
}

/// The catalog's variant, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductVariant {
    pub id: ID,
}

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct Product {
    pub id: ID,
}

#[derive(Clone, Debug)]
pub struct Shipment {
    pub(crate) row: ShipmentRow,
}

#[Object]
impl Shipment {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    async fn order(&self) -> Order {
        Order {
            id: ID(self.row.order_id.clone()),
        }
    }

    /// The carrier's code, e.g. `ups`.
    async fn carrier(&self) -> &str {
        &self.row.carrier
    }

    /// The carrier's name, e.g. `UPS`.
    async fn carrier_name(&self, ctx: &Context<'_>) -> String {
        service(ctx)
            .settings()
            .rates
            .carriers
            .iter()
            .find(|c| c.code == self.row.carrier)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| self.row.carrier.clone())
    }

    /// The service level's code, e.g. `ground`.
    async fn service(&self) -> &str {
        &self.row.service
    }

    async fn tracking_number(&self) -> &str {
        &self.row.tracking_number
    }

    /// Where to follow the parcel on the carrier's site, when it has one.
    async fn tracking_url(&self) -> Option<String> {
        tracking::tracking_url(&self.row.carrier, &self.row.tracking_number)
    }

    async fn status(&self) -> ShipmentStatus {
        self.row.status.into()
    }

    /// When the current status was reached.
    async fn status_changed_at(&self) -> String {
        primitives::time::format_millis(self.row.status_at)
    }

    async fn lines(&self) -> Vec<ShipmentLine> {
        self.row
            .lines
            .iter()
            .map(|l| ShipmentLine {
                product: Product {
                    id: ID(l.product_id.clone()),
                },
                variant: ProductVariant {
                    id: ID(crate::domain::variant_of(l)),
                },
                quantity: l.quantity,
            })
            .collect()
    }

    async fn shipping_address(&self) -> &Address {
        &self.row.address
    }

    /// The journey so far, oldest first by when each step happened.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TrackingEvent>> {
        let rows = ctx
            .data_unchecked::<DataLoader<TrackingLoader>>()
            .load_one(self.row.id.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.row.created_at)
    }
}

/// The orders' order, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
}

#[ComplexObject]
impl Order {
    /// The order's shipments, in the order they were made (its customer and admins); empty
    /// until the order is paid and fulfilled.
    async fn shipments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Shipment>> {
        let rows = ctx
            .data_unchecked::<DataLoader<ShipmentLoader>>()
            .load_one(ShipmentKey::Order(self.id.0.clone()))
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        if let Some(first) = rows.first() {
            viewer(ctx).require_self_or(&first.customer_id, Permission::OrdersRead)?;
        }
        Ok(rows.into_iter().map(|row| Shipment { row }).collect())
    }
}

#[derive(Default)]
pub struct ShipmentQuery;

#[Object]
impl ShipmentQuery {
    /// A shipment (its customer and admins).
    async fn shipment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Shipment>> {
        load_visible(ctx, id.0).await
    }

    #[graphql(entity)]
    async fn find_shipment_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Shipment>> {
        load_visible(ctx, id.0).await
    }

    #[graphql(entity)]
    async fn find_order_by_id(&self, id: ID) -> Order {
        Order { id }
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }

    #[graphql(entity)]
    async fn find_product_variant_by_id(&self, id: ID) -> ProductVariant {
        ProductVariant { id }
    }
}

/// A shipment for its customer and admins; anyone else is refused.
async fn load_visible(ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<Shipment>> {
    let Some(row) = ctx
        .data_unchecked::<DataLoader<ShipmentLoader>>()
        .load_one(ShipmentKey::Id(id))
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))?
        .and_then(|mut rows| rows.pop())
    else {
        return Ok(None);
    };
    viewer(ctx).require_self_or(&row.customer_id, Permission::OrdersRead)?;
    Ok(Some(Shipment { row }))
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShipmentKey {
    Id(String),
    Order(String),
}

/// Shipments by id or by order: one query per batch of each.
pub struct ShipmentLoader(pub Arc<ShippingService>);

impl Loader<ShipmentKey> for ShipmentLoader {
    type Value = Vec<ShipmentRow>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ShipmentKey],
    ) -> Result<HashMap<ShipmentKey, Vec<ShipmentRow>>, Self::Error> {
        let mut ids = Vec::new();
        let mut orders = Vec::new();
        for key in keys {
            match key {
                ShipmentKey::Id(id) => ids.push(id.clone()),
                ShipmentKey::Order(id) => orders.push(id.clone()),
            }
        }
        let mut found: HashMap<ShipmentKey, Vec<ShipmentRow>> = HashMap::new();
        for row in self.0.store.by_ids(&ids).await.map_err(Arc::new)? {
            found.insert(ShipmentKey::Id(row.id.clone()), vec![row]);
        }
        for row in self.0.store.by_orders(&orders).await.map_err(Arc::new)? {
            found
                .entry(ShipmentKey::Order(row.order_id.clone()))
                .or_default()
                .push(row);
        }
        Ok(found)
    }
}

/// Tracking events by shipment: one query per batch.
pub struct TrackingLoader(pub Arc<ShippingService>);

impl Loader<String> for TrackingLoader {
    type Value = Vec<TrackingEventRow>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<TrackingEventRow>>, Self::Error> {
        let mut by_shipment: HashMap<String, Vec<TrackingEventRow>> = HashMap::new();
        for row in self.0.store.events_of(ids).await.map_err(Arc::new)? {
            by_shipment
                .entry(row.shipment_id.clone())
                .or_default()
                .push(row);
        }
        Ok(by_shipment)
    }
}
