//! Sales tax and VAT: the rate a destination charges on a tax class, and the tax of a set of
//! lines, in integer minor units. Rates are parts per million (19% is 190,000; New York City's
//! 8.875% is 88,750), so no rate is ever a float. Amounts round half to even on minor units,
//! either line by line or once per rate over the whole order (then spread over the lines by
//! largest remainder, so the lines always add up to the total).
//!
//! A shop shows prices with tax included (EU) or without (US): with tax included, a line's
//! amount holds its tax (`tax = amount × rate / (1 + rate)`); without, tax comes on top
//! (`tax = amount × rate`).

use serde::{Deserialize, Serialize};

/// One million: a rate of `PPM` parts per million is 100%.
pub const PPM: u32 = 1_000_000;

/// What a product (or shipping) is taxed as; each destination gives each class a rate.
#[derive(
    async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    #[default]
    Standard,
    Reduced,
    /// Taxed at 0% (zero-rated goods): a tax line of nothing, shown.
    Zero,
    /// Outside the tax altogether: no tax line.
    Exempt,
}

impl TaxClass {
    pub const ALL: [Self; 4] = [Self::Standard, Self::Reduced, Self::Zero, Self::Exempt];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Reduced => "reduced",
            Self::Zero => "zero",
            Self::Exempt => "exempt",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Whether the shop's prices hold their tax.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricesInclude {
    /// Prices are what the customer pays (EU shops): the tax is inside them.
    Tax,
    /// Tax comes on top of prices (US shops).
    NoTax,
}

impl PricesInclude {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tax => "tax",
            Self::NoTax => "no_tax",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Tax, Self::NoTax]
            .into_iter()
            .find(|p| p.as_str() == raw)
    }
}

/// Where tax is rounded to minor units.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    /// Each line's tax is rounded; the order's tax is their sum.
    PerLine,
    /// Each rate's tax is rounded once over the order, then spread over its lines.
    PerTotal,
}

impl TaxRounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerLine => "per_line",
            Self::PerTotal => "per_total",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::PerLine, Self::PerTotal]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// Where goods go, as far as tax is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// ISO 3166-1 alpha-2, upper case ("DE").
    pub country_code: String,
    /// A state or province where the country taxes by it ("CA", "NY"); `None` elsewhere.
    pub region: Option<String>,
}

/// A rate for a class at a destination: a country-wide one (`region: None`) or a region's,
/// which wins over the country's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    pub country_code: String,
    pub region: Option<String>,
    pub class: TaxClass,
    /// Parts per million.
    pub rate_ppm: u32,
    /// What receipts call it ("DE VAT 19%", "CA sales tax").
    pub name: String,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaxError {
    #[error("a tax rate must be between 0% and 100%")]
    RateOutOfRange,
    #[error("a tax rule needs a name")]
    Unnamed,
    #[error("a line's amount must not be negative")]
    NegativeAmount,
    #[error("a rate is a percentage with up to 4 decimals, like 19 or 8.875")]
    InvalidPercent,
    #[error("no tax rate is set for {class:?} goods sent to {place}")]
    NoRate { class: TaxClass, place: String },
}

/// A percentage as people write it ("19", "8.875", "0") in parts per million; at most 4
/// decimals (a ppm is 0.0001%) and at most 100%.
pub fn parse_percent(raw: &str) -> Result<u32, TaxError> {
    let raw = raw.trim().trim_end_matches('%').trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 4
        || !digits(whole)
        || !digits(fraction)
    {
        return Err(TaxError::InvalidPercent);
    }
    let whole: u32 = whole.parse().map_err(|_| TaxError::InvalidPercent)?;
    let fraction: u32 = format!("{fraction:0<4}")
        .parse()
        .map_err(|_| TaxError::InvalidPercent)?;
    let ppm = whole * 10_000 + fraction;
    if ppm > PPM {
        return Err(TaxError::RateOutOfRange);
    }
    Ok(ppm)
}

/// A rate in parts per million as a percentage without trailing zeros ("19", "8.875").
pub fn format_percent(rate_ppm: u32) -> String {
    let (whole, fraction) = (rate_ppm / 10_000, rate_ppm % 10_000);
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:04}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// The built-in tax table: rules by country, region and class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaxTable {
    rules: Vec<TaxRule>,
}

