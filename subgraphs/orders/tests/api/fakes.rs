//! In-memory fakes of the services orders calls (carts, accounts, catalog, shipping, inventory,
//! payments), behaving as the real ones do for what checkout asks: reservations all or nothing
//! and idempotent by reference, one charge per order, settlements that move stock back.

use std::collections::HashMap;
use std::sync::Mutex;

use commerce::address::Address;
use commerce::money::{CurrencyCode, Money};
use events::orders::ShippingMethod;
use orders::domain::buyer::CartHolder;
use orders::services::{
    BookAddress, CallError, CallResult, CartLine, CatalogVariant, ChargeFinding, Customer,
    OrderPayment, PaymentState, Reserved, Services, Settle, Settled, ShippingRate,
};
use web::client::ServiceError;

/// The card token the fake processor declines.
pub const DECLINED: &str = "tok_declined";
/// The card token whose holder must confirm with their bank (3-D Secure) before it is charged.
pub const THREE_D_SECURE: &str = "tok_3ds";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Held,
    Confirmed,
    Released,
    Returned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub amount_minor: i64,
    pub captured: bool,
    pub refunded_minor: i64,
    /// Waits for the card holder's bank: neither captured nor failed yet.
    pub awaiting_action: bool,
}

#[derive(Default)]
pub struct World {
    /// By (customer id or guest cart token, cart id).
    pub carts: HashMap<(String, String), Vec<CartLine>>,
    pub customers: HashMap<String, Customer>,
    /// By variant id.
    pub products: HashMap<String, CatalogVariant>,
    /// Units available now, by variant.
    pub stock: HashMap<String, i64>,
    /// By reference: the lines held and what became of them.
    pub holds: HashMap<String, (Vec<(String, i64)>, Hold)>,
    /// By order: one charge each.
    pub charges: HashMap<String, Charge>,
    /// Calls of a method (by name) still to fail as if the service were down.
    pub outages: HashMap<&'static str, u32>,
    /// What the one carrier service charges; 5.00 in the cart's currency when not set.
    pub shipping_price: Option<Money>,
    /// The collections holding each product, by product id.
    pub collections: HashMap<String, Vec<String>>,
    /// Orders whose card holder confirms with the bank just as the shop gives up waiting: the
    /// give-up finds the charge captured.
    pub confirmed_meanwhile: Vec<String>,
}

#[derive(Default)]
pub struct FakeServices {
    pub world: Mutex<World>,
}

impl FakeServices {
    /// The card holder completes (or fails) the bank's check of the order's charge, once: a
    /// charge not waiting stays as it is. Whether it changed anything.
    pub fn finish_action(&self, order_id: &str, complete: bool) -> bool {
        self.with(|w| match w.charges.get_mut(order_id) {
            Some(charge) if charge.awaiting_action => {
                charge.awaiting_action = false;
                charge.captured = complete;
                true
            }
            _ => false,
        })
    }

    pub fn with<T>(&self, change: impl FnOnce(&mut World) -> T) -> T {
        change(&mut self.world.lock().unwrap())
    }

    /// Fails with "unavailable" while `method` has outages left.
    fn call(&self, method: &'static str) -> CallResult<()> {
        self.with(|world| match world.outages.get_mut(method) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Err(CallError::Call(ServiceError::Unavailable {
                    url: format!("fake:{method}"),
                    message: "connection refused".into(),
                }))
            }
            _ => Ok(()),
        })
    }
}

/// A user's id, or a guest cart's token: the fake carts' key.
fn owner(holder: &CartHolder) -> &str {
    match holder {
        CartHolder::User(id) => id,
        CartHolder::Guest(token) => token,
    }
}

/// What the fake processor reports of a charge.
fn state_of(charge: &Charge) -> PaymentState {
    if charge.awaiting_action {
        PaymentState::AwaitingAction
    } else if charge.captured {
        PaymentState::Captured
    } else {
        PaymentState::Failed {
            message: "the payment failed: card_declined".into(),
        }
    }
}

pub fn usd(minor_units: i64) -> Money {
    Money {
        minor_units,
        currency: CurrencyCode::Usd,
    }
}

pub fn address() -> Address {
    Address {
        full_name: "Ada Lovelace".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        region: Some("IL".into()),
        postal_code: "62701".into(),
        country_code: "US".into(),
        phone: None,
    }
}

pub fn customer(email: &str, address_id: &str) -> Customer {
    Customer {
        email: email.into(),
        addresses: vec![BookAddress {
            id: address_id.into(),
            address: address(),
        }],
    }
}

#[async_trait::async_trait]
impl Services for FakeServices {
    async fn cart(&self, holder: &CartHolder, cart_id: &str) -> CallResult<Option<Vec<CartLine>>> {
        self.call("cart")?;
        let key = (owner(holder).to_string(), cart_id.to_string());
        Ok(self.with(|w| w.carts.get(&key).cloned()))
    }

    async fn clear_cart_lines(
        &self,
        holder: &CartHolder,
        variant_ids: &[String],
    ) -> CallResult<()> {
        self.call("clear_cart_lines")?;
        self.with(|w| {
            for ((owner_key, _), lines) in w.carts.iter_mut() {
                if owner_key == owner(holder) {
                    lines.retain(|l| !variant_ids.contains(&l.variant_id));
                }
            }
        });
        Ok(())
    }

    async fn customer(&self, customer_id: &str) -> CallResult<Option<Customer>> {
        self.call("customer")?;
        Ok(self.with(|w| w.customers.get(customer_id).cloned()))
    }

    async fn variants(&self, ids: &[String]) -> CallResult<Vec<CatalogVariant>> {
        self.call("variants")?;
        Ok(self.with(|w| {
            ids.iter()
                .filter_map(|id| w.products.get(id).cloned())
                .collect()
        }))
    }

