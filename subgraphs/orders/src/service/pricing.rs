//! What a cart costs sent somewhere: its lines at the catalog's current prices, the carrier
//! services that ship it there, the discounts and the tax, priced the same way for the checkout
//! preview and for checkout itself. The preview's token records what the customer was shown;
//! checkout refuses, naming what changed, when the order would differ from it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use commerce::address::Address;
use commerce::money::{CurrencyCode, Money};
use commerce::tax::{parse_percent, Destination, TaxClass, TaxRule, TaxTable};
use serde::{Deserialize, Serialize};

use super::{AddressChoice, OrdersService};
use crate::domain::buyer::Buyer;
use crate::domain::promotion::{self, Applied, DiscountableLine, Refusal, Target};
use crate::domain::totals::{self, Discounts, PricedLine, TaxSettings, Totals};
use crate::error::{OrderError, OrderResult};
use crate::services::{CartLine, CatalogVariant, ShippingRate};
use crate::taxes::{with_admin_rates, TaxRequest};
use events::orders::ShippingMethod;
use primitives::time::now_millis;

/// What to price: a customer's cart, where it goes and how.
#[derive(Clone, Debug, Serialize)]
pub struct QuoteRequest {
    pub cart_id: String,
    pub address: AddressChoice,
    /// The carrier service (from `shippingRates`); the cheapest when not given.
    pub shipping_method: Option<ShippingMethod>,
}

/// A cart's line as priced now.
#[derive(Clone, Debug)]
pub struct QuotedLine {
    pub variant: CatalogVariant,
    pub quantity: i64,
}

/// A cart priced for a destination.
#[derive(Clone, Debug)]
pub struct Quote {
    pub email: String,
    pub address: Address,
    pub lines: Vec<QuotedLine>,
    /// Every carrier service that ships the cart there, cheapest first.
    pub shipping_options: Vec<ShippingRate>,
    /// The one chosen (or the cheapest).
    pub shipping: ShippingRate,
    /// What each promotion takes off, in the order they apply.
    pub discounts: Vec<Applied>,
    /// The codes applied to the cart.
    pub codes: Vec<String>,
    /// Codes that do not apply to this order, and why.
    pub refused: Vec<(String, Refusal)>,
    pub totals: Totals,
}

impl Quote {
    /// What the preview shows, as a token checkout can compare with.
    pub fn token(&self) -> String {
        let shown = Shown::of(self);
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&shown).expect("a preview serializes"))
    }

    /// What differs between the preview behind `token` and this quote; empty when they agree.
    pub fn changes_since(&self, token: &str) -> OrderResult<Vec<String>> {
        let shown: Shown = URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(OrderError::InvalidInput {
                field: "previewToken",
                message: "is not a token from checkoutPreview",
            })?;
        Ok(shown.changes_to(&Shown::of(self)))
    }
}

/// What a preview showed, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Shown {
    currency: String,
    /// Variant id, SKU, unit price, quantity.
    lines: Vec<(String, String, i64, i64)>,
    /// Carrier, service, price.
    shipping: (String, String, i64),
    discount: i64,
    shipping_discount: i64,
    /// Each promotion's name and what it takes off.
    #[serde(default)]
    discounts: Vec<(String, i64)>,
    tax: i64,
    total: i64,
}

impl Shown {
    fn of(quote: &Quote) -> Self {
        let totals = &quote.totals;
        Self {
            currency: totals.currency.as_str().into(),
            lines: quote
                .lines
                .iter()
                .map(|l| {
                    let v = &l.variant;
                    (v.id.clone(), v.sku.clone(), v.price.minor_units, l.quantity)
                })
                .collect(),
            shipping: (
                quote.shipping.method.carrier.clone(),
                quote.shipping.method.service.clone(),
                quote.shipping.price.minor_units,
            ),
            discount: totals.discount_minor,
            shipping_discount: totals.shipping_discount_minor,
            discounts: quote
                .discounts
                .iter()
                .map(|d| (d.name.clone(), d.total()))
                .collect(),
            tax: totals.tax_minor,
            total: totals.total_minor,
        }
    }

