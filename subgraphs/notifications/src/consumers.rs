//! The topics notifications consumes, all in this one place: each event is turned into the
//! messages its fact asks for (see [`NotificationsService::notify`]); a redelivered event finds
//! its message recorded and changes nothing.

use std::sync::Arc;

use commerce::money::{CurrencyCode, Money};
use event_bus::consumer::{Handler, HandlerError};
use event_bus::{Event, Fact};
use events::accounts::{
    EmailChanged, EmailVerificationRequested, PasswordResetRequested, UserRegistered,
};
use events::inventory::StockLow;
use events::orders::{
    OrderClosed, OrderPaid, OrderPlaced, OrderStatusChanged, ReconciliationNeeded,
};
use events::payments::PaymentUpdated;
use events::shipping::ShipmentUpdated;
use serde_json::json;

use crate::domain::kind::Kind;
use crate::service::{Message, NotificationsService, NotifyError};
use crate::store::{KnownOrder, OrderReceipt};

/// Every topic notifications consumes.
pub const TOPICS: [&str; 12] = [
    UserRegistered::TOPIC,
    PasswordResetRequested::TOPIC,
    EmailVerificationRequested::TOPIC,
    EmailChanged::TOPIC,
    OrderPlaced::TOPIC,
    OrderPaid::TOPIC,
    OrderClosed::TOPIC,
    OrderStatusChanged::TOPIC,
    PaymentUpdated::TOPIC,
    ShipmentUpdated::TOPIC,
    StockLow::TOPIC,
    ReconciliationNeeded::TOPIC,
];

pub struct Inbox(pub Arc<NotificationsService>);

/// "42.00 USD" (the minor units as they are when the currency is unknown).
/// What order emails show of an order: its number, total, discounts and tax per rate.
fn receipt(order: &events::orders::OrderFacts) -> serde_json::Value {
    let taxes: Vec<serde_json::Value> = order
        .tax_lines
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "rate": commerce::tax::format_percent(t.rate_ppm),
                "amount": money(t.tax_minor, &order.currency),
            })
        })
        .collect();
    json!({
        "number": order.number,
        "total": money(order.total_minor, &order.currency),
        "discount": (order.discount_minor > 0).then(|| money(order.discount_minor, &order.currency)),
        "taxes": taxes,
        "tax_included": order.prices_include_tax,
    })
}

/// What a refund email shows: the amount refunded so far and, of it, the tax per rate (each
/// rate's share in proportion to the order's total, rounded half to even), and the order's
/// discounts.
fn refund_receipt(order: &KnownOrder, refunded_minor: i64, currency: &str) -> serde_json::Value {
    let mut context = json!({
        "number": order.number,
        "refunded_total": money(refunded_minor, currency),
    });
    if let Some(receipt) = &order.receipt {
        let taxes: Vec<serde_json::Value> = receipt
            .tax_lines
            .iter()
            .map(|t| {
                let share =
                    commerce::tax::share_of(t.tax_minor, refunded_minor, receipt.total_minor);
                json!({
                    "name": t.name,
                    "rate": commerce::tax::format_percent(t.rate_ppm),
                    "amount": money(share, &receipt.currency),
                })
            })
            .collect();
        context["taxes"] = json!(taxes);
        context["discount"] =
            json!((receipt.discount_minor > 0)
                .then(|| money(receipt.discount_minor, &receipt.currency)));
    }
    context
}

fn money(minor_units: i64, currency: &str) -> String {
    match CurrencyCode::parse(currency) {
        Some(code) => format!(
            "{} {currency}",
            Money {
                minor_units,
                currency: code
            }
            .amount()
        ),
        None => format!("{minor_units} {currency} minor units"),
    }
}

impl Inbox {
    fn order_url(&self, order_id: &str) -> String {
        format!("{}/orders/{order_id}", self.0.settings().shop_url)
    }

