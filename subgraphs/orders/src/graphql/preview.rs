//! The checkout preview: what the customer will be charged, before paying.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use commerce::address::AddressInput;
use commerce::money::{CurrencyCode, Money, MoneyObject};
use commerce::tax::PricesInclude;

use super::checkout::{quote_request, ShippingMethodInput};
use super::order::ProductVariant;
use super::promotions::AppliedDiscount;
use super::tax::TaxLine;
use super::{buyer, service, user_error, OrderUserError};
use crate::domain::TaxRate;
use crate::error::OrderError;
use crate::service::Quote;
use crate::services::ShippingRate;

#[derive(InputObject)]
pub struct CheckoutPreviewInput {
    /// The signed-in customer's cart, or the guest cart of `cartToken`.
    pub cart_id: ID,
    /// A guest cart's token (`createGuestCart`); left out for the signed-in customer's cart.
    pub cart_token: Option<String>,
    /// The guest's email, when known: per-customer promotion limits count by it.
    pub email: Option<String>,
    /// An address from the customer's address book; or give `shippingAddress`.
    pub address_id: Option<ID>,
    pub shipping_address: Option<AddressInput>,
    /// One of the preview's `shippingOptions`; the cheapest when left out.
    pub shipping_method: Option<ShippingMethodInput>,
}

/// A carrier service that ships the cart to the address, and its price.
#[derive(SimpleObject, Clone, Debug)]
pub struct CheckoutShippingOption {
    pub carrier: String,
    pub service: String,
    pub price: MoneyObject,
}

/// A cart line as checkout would sell it now.
#[derive(SimpleObject, Clone, Debug)]
pub struct CheckoutPreviewLine {
    pub variant: ProductVariant,
    pub sku: String,
    pub name: String,
    /// The variant's option values ("M / Blue"); empty for a product without options.
    pub variant_title: String,
    /// The catalog's price now.
    pub unit_price: MoneyObject,
    pub quantity: i64,
    /// Unit price times quantity.
    pub line_total: MoneyObject,
    /// The line's share of the discounts.
    pub discount: MoneyObject,
    /// The line's tax; null when untaxed.
    pub tax: Option<TaxLine>,
}

/// What checkout would charge, line by line, now.
#[derive(SimpleObject, Clone, Debug)]
pub struct CheckoutPreview {
    pub currency: CurrencyCode,
    pub lines: Vec<CheckoutPreviewLine>,
    /// Every carrier service that ships the cart there, cheapest first.
    pub shipping_options: Vec<CheckoutShippingOption>,
    /// The one chosen (the cheapest when none was).
    pub shipping_option: CheckoutShippingOption,
    /// The lines before discounts.
    pub subtotal: MoneyObject,
    /// The codes on the cart (those that do not apply are userErrors beside the preview).
    pub promotion_codes: Vec<String>,
    /// What each promotion takes off, codes and automatic ones.
    pub discounts: Vec<AppliedDiscount>,
    /// What discounts take off the lines.
    pub discount: MoneyObject,
    pub shipping: MoneyObject,
    pub shipping_discount: MoneyObject,
    /// The tax per rate over the lines and shipping.
    pub tax_lines: Vec<TaxLine>,
    /// Inside the prices when `pricesIncludeTax`, else added to the total.
    pub tax: MoneyObject,
    pub prices_include_tax: bool,
    /// What checkout charges.
    pub total: MoneyObject,
    /// Give it to `checkout` as `previewToken`: checkout then charges exactly this total or
    /// refuses, naming what changed.
    pub token: String,
}

#[derive(SimpleObject)]
pub struct CheckoutPreviewResult {
    pub preview: Option<CheckoutPreview>,
    pub user_errors: Vec<OrderUserError>,
}