    /// Each difference from `now`, as the customer is told.
    fn changes_to(&self, now: &Shown) -> Vec<String> {
        let Some(currency) = CurrencyCode::parse(&now.currency) else {
            return vec!["the prices' currency changed".into()];
        };
        if self.currency != now.currency {
            return vec![format!(
                "prices are now in {}, not {}",
                now.currency, self.currency
            )];
        }
        let amount = |minor_units| {
            Money {
                minor_units,
                currency,
            }
            .amount()
        };
        let mut changes = Vec::new();
        for (id, sku, price, quantity) in &now.lines {
            match self.lines.iter().find(|line| &line.0 == id) {
                None => changes.push(format!("{sku} was added to the cart")),
                Some((_, _, was, _)) if was != price => changes.push(format!(
                    "{sku} now costs {} (was {})",
                    amount(*price),
                    amount(*was)
                )),
                Some((_, _, _, was)) if was != quantity => {
                    changes.push(format!("{sku}: {quantity} in the cart now (was {was})"))
                }
                Some(_) => {}
            }
        }
        for (id, sku, _, _) in &self.lines {
            if !now.lines.iter().any(|line| &line.0 == id) {
                changes.push(format!("{sku} is no longer in the cart"));
            }
        }
        let (carrier, service, price) = &now.shipping;
        if (carrier, service) != (&self.shipping.0, &self.shipping.1) {
            changes.push(format!(
                "shipping is now by {carrier}/{service} (was {}/{})",
                self.shipping.0, self.shipping.1
            ));
        } else if *price != self.shipping.2 {
            changes.push(format!(
                "shipping now costs {} (was {})",
                amount(*price),
                amount(self.shipping.2)
            ));
        }
        for (name, taken) in &now.discounts {
            match self.discounts.iter().find(|(n, _)| n == name) {
                None => changes.push(format!("{name} now applies (-{})", amount(*taken))),
                Some((_, was)) if was != taken => changes.push(format!(
                    "{name} now takes off {} (was {})",
                    amount(*taken),
                    amount(*was)
                )),
                Some(_) => {}
            }
        }
        for (name, _) in &self.discounts {
            if !now.discounts.iter().any(|(n, _)| n == name) {
                changes.push(format!("{name} no longer applies"));
            }
        }
        for (what, now, was) in [
            ("the discount", now.discount, self.discount),
            (
                "the shipping discount",
                now.shipping_discount,
                self.shipping_discount,
            ),
            ("the tax", now.tax, self.tax),
        ] {
            if now != was {
                changes.push(format!(
                    "{what} is now {} (was {})",
                    amount(now),
                    amount(was)
                ));
            }
        }
        if now.total != self.total || !changes.is_empty() {
            changes.push(format!(
                "the total is now {} (was {})",
                amount(now.total),
                amount(self.total)
            ));
        }
        changes
    }
}

/// A place and class whose tax rate an admin sets or removes.
#[derive(Clone, Debug)]
pub struct TaxRateChange {
    pub country_code: String,
    pub region: Option<String>,
    pub class: TaxClass,
}

impl TaxRateChange {
    /// The country upper-cased and checked, the region likewise (blank: the whole country).
    fn checked(self) -> OrderResult<Self> {
        let country_code = self.country_code.trim().to_ascii_uppercase();
        if country_code.len() != 2 || !country_code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(OrderError::InvalidInput {
                field: "countryCode",
                message: "must be an ISO 3166-1 alpha-2 code, like DE",
            });
        }
        let region = match self.region.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(region)
                if region.len() <= 10 && region.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Some(region.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(OrderError::InvalidInput {
                    field: "region",
                    message: "must be a region code of up to 10 letters or digits, like CA",
                })
            }
        };
        Ok(Self {
            country_code,
            region,
            class: self.class,
        })
    }
}

impl OrdersService {
    pub async fn save_tax_settings(&self, settings: &TaxSettings) -> OrderResult<()> {
        Ok(self.store.save_tax_settings(settings).await?)
    }

    /// Sets the rate (a percentage, "19") for a place and class.
    pub async fn set_tax_rate(
        &self,
        change: TaxRateChange,
        percent: &str,
        name: &str,
    ) -> OrderResult<()> {
        let change = change.checked()?;
        let rule = TaxRule {
            country_code: change.country_code,
            region: change.region,
            class: change.class,
            rate_ppm: parse_percent(percent).map_err(OrderError::Tax)?,
            name: name.trim().to_string(),
        };
        if rule.name.chars().count() > 100 {
            return Err(OrderError::InvalidInput {
                field: "name",
                message: "must be at most 100 characters",
            });
        }
        // The table checks the rule as it is used (named, 0 to 100%).
        TaxTable::default()
            .set(rule.clone())
            .map_err(OrderError::Tax)?;
        Ok(self.store.save_tax_rate(&rule).await?)
    }