    fn order_message(
        &self,
        kind: Kind,
        key: &str,
        order_id: &str,
        customer: &str,
        email: &str,
        extra: serde_json::Value,
    ) -> Message {
        let mut context = json!({ "order_url": self.order_url(order_id) });
        context
            .as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        Message {
            dedupe_key: format!("{key}:{order_id}"),
            kind,
            user_id: Some(customer.into()),
            email: email.into(),
            context,
        }
    }

    /// The messages `event` asks for (none for facts nobody is told of).
    async fn messages(&self, event: &Event) -> Result<Vec<Message>, HandlerError> {
        let store = &self.0.store;
        Ok(match event.topic.as_str() {
            UserRegistered::TOPIC => {
                let user: UserRegistered = event.decode()?;
                store
                    .remember_recipient(&user.user_id, &user.email, &user.name)
                    .await
                    .map_err(HandlerError::retry)?;
                vec![Message {
                    dedupe_key: format!("welcome:{}", user.user_id),
                    kind: Kind::Welcome,
                    user_id: Some(user.user_id),
                    email: user.email,
                    context: json!({ "name": user.name }),
                }]
            }
            PasswordResetRequested::TOPIC => {
                let reset: PasswordResetRequested = event.decode()?;
                let valid_minutes = (reset.expires_at - event.time).max(0) / 60_000;
                vec![Message {
                    dedupe_key: format!("password_reset:{}", event.id),
                    kind: Kind::PasswordReset,
                    user_id: Some(reset.user_id),
                    email: reset.email,
                    context: json!({
                        "name": reset.name,
                        "reset_url": format!("{}/reset-password?token={}", self.0.settings().shop_url, reset.token),
                        "valid_minutes": valid_minutes,
                    }),
                }]
            }
            EmailVerificationRequested::TOPIC => {
                let request: EmailVerificationRequested = event.decode()?;
                vec![Message {
                    dedupe_key: format!("email_verification:{}", event.id),
                    kind: Kind::EmailVerification,
                    user_id: Some(request.user_id),
                    email: request.email,
                    context: json!({
                        "name": request.name,
                        "verify_url": format!("{}/verify-email?token={}", self.0.settings().shop_url, request.token),
                        "change": request.change,
                    }),
                }]
            }
            EmailChanged::TOPIC => {
                let changed: EmailChanged = event.decode()?;
                store
                    .remember_recipient(&changed.user_id, &changed.new_email, &changed.name)
                    .await
                    .map_err(HandlerError::retry)?;
                vec![Message {
                    dedupe_key: format!("email_changed:{}", event.id),
                    kind: Kind::EmailChanged,
                    user_id: Some(changed.user_id),
                    email: changed.old_email,
                    context: json!({ "name": changed.name, "new_email": changed.new_email }),
                }]
            }
            OrderPlaced::TOPIC => {
                let OrderPlaced(order) = event.decode()?;
                store
                    .remember_order(&KnownOrder {
                        order_id: order.order_id.clone(),
                        number: order.number.clone(),
                        customer_id: order.customer_id.clone(),
                        email: order.email.clone(),
                        receipt: Some(OrderReceipt {
                            total_minor: order.total_minor,
                            currency: order.currency.clone(),
                            discount_minor: order.discount_minor,
                            prices_include_tax: order.prices_include_tax,
                            tax_lines: order.tax_lines.clone(),
                        }),
                    })
                    .await
                    .map_err(HandlerError::retry)?;
                vec![self.order_message(
                    Kind::OrderPlaced,
                    "order_placed",
                    &order.order_id,
                    &order.customer_id,
                    &order.email,
                    receipt(&order),
                )]
            }
            OrderPaid::TOPIC => {
                let OrderPaid(order) = event.decode()?;
                vec![self.order_message(
                    Kind::OrderPaid,
                    "order_paid",
                    &order.order_id,
                    &order.customer_id,
                    &order.email,
                    receipt(&order),
                )]
            }
            OrderClosed::TOPIC => {
                let order: OrderClosed = event.decode()?;
                let kind = match order.status.as_str() {
                    "cancelled" => Kind::OrderCancelled,
                    _ => Kind::OrderFailed,
                };
                vec![self.order_message(
                    kind,
                    "order_closed",
                    &order.order_id,
                    &order.customer_id,
                    &order.email,
                    json!({ "number": order.number, "reason": order.reason }),
                )]
            }
            OrderStatusChanged::TOPIC => {
                let order: OrderStatusChanged = event.decode()?;
                if order.status != "delivered" {
                    return Ok(Vec::new());
                }
                vec![self.order_message(
                    Kind::ReviewRequest,
                    "review_request",
                    &order.order_id,
                    &order.customer_id,
                    &order.email,
                    json!({ "number": order.number }),
                )]
            }
            PaymentUpdated::TOPIC => {
                let payment: PaymentUpdated = event.decode()?;
                if payment.refunded_minor <= 0 {
                    return Ok(Vec::new());
                }
                // The order's customer comes from `order.placed`, which may still be on its way.
                let Some(order) = store
                    .known_order(&payment.order_id)
                    .await
                    .map_err(HandlerError::retry)?
                else {
                    return Err(HandlerError::Retry(format!(
                        "order {} of refunded payment {} not known yet",
                        payment.order_id, payment.payment_id
                    )));
                };
                let mut message = self.order_message(
                    Kind::Refund,
                    "refund",
                    &order.order_id,
                    &order.customer_id,
                    &order.email,
                    refund_receipt(&order, payment.refunded_minor, &payment.currency),
                );
                // One message per refunded total: a second partial refund is news, a repeat is not.
                message.dedupe_key =
                    format!("refund:{}:{}", payment.payment_id, payment.refunded_minor);
                vec![message]
            }
            ShipmentUpdated::TOPIC => {
                let shipment: ShipmentUpdated = event.decode()?;
                let Some(kind) = Kind::of_shipment_status(&shipment.status) else {
                    return Err(HandlerError::Reject(format!(
                        "unknown shipment status {:?}",
                        shipment.status
                    )));
                };
                let mut message = self.order_message(kind, "shipment", &shipment.order_id, &shipment.customer_id, &shipment.email,
                    json!({ "number": shipment.order_number, "carrier": shipment.carrier.to_uppercase(),
                        "tracking_number": shipment.tracking_number, "tracking_url": shipment.tracking_url,
                        "description": shipment.description }));
                message.dedupe_key =
                    format!("shipment:{}:{}", shipment.shipment_id, shipment.status);
                vec![message]
            }
            StockLow::TOPIC => {
                let low: StockLow = event.decode()?;
                // Once per crossing (inventory publishes each once): the event's id is the fact.
                self.0
                    .settings()
                    .admin_emails
                    .iter()
                    .map(|email| Message {
                        dedupe_key: format!("stock_low:{}:{email}", event.id),
                        kind: Kind::StockLow,
                        user_id: None,
                        email: email.clone(),
                        context: json!({ "product_id": low.product_id, "available": low.available,
                            "threshold": low.threshold }),
                    })
                    .collect()
            }
            ReconciliationNeeded::TOPIC => {
                let needed: ReconciliationNeeded = event.decode()?;
                // Once per set of findings: a run finding the same again sends nothing new.
                self.0
                    .settings()
                    .admin_emails
                    .iter()
                    .map(|email| Message {
                        dedupe_key: format!("reconciliation:{}:{email}", needed.digest),
                        kind: Kind::ReconciliationNeeded,
                        user_id: None,
                        email: email.clone(),
                        context: json!({ "count": needed.findings.len(), "findings": needed.findings }),
                    })
                    .collect()
            }
            other => {
                return Err(HandlerError::Reject(format!(
                    "notifications does not read {other}"
                )))
            }
        })
    }
}

#[async_trait::async_trait]
impl Handler for Inbox {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        for message in self.messages(event).await? {
            match self.0.notify(message).await {
                Ok(_) => {}
                Err(NotifyError::Template(error)) => {
                    return Err(HandlerError::Reject(error.to_string()))
                }
                Err(error) => return Err(HandlerError::retry(error)),
            }
        }
        Ok(())
    }
}