    async fn collections_of(
        &self,
        product_ids: &[String],
    ) -> CallResult<Vec<(String, Vec<String>)>> {
        self.call("collections_of")?;
        Ok(self.with(|w| {
            product_ids
                .iter()
                .map(|id| {
                    (
                        id.clone(),
                        w.collections.get(id).cloned().unwrap_or_default(),
                    )
                })
                .collect()
        }))
    }

    async fn shipping_rates(
        &self,
        _address: &Address,
        lines: &[CartLine],
    ) -> CallResult<Result<Vec<ShippingRate>, String>> {
        self.call("shipping_rates")?;
        let price = self.with(|w| {
            w.shipping_price.unwrap_or_else(|| {
                let currency = lines
                    .first()
                    .and_then(|l| w.products.get(&l.variant_id))
                    .map_or(CurrencyCode::Usd, |v| v.price.currency);
                Money {
                    minor_units: 500,
                    currency,
                }
            })
        });
        Ok(Ok(vec![ShippingRate {
            method: ShippingMethod {
                carrier: "ups".into(),
                service: "ground".into(),
            },
            price,
        }]))
    }

    async fn available(&self, variant_ids: &[String]) -> CallResult<Vec<(String, i64)>> {
        self.call("available")?;
        Ok(self.with(|w| {
            variant_ids
                .iter()
                .map(|id| (id.clone(), w.stock.get(id).copied().unwrap_or(0)))
                .collect()
        }))
    }

    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> CallResult<Reserved> {
        self.call("reserve")?;
        Ok(self.with(|w| {
            if w.holds.contains_key(reference) {
                return Reserved::Held;
            }
            let short: Vec<&String> = lines
                .iter()
                .filter(|(id, quantity)| w.stock.get(id).copied().unwrap_or(0) < *quantity)
                .map(|(id, _)| id)
                .collect();
            if !short.is_empty() {
                return Reserved::Short {
                    message: format!("not enough stock of {short:?}"),
                };
            }
            for (id, quantity) in lines {
                *w.stock.get_mut(id).unwrap() -= quantity;
            }
            w.holds
                .insert(reference.into(), (lines.to_vec(), Hold::Held));
            Reserved::Held
        }))
    }

    async fn settle_reservation(&self, reference: &str, how: Settle) -> CallResult<Settled> {
        self.call("settle_reservation")?;
        Ok(self.with(|w| {
            let Some((lines, hold)) = w.holds.get(reference).cloned() else {
                return Settled::Closed {
                    message: "no such reservation".into(),
                };
            };
            let (from, to, restock) = match how {
                Settle::Confirm => (Hold::Held, Hold::Confirmed, false),
                Settle::Release => (Hold::Held, Hold::Released, true),
                Settle::Return => (Hold::Confirmed, Hold::Returned, true),
            };
            if hold == to {
                return Settled::Done;
            }
            if hold != from {
                return Settled::Closed {
                    message: format!("the reservation is {hold:?}"),
                };
            }
            if restock {
                for (id, quantity) in &lines {
                    *w.stock.get_mut(id).unwrap() += quantity;
                }
            }
            w.holds.insert(reference.into(), (lines, to));
            Settled::Done
        }))
    }

    async fn charge(
        &self,
        order_id: &str,
        _customer_id: &str,
        total: Money,
        payment_token: &str,
    ) -> CallResult<PaymentState> {
        self.call("charge")?;
        Ok(self.with(|w| {
            let charge = w.charges.entry(order_id.into()).or_insert(Charge {
                amount_minor: total.minor_units,
                captured: payment_token != DECLINED && payment_token != THREE_D_SECURE,
                refunded_minor: 0,
                awaiting_action: payment_token == THREE_D_SECURE,
            });
            state_of(charge)
        }))
    }

    async fn cancel_payment_action(&self, order_id: &str) -> CallResult<PaymentState> {
        self.call("cancel_payment_action")?;
        let confirmed = self.with(|w| w.confirmed_meanwhile.iter().any(|o| o == order_id));
        self.finish_action(order_id, confirmed);
        Ok(self.with(|w| state_of(&w.charges[order_id])))
    }

    async fn order_payments(&self, order_ids: &[String]) -> CallResult<Vec<OrderPayment>> {
        self.call("order_payments")?;
        Ok(self.with(|w| {
            order_ids
                .iter()
                .filter_map(|id| {
                    let charge = w.charges.get(id)?;
                    Some(OrderPayment {
                        order_id: id.clone(),
                        status: match state_of(charge) {
                            PaymentState::Captured => "CAPTURED",
                            PaymentState::AwaitingAction => "REQUIRES_ACTION",
                            _ => "FAILED",
                        }
                        .into(),
                        captured_minor: if charge.captured {
                            charge.amount_minor
                        } else {
                            0
                        },
                        refunded_minor: charge.refunded_minor,
                        next_action_url: charge
                            .awaiting_action
                            .then(|| format!("https://bank.example/3ds/{id}")),
                    })
                })
                .collect()
        }))
    }

    async fn reconcile_charges(
        &self,
        _from: i64,
        _until: i64,
        _repair: bool,
    ) -> CallResult<Vec<ChargeFinding>> {
        self.call("reconcile_charges")?;
        Ok(Vec::new())
    }

    async fn refund_order(&self, order_id: &str, _reason: &str) -> CallResult<()> {
        self.call("refund_order")?;
        self.with(|w| {
            if let Some(charge) = w.charges.get_mut(order_id) {
                if charge.captured {
                    charge.refunded_minor = charge.amount_minor;
                }
            }
        });
        Ok(())
    }
}
