//! The charge checkout asks for: internal (`@inaccessible`, service scope only).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use kit::money::MoneyInput;

use super::payment::Payment;
use super::{payload, service, viewer, PaymentUserError};
use crate::service::{ChargeRequest, PaymentError};

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
    /// Charges an order once, waiting briefly for the provider's result: the payment comes back
    /// captured, failed, or still authorized (its webhook settles it; `payment.updated` tells).
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
            Err(_) => Err(PaymentError::InvalidAmount),
        };
        let result = result.and_then(|row| Payment::try_from(row).map_err(Into::into));
        payload(result, |payment, user_errors| ChargeOrderPayload {
            payment,
            user_errors,
        })
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
