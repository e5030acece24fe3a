//! `Payment`, `Order.payment`, and the loaders behind them.

use auth::Permission;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use commerce::money::{Money, MoneyObject};
use kit::ApiError;

use super::viewer;
use crate::domain::PaymentStatus as DomainStatus;
use crate::service::{PaymentError, PaymentsService};
use crate::store::{KeyColumn, Payment as PaymentRow, RefundRow, StoreError};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "DomainStatus")]
pub enum PaymentStatus {
    /// Requested; the provider has not reported the result yet.
    Authorized,
    /// Waits for the customer to confirm with their bank (3-D Secure) at `nextActionUrl`.
    RequiresAction,
    Captured,
    Failed,
    PartiallyRefunded,
    Refunded,
}

/// What may be shown of the card: never its number.
#[derive(SimpleObject, Clone, Debug)]
pub struct PaymentMethodSummary {
    pub brand: String,
    pub last4: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Refund {
    pub id: ID,
    pub amount: MoneyObject,
    pub reason: String,
    /// The provider's reference; null while its answer is unknown.
    pub provider_reference: Option<String>,
    pub created_at: String,
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub(crate) row: PaymentRow,
}

impl From<PaymentRow> for Payment {
    fn from(row: PaymentRow) -> Self {
        Self { row }
    }
}

impl Payment {
    pub(crate) fn refund(&self, row: RefundRow) -> Refund {
        Refund {
            id: ID(row.id),
            amount: self.money(row.amount_minor),
            reason: row.reason,
            provider_reference: row.provider_refund,
            created_at: primitives::time::format_millis(row.created_at),
        }
    }

    fn money(&self, minor_units: i64) -> MoneyObject {
        Money {
            minor_units,
            currency: self.row.currency,
        }
        .into()
    }
}

#[Object]
impl Payment {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    async fn amount(&self) -> MoneyObject {
        self.money(self.row.amount_minor)
    }

    async fn status(&self) -> PaymentStatus {
        self.row.status.into()
    }

    async fn method(&self) -> PaymentMethodSummary {
        PaymentMethodSummary {
            brand: self.row.method_brand.clone(),
            last4: self.row.method_last4.clone(),
        }
    }

    /// The provider's charge id.
    async fn provider_reference(&self) -> &str {
        &self.row.provider_charge
    }

    async fn captured_amount(&self) -> MoneyObject {
        self.money(self.row.captured_minor)
    }

    async fn refunded_amount(&self) -> MoneyObject {
        self.money(self.row.refunded_minor)
    }

    /// Why the charge failed (`card_declined`, `insufficient_funds`, `authentication_failed`,
    /// `authentication_abandoned`).
    async fn failure_code(&self) -> Option<&str> {
        self.row.failure_code.as_deref()
    }

    /// Where the customer confirms the payment with their bank (3-D Secure), while it
    /// requires that; null otherwise. Add `return_url` to come back to the shop after.
    async fn next_action_url(&self) -> Option<&str> {
        self.row.action_url.as_deref()
    }

    /// Refunds requested, oldest first.
    async fn refunds(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Refund>> {
        let rows = ctx
            .data_unchecked::<DataLoader<RefundLoader>>()
            .load_one(self.row.id.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default();
        Ok(rows.into_iter().map(|r| self.refund(r)).collect())
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
    /// The order's payment (its customer and admins); null before checkout took it.
    async fn payment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Payment>> {
        let row = ctx
            .data_unchecked::<DataLoader<PaymentLoader>>()
            .load_one((KeyColumn::Order, self.id.0.clone()))
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?;
        visible(ctx, row)
    }
}

/// A payment for its customer and admins; anyone else is refused.
fn visible(ctx: &Context<'_>, row: Option<PaymentRow>) -> async_graphql::Result<Option<Payment>> {
    let Some(row) = row else { return Ok(None) };
    viewer(ctx).require_self_or(&row.customer_id, Permission::OrdersRead)?;
    Ok(Some(Payment::from(row)))
}

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    #[graphql(entity)]
    async fn find_payment_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Payment>> {
        let row = ctx
            .data_unchecked::<DataLoader<PaymentLoader>>()
            .load_one((KeyColumn::Id, id.0))
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?;
        visible(ctx, row)
    }

    #[graphql(entity)]
    async fn find_order_by_id(&self, id: ID) -> Order {
        Order { id }
    }
}

/// Payments by id or by order id: one query per batch of each.
pub struct PaymentLoader(pub Arc<PaymentsService>);

impl Loader<(KeyColumn, String)> for PaymentLoader {
    type Value = PaymentRow;
    type Error = Arc<PaymentError>;

    async fn load(
        &self,
        keys: &[(KeyColumn, String)],
    ) -> Result<HashMap<(KeyColumn, String), PaymentRow>, Self::Error> {
        let mut found = HashMap::new();
        for column in [KeyColumn::Id, KeyColumn::Order] {
            let wanted: Vec<String> = keys
                .iter()
                .filter(|(c, _)| *c == column)
                .map(|(_, k)| k.clone())
                .collect();
            for row in self.0.payments(column, &wanted).await.map_err(Arc::new)? {
                let key = match column {
                    KeyColumn::Id => row.id.clone(),
                    KeyColumn::Order => row.order_id.clone(),
                };
                found.insert((column, key), row);
            }
        }
        Ok(found)
    }
}

/// Refunds by payment id: one query per batch.
pub struct RefundLoader(pub Arc<PaymentsService>);

impl Loader<String> for RefundLoader {
    type Value = Vec<RefundRow>;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<RefundRow>>, Self::Error> {
        let mut by_payment: HashMap<String, Vec<RefundRow>> = HashMap::new();
        for row in self.0.store.refunds_of(ids).await.map_err(Arc::new)? {
            by_payment
                .entry(row.payment_id.clone())
                .or_default()
                .push(row);
        }
        Ok(by_payment)
    }
}
