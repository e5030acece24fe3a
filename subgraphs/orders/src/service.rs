//! Order rules applied: checkout (input checked, the cart priced by `pricing` with its
//! promotions and tax, the order created and its saga run, once per idempotency key), reads,
//! cancellation and admin status changes by the state machine; tax settings and promotions
//! (`pricing`, `promotions`).

mod pricing;
mod promotions;

use std::sync::Arc;
use std::time::Duration;

use auth::Permission;
use commerce::address::{parse_address, Address, AddressInput};
use commerce::tax::PricesInclude;
use kit::audit::Auditor;
use kit::subgraph::Events;
pub use pricing::{Quote, QuoteRequest, TaxRateChange};
use primitives::stop::StopSignal;
use primitives::time::now_millis;
pub use promotions::{normalize_code, NewPromotion, MAX_CART_CODES};
use serde::Serialize;
use storage::idempotency::{self, IdempotencyError, Limits};

use crate::config::OrdersSettings;
use crate::domain::buyer::{is_guest, Buyer};
use crate::domain::number::new_number;
use crate::domain::promotion::Refusal;
use crate::domain::status::{Actor, OrderStatus};
use crate::domain::{Order, OrderDiscount, OrderLine, OrderTaxLine, PricedOrder, TaxRate};
use crate::error::{OrderError, OrderResult};
use crate::reconcile::{Finding, Reconciler};
use crate::saga::{same_lines, Saga};
use crate::services::Services;
use crate::store::{Created, OrderStore, StatusChange, StoreError};
use crate::taxes::TaxProvider;
use commerce::email::Email;
use events::orders::{OrderClosed, OrderStatusChanged, ReconciliationNeeded};

