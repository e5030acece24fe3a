//! Order totals: line totals, discounts, shipping, tax and the total charged, in integer minor
//! units of one currency, with overflow refused rather than wrapped.
//!
//! The lines are priced as the shop shows prices (with tax when [`PricesInclude::Tax`]). Each
//! line's discount and the shipping's discount come off first; tax is reckoned on what is left
//! of each line and of the shipping, together, so rounding per total covers both. The total is
//! `subtotal − discount + shipping − shipping discount`, plus the tax when prices exclude it.
//! Nothing is ever below zero.

use commerce::money::{CurrencyCode, Money};
use commerce::tax::{
    tax_lines, Destination, LineTax, PricesInclude, RateTotal, TaxClass, TaxError, TaxRounding,
    TaxTable, TaxableLine,
};

/// A line as priced at checkout (the catalog's current price) and what it is taxed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PricedLine {
    pub unit_price: Money,
    pub quantity: i64,
    pub tax_class: TaxClass,
}

/// The shop's tax settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaxSettings {
    pub prices: PricesInclude,
    pub rounding: TaxRounding,
    /// What shipping is taxed as.
    pub shipping_class: TaxClass,
}

/// Where the order goes and the rates that apply there.
#[derive(Clone, Copy, Debug)]
pub struct TaxContext<'a> {
    pub settings: TaxSettings,
    pub table: &'a TaxTable,
    pub destination: &'a Destination,
}

/// What discounts take off: each line's share (in line order) and the shipping's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discounts {
    pub lines: Vec<i64>,
    pub shipping: i64,
}

/// A line with its discount and tax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineTotals {
    /// Unit price times quantity.
    pub total_minor: i64,
    pub discount_minor: i64,
    /// None: not taxed (exempt, or no rate where it goes).
    pub tax: Option<LineTax>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub currency: CurrencyCode,
    pub lines: Vec<LineTotals>,
    /// The lines before discounts.
    pub subtotal_minor: i64,
    /// What the discounts take off the lines.
    pub discount_minor: i64,
    pub shipping_minor: i64,
    pub shipping_discount_minor: i64,
    pub shipping_tax: Option<LineTax>,
    /// The tax per rate, over the lines and the shipping.
    pub taxes: Vec<RateTotal>,
    pub tax_minor: i64,
    pub prices: PricesInclude,
    /// What the customer is charged.
    pub total_minor: i64,
}

