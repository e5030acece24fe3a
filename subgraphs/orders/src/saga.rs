//! Runs checkouts: each step of [`crate::domain::checkout`] under a lease, committed with what it
//! changed (order status, history, events) in one transaction. A checkout waiting for its payment
//! lets go of the lease; the `payment.updated` consumer or the sweep picks it up again, as they
//! do a checkout whose process died.

use std::sync::Arc;
use std::time::Duration;

use commerce::money::Money;
use kit::subgraph::Events;
use primitives::time::now_millis;

use crate::domain::checkout::{Failure, FailureKind, Step};
use crate::domain::status::{Actor, OrderStatus};
use crate::domain::{Checkout, Order, OrderLine, OrderTaxLine};
use crate::services::{CallError, CartLine, PaymentState, Reserved, Services, Settle, Settled};
use crate::store::{Advance, OrderStore, Redemption, StatusChange, StoreError};
use events::common::Line;
use events::orders::{OrderClosed, OrderFacts, OrderPaid, OrderPlaced, TaxAmount};

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("order {0} has a checkout but no order row")]
    MissingOrder(String),
}

/// What to do after a step.
enum Next {
    /// The step moved the checkout on: run the next one.
    Continue,
    /// Waiting (for a payment's result, or to retry a failed call later), or done.
    Stop,
}

pub struct Saga {
    pub store: OrderStore,
    services: Arc<dyn Services>,
    events: Events,
    lease: Duration,
    retry_after: Duration,
    max_attempts: i64,
    /// How long a checkout waits for the customer to confirm the payment with their bank.
    payment_action: Duration,
}

impl Saga {
    pub fn new(
        store: OrderStore,
        services: Arc<dyn Services>,
        events: Events,
        lease: Duration,
        retry_after: Duration,
        max_attempts: i64,
        payment_action: Duration,
    ) -> Self {
        Self {
            store,
            services,
            events,
            lease,
            retry_after,
            max_attempts,
            payment_action,
        }
    }

