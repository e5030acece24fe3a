//! Reconciliation: orders whose state and their payment's state disagree, listed and, where it
//! is safe, repaired. The rules:
//!
//! | order | payment | what is done |
//! |---|---|---|
//! | paid, fulfilled, delivered | not captured | listed: someone must look |
//! | failed, cancelled | captured, not all refunded | the rest is refunded |
//! | failed, cancelled | authorized (result outstanding) | listed; a later run refunds it |
//! | checkout unfinished, nobody working on it | any | the checkout is resumed |

use crate::domain::status::OrderStatus;
use crate::saga::Saga;
use crate::service::{OrderError, OrderResult};
use crate::services::{OrderPayment, Services};
use crate::store::{CheckoutRow, OrderFilter, OrderRow, OrderStore};

/// One disagreement and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub order_id: String,
    pub number: String,
    pub order_status: OrderStatus,
    /// The payment's status, `none` without one.
    pub payment_status: String,
    pub problem: &'static str,
    /// What was done; `None` when it needs a person (or `repair` was off).
    pub repaired: Option<&'static str>,
}

pub struct Reconciler<'a> {
    pub store: &'a OrderStore,
    pub saga: &'a Saga,
    pub services: &'a Services,
}

impl Reconciler<'_> {
    /// Looks at every order, oldest first; repairs what it can when `repair` is set.
    pub async fn run(&self, repair: bool) -> OrderResult<Vec<Finding>> {
        let mut findings = Vec::new();
        let mut cursor = None;
        loop {
            let batch = self
                .store
                .list(&OrderFilter::default(), true, cursor.as_ref(), 200)
                .await?;
            let Some(last) = batch.last() else { break };
            cursor = Some((last.created_at, last.id.clone()));
            let ids: Vec<String> = batch.iter().map(|o| o.id.clone()).collect();
            let payments = self.services.order_payments(&ids).await?;
            let checkouts = self.store.checkouts_of(&ids).await?;
            for order in &batch {
                let payment = payments.iter().find(|p| p.order_id == order.id);
                let checkout = checkouts.iter().find(|c| c.order_id == order.id);
                if let Some(finding) = self.check(order, checkout, payment, repair).await? {
                    findings.push(finding);
                }
            }
        }
        Ok(findings)
    }

    async fn check(
        &self,
        order: &OrderRow,
        checkout: Option<&CheckoutRow>,
        payment: Option<&OrderPayment>,
        repair: bool,
    ) -> OrderResult<Option<Finding>> {
        let finding = |problem, repaired| Finding {
            order_id: order.id.clone(),
            number: order.number.clone(),
            order_status: order.status,
            payment_status: payment.map_or("none".into(), |p| p.status.to_lowercase()),
            problem,
            repaired,
        };
        if checkout.is_some_and(|c| c.is_stalled(kit::db::now_millis())) {
            if repair {
                self.saga
                    .drive(&order.id, &kit::id::new_id("lease"))
                    .await
                    .map_err(OrderError::from)?;
            }
            return Ok(Some(finding(
                "its checkout stopped midway",
                repair.then_some("resumed the checkout"),
            )));
        }
        let captured = payment.is_some_and(|p| p.captured_minor > 0);
        let unrefunded = payment.is_some_and(|p| p.captured_minor > p.refunded_minor);
        match order.status {
            OrderStatus::Paid | OrderStatus::Fulfilled | OrderStatus::Delivered if !captured => {
                Ok(Some(finding("paid, but no captured payment", None)))
            }
            OrderStatus::Failed | OrderStatus::Cancelled if unrefunded => {
                if repair {
                    self.services
                        .refund_order(&order.id, "reconciliation")
                        .await?;
                }
                Ok(Some(finding(
                    "closed, but money was kept",
                    repair.then_some("refunded the rest"),
                )))
            }
            OrderStatus::Failed | OrderStatus::Cancelled
                if payment.is_some_and(|p| p.status == "AUTHORIZED") =>
            {
                Ok(Some(finding(
                    "closed, but the payment's result is outstanding",
                    None,
                )))
            }
            _ => Ok(None),
        }
    }
}
