//! Reconciliation: money and orders compared on both sides, listed and, where it is safe,
//! repaired. First payments walks the provider's charges of the window against its payments
//! (a charge it never recorded is recorded as its order's payment, a result or refund it missed
//! is applied); then every order of the window is compared with its payment:
//!
//! | order | payment | what is done |
//! |---|---|---|
//! | none (a charge names an order that does not exist) | captured, recorded or not | refunded |
//! | checkout unfinished, nobody working on it | any | the checkout is resumed |
//! | pending longer than a reservation lasts | any | the checkout is resumed (it completes, or refunds and says why) |
//! | paid, fulfilled, delivered | not captured | listed: someone must look |
//! | failed, cancelled | captured, not all refunded | the rest is refunded |
//! | failed, cancelled | authorized (result outstanding) | listed; a later run refunds it |
//!
//! It runs on a schedule inside orders and as `orders reconcile [--dry-run]`; a dry run lists
//! the same findings and changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use primitives::time::now_millis;

use crate::domain::status::OrderStatus;
use crate::domain::{Checkout, Order};
use crate::error::{OrderError, OrderResult};
use crate::saga::Saga;
use crate::services::{ChargeFinding, OrderPayment, Services};
use crate::store::{OrderFilter, OrderStore};

/// One disagreement and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub order_id: String,
    /// The order's number; none when there is no such order.
    pub number: Option<String>,
    pub order_status: Option<OrderStatus>,
    /// The payment's status, `none` without one.
    pub payment_status: String,
    pub problem: String,
    /// What was done; `None` when it needs a person (or `repair` was off).
    pub repaired: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): order {}, payment {}: {}",
            self.number.as_deref().unwrap_or("no order"),
            self.order_id,
            self.order_status.map_or("none", |s| s.as_str()),
            self.payment_status,
            self.problem
        )?;
        match &self.repaired {
            Some(repaired) => write!(f, " -> {repaired}"),
            None => Ok(()),
        }
    }
}

pub struct Reconciler<'a> {
    pub store: &'a OrderStore,
    pub saga: &'a Saga,
    pub services: &'a dyn Services,
    /// How long inventory holds a reservation: a checkout pending longer is stuck.
    pub reservation_ttl: Duration,
}

impl Reconciler<'_> {
    /// Compares the provider's charges and the orders created in the last `window`; repairs what
    /// it can when `repair` is set.
    pub async fn run(&self, window: Duration, repair: bool) -> OrderResult<Vec<Finding>> {
        let now = now_millis();
        let from = now - window.as_millis() as i64;
        let mut findings = Vec::new();
        let charges = self.services.reconcile_charges(from, now, repair).await?;
        let ids: Vec<String> = charges.iter().filter_map(|c| c.order_id.clone()).collect();
        let known: HashMap<String, Order> = self
            .store
            .orders_by_ids(&ids)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        for charge in &charges {
            let order = charge.order_id.as_ref().and_then(|id| known.get(id));
            findings.extend(self.check_charge(charge, order, repair).await?);
        }
        let mut cursor = None;
        let filter = OrderFilter {
            created_from: Some(from),
            ..OrderFilter::default()
        };
        loop {
            let batch = self.store.list(&filter, true, cursor.as_ref(), 200).await?;
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

    /// A charge payments found in disagreement, or holding money: listed with its order when
    /// they disagree; money for an order that does not exist is refunded.
    async fn check_charge(
        &self,
        charge: &ChargeFinding,
        order: Option<&Order>,
        repair: bool,
    ) -> OrderResult<Option<Finding>> {
        let finding = |order: Option<&Order>, problem: String, repaired: Option<String>| Finding {
            order_id: charge.order_id.clone().unwrap_or_default(),
            number: order.map(|o| o.number.clone()),
            order_status: order.map(|o| o.status),
            payment_status: format!("provider charge {}", charge.charge),
            problem,
            repaired,
        };
        let Some(order_id) = &charge.order_id else {
            let problem = charge.problem.as_deref().unwrap_or("money held");
            return Ok(Some(finding(
                None,
                format!("{problem}, for no order"),
                None,
            )));
        };
        if let Some(order) = order {
            return Ok(charge
                .problem
                .clone()
                .map(|problem| finding(Some(order), problem, charge.repaired.clone())));
        }
        let problem = match &charge.problem {
            Some(problem) => format!("{problem}; there is no such order"),
            None => "money held for an order that does not exist".into(),
        };
        // Recorded as a payment by now when it was not (or repaired just now): refunded.
        let recorded = charge.problem.is_none() || charge.repaired.is_some();
        let mut repaired = None;
        if repair && recorded && charge.held_minor > 0 {
            self.services
                .refund_order(order_id, "reconciliation: charged without an order")
                .await?;
            repaired = Some("refunded: there is no such order".into());
        }
        Ok(Some(finding(None, problem, repaired)))
    }

    async fn check(
        &self,
        order: &Order,
        checkout: Option<&Checkout>,
        payment: Option<&OrderPayment>,
        repair: bool,
    ) -> OrderResult<Option<Finding>> {
        let finding = |problem: &str, repaired: Option<&str>| Finding {
            order_id: order.id.clone(),
            number: Some(order.number.clone()),
            order_status: Some(order.status),
            payment_status: payment.map_or("none".into(), |p| p.status.to_lowercase()),
            problem: problem.into(),
            repaired: repaired.map(String::from),
        };
        let now = now_millis();
        let unfinished = checkout.filter(|c| !c.is_done());
        let pending_too_long = order.status == OrderStatus::Pending
            && now - order.created_at > self.reservation_ttl.as_millis() as i64;
        if let Some(checkout) = unfinished {
            let problem = if checkout.is_stalled(now) {
                "its checkout stopped midway"
            } else if pending_too_long {
                "pending for longer than its reservation lasts"
            } else {
                return Ok(None);
            };
            if repair {
                self.saga
                    .drive(&order.id, &primitives::id::new_id("lease"))
                    .await
                    .map_err(OrderError::from)?;
            }
            return Ok(Some(finding(
                problem,
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

/// What a run found, as metrics and log lines.
pub fn record(findings: &[Finding]) -> Vec<&Finding> {
    let unrepaired: Vec<&Finding> = findings.iter().filter(|f| f.repaired.is_none()).collect();
    for finding in findings {
        let repaired = if finding.repaired.is_some() {
            "true"
        } else {
            "false"
        };
        metrics::counter!("orders_reconciliation_findings_total", "repaired" => repaired)
            .increment(1);
        match finding.repaired {
            Some(_) => tracing::warn!(%finding, "reconciliation repaired a disagreement"),
            None => {
                tracing::error!(%finding, "reconciliation found a disagreement a person must look at")
            }
        }
    }
    metrics::gauge!("orders_reconciliation_unrepaired").set(unrepaired.len() as f64);
    unrepaired
}
