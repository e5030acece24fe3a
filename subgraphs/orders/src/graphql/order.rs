//! `Order` with its lines and status history, `User.orders`, and the loader behind them.

use auth::Permission;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use commerce::address::Address;
use commerce::money::{CurrencyCode, Money, MoneyObject};
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::promotions::AppliedDiscount;
use super::tax::TaxLine;
use super::{service, viewer};
use crate::domain;
use crate::domain::buyer::is_guest;
use crate::domain::status::{Actor, OrderStatus as DomainStatus};
use crate::error::OrderError;
use crate::service::OrdersService;
use crate::store::{OrderCursor, OrderFilter, StoreError};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "DomainStatus")]
pub enum OrderStatus {
    /// Created; stock being reserved and payment taken.
    Pending,
    Paid,
    /// Handed to shipping.
    Fulfilled,
    Delivered,
    Cancelled,
    /// Checkout did not complete (out of stock, payment declined); nothing is held or charged.
    Failed,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "Actor")]
pub enum OrderActor {
    Customer,
    Admin,
    /// Checkout, payments and shipping.
    System,
}

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct Product {
    pub id: ID,
}

/// The catalog's variant, by its key.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductVariant {
    pub id: ID,
}

/// The accounts' user, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// The user's orders, newest first (the user themself and admins).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Order>> {
        viewer(ctx).require_self_or(&self.id, Permission::OrdersRead)?;
        let filter = OrderFilter {
            customer_id: Some(self.id.0.clone()),
            ..OrderFilter::default()
        };
        orders_connection(ctx, &filter, false, first, after).await
    }
}

