//! Refunds: admins, full or partial, with a reason and an idempotency key.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::audit::Auditor;
use kit::ApiError;

use super::payment::{Payment, Refund};
use super::{service, user_error, viewer, PaymentUserError};
use crate::store::KeyColumn;

#[derive(InputObject)]
pub struct RefundPaymentInput {
    pub payment_id: ID,
    /// Decimal string in the payment's currency, e.g. "5.00"; at most what was captured and not
    /// refunded yet.
    pub amount: String,
    pub reason: String,
    /// A repeat with the same key returns the first refund and refunds nothing more.
    pub idempotency_key: String,
}

#[derive(SimpleObject, Default)]
pub struct RefundPaymentPayload {
    pub payment: Option<Payment>,
    pub refund: Option<Refund>,
    pub user_errors: Vec<PaymentUserError>,
}

#[derive(Default)]
pub struct RefundMutation;

#[Object]
impl RefundMutation {
    #[graphql(requires_scopes = "orders:refund")]
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        input: RefundPaymentInput,
    ) -> async_graphql::Result<RefundPaymentPayload> {
        viewer(ctx).require_permission(Permission::OrdersRefund)?;
        let staff = Auditor::of(ctx).ok_or(ApiError::Unauthenticated)?;
        let service = service(ctx);
        let refunded = match service
            .refund_once(
                &input.idempotency_key,
                &input.payment_id,
                &input.amount,
                &input.reason,
                &staff,
            )
            .await
        {
            Ok(refunded) => refunded,
            Err(error) => {
                return Ok(RefundPaymentPayload {
                    user_errors: vec![user_error(error)?],
                    ..Default::default()
                })
            }
        };
        // Read back (a repeat has only the ids): the payment as it is now, and the refund.
        let ids = [refunded.payment_id];
        let payment = service
            .payments(KeyColumn::Id, &ids)
            .await
            .map_err(ApiError::internal)?
            .pop()
            .map(Payment::from);
        let refunds = service
            .store
            .refunds_of(&ids)
            .await
            .map_err(ApiError::internal)?;
        let refund = payment.as_ref().and_then(|payment| {
            refunds
                .into_iter()
                .find(|r| r.id == refunded.refund_id)
                .map(|r| payment.refund(r))
        });
        Ok(RefundPaymentPayload {
            payment,
            refund,
            user_errors: Vec::new(),
        })
    }
}
