//! Order totals: line totals, subtotal, shipping and total, in integer minor units of one
//! currency, with overflow refused rather than wrapped.

use commerce::money::{CurrencyCode, Money};

/// A line as priced at checkout (the catalog's current price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PricedLine {
    pub unit_price: Money,
    pub quantity: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: Money,
    pub shipping: Money,
    pub total: Money,
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

/// The order's totals: the lines' sum, the shipping fee, and both together.
pub fn totals(lines: &[PricedLine], shipping: Money) -> Result<Totals, TotalsError> {
    let first = lines.first().ok_or(TotalsError::Empty)?;
    let currency = first.unit_price.currency;
    let mut subtotal: i64 = 0;
    for line in lines {
        if line.unit_price.currency != currency {
            return Err(TotalsError::MixedCurrencies {
                expected: currency,
                found: line.unit_price.currency,
            });
        }
        subtotal = subtotal
            .checked_add(line_total(line)?.minor_units)
            .ok_or(TotalsError::Overflow)?;
    }
    if shipping.currency != currency {
        return Err(TotalsError::MixedCurrencies {
            expected: currency,
            found: shipping.currency,
        });
    }
    let total = subtotal
        .checked_add(shipping.minor_units)
        .ok_or(TotalsError::Overflow)?;
    let money = |minor_units| Money {
        minor_units,
        currency,
    };
    Ok(Totals {
        subtotal: money(subtotal),
        shipping,
        total: money(total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor_units: i64) -> Money {
        Money {
            minor_units,
            currency: CurrencyCode::Usd,
        }
    }

    #[test]
    fn totals_add_up_in_minor_units() {
        let lines = [
            PricedLine {
                unit_price: usd(1_999),
                quantity: 3,
            },
            PricedLine {
                unit_price: usd(250),
                quantity: 1,
            },
        ];
        let totals = totals(&lines, usd(495)).unwrap();
        assert_eq!(totals.subtotal, usd(6_247));
        assert_eq!(totals.total, usd(6_742));
        assert_eq!(totals.total.amount(), "67.42");
    }

    #[test]
    fn empty_mixed_zero_and_huge_orders_are_refused() {
        assert_eq!(totals(&[], usd(0)), Err(TotalsError::Empty));
        let eur = Money {
            minor_units: 100,
            currency: CurrencyCode::Eur,
        };
        let line = |price, quantity| PricedLine {
            unit_price: price,
            quantity,
        };
        assert!(matches!(
            totals(&[line(usd(100), 1), line(eur, 1)], usd(0)),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert!(matches!(
            totals(&[line(usd(100), 1)], eur),
            Err(TotalsError::MixedCurrencies { .. })
        ));
        assert_eq!(
            totals(&[line(usd(100), 0)], usd(0)),
            Err(TotalsError::Quantity)
        );
        assert_eq!(
            totals(&[line(usd(i64::MAX / 2), 3)], usd(0)),
            Err(TotalsError::Overflow)
        );
    }
}
