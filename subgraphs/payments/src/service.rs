//! Payment rules applied: one charge per order (a repeated request returns the first payment,
//! and the provider gets the same idempotency key, so it never charges twice), and refunds that
//! never exceed what was captured.

use std::sync::Arc;

use kit::idempotency::{self, IdempotencyError, Limits};
use kit::money::Money;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::PaymentsSettings;
use crate::domain::PaymentStatus;
use crate::provider::{PaymentProvider, ProviderError};
use crate::store::{KeyColumn, Payment, PaymentStore, RefundRefused, RefundRow, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the amount must be positive")]
    InvalidAmount,
    #[error("the payment method was refused: {0}")]
    MethodRefused(String),
    #[error("no payment with this id")]
    UnknownPayment,
    #[error("{0}")]
    RefundTooLarge(String),
    #[error("a refund needs a reason")]
    MissingReason,
    #[error("the payment provider refused the refund: {0}")]
    RefundRefused(String),
    #[error("this idempotency key was used for a different refund")]
    KeyReused,
    #[error("idempotency record: {0}")]
    Idempotency(String),
    #[error(transparent)]
    Provider(ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type PaymentResult<T> = Result<T, PaymentError>;

/// A refund made: what its idempotency key answers with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Refunded {
    pub payment_id: String,
    pub refund_id: String,
}

pub struct ChargeRequest<'a> {
    pub order_id: &'a str,
    pub customer_id: &'a str,
    pub amount: Money,
    pub payment_token: &'a str,
}

pub struct PaymentsService {
    pub store: PaymentStore,
    provider: Arc<dyn PaymentProvider>,
    settings: PaymentsSettings,
    /// Moves when a webhook was applied here; a charge waiting for its result looks again then.
    applied: watch::Receiver<u64>,
}

impl PaymentsService {
    pub fn new(
        store: PaymentStore,
        provider: Arc<dyn PaymentProvider>,
        settings: PaymentsSettings,
        applied: watch::Receiver<u64>,
    ) -> Self {
        Self {
            store,
            provider,
            settings,
            applied,
        }
    }

    /// Charges the order once. The provider answers at once with a pending charge and reports the
    /// result by webhook; this waits up to the settle time for that result, so most callers get a
    /// captured or failed payment, and otherwise an authorized one that its webhook settles later.
    pub async fn charge(&self, request: ChargeRequest<'_>) -> PaymentResult<Payment> {
        if request.amount.minor_units <= 0 {
            return Err(PaymentError::InvalidAmount);
        }
        let payment = match self.store.by_order(request.order_id).await? {
            Some(payment) => payment,
            None => {
                let charge = self
                    .provider
                    .charge(
                        request.amount.minor_units,
                        request.amount.currency.as_str(),
                        request.payment_token,
                        &format!("order:{}", request.order_id),
                    )
                    .await
                    .map_err(|error| match error {
                        ProviderError::Refused(why) => PaymentError::MethodRefused(why),
                        unavailable => PaymentError::Provider(unavailable),
                    })?;
                self.store
                    .insert(&Payment {
                        id: kit::id::new_id("pay"),
                        order_id: request.order_id.into(),
                        customer_id: request.customer_id.into(),
                        amount_minor: charge.amount_minor,
                        currency: request.amount.currency,
                        provider_charge: charge.id,
                        method_brand: charge.method.brand,
                        method_last4: charge.method.last4,
                        captured_minor: 0,
                        refunded_minor: 0,
                        failure_code: None,
                        status: PaymentStatus::Authorized,
                        created_at: kit::db::now_millis(),
                    })
                    .await?
            }
        };
        self.settled(payment).await
    }

    /// The payment once the provider reported its result, or as it is after the settle time.
    async fn settled(&self, mut payment: Payment) -> PaymentResult<Payment> {
        let deadline = tokio::time::Instant::now() + self.settings.settle_wait;
        let mut applied = self.applied.clone();
        while payment.status == PaymentStatus::Authorized {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            // Woken by a webhook applied in this process; another replica may apply it instead,
            // so look again at least every 250 ms.
            let recheck = now + std::time::Duration::from_millis(250);
            tokio::select! {
                _ = applied.changed() => {}
                _ = tokio::time::sleep_until(recheck.min(deadline)) => {}
            }
            payment = self
                .store
                .by_order(&payment.order_id)
                .await?
                .ok_or(PaymentError::UnknownPayment)?;
        }
        Ok(payment)
    }

    pub async fn payments(
        &self,
        column: KeyColumn,
        keys: &[String],
    ) -> PaymentResult<Vec<Payment>> {
        Ok(self.store.by_keys(column, keys).await?)
    }

