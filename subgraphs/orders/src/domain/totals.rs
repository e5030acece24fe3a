//! Order totals: line totals, discounts, shipping, tax and the total charged, in integer minor
//! units of one currency, with overflow refused rather than wrapped.
//!
//! The lines are priced as the shop shows prices (with tax when [`PricesInclude::Tax`]). Each
//! line's discount and the shipping's discount come off first ([`untaxed`]); a tax provider
//! reckons the tax on what is left of each line and of the shipping, together, so rounding per
//! total covers both ([`table_tax`] is the built-in one); [`Untaxed::with_tax`] adds it up. The total is
//! `subtotal − discount + shipping − shipping discount`, plus the tax when prices exclude it.
//! Nothing is ever below zero.

use commerce::money::{CurrencyCode, Money};
use commerce::tax::{
    tax_lines, Destination, LineTax, PricesInclude, RateTotal, TaxBreakdown, TaxClass, TaxError,
    TaxRounding, TaxTable, TaxableLine,
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
    /// A tax provider's answer does not fit the order (another number of lines, a negative
    /// tax): refused rather than charged.
    #[error("the tax worked out does not fit the order")]
    TaxMismatch,
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

/// An order's amounts before tax, checked: the lines with their discounts, the shipping with
/// its, and what each is taxed on (the lines, then the shipping, for a [`TaxableLine`] each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untaxed {
    currency: CurrencyCode,
    lines: Vec<LineTotals>,
    subtotal_minor: i64,
    discount_minor: i64,
    shipping_minor: i64,
    shipping_discount_minor: i64,
    taxable: Vec<TaxableLine>,
}

/// The order's amounts before tax: the lines, their discounts, the shipping (taxed as
/// `shipping_class`) and its discount.
pub fn untaxed(
    lines: &[PricedLine],
    shipping: Money,
    discounts: &Discounts,
    shipping_class: TaxClass,
) -> Result<Untaxed, TotalsError> {
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
            class: line.tax_class,
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
        class: shipping_class,
    });
    Ok(Untaxed {
        currency,
        lines: line_totals,
        subtotal_minor: subtotal,
        discount_minor: discount,
        shipping_minor: shipping.minor_units,
        shipping_discount_minor: discounts.shipping,
        taxable,
    })
}

impl Untaxed {
    /// What to tax: each line after its discount, then the shipping after its.
    pub fn taxable(&self) -> &[TaxableLine] {
        &self.taxable
    }

    /// The totals with `tax` (a breakdown of [`Untaxed::taxable`], as a tax provider made it)
    /// held in the prices or added to them.
    pub fn with_tax(self, tax: TaxBreakdown, prices: PricesInclude) -> Result<Totals, TotalsError> {
        let taxes_fit = tax.lines.len() == self.taxable.len()
            && tax.tax_minor >= 0
            && tax.lines.iter().flatten().all(|t| t.tax_minor >= 0);
        if !taxes_fit {
            return Err(TotalsError::TaxMismatch);
        }
        let mut line_taxes = tax.lines.into_iter();
        let mut lines = self.lines;
        for line in &mut lines {
            line.tax = line_taxes.next().flatten();
        }
        let shipping_tax = line_taxes.next().flatten();
        let add = |a: i64, b: i64| a.checked_add(b).ok_or(TotalsError::Overflow);
        let mut total = add(
            self.subtotal_minor - self.discount_minor,
            self.shipping_minor - self.shipping_discount_minor,
        )?;
        if prices == PricesInclude::NoTax {
            total = add(total, tax.tax_minor)?;
        }
        Ok(Totals {
            currency: self.currency,
            lines,
            subtotal_minor: self.subtotal_minor,
            discount_minor: self.discount_minor,
            shipping_minor: self.shipping_minor,
            shipping_discount_minor: self.shipping_discount_minor,
            shipping_tax,
            taxes: tax.rates,
            tax_minor: tax.tax_minor,
            prices,
            total_minor: total,
        })
    }
}

/// The tax of `lines` sent to `to` by `table`'s rates, as the built-in tax provider works it
/// out: a destination the table has no rate for is not taxed (the shop does not collect tax
/// there), which is how an untaxed shop works too.
pub fn table_tax(
    table: &TaxTable,
    lines: &[TaxableLine],
    to: &Destination,
    settings: TaxSettings,
) -> Result<TaxBreakdown, TaxError> {
    let lines: Vec<TaxableLine> = lines
        .iter()
        .map(|line| match table.rule(to, line.class) {
            Ok(_) => Ok(*line),
            Err(TaxError::NoRate { .. }) => Ok(TaxableLine {
                class: TaxClass::Exempt,
                ..*line
            }),
            Err(error) => Err(error),
        })
        .collect::<Result<_, _>>()?;
    tax_lines(&lines, to, table, settings.prices, settings.rounding)
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
        let settings = TaxSettings {
            prices,
            rounding,
            shipping_class: TaxClass::Standard,
        };
        let untaxed = super::untaxed(lines, shipping, &discounts, settings.shipping_class)?;
        let tax = table_tax(&table, untaxed.taxable(), &destination, settings)?;
        untaxed.with_tax(tax, prices)
    }

    fn not_taxed(lines: &[PricedLine], shipping: Money) -> Result<Totals, TotalsError> {
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
        let totals = not_taxed(&[line(usd(1_999), 3), line(usd(250), 1)], usd(495)).unwrap();
        assert_eq!(totals.subtotal_minor, 6_247);
        assert_eq!(totals.total(), usd(6_742));
        assert_eq!(totals.total().amount(), "67.42");
        assert_eq!(totals.tax_minor, 0, "no rate for GB: not taxed");
        assert!(totals.taxes.is_empty());
    }

    #[test]
    fn empty_mixed_zero_and_huge_orders_are_refused() {
        assert_eq!(not_taxed(&[], usd(0)), Err(TotalsError::Empty));
        assert!(matches!(
            not_taxed(&[line(usd(100), 1), line(eur(100), 1)], usd(0)),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert!(matches!(
            not_taxed(&[line(usd(100), 1)], eur(0)),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert_eq!(
            not_taxed(&[line(usd(100), 0)], usd(0)),
            Err(TotalsError::Quantity)
        );
        assert_eq!(
            not_taxed(&[line(usd(i64::MAX / 2), 3)], usd(0)),
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
    fn a_tax_that_does_not_fit_the_order_is_refused() {
        let lines = [line(eur(1_000), 1)];
        let before = untaxed(
            &lines,
            eur(0),
            &Discounts {
                lines: vec![0],
                shipping: 0,
            },
            TaxClass::Standard,
        )
        .unwrap();
        let short = TaxBreakdown {
            lines: vec![None],
            rates: Vec::new(),
            tax_minor: 0,
            gross_minor: 1_000,
            net_minor: 1_000,
        };
        assert_eq!(
            before.clone().with_tax(short, PricesInclude::NoTax),
            Err(TotalsError::TaxMismatch),
            "one tax per line and one for the shipping"
        );
        let negative = TaxBreakdown {
            lines: vec![None, None],
            rates: Vec::new(),
            tax_minor: -1,
            gross_minor: 999,
            net_minor: 1_000,
        };
        assert_eq!(
            before.with_tax(negative, PricesInclude::NoTax),
            Err(TotalsError::TaxMismatch)
        );
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