    /// How long a waiting or failed checkout rests before it is tried again.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    pub fn lease_until(&self) -> i64 {
        now_millis() + self.lease.as_millis() as i64
    }

    /// Runs the order's checkout as far as it can go now, as `owner` (a lease holder, or anyone
    /// when nobody holds it). A checkout nobody has started yet is one whose creator may have
    /// died before reading the cart again (see [`Saga::drive_just_placed`]): its cart is read
    /// again first, and the order withdrawn when the lines are gone (another tab's checkout
    /// bought them), so a cart is never bought twice.
    pub async fn drive(&self, order_id: &str, owner: &str) -> Result<(), SagaError> {
        self.drive_from(order_id, owner, true).await
    }

    /// Like [`Saga::drive`], for the checkout's creator, who has just read the cart again
    /// while holding it.
    pub async fn drive_just_placed(&self, order_id: &str, owner: &str) -> Result<(), SagaError> {
        self.drive_from(order_id, owner, false).await
    }

    async fn drive_from(
        &self,
        order_id: &str,
        owner: &str,
        check_cart: bool,
    ) -> Result<(), SagaError> {
        let mut check_cart = check_cart;
        loop {
            let Some(checkout) = self
                .store
                .claim(order_id, owner, self.lease_until())
                .await?
            else {
                return Ok(());
            };
            let order = self
                .store
                .orders_by_ids(&[order_id.to_string()])
                .await?
                .pop()
                .ok_or_else(|| SagaError::MissingOrder(order_id.into()))?;
            let lines = self.store.lines_of(&[order_id.to_string()]).await?;
            let untouched = checkout.step == Step::Reserve && checkout.attempts == 0;
            if std::mem::take(&mut check_cart) && untouched {
                match self
                    .services
                    .cart(&checkout.cart_holder(&order.customer_id), &checkout.cart_id)
                    .await
                {
                    Ok(Some(cart)) if same_lines(&cart, &lines) => {}
                    Ok(_) => {
                        tracing::warn!(
                            order = order_id,
                            "the cart changed before its checkout started; order withdrawn"
                        );
                        self.store.withdraw(order_id, owner).await?;
                        return Ok(());
                    }
                    Err(error) => {
                        // Untouched still: when this lease runs out, a sweep reads it again.
                        tracing::warn!(order = order_id, %error, "cannot read the cart of an unstarted checkout; later");
                        return Ok(());
                    }
                }
            }
            let next = self.step(&checkout, &order, &lines, owner).await?;
            if let Next::Stop = next {
                return Ok(());
            }
        }
    }

    /// Drives every unfinished checkout nobody holds; returns how many it looked at.
    pub async fn sweep(&self) -> Result<usize, SagaError> {
        let due = self.store.due(100).await?;
        for order_id in &due {
            let owner = primitives::id::new_id("lease");
            if let Err(error) = self.drive(order_id, &owner).await {
                tracing::error!(%error, order = %order_id, "resuming a checkout failed");
            }
        }
        Ok(due.len())
    }

    async fn step(
        &self,
        checkout: &Checkout,
        order: &Order,
        lines: &[OrderLine],
        owner: &str,
    ) -> Result<Next, SagaError> {
        let id = order.id.as_str();
        let held = checkout.held_as();
        let advance = |from, to, advance| self.advance(id, owner, from, to, advance);
        let wanted = || -> Vec<(String, i64)> {
            lines
                .iter()
                .map(|l| (l.variant_id.clone(), l.quantity))
                .collect()
        };
        match checkout.step {
            Step::Done => Ok(Next::Stop),
            Step::Reserve => {
                match self.services.reserve(held, &wanted()).await {
                    Ok(Reserved::Held) => {
                        let facts = self.facts(order, lines).await?;
                        let placed = self.events.event(&OrderPlaced(facts));
                        advance(
                            Step::Reserve,
                            Step::Charge,
                            Advance {
                                events: vec![placed],
                                ..Advance::default()
                            },
                        )
                        .await
                    }
                    // Nothing is held and nothing was charged: the checkout ends here.
                    Ok(Reserved::Short { message }) => {
                        let failure = self.out_of_stock(lines, message).await;
                        advance(Step::Reserve, Step::Done, self.failed(order, failure)).await
                    }
                    Err(error) => self.retry_or(checkout, owner, error, Step::Release).await,
                }
            }
            Step::Charge => {
                let Some(token) = checkout.payment_token.as_deref() else {
                    return Err(StoreError::Corrupt {
                        id: id.into(),
                        what: "a checkout at the charge step without its payment token".into(),
                    }
                    .into());
                };
                let total = Money {
                    minor_units: order.total_minor,
                    currency: order.currency,
                };
                let mut state = self
                    .services
                    .charge(id, &order.customer_id, total, token)
                    .await;
                // The customer never confirmed with their bank: the payment is given up (the
                // provider fails it, unless it was confirmed just now) and the stock goes back.
                let waited = now_millis() - order.created_at;
                if matches!(state, Ok(PaymentState::AwaitingAction))
                    && waited > self.payment_action.as_millis() as i64
                {
                    state = match self.services.cancel_payment_action(id).await {
                        Ok(PaymentState::Failed { .. }) => Ok(PaymentState::Failed {
                            message: "the payment was not confirmed with the bank in time; \
                                      nothing was charged"
                                .into(),
                        }),
                        other => other,
                    };
                }
                match state {
                    Ok(PaymentState::Captured) => {
                        advance(
                            Step::Charge,
                            Step::Confirm,
                            Advance {
                                forget_token: true,
                                ..Advance::default()
                            },
                        )
                        .await
                    }
                    Ok(PaymentState::Failed { message }) => {
                        let failure = Failure {
                            kind: FailureKind::PaymentDeclined,
                            message,
                        };
                        advance(
                            Step::Charge,
                            Step::Release,
                            Advance {
                                failure: Some(failure),
                                forget_token: true,
                                ..Advance::default()
                            },
                        )
                        .await
                    }
                    // The provider's webhook settles it (for a card its holder must confirm, once
                    // they did); `payment.updated` or the sweep resumes.
                    Ok(PaymentState::Pending | PaymentState::AwaitingAction) => {
                        let retry_at = now_millis() + self.retry_after.as_millis() as i64;
                        self.store.release_lease(id, owner, retry_at).await?;
                        Ok(Next::Stop)
                    }
                    Err(error) => self.retry_or(checkout, owner, error, Step::Release).await,
                }
            }
            Step::Confirm => match self
                .services
                .settle_reservation(held, Settle::Confirm)
                .await
            {
                Ok(Settled::Done) => {
                    let facts = self.facts(order, lines).await?;
                    let paid = self.events.event(&OrderPaid(facts));
                    advance(
                        Step::Confirm,
                        Step::ClearCart,
                        Advance {
                            status: Some(system(OrderStatus::Paid, "payment captured")),
                            events: vec![paid],
                            redemption: Some(Redemption::Redeem),
                            ..Advance::default()
                        },
                    )
                    .await
                }
                // The hold ran out before the payment was captured: hold the stock again once
                // (and confirm that), or give the money back and say why.
                Ok(Settled::Closed { message }) => {
                    let message = match checkout.reservation {
                        Some(_) => message,
                        None => {
                            let again = format!("{id}-again");
                            match self.services.reserve(&again, &wanted()).await {
                                Ok(Reserved::Held) => {
                                    let held_again = Advance {
                                        reservation: Some(again),
                                        ..Advance::default()
                                    };
                                    return advance(Step::Confirm, Step::Confirm, held_again).await;
                                }
                                Ok(Reserved::Short { message: short }) => format!(
                                    "the stock held for the order ran out before the payment \
                                     was taken, and it is not in stock now ({short}); the \
                                     payment is refunded"
                                ),
                                Err(error) => return self.retry(checkout, owner, error).await,
                            }
                        }
                    };
                    let failure = Failure {
                        kind: FailureKind::ReservationExpired,
                        message,
                    };
                    advance(
                        Step::Confirm,
                        Step::Refund,
                        Advance {
                            failure: Some(failure),
                            ..Advance::default()
                        },
                    )
                    .await
                }
                Err(error) => self.retry(checkout, owner, error).await,
            },
            Step::ClearCart => {
                let variants: Vec<String> = lines.iter().map(|l| l.variant_id.clone()).collect();
                match self
                    .services
                    .clear_cart_lines(&checkout.cart_holder(&order.customer_id), &variants)
                    .await
                {
                    Ok(()) => advance(Step::ClearCart, Step::Done, Advance::default()).await,
                    // A cart left full is not worth holding the order for.
                    Err(error) if checkout.attempts + 1 >= self.max_attempts => {
                        tracing::warn!(%error, order = %id, "the bought lines stay in the cart");
                        advance(Step::ClearCart, Step::Done, Advance::default()).await
                    }
                    Err(error) => self.retry(checkout, owner, error).await,
                }
            }
            // The held stock goes back; then whatever the payment took (if anything) goes back.
            Step::Release => match self
                .services
                .settle_reservation(held, Settle::Release)
                .await
            {
                Ok(_) => advance(Step::Release, Step::Refund, Advance::default()).await,
                Err(error) => self.retry(checkout, owner, error).await,
            },
            // Nothing captured (declined, never charged) makes this a no-op; a charge whose outcome
            // was unknown when the checkout gave up, or one captured after the stock hold ran
            // out, is refunded. Until payments answers, the order stays pending.
            Step::Refund => match self.services.refund_order(id, "checkout failed").await {
                Ok(()) => {
                    let failure = checkout.failure.clone().unwrap_or_else(|| Failure {
                        kind: FailureKind::Unavailable,
                        message: "checkout could not be completed".into(),
                    });
                    advance(Step::Refund, Step::Done, self.failed(order, failure)).await
                }
                Err(error) => self.retry(checkout, owner, error).await,
            },
            Step::Restock => match self.services.settle_reservation(held, Settle::Return).await {
                Ok(settled) => {
                    if let Settled::Closed { message } = settled {
                        tracing::warn!(order = %id, %message, "nothing to put back in stock");
                    }
                    advance(Step::Restock, Step::CancelRefund, Advance::default()).await
                }
                Err(error) => self.retry(checkout, owner, error).await,
            },
            Step::CancelRefund => match self.services.refund_order(id, "order cancelled").await {
                Ok(()) => advance(Step::CancelRefund, Step::Done, Advance::default()).await,
                Err(error) => self.retry(checkout, owner, error).await,
            },
        }
    }

    /// Which lines are short, as the customer is told: every line with more units than are
    /// available now (the inventory's own message when availability cannot be read).
    async fn out_of_stock(&self, lines: &[OrderLine], inventory_says: String) -> Failure {
        let ids: Vec<String> = lines.iter().map(|l| l.variant_id.clone()).collect();
        let short: Vec<(&OrderLine, i64)> = match self.services.available(&ids).await {
            Ok(levels) => lines
                .iter()
                .map(|l| {
                    let left = levels
                        .iter()
                        .find(|(id, _)| id == &l.variant_id)
                        .map_or(0, |(_, n)| *n);
                    (l, left)
                })
                .filter(|(l, left)| l.quantity > *left)
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "availability after a short reservation");
                Vec::new()
            }
        };
        if short.is_empty() {
            return Failure {
                kind: FailureKind::OutOfStock,
                message: inventory_says,
            };
        }
        let listed: Vec<String> = short
            .iter()
            .map(|(l, left)| format!("{} ({}: {left} left, {} wanted)", l.name, l.sku, l.quantity))
            .collect();
        Failure {
            kind: FailureKind::OutOfStock,
            message: format!("not enough stock for {}", listed.join("; ")),
        }
    }

    /// The order's facts for `order.placed` and `order.paid`, with its tax lines.
    async fn facts(&self, order: &Order, lines: &[OrderLine]) -> Result<OrderFacts, SagaError> {
        let taxes = self
            .store
            .tax_lines_of(std::slice::from_ref(&order.id))
            .await?;
        Ok(facts(order, lines, &taxes))
    }

    /// Ends the checkout failed: the order's status, its reason, `order.closed`.
    fn failed(&self, order: &Order, failure: Failure) -> Advance {
        let closed = self.events.event(&OrderClosed {
            order_id: order.id.clone(),
            number: order.number.clone(),
            customer_id: order.customer_id.clone(),
            email: order.email.clone(),
            status: OrderStatus::Failed.as_str().into(),
            reason: failure.message.clone(),
        });
        Advance {
            status: Some(system(OrderStatus::Failed, &failure.message)),
            failure: Some(failure),
            events: vec![closed],
            forget_token: true,
            reservation: None,
            redemption: Some(Redemption::Release),
        }
    }

    async fn advance(
        &self,
        order_id: &str,
        owner: &str,
        from: Step,
        to: Step,
        advance: Advance,
    ) -> Result<Next, SagaError> {
        if self
            .store
            .advance(order_id, owner, from, to, advance)
            .await?
        {
            Ok(Next::Continue)
        } else {
            // Another process took the checkout over; it carries on.
            Ok(Next::Stop)
        }
    }

    /// A call failed: the sweep tries the step again later.
    async fn retry(
        &self,
        checkout: &Checkout,
        owner: &str,
        error: CallError,
    ) -> Result<Next, SagaError> {
        let attempts = self.store.failed_attempt(&checkout.order_id, owner).await?;
        tracing::warn!(%error, order = %checkout.order_id, step = checkout.step.as_str(), attempts, "checkout step failed; it will be retried");
        Ok(Next::Stop)
    }

    /// A call failed: tried again later, or after too many failures the checkout compensates
    /// from `compensation`.
    async fn retry_or(
        &self,
        checkout: &Checkout,
        owner: &str,
        error: CallError,
        compensation: Step,
    ) -> Result<Next, SagaError> {
        if checkout.attempts + 1 < self.max_attempts {
            return self.retry(checkout, owner, error).await;
        }
        tracing::error!(%error, order = %checkout.order_id, step = checkout.step.as_str(), "checkout step keeps failing; compensating");
        let failure = Failure {
            kind: FailureKind::Unavailable,
            message: format!(
                "checkout could not {} (a service did not answer); nothing stays held or charged",
                match checkout.step {
                    Step::Reserve => "reserve the stock",
                    _ => "take the payment",
                }
            ),
        };
        self.advance(
            &checkout.order_id,
            owner,
            checkout.step,
            compensation,
            Advance {
                failure: Some(failure),
                forget_token: true,
                ..Advance::default()
            },
        )
        .await
    }
}