/// A page of orders matching `filter` as a connection.
pub(crate) async fn orders_connection(
    ctx: &Context<'_>,
    filter: &OrderFilter,
    oldest_first: bool,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, Order>> {
    let page = PageRequest::<OrderCursor>::from_args(first, after, None, None)?;
    let rows = service(ctx)
        .store
        .list(filter, oldest_first, page.cursor.as_ref(), page.limit + 1)
        .await
        .map_err(ApiError::internal)?;
    Ok(connection(
        &page,
        rows,
        |row| (row.created_at, row.id.clone()),
        |order| Order { order },
    ))
}

/// A line as it was sold.
#[derive(SimpleObject, Clone, Debug)]
pub struct OrderLine {
    pub product: Product,
    /// The variant sold.
    pub variant: ProductVariant,
    /// The variant's SKU at checkout.
    pub sku: String,
    /// The product's name at checkout.
    pub name: String,
    /// The variant's option values at checkout ("M / Blue"); empty for a product without
    /// options.
    pub variant_title: String,
    /// The catalog's price when the order was placed: what was charged.
    pub unit_price: MoneyObject,
    pub quantity: i64,
    /// Unit price times quantity.
    pub line_total: MoneyObject,
    /// The line's share of the order's discounts.
    pub discount: MoneyObject,
    /// The line's tax (inside its price when `Order.pricesIncludeTax`); null when untaxed.
    pub tax: Option<TaxLine>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct OrderStatusChange {
    pub status: OrderStatus,
    pub actor: OrderActor,
    /// The customer or admin who made the change; null for the system.
    pub actor_id: Option<ID>,
    pub reason: String,
    pub at: String,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub(crate) order: domain::Order,
}

impl Order {
    fn money(&self, minor_units: i64) -> MoneyObject {
        Money {
            minor_units,
            currency: self.order.currency,
        }
        .into()
    }

    async fn detail(&self, ctx: &Context<'_>) -> async_graphql::Result<Detail> {
        Ok(ctx
            .data_unchecked::<DataLoader<DetailLoader>>()
            .load_one(self.order.id.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default())
    }
}

#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(self.order.id.clone())
    }

    /// Human-readable, e.g. SO-261201-7K3QJ9M2.
    async fn number(&self) -> &str {
        &self.order.number
    }

    async fn status(&self) -> OrderStatus {
        self.order.status.into()
    }

    /// Every status the order had, oldest first, with who changed it and why.
    async fn status_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<OrderStatusChange>> {
        Ok(self
            .detail(ctx)
            .await?
            .history
            .into_iter()
            .map(|h| OrderStatusChange {
                status: h.status.into(),
                actor: h.actor.into(),
                actor_id: h.actor_id.map(ID),
                reason: h.reason,
                at: primitives::time::format_millis(h.at),
            })
            .collect())
    }

    /// The customer's account; null for a guest's order.
    async fn customer(&self) -> Option<User> {
        (!is_guest(&self.order.customer_id)).then(|| User {
            id: ID(self.order.customer_id.clone()),
        })
    }

    async fn email(&self) -> &str {
        &self.order.email
    }

    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderLine>> {
        Ok(self
            .detail(ctx)
            .await?
            .lines
            .into_iter()
            .map(|l| OrderLine {
                product: Product {
                    id: ID(l.product_id),
                },
                variant: ProductVariant {
                    id: ID(l.variant_id),
                },
                sku: l.sku,
                name: l.name,
                variant_title: l.variant_title,
                unit_price: self.money(l.unit_price_minor),
                quantity: l.quantity,
                line_total: self.money(l.line_total_minor),
                discount: self.money(l.discount_minor),
                tax: l.tax_rate.as_ref().map(|rate| {
                    let held = if self.order.prices_include_tax {
                        l.tax_minor
                    } else {
                        0
                    };
                    let taxable = l.line_total_minor - l.discount_minor - held;
                    TaxLine::new(rate, self.money(l.tax_minor), self.money(taxable))
                }),
            })
            .collect())
    }

    /// The order's tax per rate over its lines and shipping, as its receipt shows it.
    async fn tax_lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaxLine>> {
        Ok(self
            .detail(ctx)
            .await?
            .tax_lines
            .into_iter()
            .map(|t| TaxLine::new(&t.rate, self.money(t.tax_minor), self.money(t.net_minor)))
            .collect())
    }

    /// What each promotion took off, codes and automatic ones.
    async fn discounts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AppliedDiscount>> {
        Ok(self
            .detail(ctx)
            .await?
            .discounts
            .into_iter()
            .map(|d| AppliedDiscount {
                name: d.name,
                code: d.code,
                amount: self.money(d.amount_minor),
            })
            .collect())
    }

    /// What discounts took off the lines.
    async fn discount(&self) -> MoneyObject {
        self.money(self.order.discount_minor)
    }

    /// What discounts took off the shipping.
    async fn shipping_discount(&self) -> MoneyObject {
        self.money(self.order.shipping_discount_minor)
    }

    /// The order's tax: inside its prices when `pricesIncludeTax`, else added to them.
    async fn tax(&self) -> MoneyObject {
        self.money(self.order.tax_minor)
    }

    /// Whether the prices (and so the lines and subtotal) hold their tax, as EU shops show
    /// prices; otherwise the tax was added to the total.
    async fn prices_include_tax(&self) -> bool {
        self.order.prices_include_tax
    }

    async fn subtotal(&self) -> MoneyObject {
        self.money(self.order.subtotal_minor)
    }

    async fn shipping(&self) -> MoneyObject {
        self.money(self.order.shipping_minor)
    }

    /// What was charged: the subtotal less discounts, the shipping less its discount, and the
    /// tax unless the prices hold it.
    async fn total(&self) -> MoneyObject {
        self.money(self.order.total_minor)
    }

    async fn currency(&self) -> CurrencyCode {
        self.order.currency
    }

    /// The shipping address as it was at checkout.
    async fn shipping_address(&self) -> &Address {
        &self.order.shipping_address
    }

    /// Where the bill goes, as given at checkout (the shipping address when none was).
    async fn billing_address(&self) -> &Address {
        self.order
            .billing_address
            .as_ref()
            .unwrap_or(&self.order.shipping_address)
    }

    /// The customer's note to the shop; empty when none.
    async fn note(&self) -> &str {
        &self.order.note
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.order.created_at)
    }

    async fn updated_at(&self) -> String {
        primitives::time::format_millis(self.order.updated_at)
    }
}