fn shown(quote: Quote) -> CheckoutPreview {
    let totals = &quote.totals;
    let money = |minor_units| -> MoneyObject {
        Money {
            minor_units,
            currency: totals.currency,
        }
        .into()
    };
    let option = |rate: &ShippingRate| CheckoutShippingOption {
        carrier: rate.method.carrier.clone(),
        service: rate.method.service.clone(),
        price: rate.price.into(),
    };
    let held = |tax_minor: i64| match totals.prices {
        PricesInclude::Tax => tax_minor,
        PricesInclude::NoTax => 0,
    };
    let lines = quote
        .lines
        .iter()
        .zip(&totals.lines)
        .map(|(line, priced)| CheckoutPreviewLine {
            variant: ProductVariant {
                id: ID(line.variant.id.clone()),
            },
            sku: line.variant.sku.clone(),
            name: line.variant.name.clone(),
            variant_title: line.variant.title.clone(),
            unit_price: line.variant.price.into(),
            quantity: line.quantity,
            line_total: money(priced.total_minor),
            discount: money(priced.discount_minor),
            tax: priced.tax.as_ref().map(|tax| {
                let rate = TaxRate {
                    name: tax.name.clone(),
                    rate_ppm: tax.rate_ppm,
                };
                let taxable = priced.total_minor - priced.discount_minor - held(tax.tax_minor);
                TaxLine::new(&rate, money(tax.tax_minor), money(taxable))
            }),
        })
        .collect();
    CheckoutPreview {
        currency: totals.currency,
        lines,
        shipping_options: quote.shipping_options.iter().map(option).collect(),
        shipping_option: option(&quote.shipping),
        subtotal: money(totals.subtotal_minor),
        promotion_codes: quote.codes.clone(),
        discounts: quote
            .discounts
            .iter()
            .map(|d| AppliedDiscount {
                name: d.name.clone(),
                code: d.code.clone(),
                amount: money(d.total()),
            })
            .collect(),
        discount: money(totals.discount_minor),
        shipping: money(totals.shipping_minor),
        shipping_discount: money(totals.shipping_discount_minor),
        tax_lines: totals
            .taxes
            .iter()
            .map(|rate| {
                let named = TaxRate {
                    name: rate.name.clone(),
                    rate_ppm: rate.rate_ppm,
                };
                TaxLine::new(&named, money(rate.tax_minor), money(rate.net_minor))
            })
            .collect(),
        tax: money(totals.tax_minor),
        prices_include_tax: totals.prices == PricesInclude::Tax,
        total: money(totals.total_minor),
        token: quote.token(),
    }
}

#[derive(Default)]
pub struct PreviewQuery;

#[Object]
impl PreviewQuery {
    /// What checking out the cart would charge now: its lines at today's prices, the shipping
    /// options, discounts and tax. Whatever would stop a checkout (an empty cart, no carrier to
    /// the address) is a userError; a code on the cart that does not apply is a userError
    /// beside the preview (without it), and checkout refuses until it is removed.
    async fn checkout_preview(
        &self,
        ctx: &Context<'_>,
        input: CheckoutPreviewInput,
    ) -> async_graphql::Result<CheckoutPreviewResult> {
        let buyer = buyer(ctx, input.cart_token, input.email)?;
        let request = quote_request(
            input.cart_id,
            input.address_id,
            input.shipping_address,
            input.shipping_method,
        );
        let quote = match (buyer, request) {
            (Ok(buyer), Ok(request)) => service(ctx).quote(&buyer, &request).await,
            (Err(error), _) | (_, Err(error)) => Err(error),
        };
        let quote = match quote {
            Ok(quote) => quote,
            Err(error) => {
                return Ok(CheckoutPreviewResult {
                    preview: None,
                    user_errors: vec![user_error(error)?],
                })
            }
        };
        let user_errors = quote
            .refused
            .iter()
            .map(|(name, reason)| {
                user_error(OrderError::PromotionRefused {
                    name: name.clone(),
                    reason: reason.clone(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(CheckoutPreviewResult {
            preview: Some(shown(quote)),
            user_errors,
        })
    }
}