fn system(to: OrderStatus, reason: &str) -> StatusChange {
    StatusChange {
        to,
        actor: Actor::System,
        actor_id: None,
        reason: reason.into(),
    }
}

/// What `order.placed` and `order.paid` say of the order.
fn facts(order: &Order, lines: &[OrderLine], taxes: &[OrderTaxLine]) -> OrderFacts {
    OrderFacts {
        order_id: order.id.clone(),
        number: order.number.clone(),
        customer_id: order.customer_id.clone(),
        email: order.email.clone(),
        total_minor: order.total_minor,
        currency: order.currency.as_str().into(),
        lines: lines
            .iter()
            .map(|l| Line {
                product_id: l.product_id.clone(),
                variant_id: Some(l.variant_id.clone()),
                quantity: l.quantity,
            })
            .collect(),
        shipping_address: order.shipping_address.clone().into(),
        shipping_method: order.shipping_method.clone(),
        discount_minor: order.discount_minor + order.shipping_discount_minor,
        tax_minor: order.tax_minor,
        prices_include_tax: order.prices_include_tax,
        tax_lines: taxes
            .iter()
            .map(|t| TaxAmount {
                name: t.rate.name.clone(),
                rate_ppm: t.rate.rate_ppm,
                tax_minor: t.tax_minor,
            })
            .collect(),
    }
}

/// Whether the cart holds exactly the order's lines.
pub(crate) fn same_lines(cart: &[CartLine], lines: &[OrderLine]) -> bool {
    cart.len() == lines.len()
        && lines.iter().all(|line| {
            cart.iter()
                .any(|c| c.variant_id == line.variant_id && c.quantity == line.quantity)
        })
}