impl TaxTable {
    /// A table of `rules`, each checked; a later rule for the same place and class replaces an
    /// earlier one.
    pub fn new(rules: Vec<TaxRule>) -> Result<Self, TaxError> {
        let mut table = Self::default();
        for rule in rules {
            table.set(rule)?;
        }
        Ok(table)
    }

    pub fn set(&mut self, rule: TaxRule) -> Result<(), TaxError> {
        if rule.rate_ppm > PPM {
            return Err(TaxError::RateOutOfRange);
        }
        if rule.name.trim().is_empty() {
            return Err(TaxError::Unnamed);
        }
        let rule = TaxRule {
            country_code: rule.country_code.to_ascii_uppercase(),
            region: rule.region.map(|r| r.to_ascii_uppercase()),
            ..rule
        };
        self.rules.retain(|r| {
            (&r.country_code, &r.region, r.class) != (&rule.country_code, &rule.region, rule.class)
        });
        self.rules.push(rule);
        Ok(())
    }

    pub fn rules(&self) -> &[TaxRule] {
        &self.rules
    }

    /// The rule for `class` goods sent to `to`: the region's, else the country's. `Ok(None)`
    /// for exempt goods (no tax line); zero-rated goods need no rule (0%, named "Zero-rated").
    pub fn rule(&self, to: &Destination, class: TaxClass) -> Result<Option<TaxRule>, TaxError> {
        match class {
            TaxClass::Exempt => return Ok(None),
            TaxClass::Zero => {
                return Ok(Some(TaxRule {
                    country_code: to.country_code.to_ascii_uppercase(),
                    region: None,
                    class,
                    rate_ppm: 0,
                    name: "Zero-rated".into(),
                }))
            }
            TaxClass::Standard | TaxClass::Reduced => {}
        }
        let country = to.country_code.to_ascii_uppercase();
        let region = to.region.as_ref().map(|r| r.to_ascii_uppercase());
        let of_place = |region: &Option<String>| {
            self.rules
                .iter()
                .find(|r| r.country_code == country && &r.region == region && r.class == class)
        };
        let found = region
            .as_ref()
            .and_then(|_| of_place(&region))
            .or_else(|| of_place(&None));
        match found {
            Some(rule) => Ok(Some(rule.clone())),
            None => Err(TaxError::NoRate {
                class,
                place: match region {
                    Some(region) => format!("{country}-{region}"),
                    None => country,
                },
            }),
        }
    }
}

/// A line to tax: its amount in minor units as the shop prices it (with tax when prices
/// include it), after discounts, and its class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaxableLine {
    pub amount_minor: i64,
    pub class: TaxClass,
}

/// A line's tax at one rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineTax {
    pub name: String,
    pub rate_ppm: u32,
    pub tax_minor: i64,
    /// The line without its tax.
    pub net_minor: i64,
}

/// The tax of one rate over the whole order, as a receipt shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTotal {
    pub name: String,
    pub rate_ppm: u32,
    pub tax_minor: i64,
    /// What that rate was charged on, without tax.
    pub net_minor: i64,
}

/// The tax of an order's lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxBreakdown {
    /// Per input line, in order; `None` for exempt lines.
    pub lines: Vec<Option<LineTax>>,
    /// Per rate, in the order the lines first use them.
    pub rates: Vec<RateTotal>,
    pub tax_minor: i64,
    /// What the customer pays: the lines with their tax.
    pub gross_minor: i64,
    /// The lines without their tax.
    pub net_minor: i64,
}

/// The part of `amount_minor` that `part_minor` of `whole_minor` stands for, rounded half to
/// even: the tax in a refund of part of an order, say. Zero when the whole is zero; never more
/// than `amount_minor` for a part within the whole.
pub fn share_of(amount_minor: i64, part_minor: i64, whole_minor: i64) -> i64 {
    if whole_minor <= 0 || part_minor <= 0 || amount_minor <= 0 {
        return 0;
    }
    let part = part_minor.min(whole_minor);
    round_half_even(
        i128::from(amount_minor) * i128::from(part),
        i128::from(whole_minor),
    ) as i64
}

/// `numerator / denominator` rounded half to even (both non-negative, the denominator not 0).
fn round_half_even(numerator: i128, denominator: i128) -> i128 {
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient % 2),
        std::cmp::Ordering::Less => quotient,
    }
}