    /// Removes the rate an admin set for a place and class.
    pub async fn remove_tax_rate(&self, change: TaxRateChange) -> OrderResult<()> {
        let change = change.checked()?;
        if !self
            .store
            .remove_tax_rate(&change.country_code, change.region.as_deref(), change.class)
            .await?
        {
            return Err(OrderError::TaxRateNotFound);
        }
        Ok(())
    }

    /// The shop's tax settings: an admin's, else the configuration's.
    pub async fn tax_settings(&self) -> OrderResult<TaxSettings> {
        Ok(self
            .store
            .tax_settings()
            .await?
            .unwrap_or(self.settings.tax))
    }

    /// The built-in tax rates in force (the configuration's with admins' laid over them), and
    /// the admins' own, from one read.
    pub async fn tax_rates(&self) -> OrderResult<(TaxTable, Vec<TaxRule>)> {
        let admins = self.store.tax_rates().await?;
        let table = with_admin_rates(&self.settings.tax_rates, admins.clone())?;
        Ok((table, admins))
    }

    /// Prices the customer's cart for where it goes: the catalog's prices now, shipping's
    /// quotes now, and the shop's tax.
    pub async fn quote(&self, buyer: &Buyer, request: &QuoteRequest) -> OrderResult<Quote> {
        let cart = self
            .services
            .cart(&buyer.cart_holder(), &request.cart_id)
            .await?
            .ok_or(OrderError::CartNotFound)?;
        if cart.is_empty() {
            return Err(OrderError::EmptyCart);
        }
        // A guest has no address book; the email is theirs to give (a preview may not have it).
        let (email, book) = match buyer {
            Buyer::Customer(id) => {
                let customer = self
                    .services
                    .customer(id)
                    .await?
                    .ok_or(OrderError::UnknownCustomer)?;
                (customer.email, customer.addresses)
            }
            Buyer::Guest { email, .. } => (
                email.as_ref().map_or("", |e| e.as_str()).to_string(),
                Vec::new(),
            ),
        };
        let address = match &request.address {
            AddressChoice::New(address) => address.clone(),
            AddressChoice::Book(id) => book
                .iter()
                .find(|a| &a.id == id)
                .map(|a| a.address.clone())
                .ok_or(OrderError::UnknownAddress)?,
        };
        let lines = self.priced_lines(&cart).await?;
        let (shipping_options, shipping) = self
            .shipping(&address, &cart, &request.shipping_method)
            .await?;
        let settings = self.tax_settings().await?;
        let destination = Destination {
            country_code: address.country_code.clone(),
            region: address.region.clone(),
        };
        let priced: Vec<PricedLine> = lines
            .iter()
            .map(|l| PricedLine {
                unit_price: l.variant.price,
                quantity: l.quantity,
                tax_class: l.variant.tax_class,
            })
            .collect();
        let codes = self.store.cart_codes(&request.cart_id).await?;
        let (applied, refused) = self
            .promotions(
                buyer.customer_id().as_deref(),
                &codes,
                &lines,
                shipping.price,
            )
            .await?;
        let discounts = Discounts {
            lines: (0..priced.len())
                .map(|i| applied.iter().map(|a| a.lines[i]).sum())
                .collect(),
            shipping: applied.iter().map(|a| a.shipping).sum(),
        };
        let untaxed =
            totals::untaxed(&priced, shipping.price, &discounts, settings.shipping_class)?;
        let tax = self
            .taxes
            .tax(TaxRequest {
                lines: untaxed.taxable(),
                destination: &destination,
                settings,
            })
            .await?;
        let totals = untaxed.with_tax(tax, settings.prices)?;
        Ok(Quote {
            email,
            address,
            lines,
            shipping_options,
            shipping,
            discounts: applied,
            codes,
            refused,
            totals,
        })
    }

    /// The promotions an order of `lines` shipped for `shipping` gets (the active automatic
    /// ones and those of `codes`, by the stacking rule), and the codes that do not apply with
    /// why. The customer's earlier uses count against per-customer limits; a guest who has not
    /// given an email yet has none counted until checkout, which needs it.
    pub(super) async fn promotions(
        &self,
        customer_id: Option<&str>,
        codes: &[String],
        lines: &[QuotedLine],
        shipping: Money,
    ) -> OrderResult<(Vec<Applied>, Vec<(String, Refusal)>)> {
        let promotions = self.store.promotions_for(codes).await?;
        self.apply_promotions(promotions, customer_id, lines, shipping)
            .await
    }

