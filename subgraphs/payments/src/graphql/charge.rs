//! What orders asks of payments: the charge, refunding a cancelled or failed order, and the
//! payments of orders for reconciliation. Internal (`@inaccessible`, service scope only).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use commerce::money::MoneyInput;
use kit::ApiError;

use super::payment::{Payment, PaymentStatus};
use super::{payload, service, viewer, PaymentUserError};
use crate::service::{ChargeRequest, PaymentError};
use crate::store::KeyColumn;

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ChargeOrderInput {
    /// One payment per order: a repeat returns the first payment.
    pub order_id: ID,
    pub customer_id: ID,
    pub amount: MoneyInput,
    /// The provider's token for the card (never a card number).
    pub payment_token: String,
}

#[derive(SimpleObject, Default)]
#[graphql(inaccessible)]
pub struct ChargeOrderPayload {
    pub payment: Option<Payment>,
    pub user_errors: Vec<PaymentUserError>,
}

#[derive(Default)]
pub struct ChargeMutation;

#[Object]
impl ChargeMutation {
    /// Charges an order once, waiting briefly for the provider's result (its webhook, else the
    /// provider asked): the payment comes back captured, failed, or still authorized (a later
    /// webhook or a repeat of this call settles it; `payment.updated` tells).
    #[graphql(inaccessible)]
    async fn charge_order(
        &self,
        ctx: &Context<'_>,
        input: ChargeOrderInput,
    ) -> async_graphql::Result<ChargeOrderPayload> {
        viewer(ctx).require_service()?;
        let result = match input.amount.parse() {
            Ok(amount) => {
                service(ctx)
                    .charge(ChargeRequest {
                        order_id: &input.order_id,
                        customer_id: &input.customer_id,
                        amount,
                        payment_token: &input.payment_token,
                    })
                    .await
            }
            Err(unreadable) => Err(PaymentError::UnreadableAmount(unreadable)),
        };
        let result = result.map(Payment::from);
        payload(result, |payment, user_errors| ChargeOrderPayload {
            payment,
            user_errors,
        })
    }

    /// Gives up on an order's payment that still waits for the customer's bank (3-D Secure
    /// abandoned): the provider fails it unless the customer confirmed it meanwhile; the payment
    /// as the provider then has it. Harmless to repeat.
    #[graphql(inaccessible)]
    async fn cancel_payment_action(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> async_graphql::Result<ChargeOrderPayload> {
        viewer(ctx).require_service()?;
        let result = service(ctx)
            .cancel_action(&order_id)
            .await
            .map(Payment::from);
        payload(result, |payment, user_errors| ChargeOrderPayload {
            payment,
            user_errors,
        })
    }
}

/// An order's payment as reconciliation compares it with the order.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct OrderPaymentState {
    pub order_id: ID,
    pub payment_id: ID,
    pub status: PaymentStatus,
    /// Minor units captured and refunded so far.
    pub captured_minor: i64,
    pub refunded_minor: i64,
    /// Where the customer confirms the payment with their bank, while it requires that.
    pub next_action_url: Option<String>,
}

#[derive(Default)]
pub struct ChargeQuery;

#[Object]
impl ChargeQuery {
    /// The payments of these orders (orders without one are left out).
    #[graphql(inaccessible)]
    async fn order_payments(
        &self,
        ctx: &Context<'_>,
        order_ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<OrderPaymentState>> {
        viewer(ctx).require_service()?;
        let ids: Vec<String> = order_ids.into_iter().map(|id| id.0).collect();
        let rows = service(ctx)
            .payments(KeyColumn::Order, &ids)
            .await
            .map_err(ApiError::internal)?;
        Ok(rows
            .into_iter()
            .map(|row| OrderPaymentState {
                order_id: ID(row.order_id),
                payment_id: ID(row.id),
                status: row.status.into(),
                captured_minor: row.captured_minor,
                refunded_minor: row.refunded_minor,
                next_action_url: row.action_url,
            })
            .collect())
    }
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct RefundOrderInput {
    pub order_id: ID,
    pub reason: String,
}

#[derive(SimpleObject, Default)]
#[graphql(inaccessible)]
pub struct RefundOrderPayload {
    pub user_errors: Vec<PaymentUserError>,
}

#[derive(Default)]
pub struct RefundOrderMutation;

#[Object]
impl RefundOrderMutation {
    /// Refunds what is left of the order's captured payment (compensation, cancellation);
    /// harmless to repeat.
    #[graphql(inaccessible)]
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        input: RefundOrderInput,
    ) -> async_graphql::Result<RefundOrderPayload> {
        viewer(ctx).require_service()?;
        let result = service(ctx)
            .refund_order(&input.order_id, &input.reason)
            .await;
        payload(result, |_, user_errors| RefundOrderPayload { user_errors })
    }
}

#[derive(InputObject)]
#[graphql(inaccessible)]
pub struct ReconcileChargesInput {
    /// The window of the provider's charges, by creation (Unix milliseconds, until exclusive).
    pub from_millis: i64,
    pub until_millis: i64,
    /// Apply the provider's state; without it, only list.
    pub repair: bool,
}

/// A provider charge the shop's payments disagree with.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct ChargeFindingState {
    pub charge: String,
    pub order_id: Option<ID>,
    /// None when payments agrees with the provider (listed for the money it holds).
    pub problem: Option<String>,
    /// Minor units the provider holds for it (captured less refunded).
    pub held_minor: i64,
    pub repaired: Option<String>,
}

#[derive(Default)]
pub struct ReconcileMutation;

#[Object]
impl ReconcileMutation {
    /// Compares the provider's charges of a window with the shop's payments; repairs from the
    /// provider's state when asked (reconciliation in orders calls it first).
    #[graphql(inaccessible)]
    async fn reconcile_charges(
        &self,
        ctx: &Context<'_>,
        input: ReconcileChargesInput,
    ) -> async_graphql::Result<Vec<ChargeFindingState>> {
        viewer(ctx).require_service()?;
        let findings = service(ctx)
            .reconcile_charges(input.from_millis, input.until_millis, input.repair)
            .await
            .map_err(ApiError::internal)?;
        Ok(findings
            .into_iter()
            .map(|f| ChargeFindingState {
                charge: f.charge,
                order_id: f.order_id.map(ID),
                problem: f.problem.map(String::from),
                held_minor: f.held_minor,
                repaired: f.repaired.map(String::from),
            })
            .collect())
    }
}