/// The exact tax of `amount` at `rate_ppm` as a fraction `(numerator, denominator)`.
fn exact_tax(amount: i64, rate_ppm: u32, prices: PricesInclude) -> (i128, i128) {
    let numerator = amount as i128 * rate_ppm as i128;
    let denominator = match prices {
        PricesInclude::NoTax => PPM as i128,
        PricesInclude::Tax => PPM as i128 + rate_ppm as i128,
    };
    (numerator, denominator)
}

/// The tax of `lines` sent to `to`, by `table`'s rates.
pub fn tax_lines(
    lines: &[TaxableLine],
    to: &Destination,
    table: &TaxTable,
    prices: PricesInclude,
    rounding: TaxRounding,
) -> Result<TaxBreakdown, TaxError> {
    if lines.iter().any(|l| l.amount_minor < 0) {
        return Err(TaxError::NegativeAmount);
    }
    let rules: Vec<Option<TaxRule>> = lines
        .iter()
        .map(|line| table.rule(to, line.class))
        .collect::<Result<_, _>>()?;
    let mut taxes: Vec<Option<i64>> = vec![None; lines.len()];
    // Lines grouped by rate (name and rate), in order of first use.
    let mut groups: Vec<(TaxRule, Vec<usize>)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let Some(rule) = rule else { continue };
        match groups
            .iter_mut()
            .find(|(r, _)| r.name == rule.name && r.rate_ppm == rule.rate_ppm)
        {
            Some((_, members)) => members.push(i),
            None => groups.push((rule.clone(), vec![i])),
        }
    }
    for (rule, members) in &groups {
        let exact: Vec<(i128, i128)> = members
            .iter()
            .map(|&i| exact_tax(lines[i].amount_minor, rule.rate_ppm, prices))
            .collect();
        match rounding {
            TaxRounding::PerLine => {
                for (&i, &(numerator, denominator)) in members.iter().zip(&exact) {
                    taxes[i] = Some(round_half_even(numerator, denominator) as i64);
                }
            }
            TaxRounding::PerTotal => {
                // One denominator per rate, so the numerators add up exactly.
                let denominator = exact[0].1;
                let total = round_half_even(exact.iter().map(|(n, _)| n).sum(), denominator);
                let floors: Vec<i128> = exact.iter().map(|(n, _)| n / denominator).collect();
                let mut left = total - floors.iter().sum::<i128>();
                let mut by_remainder: Vec<usize> = (0..members.len()).collect();
                by_remainder.sort_by_key(|&k| std::cmp::Reverse(exact[k].0 % denominator));
                let mut shares = floors;
                for k in by_remainder {
                    if left == 0 {
                        break;
                    }
                    shares[k] += 1;
                    left -= 1;
                }
                for (&i, share) in members.iter().zip(shares) {
                    taxes[i] = Some(share as i64);
                }
            }
        }
    }
    let mut breakdown = TaxBreakdown {
        lines: Vec::with_capacity(lines.len()),
        rates: Vec::with_capacity(groups.len()),
        tax_minor: 0,
        gross_minor: 0,
        net_minor: 0,
    };
    for ((line, rule), tax) in lines.iter().zip(&rules).zip(&taxes) {
        let tax_minor = tax.unwrap_or(0);
        let net_minor = match prices {
            PricesInclude::Tax => line.amount_minor - tax_minor,
            PricesInclude::NoTax => line.amount_minor,
        };
        breakdown.tax_minor += tax_minor;
        breakdown.net_minor += net_minor;
        breakdown.gross_minor += net_minor + tax_minor;
        breakdown.lines.push(rule.as_ref().map(|rule| LineTax {
            name: rule.name.clone(),
            rate_ppm: rule.rate_ppm,
            tax_minor,
            net_minor,
        }));
    }
    for (rule, members) in &groups {
        let (tax_minor, net_minor) = members.iter().fold((0, 0), |(tax, net), &i| {
            let line = breakdown.lines[i]
                .as_ref()
                .expect("a taxed line has its tax");
            (tax + line.tax_minor, net + line.net_minor)
        });
        breakdown.rates.push(RateTotal {
            name: rule.name.clone(),
            rate_ppm: rule.rate_ppm,
            tax_minor,
            net_minor,
        });
    }
    Ok(breakdown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_and_print_exactly() {
        for (raw, ppm, printed) in [
            ("19", 190_000, "19"),
            ("8.875", 88_750, "8.875"),
            ("7.25%", 72_500, "7.25"),
            ("0", 0, "0"),
            ("100", PPM, "100"),
            ("0.0001", 1, "0.0001"),
        ] {
            assert_eq!(parse_percent(raw), Ok(ppm), "{raw}");
            assert_eq!(format_percent(ppm), printed);
        }
        for bad in ["", "-1", "1e2", "8.87501", "abc", "1.2.3", ".5", "1000"] {
            assert!(parse_percent(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_percent("100.01"), Err(TaxError::RateOutOfRange));
    }

    fn rule(country: &str, region: Option<&str>, class: TaxClass, ppm: u32, name: &str) -> TaxRule {
        TaxRule {
            country_code: country.into(),
            region: region.map(str::to_string),
            class,
            rate_ppm: ppm,
            name: name.into(),
        }
    }

    fn table() -> TaxTable {
        TaxTable::new(vec![
            rule("DE", None, TaxClass::Standard, 190_000, "DE VAT 19%"),
            rule("DE", None, TaxClass::Reduced, 70_000, "DE VAT 7%"),
            rule("FR", None, TaxClass::Standard, 200_000, "FR VAT 20%"),
            rule("US", Some("CA"), TaxClass::Standard, 72_500, "CA sales tax"),
            rule("US", Some("NY"), TaxClass::Standard, 88_750, "NY sales tax"),
            rule("US", None, TaxClass::Standard, 0, "US"),
        ])
        .unwrap()
    }

    fn to(country: &str, region: Option<&str>) -> Destination {
        Destination {
            country_code: country.into(),
            region: region.map(str::to_string),
        }
    }

    /// `lines` sent `to` a place, by [`table`]'s rates.
    fn taxed(
        lines: &[TaxableLine],
        to: Destination,
        prices: PricesInclude,
        rounding: TaxRounding,
    ) -> Result<TaxBreakdown, TaxError> {
        tax_lines(lines, &to, &table(), prices, rounding)
    }

    fn line(amount_minor: i64) -> TaxableLine {
        TaxableLine {
            amount_minor,
            class: TaxClass::Standard,
        }
    }

    #[test]
    fn halves_round_to_even() {
        // 19.00 of tax in a 119.00 order, 59.50 refunded: half the tax.
        assert_eq!(share_of(1_900, 5_950, 11_900), 950);
        // Half a cent rounds to even: 1 of 3 of 0.03 is 0.01; 1 of 2 of 0.01 is 0.00.
        assert_eq!(share_of(3, 1, 3), 1);
        assert_eq!(share_of(1, 1, 2), 0);
        assert_eq!(share_of(3, 1, 2), 2);
        // The whole refunded: the whole tax; nothing refunded, or nothing to share: none.
        assert_eq!(share_of(1_900, 11_900, 11_900), 1_900);
        assert_eq!(share_of(1_900, 20_000, 11_900), 1_900);
        assert_eq!(share_of(1_900, 0, 11_900), 0);
        assert_eq!(share_of(1_900, 10, 0), 0);
        assert_eq!(round_half_even(5, 10), 0);
        assert_eq!(round_half_even(15, 10), 2);
        assert_eq!(round_half_even(25, 10), 2);
        assert_eq!(round_half_even(26, 10), 3);
        assert_eq!(round_half_even(24, 10), 2);
    }

    #[test]
    fn prices_with_tax_hold_it_and_prices_without_get_it_on_top() {
        // 119.00 in Germany with tax included: 19.00 of it is tax.
        let de = taxed(
            &[line(11_900)],
            to("de", None),
            PricesInclude::Tax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!(
            (de.tax_minor, de.net_minor, de.gross_minor),
            (1_900, 10_000, 11_900)
        );
        // The same price to France holds 20%: 19.83.
        let fr = taxed(
            &[line(11_900)],
            to("FR", None),
            PricesInclude::Tax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!((fr.tax_minor, fr.gross_minor), (1_983, 11_900));
        // 100.00 to New York City without tax: 8.875% on top, 8.875 rounds to 8.88.
        let ny = taxed(
            &[line(10_000)],
            to("US", Some("ny")),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!((ny.tax_minor, ny.gross_minor), (888, 10_888));
        assert_eq!(ny.rates[0].name, "NY sales tax");
        // A state without a rule of its own falls back to the country's.
        let tx = taxed(
            &[line(10_000)],
            to("US", Some("TX")),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!(tx.tax_minor, 0);
    }

    #[test]
    fn many_cent_lines_at_19_percent_round_per_line_or_per_total_as_stated() {
        let lines = vec![line(1); 100];
        // Per line: 0.19 cents rounds to nothing, a hundred times.
        let per_line = taxed(
            &lines,
            to("DE", None),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!(per_line.tax_minor, 0);
        // Per total: 19 cents over 1.00, spread so the lines add up to it.
        let per_total = taxed(
            &lines,
            to("DE", None),
            PricesInclude::NoTax,
            TaxRounding::PerTotal,
        )
        .unwrap();
        assert_eq!(per_total.tax_minor, 19);
        let spread: i64 = per_total
            .lines
            .iter()
            .map(|l| l.as_ref().unwrap().tax_minor)
            .sum();
        assert_eq!(spread, 19);
        assert!(per_total
            .lines
            .iter()
            .all(|l| l.as_ref().unwrap().tax_minor <= 1));
        assert_eq!(per_total.gross_minor, 119);
    }

    #[test]
    fn classes_choose_rates_and_every_total_adds_up() {
        let lines = [
            line(1_999),
            TaxableLine {
                amount_minor: 1_050,
                class: TaxClass::Reduced,
            },
            TaxableLine {
                amount_minor: 500,
                class: TaxClass::Zero,
            },
            TaxableLine {
                amount_minor: 700,
                class: TaxClass::Exempt,
            },
            line(333),
        ];
        for rounding in [TaxRounding::PerLine, TaxRounding::PerTotal] {
            for prices in [PricesInclude::Tax, PricesInclude::NoTax] {
                let tax = taxed(&lines, to("DE", None), prices, rounding).unwrap();
                assert_eq!(tax.lines[3], None, "exempt: no tax line");
                assert_eq!(tax.lines[2].as_ref().unwrap().tax_minor, 0, "zero-rated");
                let names: Vec<&str> = tax.rates.iter().map(|r| r.name.as_str()).collect();
                assert_eq!(names, ["DE VAT 19%", "DE VAT 7%", "Zero-rated"]);
                assert_eq!(
                    tax.rates.iter().map(|r| r.tax_minor).sum::<i64>(),
                    tax.tax_minor
                );
                assert_eq!(tax.net_minor + tax.tax_minor, tax.gross_minor);
                let amounts: i64 = lines.iter().map(|l| l.amount_minor).sum();
                match prices {
                    PricesInclude::Tax => assert_eq!(tax.gross_minor, amounts),
                    PricesInclude::NoTax => assert_eq!(tax.net_minor, amounts),
                }
            }
        }
        // 19.99 + 3.33 without tax at 19%: 3.7981 + 0.6327 per line is 3.80 + 0.63 = 4.43;
        // per total 4.4308 is 4.43 too, and 7% of 10.50 is 0.735, which rounds to 0.74.
        let tax = taxed(
            &lines,
            to("DE", None),
            PricesInclude::NoTax,
            TaxRounding::PerLine,
        )
        .unwrap();
        assert_eq!((tax.rates[0].tax_minor, tax.rates[1].tax_minor), (443, 74));
    }

    #[test]
    fn a_place_without_a_rate_negative_amounts_and_bad_rules_are_refused() {
        assert_eq!(
            taxed(
                &[line(100)],
                to("JP", None),
                PricesInclude::Tax,
                TaxRounding::PerLine
            ),
            Err(TaxError::NoRate {
                class: TaxClass::Standard,
                place: "JP".into()
            })
        );
        assert_eq!(
            taxed(
                &[line(-1)],
                to("DE", None),
                PricesInclude::Tax,
                TaxRounding::PerLine
            ),
            Err(TaxError::NegativeAmount)
        );
        assert_eq!(
            TaxTable::new(vec![rule(
                "DE",
                None,
                TaxClass::Standard,
                PPM + 1,
                "too much"
            )]),
            Err(TaxError::RateOutOfRange)
        );
        assert_eq!(
            TaxTable::new(vec![rule("DE", None, TaxClass::Standard, 1, " ")]),
            Err(TaxError::Unnamed)
        );
        // A later rule for the same place and class replaces the earlier one.
        let mut table = table();
        table
            .set(rule("de", None, TaxClass::Standard, 160_000, "DE VAT 16%"))
            .unwrap();
        assert_eq!(
            table
                .rule(&to("DE", None), TaxClass::Standard)
                .unwrap()
                .unwrap()
                .rate_ppm,
            160_000
        );
        assert_eq!(table.rules().len(), 6);
    }
}