    /// Like [`Self::promotions`], with the promotions read already (the active automatic ones
    /// and those of the codes).
    pub(super) async fn apply_promotions(
        &self,
        promotions: Vec<promotion::Promotion>,
        customer_id: Option<&str>,
        lines: &[QuotedLine],
        shipping: Money,
    ) -> OrderResult<(Vec<Applied>, Vec<(String, Refusal)>)> {
        if promotions.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let ids: Vec<String> = promotions.iter().map(|p| p.id.clone()).collect();
        let uses = match customer_id {
            Some(customer_id) => self.store.customer_uses(customer_id, &ids).await?,
            None => Vec::new(),
        };
        // Which collections hold the products costs the catalog a look at every collection's
        // rule: asked only when a promotion is for collections.
        let for_collections = promotions
            .iter()
            .any(|p| matches!(p.target, Target::Collections(_)));
        let holding = if for_collections {
            let products: Vec<String> =
                lines.iter().map(|l| l.variant.product_id.clone()).collect();
            self.services.collections_of(&products).await?
        } else {
            Vec::new()
        };
        let discountable: Vec<DiscountableLine> = lines
            .iter()
            .map(|l| DiscountableLine {
                product_id: l.variant.product_id.clone(),
                category_path: l.variant.category_path.clone(),
                collection_ids: holding
                    .iter()
                    .find(|(id, _)| *id == l.variant.product_id)
                    .map(|(_, ids)| ids.clone())
                    .unwrap_or_default(),
                unit_price_minor: l.variant.price.minor_units,
                quantity: l.quantity,
            })
            .collect();
        let order = promotion::Order {
            lines: &discountable,
            shipping_minor: shipping.minor_units,
            currency: shipping.currency,
            now: now_millis(),
        };
        let mut applicable = Vec::new();
        let mut refused = Vec::new();
        for promotion in &promotions {
            let used = uses
                .iter()
                .find(|(id, _)| *id == promotion.id)
                .map_or(0, |(_, n)| *n);
            match (promotion.check(&order, used), &promotion.code) {
                (Ok(()), _) => applicable.push(promotion),
                (Err(refusal), Some(code)) => refused.push((code.clone(), refusal)),
                (Err(_), None) => {}
            }
        }
        Ok((promotion::best(&applicable, &order), refused))
    }

    /// The cart's lines with their variants as the catalog has them now; every one must be for
    /// sale.
    pub(super) async fn priced_lines(&self, cart: &[CartLine]) -> OrderResult<Vec<QuotedLine>> {
        let ids: Vec<String> = cart.iter().map(|l| l.variant_id.clone()).collect();
        let variants = self.services.variants(&ids).await?;
        let mut lines = Vec::with_capacity(cart.len());
        let mut unavailable = Vec::new();
        for cart_line in cart {
            match variants
                .iter()
                .find(|v| v.id == cart_line.variant_id && v.active)
            {
                Some(variant) => lines.push(QuotedLine {
                    variant: variant.clone(),
                    quantity: cart_line.quantity,
                }),
                None => unavailable.push(cart_line.product_id.clone()),
            }
        }
        if !unavailable.is_empty() {
            return Err(OrderError::ProductsUnavailable(unavailable));
        }
        Ok(lines)
    }

    /// Every carrier service that ships the cart to `address` (cheapest first), and the one
    /// chosen (the cheapest when none is).
    async fn shipping(
        &self,
        address: &Address,
        cart: &[CartLine],
        chosen: &Option<ShippingMethod>,
    ) -> OrderResult<(Vec<ShippingRate>, ShippingRate)> {
        let rates = self
            .services
            .shipping_rates(address, cart)
            .await?
            .map_err(OrderError::NoShippingRate)?;
        let rate = match chosen {
            Some(chosen) => rates.iter().find(|r| r.method == *chosen).ok_or_else(|| {
                OrderError::UnknownShippingMethod {
                    carrier: chosen.carrier.clone(),
                    service: chosen.service.clone(),
                }
            })?,
            None => rates.first().ok_or_else(|| {
                OrderError::NoShippingRate("no carrier ships these products to this address".into())
            })?,
        }
        .clone();
        Ok((rates, rate))
    }
}