/// An order for its customer and admins; anyone else is refused.
pub(crate) fn visible(
    ctx: &Context<'_>,
    row: Option<domain::Order>,
) -> async_graphql::Result<Option<Order>> {
    let Some(row) = row else { return Ok(None) };
    viewer(ctx).require_self_or(&row.customer_id, Permission::OrdersRead)?;
    Ok(Some(Order { order: row }))
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// An order of the signed-in customer (any order for admins); null when there is none.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let viewer = viewer(ctx);
        let me = viewer.require_user()?;
        let row = service(ctx).order(&id).await.map_err(ApiError::internal)?;
        // Someone else's order is as unknown to a customer as one that does not exist.
        Ok(row
            .filter(|row| viewer.has_permission(Permission::OrdersRead) || row.customer_id == me)
            .map(|order| Order { order }))
    }

    /// A guest's order by its number and the email it was placed with; null when they do not
    /// match (a wrong email finds nothing, the same as a number that does not exist). At most
    /// `ORDERS_GUEST_LOOKUPS_PER_HOUR` lookups an hour from one client address (RATE_LIMITED).
    async fn guest_order(
        &self,
        ctx: &Context<'_>,
        number: String,
        email: String,
    ) -> async_graphql::Result<Option<Order>> {
        let client = kit::server::client_address(ctx);
        match service(ctx).guest_order(&number, &email, client).await {
            Ok(order) => Ok(order.map(|order| Order { order })),
            Err(OrderError::TooManyAttempts) => Err(ApiError::RateLimited(
                "too many order lookups from this address; try again in an hour".into(),
            )
            .into()),
            Err(error) => Err(ApiError::internal(error).into()),
        }
    }

    #[graphql(entity)]
    async fn find_order_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        let row = service(ctx).order(&id).await.map_err(ApiError::internal)?;
        visible(ctx, row)
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
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

#[derive(Clone, Debug, Default)]
pub struct Detail {
    lines: Vec<domain::OrderLine>,
    tax_lines: Vec<domain::OrderTaxLine>,
    discounts: Vec<domain::OrderDiscount>,
    history: Vec<domain::StatusEntry>,
}

/// Lines, tax lines, discounts and status history by order id: four queries per batch.
pub struct DetailLoader(pub Arc<OrdersService>);

impl Loader<String> for DetailLoader {
    type Value = Detail;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Detail>, Self::Error> {
        let mut details: HashMap<String, Detail> = HashMap::new();
        for line in self.0.store.lines_of(ids).await.map_err(Arc::new)? {
            details
                .entry(line.order_id.clone())
                .or_default()
                .lines
                .push(line);
        }
        for tax_line in self.0.store.tax_lines_of(ids).await.map_err(Arc::new)? {
            details
                .entry(tax_line.order_id.clone())
                .or_default()
                .tax_lines
                .push(tax_line);
        }
        for discount in self.0.store.discounts_of(ids).await.map_err(Arc::new)? {
            details
                .entry(discount.order_id.clone())
                .or_default()
                .discounts
                .push(discount);
        }
        for entry in self.0.store.history_of(ids).await.map_err(Arc::new)? {
            details
                .entry(entry.order_id.clone())
                .or_default()
                .history
                .push(entry);
        }
        Ok(details)
    }
}

#[derive(SimpleObject, Default)]
pub struct OrderPayload {
    pub order: Option<Order>,
    pub user_errors: Vec<super::OrderUserError>,
}

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn order_payload(
    result: Result<domain::Order, crate::error::OrderError>,
) -> async_graphql::Result<OrderPayload> {
    kit::error::mutation_payload(result, super::user_error, |row, user_errors| OrderPayload {
        order: row.map(|order| Order { order }),
        user_errors,
    })
}
