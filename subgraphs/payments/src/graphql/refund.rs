//! Refunds: admins, full or partial, with a reason and an idempotency key.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use kit::idempotency::{self, IdempotencyError, Limits};
use kit::ApiError;
use serde::{Deserialize, Serialize};

use super::payment::{Payment, Refund};
use super::{payload, service, viewer, PaymentUserError};
use crate::service::PaymentError;

#[derive(InputObject, Serialize)]
pub struct RefundPaymentInput {
    pub payment_id: ID,
    /// Decimal string in the payment's currency, e.g. "5.00"; at most what was captured and not
    /// refunded yet.
    pub amount: String,
    pub reason: String,
    /// A repeat with the same key returns the first refund and refunds nothing more.
    #[serde(skip)]
    pub idempotency_key: String,
}

#[derive(SimpleObject, Default)]
pub struct RefundPaymentPayload {
    pub payment: Option<Payment>,
    pub refund: Option<Refund>,
    pub user_errors: Vec<PaymentUserError>,
}

/// What a refund request stores under its idempotency key.
#[derive(Serialize, Deserialize)]
struct Refunded {
    payment_id: String,
    refund_id: String,
}

#[derive(Default)]
pub struct RefundMutation;

#[Object]
impl RefundMutation {
    #[graphql(requires_scopes = "admin")]
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        input: RefundPaymentInput,
    ) -> async_graphql::Result<RefundPaymentPayload> {
        let admin = viewer(ctx).require_admin()?;
        let service = service(ctx);
        let outcome = idempotency::once(
            service.store.database(),
            "refund_payment",
            &input.idempotency_key,
            &input,
            Limits::default(),
            || async {
                let (payment, refund) = service
                    .refund(&input.payment_id, &input.amount, &input.reason, admin)
                    .await?;
                Ok::<_, PaymentError>(Refunded {
                    payment_id: payment.id,
                    refund_id: refund.id,
                })
            },
        )
        .await;
        let result = match outcome {
            Ok(refunded) => Ok(refunded),
            Err(IdempotencyError::Command(error)) => Err(error),
            Err(IdempotencyError::KeyReused) => Err(PaymentError::KeyReused),
            Err(other) => return Err(ApiError::internal(other).into()),
        };
        let found = match result {
            Ok(refunded) => {
                let ids = [refunded.payment_id];
                let row = service
                    .payments(crate::store::KeyColumn::Id, &ids)
                    .await
                    .map_err(ApiError::internal)?
                    .pop();
                let refunds = service
                    .store
                    .refunds_of(&ids)
                    .await
                    .map_err(ApiError::internal)?;
                Ok((row, refunds, refunded.refund_id))
            }
            Err(error) => Err(error),
        };
        payload(found, |found, user_errors| {
            let Some((row, refunds, refund_id)) = found else {
                return RefundPaymentPayload {
                    user_errors,
                    ..Default::default()
                };
            };
            let payment = row.map(Payment::from);
            let refund = payment.as_ref().and_then(|payment| {
                refunds
                    .into_iter()
                    .find(|r| r.id == refund_id)
                    .map(|r| payment.refund(r))
            });
            RefundPaymentPayload {
                payment,
                refund,
                user_errors,
            }
        })
    }
}