impl Totals {
    pub fn total(&self) -> Money {
        Money {
            minor_units: self.total_minor,
            currency: self.currency,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("an order needs at least one line")]
    Empty,
    #[error("every line and the shipping must be in {expected:?}, not {found:?}")]
    MixedCurrencies {
        expected: CurrencyCode,
        found: CurrencyCode,
    },
    #[error("quantities are positive")]
    Quantity,
    #[error("the amounts are too large")]
    Overflow,
    /// A discount below zero or above what it is taken from: a bug in what computed it.
    #[error("a discount must be between zero and the amount it is taken from")]
    Discount,
    #[error(transparent)]
    Tax(#[from] TaxError),
}

/// A line's total: unit price times quantity.
pub fn line_total(line: &PricedLine) -> Result<Money, TotalsError> {
    if line.quantity <= 0 {
        return Err(TotalsError::Quantity);
    }
    Ok(Money {
        minor_units: line
            .unit_price
            .minor_units
            .checked_mul(line.quantity)
            .ok_or(TotalsError::Overflow)?,
        currency: line.unit_price.currency,
    })
}

/// What `class` is taxed as where the order goes: a destination the table has no rate for is
/// not taxed (the shop does not collect tax there), which is how an untaxed shop works too.
fn taxed_as(tax: &TaxContext<'_>, class: TaxClass) -> Result<TaxClass, TotalsError> {
    match tax.table.rule(tax.destination, class) {
        Ok(_) => Ok(class),
        Err(TaxError::NoRate { .. }) => Ok(TaxClass::Exempt),
        Err(error) => Err(error.into()),
    }
}

/// The order's totals: the lines, their discounts, the shipping and its discount, and the tax.
pub fn totals(
    lines: &[PricedLine],
    shipping: Money,
    discounts: &Discounts,
    tax: &TaxContext<'_>,
) -> Result<Totals, TotalsError> {
    let first = lines.first().ok_or(TotalsError::Empty)?;
    let currency = first.unit_price.currency;
    let same_currency = |found: CurrencyCode| {
        if found == currency {
            Ok(())
        } else {
            Err(TotalsError::MixedCurrencies {
                expected: currency,
                found,
            })
        }
    };
    same_currency(shipping.currency)?;
    if shipping.minor_units < 0 || discounts.lines.len() != lines.len() {
        return Err(TotalsError::Discount);
    }
    let add = |a: i64, b: i64| a.checked_add(b).ok_or(TotalsError::Overflow);
    let mut taxable = Vec::with_capacity(lines.len() + 1);
    let mut line_totals = Vec::with_capacity(lines.len());
    let (mut subtotal, mut discount) = (0i64, 0i64);
    for (line, &line_discount) in lines.iter().zip(&discounts.lines) {
        same_currency(line.unit_price.currency)?;
        let total = line_total(line)?.minor_units;
        if total < 0 || !(0..=total).contains(&line_discount) {
            return Err(TotalsError::Discount);
        }
        subtotal = add(subtotal, total)?;
        discount = add(discount, line_discount)?;
        taxable.push(TaxableLine {
            amount_minor: total - line_discount,
            class: taxed_as(tax, line.tax_class)?,
        });
        line_totals.push(LineTotals {
            total_minor: total,
            discount_minor: line_discount,
            tax: None,
        });
    }
    if !(0..=shipping.minor_units).contains(&discounts.shipping) {
        return Err(TotalsError::Discount);
    }
    taxable.push(TaxableLine {
        amount_minor: shipping.minor_units - discounts.shipping,
        class: taxed_as(tax, tax.settings.shipping_class)?,
    });
    let breakdown = tax_lines(
        &taxable,
        tax.destination,
        tax.table,
        tax.settings.prices,
        tax.settings.rounding,
    )?;
    let mut line_taxes = breakdown.lines.into_iter();
    for line in &mut line_totals {
        line.tax = line_taxes.next().flatten();
    }
    let shipping_tax = line_taxes.next().flatten();
    let mut total = add(
        subtotal - discount,
        shipping.minor_units - discounts.shipping,
    )?;
    if tax.settings.prices == PricesInclude::NoTax {
        total = add(total, breakdown.tax_minor)?;
    }
    Ok(Totals {
        currency,
        lines: line_totals,
        subtotal_minor: subtotal,
        discount_minor: discount,
        shipping_minor: shipping.minor_units,
        shipping_discount_minor: discounts.shipping,
        shipping_tax,
        taxes: breakdown.rates,
        tax_minor: breakdown.tax_minor,
        prices: tax.settings.prices,
        total_minor: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use commerce::tax::TaxRule;

    fn money(minor_units: i64, currency: CurrencyCode) -> Money {
        Money {
            minor_units,
            currency,
        }
    }

    fn usd(minor_units: i64) -> Money {
        money(minor_units, CurrencyCode::Usd)
    }

    fn eur(minor_units: i64) -> Money {
        money(minor_units, CurrencyCode::Eur)
    }

    fn line(unit_price: Money, quantity: i64) -> PricedLine {
        PricedLine {
            unit_price,
            quantity,
            tax_class: TaxClass::Standard,
        }
    }

    fn table() -> TaxTable {
        let rule = |country: &str, region: Option<&str>, rate_ppm, name: &str| TaxRule {
            country_code: country.into(),
            region: region.map(String::from),
            class: TaxClass::Standard,
            rate_ppm,
            name: name.into(),
        };
        TaxTable::new(vec![
            rule("DE", None, 190_000, "DE VAT 19%"),
            rule("FR", None, 200_000, "FR VAT 20%"),
            rule("US", Some("CA"), 72_500, "CA sales tax"),
            rule("US", Some("NY"), 88_750, "NY sales tax"),
        ])
        .unwrap()
    }

    fn to(country: &str, region: Option<&str>) -> Destination {
        Destination {
            country_code: country.into(),
            region: region.map(String::from),
        }
    }

    fn priced(
        lines: &[PricedLine],
        shipping: Money,
        discounts: Option<Discounts>,
        prices: PricesInclude,
        rounding: TaxRounding,
        destination: Destination,
    ) -> Result<Totals, TotalsError> {
        let table = table();
        let discounts = discounts.unwrap_or(Discounts {
            lines: vec![0; lines.len()],
            shipping: 0,
        });
        let tax = TaxContext {
            settings: TaxSettings {
                prices,
                rounding,
                shipping_class: TaxClass::Standard,
            },
            table: &table,
            destination: &destination,
        };
        totals(lines, shipping, &discounts, &tax)
    }

    fn untaxed(lines: &[PricedLine], shipping: Money) -> Result<Totals, TotalsError> {
        priced(
            lines,
            shipping,
            None,
            PricesInclude::NoTax,
            TaxRounding::PerLine,
            to("GB", None),
        )
    }

    #[test]
    fn totals_add_up_in_minor_units() {
        let totals = untaxed(&[line(usd(1_999), 3), line(usd(250), 1)], usd(495)).unwrap();
        assert_eq!(totals.subtotal_minor, 6_247);
        assert_eq!(totals.total(), usd(6_742));
        assert_eq!(totals.total().amount(), "67.42");
        assert_eq!(totals.tax_minor, 0, "no rate for GB: not taxed");
        assert!(totals.taxes.is_empty());
    }

    #[test]
    fn empty_mixed_zero_and_huge_orders_are_refused() {
        assert_eq!(untaxed(&[], usd(0)), Err(TotalsError::Empty));
        assert!(matches!(
            untaxed(&[line(usd(100), 1), line(eur(100), 1)], usd(0)),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert!(matches!(
            untaxed(&[line(usd(100), 1)], eur(0)),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert_eq!(
            untaxed(&[line(usd(100), 0)], usd(0)),
            Err(TotalsError::Quantity)
        );
        assert_eq!(
            untaxed(&[line(usd(i64::MAX / 2), 3)], usd(0)),
            Err(TotalsError::Overflow)
        );
    }

    #[test]
    fn prices_with_tax_hold_it_and_the_total_is_what_was_shown() {
        // 2 × 59.50 + 4.90 shipping, to Germany at 19% and to France at 20%.
        for (country, rate, tax) in [("DE", 190_000, 1_978), ("FR", 200_000, 2_065)] {
            let totals = priced(
                &[line(eur(5_950), 2)],
                eur(490),
                None,
                PricesInclude::Tax,
                TaxRounding::PerLine,
                to(country, None),
            )
            .unwrap();
            assert_eq!(
                totals.total_minor, 12_390,
                "{country}: tax is inside the prices"
            );
            assert_eq!(totals.tax_minor, tax, "{country}");
            assert_eq!(totals.taxes.len(), 1);
            assert_eq!(totals.taxes[0].rate_ppm, rate);
            let line_tax = totals.lines[0].tax.as_ref().unwrap().tax_minor;
            let shipping_tax = totals.shipping_tax.as_ref().unwrap().tax_minor;
            assert_eq!(
                line_tax + shipping_tax,
                tax,
                "{country}: lines add up to the total"
            );
        }
    }

    #[test]
    fn tax_comes_on_top_of_prices_without_it_by_state() {
        for (region, tax) in [("CA", 761), ("NY", 932)] {
            // 100.00 + 5.00 shipping: 7.25% of 105.00 = 7.6125; 8.875% = 9.31875.
            let totals = priced(
                &[line(usd(10_000), 1)],
                usd(500),
                None,
                PricesInclude::NoTax,
                TaxRounding::PerTotal,
                to("US", Some(region)),
            )
            .unwrap();
            assert_eq!(totals.tax_minor, tax, "{region}");
            assert_eq!(totals.total_minor, 10_500 + tax, "{region}");
        }
    }

    #[test]
    fn many_cent_lines_round_per_line_or_per_total_as_stated() {
        // 100 lines of 0.01 at 19% on top: each line's 0.0019 rounds to nothing, while the
        // order's 0.19 rounds once.
        let lines = vec![line(eur(1), 1); 100];
        let per_line = priced(
            &lines,
            eur(0),
            None,
            PricesInclude::NoTax,
            TaxRounding::PerLine,
            to("DE", None),
        )
        .unwrap();
        assert_eq!(per_line.tax_minor, 0);
        assert_eq!(per_line.total_minor, 100);
        let per_total = priced(
            &lines,
            eur(0),
            None,
            PricesInclude::NoTax,
            TaxRounding::PerTotal,
            to("DE", None),
        )
        .unwrap();
        assert_eq!(per_total.tax_minor, 19);
        assert_eq!(per_total.total_minor, 119);
        let spread: i64 = per_total
            .lines
            .iter()
            .map(|l| l.tax.as_ref().unwrap().tax_minor)
            .sum();
        assert_eq!(spread, 19, "the lines' shares add up to the order's tax");
        assert!(per_total
            .lines
            .iter()
            .all(|l| l.tax.as_ref().unwrap().tax_minor <= 1));
    }

    #[test]
    fn discounts_come_off_before_tax_and_never_below_zero() {
        // The whole line off, the shipping kept: tax only on the shipping.
        let totals = priced(
            &[line(eur(1_000), 1)],
            eur(500),
            Some(Discounts {
                lines: vec![1_000],
                shipping: 0,
            }),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
            to("DE", None),
        )
        .unwrap();
        assert_eq!(totals.discount_minor, 1_000);
        assert_eq!(totals.tax_minor, 95);
        assert_eq!(totals.total_minor, 595);
        let more_than_the_line = priced(
            &[line(eur(1_000), 1)],
            eur(500),
            Some(Discounts {
                lines: vec![1_001],
                shipping: 0,
            }),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
            to("DE", None),
        );
        assert_eq!(more_than_the_line, Err(TotalsError::Discount));
        let more_than_the_shipping = priced(
            &[line(eur(1_000), 1)],
            eur(500),
            Some(Discounts {
                lines: vec![0],
                shipping: 501,
            }),
            PricesInclude::Tax,
            TaxRounding::PerLine,
            to("DE", None),
        );
        assert_eq!(more_than_the_shipping, Err(TotalsError::Discount));
    }

    #[test]
    fn exempt_goods_have_no_tax_line_and_zero_rated_goods_a_line_of_nothing() {
        let goods = |tax_class| PricedLine {
            unit_price: eur(1_000),
            quantity: 1,
            tax_class,
        };
        let totals = priced(
            &[goods(TaxClass::Exempt), goods(TaxClass::Zero)],
            eur(0),
            None,
            PricesInclude::Tax,
            TaxRounding::PerLine,
            to("DE", None),
        )
        .unwrap();
        assert_eq!(totals.lines[0].tax, None);
        assert_eq!(totals.lines[1].tax.as_ref().unwrap().tax_minor, 0);
        assert_eq!(totals.total_minor, 2_000);
    }
}