/// Where the order goes: an address-book entry or a new address.
#[derive(Clone, Debug, Serialize)]
pub enum AddressChoice {
    Book(String),
    New(Address),
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckoutRequest {
    #[serde(flatten)]
    pub quote: QuoteRequest,
    pub payment_token: String,
    /// What the customer was shown (`CheckoutPreview.token`): the checkout is refused when the
    /// order would differ from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_token: Option<String>,
    /// Where the bill goes; the shipping address when none is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The customer's note to the shop, checked (at most [`MAX_NOTE_CHARS`]).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The longest note a customer may leave with an order.
pub const MAX_NOTE_CHARS: usize = 500;

pub struct OrdersService {
    pub store: OrderStore,
    pub saga: Arc<Saga>,
    services: Arc<dyn Services>,
    taxes: Arc<dyn TaxProvider>,
    events: Events,
    settings: OrdersSettings,
    /// Counts the confirmed addresses whose guest orders were looked for, so a caller can wait
    /// for one.
    emails_verified: tokio::sync::watch::Sender<u64>,
}

impl OrdersService {
    pub fn new(
        store: OrderStore,
        saga: Arc<Saga>,
        services: Arc<dyn Services>,
        taxes: Arc<dyn TaxProvider>,
        events: Events,
        settings: OrdersSettings,
    ) -> Self {
        Self {
            store,
            saga,
            services,
            taxes,
            events,
            settings,
            emails_verified: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Gives the orders placed as a guest with `email` (confirmed by `user_id`) to that user.
    pub async fn attach_guest_orders(
        &self,
        email: &commerce::email::Email,
        user_id: &str,
    ) -> crate::store::StoreResult<u64> {
        let moved = self
            .store
            .attach_guest_orders(&crate::domain::buyer::guest_customer_id(email), user_id)
            .await?;
        self.emails_verified.send_modify(|n| *n += 1);
        Ok(moved)
    }

    /// Moves whenever a confirmed address's guest orders were looked for.
    pub fn emails_verified(&self) -> tokio::sync::watch::Receiver<u64> {
        self.emails_verified.subscribe()
    }

    /// Parses a new address as entered.
    pub fn new_address(fields: AddressInput) -> OrderResult<AddressChoice> {
        parse_address(fields)
            .map(AddressChoice::New)
            .map_err(OrderError::InvalidAddress)
    }

    /// Parses a billing address as entered.
    pub fn billing_address(fields: AddressInput) -> OrderResult<Address> {
        parse_address(fields).map_err(OrderError::InvalidBillingAddress)
    }

    /// A note as entered: trimmed, at most [`MAX_NOTE_CHARS`].
    pub fn note(raw: Option<String>) -> OrderResult<String> {
        let note = raw.unwrap_or_default().trim().to_string();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(OrderError::InvalidInput {
                field: "note",
                message: "must be at most 500 characters",
            });
        }
        Ok(note)
    }

    /// Checks out the buyer's cart once per idempotency key: a repeat returns the first
    /// order (waiting while the first request runs); the key with another request is refused.
    /// Returns the order's id; a checkout that failed (out of stock, declined) still made an
    /// order, failed, which says why. A guest's checkout counts against the limit of
    /// `client_address` when it runs, not when it is repeated, so a client asking again after
    /// a lost answer gets its order.
    pub async fn checkout(
        &self,
        buyer: &Buyer,
        idempotency_key: &str,
        request: CheckoutRequest,
        client_address: &str,
    ) -> OrderResult<String> {
        let Some(customer_id) = buyer.customer_id() else {
            return Err(OrderError::InvalidInput {
                field: "email",
                message: "a guest gives the email the confirmation goes to",
            });
        };
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(OrderError::InvalidInput {
                field: "idempotencyKey",
                message: "must be 1 to 200 characters",
            });
        }
        if request.payment_token.trim().is_empty() {
            return Err(OrderError::InvalidInput {
                field: "paymentToken",
                message: "must not be empty",
            });
        }
        // The order's id follows from the customer and key: a run that takes over the key after
        // its first runner died finds that runner's order instead of making a second.
        let order_id = order_id_for(&customer_id, key);
        // A repeat waits for the first run a while, but answers before a router would give up
        // on it (STILL_RUNNING: ask again).
        let limits = Limits {
            lease: self.settings.saga_lease * 2,
            wait: Duration::from_secs(20),
        };
        let outcome = idempotency::once(
            self.store.database(),
            &format!("checkout:{customer_id}"),
            key,
            &request,
            limits,
            || async {
                if let Buyer::Guest { .. } = buyer {
                    self.count_guest_checkout(client_address).await?;
                }
                self.place(buyer, &customer_id, &order_id, &request).await
            },
        )
        .await;
        match outcome {
            Ok(order_id) => Ok(order_id),
            Err(IdempotencyError::Command(error)) => Err(error),
            Err(IdempotencyError::KeyReused) => Err(OrderError::KeyReused),
            Err(IdempotencyError::StillRunning) => Err(OrderError::StillRunning),
            Err(IdempotencyError::Database(error)) => Err(StoreError::from(error).into()),
            Err(IdempotencyError::Stored(error)) => Err(StoreError::Corrupt {
                id: order_id,
                what: error.to_string(),
            }
            .into()),
        }
    }

    async fn place(
        &self,
        buyer: &Buyer,
        customer_id: &str,
        order_id: &str,
        request: &CheckoutRequest,
    ) -> OrderResult<String> {
        let owner = primitives::id::new_id("lease");
        if self
            .store
            .orders_by_ids(&[order_id.to_string()])
            .await?
            .is_empty()
        {
            let priced = self.price(buyer, customer_id, order_id, request).await?;
            let created = self
                .store
                .create(
                    &priced,
                    &request.quote.cart_id,
                    buyer.cart_token(),
                    &request.payment_token,
                    &owner,
                    self.saga.lease_until(),
                )
                .await?;
            match created {
                Created::Started => {}
                Created::CartBusy => return Err(OrderError::CartCheckoutRunning),
                Created::PromotionUsedUp(name) => {
                    return Err(OrderError::PromotionRefused {
                        name,
                        reason: Refusal::UsedUp,
                    })
                }
            }
            // Another tab's checkout of this cart may have ended between our read of the cart
            // and our insert (it emptied the cart, then let go of it): read it again now that we
            // hold the cart, and withdraw the order if its lines are no longer there.
            let still = match self
                .services
                .cart(&buyer.cart_holder(), &request.quote.cart_id)
                .await
            {
                Ok(cart) => cart.is_some_and(|cart| same_lines(&cart, &priced.lines)),
                Err(error) => {
                    self.store.withdraw(order_id, &owner).await?;
                    return Err(error.into());
                }
            };
            if !still {
                self.store.withdraw(order_id, &owner).await?;
                return Err(OrderError::CartCheckoutRunning);
            }
        }
        self.saga.drive_just_placed(order_id, &owner).await?;
        Ok(order_id.to_string())
    }

    /// The order as checkout makes it from the cart's quote (see [`pricing`]), refused when it
    /// differs from the preview the customer saw (`preview_token`).
    async fn price(
        &self,
        buyer: &Buyer,
        customer_id: &str,
        order_id: &str,
        request: &CheckoutRequest,
    ) -> OrderResult<PricedOrder> {
        let quote = self.quote(buyer, &request.quote).await?;
        if let Some((name, reason)) = quote.refused.first() {
            return Err(OrderError::PromotionRefused {
                name: name.clone(),
                reason: reason.clone(),
            });
        }
        if let Some(token) = &request.preview_token {
            let changes = quote.changes_since(token)?;
            if !changes.is_empty() {
                return Err(OrderError::PriceChanged(changes));
            }
        }
        let totals = &quote.totals;
        let lines = quote
            .lines
            .iter()
            .zip(&totals.lines)
            .enumerate()
            .map(|(position, (line, priced))| OrderLine {
                order_id: order_id.into(),
                position: position as i64 + 1,
                product_id: line.variant.product_id.clone(),
                variant_id: line.variant.id.clone(),
                sku: line.variant.sku.clone(),
                name: line.variant.name.clone(),
                variant_title: line.variant.title.clone(),
                unit_price_minor: line.variant.price.minor_units,
                quantity: line.quantity,
                line_total_minor: priced.total_minor,
                discount_minor: priced.discount_minor,
                tax_minor: priced.tax.as_ref().map_or(0, |t| t.tax_minor),
                tax_rate: priced.tax.as_ref().map(|t| TaxRate {
                    name: t.name.clone(),
                    rate_ppm: t.rate_ppm,
                }),
            })
            .collect();
        let tax_lines = totals
            .taxes
            .iter()
            .map(|rate| OrderTaxLine {
                order_id: order_id.into(),
                rate: TaxRate {
                    name: rate.name.clone(),
                    rate_ppm: rate.rate_ppm,
                },
                tax_minor: rate.tax_minor,
                net_minor: rate.net_minor,
            })
            .collect();
        let now = now_millis();
        let order = Order {
            id: order_id.into(),
            number: new_number(now),
            customer_id: customer_id.into(),
            email: quote.email.clone(),
            currency: totals.currency,
            subtotal_minor: totals.subtotal_minor,
            discount_minor: totals.discount_minor,
            shipping_minor: totals.shipping_minor,
            shipping_discount_minor: totals.shipping_discount_minor,
            tax_minor: totals.tax_minor,
            shipping_tax_minor: totals.shipping_tax.as_ref().map_or(0, |t| t.tax_minor),
            prices_include_tax: totals.prices == PricesInclude::Tax,
            total_minor: totals.total_minor,
            billing_address: Some(
                request
                    .billing_address
                    .clone()
                    .unwrap_or_else(|| quote.address.clone()),
            ),
            note: request.note.clone(),
            shipping_address: quote.address,
            shipping_method: Some(quote.shipping.method),
            status: OrderStatus::Pending,
            created_at: now,
            updated_at: now,
        };
        let discounts = quote
            .discounts
            .iter()
            .map(|d| OrderDiscount {
                order_id: order_id.into(),
                promotion_id: d.promotion_id.clone(),
                name: d.name.clone(),
                code: d.code.clone(),
                amount_minor: d.total(),
            })
            .collect();
        Ok(PricedOrder {
            order,
            lines,
            tax_lines,
            discounts,
        })
    }

    pub async fn order(&self, id: &str) -> OrderResult<Option<Order>> {
        Ok(self.store.orders_by_ids(&[id.to_string()]).await?.pop())
    }

    /// Where the customer confirms the order's payment with their bank, while it waits for
    /// that; none otherwise, or when payments cannot tell now (the order's page asks again).
    pub async fn payment_action(&self, order_id: &str) -> Option<String> {
        match self.services.order_payments(&[order_id.to_string()]).await {
            Ok(payments) => payments.into_iter().find_map(|p| p.next_action_url),
            Err(error) => {
                tracing::warn!(%error, order = order_id, "payments did not say whether the payment waits for the bank");
                None
            }
        }
    }

    /// Counts a guest checkout from `client` (an address), refused beyond
    /// `ORDERS_GUEST_CHECKOUTS_PER_HOUR`.
    pub async fn count_guest_checkout(&self, client: &str) -> OrderResult<()> {
        let key = format!("guest-checkout:{client}");
        let limit = self.settings.guest_checkouts;
        if !limit
            .allows(self.store.database(), &key, now_millis())
            .await
            .map_err(StoreError::from)?
        {
            return Err(OrderError::TooManyAttempts);
        }
        Ok(())
    }

    /// A guest's order by its number and the email it was placed with (any case). A wrong
    /// email finds nothing, the same as a number that does not exist; an order of a signed-in
    /// customer is not found this way. At most `ORDERS_GUEST_LOOKUPS_PER_HOUR` lookups from one
    /// client address an hour, found or not.
    pub async fn guest_order(
        &self,
        number: &str,
        email: &str,
        client: &str,
    ) -> OrderResult<Option<Order>> {
        let key = format!("guest-lookup:{client}");
        let limit = self.settings.guest_lookups;
        if !limit
            .allows(self.store.database(), &key, now_millis())
            .await
            .map_err(StoreError::from)?
        {
            return Err(OrderError::TooManyAttempts);
        }
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let order = self.store.order_by_number(number.trim()).await?;
        Ok(order.filter(|order| {
            is_guest(&order.customer_id) && order.email.eq_ignore_ascii_case(email.as_str())
        }))
    }

    /// Cancels an order (customers until fulfilment, admins until delivery): the stock goes
    /// back and the payment is refunded, by the saga, so a crash midway is resumed.
    /// Cancels an order for its customer or, with `staff` (recorded in the audit trail), for
    /// staff.
    pub async fn cancel(
        &self,
        order_id: &str,
        actor: Actor,
        actor_id: &str,
        reason: &str,
        staff: Option<&Auditor>,
    ) -> OrderResult<Order> {
        let order = self
            .order(order_id)
            .await?
            .ok_or(OrderError::OrderNotFound)?;
        if order.status == OrderStatus::Pending {
            return Err(OrderError::CheckoutRunning);
        }
        order.status.transition(OrderStatus::Cancelled, actor)?;
        let reason = match reason.trim() {
            "" => "cancelled",
            reason => reason,
        };
        let change = StatusChange {
            to: OrderStatus::Cancelled,
            actor,
            actor_id: Some(actor_id.into()),
            reason: reason.into(),
        };
        let closed = self.events.event(&OrderClosed {
            order_id: order.id.clone(),
            number: order.number.clone(),
            customer_id: order.customer_id.clone(),
            email: order.email.clone(),
            status: OrderStatus::Cancelled.as_str().into(),
            reason: reason.into(),
        });
        let mut events = vec![closed];
        events.extend(staff.map(|staff| self.status_audit(staff, "cancelOrder", &order, &change)));
        if !self
            .store
            .cancel(order_id, order.status, &change, &events)
            .await?
        {
            return Err(OrderError::Conflict);
        }
        self.saga
            .drive(order_id, &primitives::id::new_id("lease"))
            .await?;
        self.order(order_id).await?.ok_or(OrderError::OrderNotFound)
    }

    /// Charges and orders of the reconciliation window that disagree; repaired where safe when
    /// `repair` is set.
    pub async fn reconcile(&self, repair: bool) -> OrderResult<Vec<Finding>> {
        Reconciler {
            store: &self.store,
            saga: &self.saga,
            services: self.services.as_ref(),
            reservation_ttl: self.settings.reservation_ttl,
        }
        .run(self.settings.reconcile_window, repair)
        .await
    }

    pub fn reconcile_interval(&self) -> Duration {
        self.settings.reconcile_interval
    }

    /// Counts a run's findings and raises `order.reconciliation_needed` with those that need
    /// a person (none: nothing is raised).
    pub async fn report_reconciliation(&self, findings: &[Finding]) {
        let unrepaired = crate::reconcile::record(findings);
        if unrepaired.is_empty() {
            return;
        }
        let mut lines: Vec<String> = unrepaired.iter().map(|f| f.to_string()).collect();
        lines.sort();
        let digest = primitives::id::sha256_hex(lines.join("\n").as_bytes());
        let needed = self.events.event(&ReconciliationNeeded {
            digest,
            findings: lines,
        });
        if let Err(error) = self.store.publish(&needed).await {
            tracing::error!(%error, "raising order.reconciliation_needed failed");
        }
    }

    /// Moves an order by the state machine, as `actor` (an admin's or customer's id; none for
    /// the system).
    /// Moves an order on, for the system or (recorded in the audit trail) for `staff`.
    pub async fn change_status(
        &self,
        order_id: &str,
        to: OrderStatus,
        actor: Actor,
        staff: Option<&Auditor>,
        reason: &str,
    ) -> OrderResult<Order> {
        let order = self
            .order(order_id)
            .await?
            .ok_or(OrderError::OrderNotFound)?;
        order.status.transition(to, actor)?;
        let change = StatusChange {
            to,
            actor,
            actor_id: staff.map(|s| s.actor_id().to_string()),
            reason: reason.trim().into(),
        };
        let changed = self.events.event(&OrderStatusChanged {
            order_id: order.id.clone(),
            number: order.number.clone(),
            customer_id: order.customer_id.clone(),
            email: order.email.clone(),
            status: to.as_str().into(),
            previous_status: order.status.as_str().into(),
        });
        let mut events = vec![changed];
        events.extend(
            staff.map(|staff| self.status_audit(staff, "updateOrderStatus", &order, &change)),
        );
        if !self
            .store
            .change_status(order_id, order.status, &change, &events)
            .await?
        {
            return Err(OrderError::Conflict);
        }
        self.order(order_id).await?.ok_or(OrderError::OrderNotFound)
    }
}

impl OrdersService {
    /// The audit record of staff moving `order` on (`orders:write`).
    fn status_audit(
        &self,
        staff: &Auditor,
        action: &str,
        order: &Order,
        change: &StatusChange,
    ) -> event_bus::Event {
        self.events.event(&staff.record(
            Permission::OrdersWrite,
            action,
            ("Order", &order.id),
            Some(serde_json::json!({ "status": order.status.as_str() })),
            Some(serde_json::json!({ "status": change.to.as_str(), "reason": change.reason })),
        ))
    }
}

/// Whether the cart still holds exactly the lines the order was priced from.
/// `ord_` and 26 hex digits of SHA-256 over the customer and the idempotency key.
fn order_id_for(customer_id: &str, key: &str) -> String {
    primitives::id::derived_id("ord", &format!("{customer_id}\n{key}"), 13)
}

/// Reconciles every `ORDERS_RECONCILE_INTERVAL_SECS` until stopped, repairing what it can.
/// Each run counts its findings (`orders_reconciliation_findings_total`, by whether they were
/// repaired) and sets `orders_reconciliation_unrepaired`; what needs a person is logged as an
/// error and raised as `order.reconciliation_needed`, which notifications emails the admins.
pub async fn reconcile_periodically(service: Arc<OrdersService>, stop: StopSignal) {
    let stopped = stop.stopped();
    tokio::pin!(stopped);
    let every = service.reconcile_interval();
    // Not at once: the services it calls may be starting beside it.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = ticks.tick() => {}
        }
        match service.reconcile(true).await {
            Ok(findings) => service.report_reconciliation(&findings).await,
            Err(error) => tracing::error!(%error, "reconciliation failed; it runs again later"),
        }
    }
}
