//! Payment rules applied: one charge per order (a repeated request returns the first payment,
//! and the provider gets the same idempotency key, so it never charges twice), and refunds that
//! never exceed what was captured.

use std::sync::Arc;

use auth::Permission;
use commerce::money::Money;
use event_bus::Event;
use kit::audit::Auditor;
use serde::{Deserialize, Serialize};
use storage::idempotency::{self, IdempotencyError, Limits};
use tokio::sync::watch;

use crate::config::PaymentsSettings;
use crate::domain::PaymentStatus;
use crate::provider::{ChargeOrder, ChargeStatus, PaymentProvider, ProviderError};
use crate::store::{
    Applied, KeyColumn, Payment, PaymentStore, RefundRefused, RefundRow, StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the amount must be greater than zero")]
    InvalidAmount,
    /// The amount is not money: not a decimal, too many decimal places, negative, too large.
    #[error("the {0}")]
    UnreadableAmount(#[from] commerce::money::MoneyError),
    #[error("the payment's result is not known yet; ask again")]
    ResultOutstanding,
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
                let order = ChargeOrder {
                    amount_minor: request.amount.minor_units,
                    currency: request.amount.currency.as_str().into(),
                    token: request.payment_token.into(),
                    reference: request.order_id.into(),
                    customer: request.customer_id.into(),
                };
                // The key follows from the order: a retry after any failure, in any process,
                // gets the first charge back rather than a second one.
                let charge = self
                    .provider
                    .charge(&order, &format!("order:{}", request.order_id))
                    .await
                    .map_err(|error| match error {
                        ProviderError::Refused(why) => PaymentError::MethodRefused(why),
                        unavailable => PaymentError::Provider(unavailable),
                    })?;
                // A card its holder must confirm with their bank: the payment waits for that,
                // with the page the customer is sent to.
                let action_url = charge
                    .next_action_url
                    .clone()
                    .filter(|_| charge.status == ChargeStatus::RequiresAction);
                self.store
                    .insert(&Payment {
                        id: primitives::id::new_id("pay"),
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
                        status: crate::domain::status(0, 0, false, action_url.is_some()),
                        created_at: primitives::time::now_millis(),
                        action_url,
                    })
                    .await?
            }
        };
        self.settled(payment).await
    }

    /// The payment once the provider reported its result. When its webhook is late (the settle
    /// time passed, now or since the payment was made), the provider is asked: its state is the
    /// truth, and a lost webhook must not leave the payment authorized for good. A payment
    /// waiting for the customer's bank is not waited for; asked about again after the settle
    /// time, the provider is asked, so a completion whose webhook was lost is found.
    async fn settled(&self, mut payment: Payment) -> PaymentResult<Payment> {
        let settle_wait = self.settings.settle_wait;
        let age = primitives::time::now_millis() - payment.created_at;
        if payment.status == PaymentStatus::RequiresAction {
            return if age >= settle_wait.as_millis() as i64 {
                self.look_up(payment).await
            } else {
                Ok(payment)
            };
        }
        let deadline = tokio::time::Instant::now()
            + settle_wait.saturating_sub(std::time::Duration::from_millis(age.max(0) as u64));
        let mut applied = self.applied.clone();
        while payment.status == PaymentStatus::Authorized {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return self.look_up(payment).await;
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

    /// Gives up on the order's payment while it waits for the customer's bank (abandoned at
    /// checkout): the provider fails the charge, unless the customer confirmed it meanwhile, and
    /// the payment is what the provider says after that. A payment not waiting is returned as
    /// it is; harmless to repeat.
    pub async fn cancel_action(&self, order_id: &str) -> PaymentResult<Payment> {
        let payment = self
            .store
            .by_order(order_id)
            .await?
            .ok_or(PaymentError::UnknownPayment)?;
        if payment.status != PaymentStatus::RequiresAction {
            return Ok(payment);
        }
        let charge = self
            .provider
            .cancel_action(&payment.provider_charge)
            .await
            .map_err(PaymentError::Provider)?;
        match self.store.sync(&charge).await? {
            Applied::Changed(synced) => Ok(*synced),
            _ => Ok(payment),
        }
    }

    /// The payment after applying the provider's state of its charge; as it was when the
    /// provider cannot be asked now (a later call asks again).
    pub async fn look_up(&self, payment: Payment) -> PaymentResult<Payment> {
        match self.provider.retrieve(&payment.provider_charge).await {
            Ok(Some(charge)) => match self.store.sync(&charge).await? {
                Applied::Changed(synced) => Ok(*synced),
                _ => Ok(payment),
            },
            Ok(None) => {
                tracing::error!(payment = %payment.id, charge = %payment.provider_charge, "the provider has no such charge");
                Ok(payment)
            }
            Err(error) => {
                tracing::warn!(%error, payment = %payment.id, "the provider could not be asked for a late result");
                Ok(payment)
            }
        }
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
    /// repeat is harmless. A payment whose result is not known yet is looked up at the
    /// provider first; while the provider cannot tell, the refund is refused as outstanding
    /// (the caller asks again), so a capture that arrives late is never kept. A payment still
    /// waiting for the customer's bank is given up at the provider first, so a confirmation
    /// coming later captures nothing (or, confirmed meanwhile, it is refunded).
    pub async fn refund_order(&self, order_id: &str, reason: &str) -> PaymentResult<()> {
        let Some(mut payment) = self.store.by_order(order_id).await? else {
            return Ok(());
        };
        if payment.status == PaymentStatus::RequiresAction {
            payment = self.cancel_action(order_id).await?;
            if payment.status == PaymentStatus::RequiresAction {
                return Err(PaymentError::ResultOutstanding);
            }
        }
        if payment.status == PaymentStatus::Authorized {
            payment = self.look_up(payment).await?;
            if payment.status == PaymentStatus::Authorized {
                return Err(PaymentError::ResultOutstanding);
            }
        }
        let requested = self.store.requested_refunds(&payment.id).await?;
        let refundable = payment.refundable(requested);
        if refundable == 0 {
            return Ok(());
        }
        match self
            .refund_minor(&payment, refundable, reason, "system", None)
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
        staff: &Auditor,
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
                let (payment, refund) = self.refund(payment_id, amount, reason, staff).await?;
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

    /// Refunds part or all of a captured payment for `staff`: `amount` is a decimal string in
    /// the payment's currency. The audit trail records it with the refund.
    pub async fn refund(
        &self,
        payment_id: &str,
        amount: &str,
        reason: &str,
        staff: &Auditor,
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
        let amount = Money::parse(amount, payment.currency)?;
        self.refund_minor(
            &payment,
            amount.minor_units,
            reason,
            staff.actor_id(),
            Some(staff),
        )
        .await
    }

    /// The refund itself. The request is recorded before the provider is asked (so concurrent
    /// refunds cannot together exceed the captured amount), and carries its own id as the
    /// provider's idempotency key. A refund staff asked for is recorded in the audit trail in
    /// the same transaction.
    async fn refund_minor(
        &self,
        payment: &Payment,
        amount_minor: i64,
        reason: &str,
        by: &str,
        staff: Option<&Auditor>,
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
            .request_refund(&payment.id, amount_minor, reason, by, |refund| {
                let staff = staff?;
                let amount = Money {
                    minor_units: refund.amount_minor,
                    currency: payment.currency,
                };
                let record = staff.record(
                    Permission::OrdersRefund,
                    "refundPayment",
                    ("Refund", &refund.id),
                    None,
                    Some(serde_json::json!({
                        "paymentId": refund.payment_id,
                        "amount": amount.amount(),
                        "currency": payment.currency.as_str(),
                        "reason": refund.reason,
                    })),
                );
                Some(Event::new("payments", &record))
            })
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
            .refund(
                &payment.provider_charge,
                amount_minor,
                &refund.id,
                &refund.id,
            )
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

/// A provider charge that holds money or disagrees with the shop's payment, and what was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeFinding {
    pub charge: String,
    /// The order the charge is for, by the shop's payment or the charge's reference.
    pub order_id: Option<String>,
    /// `None` when payments agrees with the provider (listed for the money it holds, so that
    /// orders can tell whether its order exists).
    pub problem: Option<&'static str>,
    /// Minor units the provider holds for it (captured less refunded).
    pub held_minor: i64,
    /// What was done; `None` when nothing was (a dry run, or it needs a person).
    pub repaired: Option<&'static str>,
}

impl PaymentsService {
    /// Walks the provider's charges created in `[from, until)` (Unix milliseconds) and compares
    /// each with the shop's payment: a charge the shop never recorded, a result or refunds the
    /// shop has not applied. With `repair`, the provider's state is applied (a charge found is
    /// recorded as its order's payment); what does not fit is kept for review. Charges that
    /// agree are listed too when they hold money.
    pub async fn reconcile_charges(
        &self,
        from: i64,
        until: i64,
        repair: bool,
    ) -> PaymentResult<Vec<ChargeFinding>> {
        let mut findings = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .provider
                .charges(from, until, after.as_deref())
                .await
                .map_err(PaymentError::Provider)?;
            let ids: Vec<String> = page.charges.iter().map(|c| c.id.clone()).collect();
            let payments = self.store.by_charges(&ids).await?;
            for charge in &page.charges {
                let payment = payments.iter().find(|p| p.provider_charge == charge.id);
                if let Some(finding) = self.compare(charge, payment, repair).await? {
                    findings.push(finding);
                }
            }
            match (page.has_more, page.charges.last()) {
                (true, Some(last)) => after = Some(last.id.clone()),
                _ => break,
            }
        }
        Ok(findings)
    }

    async fn compare(
        &self,
        charge: &crate::provider::Charge,
        payment: Option<&Payment>,
        repair: bool,
    ) -> PaymentResult<Option<ChargeFinding>> {
        use crate::provider::ChargeStatus;
        let refunded: i64 = charge.refunds.iter().map(|r| r.amount_minor).sum();
        let held_minor = match charge.status {
            ChargeStatus::Succeeded => charge.amount_minor - refunded,
            _ => 0,
        };
        let problem = match payment {
            None if held_minor > 0 => Some("captured at the provider, not recorded here"),
            None => return Ok(None),
            Some(p) if charge.status == ChargeStatus::Succeeded && p.captured_minor == 0 => {
                Some("captured at the provider, not here")
            }
            Some(p) if charge.status == ChargeStatus::Failed && p.failure_code.is_none() => {
                Some("failed at the provider, not here")
            }
            Some(p) if p.refunded_minor != refunded => Some("refunds differ from the provider's"),
            Some(_) if held_minor > 0 => None,
            Some(_) => return Ok(None),
        };
        let mut finding = ChargeFinding {
            charge: charge.id.clone(),
            order_id: payment
                .map(|p| p.order_id.clone())
                .or_else(|| charge.reference.clone()),
            problem,
            held_minor,
            repaired: None,
        };
        if repair && problem.is_some() {
            let applied = match payment {
                None => self.store.record_found(charge).await?,
                Some(_) => self.store.sync(charge).await?,
            };
            finding.repaired = match applied {
                Applied::Changed(_) if payment.is_none() => Some("recorded as the order's payment"),
                Applied::Changed(_) => Some("applied the provider's state"),
                _ => None,
            };
        }
        Ok(Some(finding))
    }
}
