//! An order, its lines, its status history and its checkout, as the store parses them from
//! their rows (once; a stored value that does not parse is `StoreError::Corrupt`).

use commerce::address::Address;
use commerce::money::CurrencyCode;
use events::orders::ShippingMethod;

use super::checkout::{Failure, Step};
use super::status::{Actor, OrderStatus};

#[derive(Clone, Debug, PartialEq, Eq)]
/// An order as it was placed, with its current status.
pub struct Order {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub email: String,
    pub currency: CurrencyCode,
    /// The lines before discounts.
    pub subtotal_minor: i64,
    /// What discounts took off the lines.
    pub discount_minor: i64,
    pub shipping_minor: i64,
    pub shipping_discount_minor: i64,
    /// The tax, held in the prices or added to them (`prices_include_tax`).
    pub tax_minor: i64,
    /// The shipping's part of `tax_minor`.
    pub shipping_tax_minor: i64,
    pub prices_include_tax: bool,
    /// What was charged.
    pub total_minor: i64,
    pub shipping_address: Address,
    /// Where the bill goes; none for orders from before billing addresses (the shipping
    /// address then).
    pub billing_address: Option<Address>,
    /// The customer's note to the shop ("leave it with the neighbour"); empty when none.
    pub note: String,
    /// The carrier service chosen at checkout; none for orders placed at a flat fee.
    pub shipping_method: Option<ShippingMethod>,
    pub status: OrderStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new order as checkout priced it, with its lines and tax lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedOrder {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    pub tax_lines: Vec<OrderTaxLine>,
    /// What each promotion took off (each holds one of its uses while the order stands).
    pub discounts: Vec<OrderDiscount>,
}

/// What one promotion took off an order (its lines and shipping together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDiscount {
    pub order_id: String,
    pub promotion_id: String,
    pub name: String,
    /// The code the customer gave; none for an automatic promotion.
    pub code: Option<String>,
    pub amount_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// A line as it was sold: the catalog's price at checkout.
pub struct OrderLine {
    pub order_id: String,
    pub position: i64,
    pub product_id: String,
    /// The variant sold.
    pub variant_id: String,
    /// The variant's SKU at checkout.
    pub sku: String,
    /// The product's name at checkout.
    pub name: String,
    /// The variant's option values at checkout ("M / Blue"); empty for a default variant.
    pub variant_title: String,
    pub unit_price_minor: i64,
    pub quantity: i64,
    /// Unit price times quantity.
    pub line_total_minor: i64,
    /// The line's share of the order's discounts.
    pub discount_minor: i64,
    /// The line's tax (held in its price or added to it, as the order's prices are).
    pub tax_minor: i64,
    /// The rate it was taxed at; none when it was not taxed.
    pub tax_rate: Option<TaxRate>,
}

/// A tax rate as an order line or tax line records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxRate {
    pub name: String,
    pub rate_ppm: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// The order's tax at one rate, over its lines and shipping, as its receipt shows it.
pub struct OrderTaxLine {
    pub order_id: String,
    pub rate: TaxRate,
    pub tax_minor: i64,
    /// What the rate was charged on, without tax.
    pub net_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// One change in an order's status history.
pub struct StatusEntry {
    pub order_id: String,
    pub status: OrderStatus,
    pub actor: Actor,
    pub actor_id: Option<String>,
    pub reason: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// An order's checkout saga: where it stands and who works on it.
pub struct Checkout {
    pub order_id: String,
    pub cart_id: String,
    pub payment_token: Option<String>,
    /// A guest cart's token while the checkout runs; none for a customer's cart.
    pub cart_token: Option<String>,
    pub step: Step,
    pub attempts: i64,
    pub failure: Option<Failure>,
    /// Until when its lease holder works on it; after it, anyone may take it over.
    pub lease_until: i64,
    /// The reference its stock is held under when not the order's id (held again after the
    /// first hold ran out).
    pub reservation: Option<String>,
}

impl Checkout {
    /// Whose cart it checks out: the guest cart of its token, else the customer's.
    pub fn cart_holder(&self, customer_id: &str) -> super::buyer::CartHolder {
        use super::buyer::CartHolder;
        match &self.cart_token {
            Some(token) => CartHolder::Guest(token.clone()),
            None => CartHolder::User(customer_id.into()),
        }
    }

    /// The reference its stock is held under.
    pub fn held_as(&self) -> &str {
        self.reservation.as_deref().unwrap_or(&self.order_id)
    }

    /// Unfinished, and nobody is working on it.
    pub fn is_stalled(&self, now: i64) -> bool {
        self.step != Step::Done && self.lease_until < now
    }

    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }
}