    /// Refunds whatever is left of the order's captured payment (checkout's compensation,
    /// cancellation). Nothing captured or everything refunded already: nothing to do, so a
    /// repeat is harmless.
    pub async fn refund_order(&self, order_id: &str, reason: &str) -> PaymentResult<()> {
        let Some(payment) = self.store.by_order(order_id).await? else {
            return Ok(());
        };
        let requested = self.store.requested_refunds(&payment.id).await?;
        let refundable = payment.refundable(requested);
        if refundable == 0 {
            return Ok(());
        }
        match self
            .refund_minor(&payment, refundable, reason, "system")
            .await
        {
            // A concurrent refund took the rest first.
            Ok(_) | Err(PaymentError::RefundTooLarge(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// [`Self::refund`] once per idempotency key: a repeat returns the first refund (its
    /// payment's and its own id) and refunds nothing more; the key with another request is
    /// refused.
    pub async fn refund_once(
        &self,
        idempotency_key: &str,
        payment_id: &str,
        amount: &str,
        reason: &str,
        admin_id: &str,
    ) -> PaymentResult<Refunded> {
        #[derive(Serialize)]
        struct Request<'a> {
            payment_id: &'a str,
            amount: &'a str,
            reason: &'a str,
        }
        let request = Request {
            payment_id,
            amount,
            reason,
        };
        let outcome = idempotency::once(
            self.store.database(),
            "refund_payment",
            idempotency_key,
            &request,
            Limits::default(),
            || async {
                let (payment, refund) = self.refund(payment_id, amount, reason, admin_id).await?;
                Ok::<_, PaymentError>(Refunded {
                    payment_id: payment.id,
                    refund_id: refund.id,
                })
            },
        )
        .await;
        match outcome {
            Ok(refunded) => Ok(refunded),
            Err(IdempotencyError::Command(error)) => Err(error),
            Err(IdempotencyError::KeyReused) => Err(PaymentError::KeyReused),
            Err(other) => Err(PaymentError::Idempotency(other.to_string())),
        }
    }

    /// Refunds part or all of a captured payment: `amount` is a decimal string in the payment's
    /// currency.
    pub async fn refund(
        &self,
        payment_id: &str,
        amount: &str,
        reason: &str,
        admin_id: &str,
    ) -> PaymentResult<(Payment, RefundRow)> {
        if reason.trim().is_empty() {
            return Err(PaymentError::MissingReason);
        }
        let payment = self
            .store
            .by_keys(KeyColumn::Id, &[payment_id.to_string()])
            .await?
            .pop()
            .ok_or(PaymentError::UnknownPayment)?;
        let amount =
            Money::parse(amount, payment.currency).map_err(|_| PaymentError::InvalidAmount)?;
        self.refund_minor(&payment, amount.minor_units, reason, admin_id)
            .await
    }

    /// The refund itself. The request is recorded before the provider is asked (so concurrent
    /// refunds cannot together exceed the captured amount), and carries its own id as the
    /// provider's idempotency key.
    async fn refund_minor(
        &self,
        payment: &Payment,
        amount_minor: i64,
        reason: &str,
        by: &str,
    ) -> PaymentResult<(Payment, RefundRow)> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(PaymentError::MissingReason);
        }
        if amount_minor <= 0 {
            return Err(PaymentError::InvalidAmount);
        }
        let (payment, mut refund) = self
            .store
            .request_refund(&payment.id, amount_minor, reason, by)
            .await
            .map_err(|refused| match refused {
                RefundRefused::UnknownPayment => PaymentError::UnknownPayment,
                RefundRefused::OverCaptured { refundable } => {
                    PaymentError::RefundTooLarge(format!(
                        "at most {} can still be refunded",
                        Money {
                            minor_units: refundable,
                            currency: payment.currency
                        }
                        .amount()
                    ))
                }
                RefundRefused::Store(error) => PaymentError::Store(error),
            })?;
        match self
            .provider
            .refund(&payment.provider_charge, amount_minor, &refund.id)
            .await
        {
            Ok(accepted) => {
                self.store.refund_accepted(&refund.id, &accepted.id).await?;
                refund.provider_refund = Some(accepted.id);
                Ok((payment, refund))
            }
            Err(ProviderError::Refused(why)) => {
                self.store.refund_refused(&refund.id).await?;
                Err(PaymentError::RefundRefused(why))
            }
            // Unknown whether it went through: the request stays recorded (it still counts against
            // the captured amount) and reconciliation settles it.
            Err(unavailable) => Err(PaymentError::Provider(unavailable)),
        }
    }
}
