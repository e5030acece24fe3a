//! Money: stored as integer minor units, shown as `{ amount: "19.99", currencyCode: USD }`.

use async_graphql::{Enum, InputObject, SimpleObject};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "CurrencyCode")]
pub enum CurrencyCode {
    Usd,
    Eur,
    Gbp,
}

impl CurrencyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usd => "USD",
            Self::Eur => "EUR",
            Self::Gbp => "GBP",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "USD" => Some(Self::Usd),
            "EUR" => Some(Self::Eur),
            "GBP" => Some(Self::Gbp),
            _ => None,
        }
    }

    /// Digits after the decimal point (all supported currencies use cents).
    pub fn exponent(self) -> u32 {
        2
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("amount must be a decimal number such as \"19.99\"")]
    NotADecimal,
    #[error("amount has more than {0} decimal places")]
    TooPrecise(u32),
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is too large")]
    TooLarge,
}

/// An amount of money in minor units (cents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor_units: i64,
    pub currency: CurrencyCode,
}

impl Money {
    /// Parses a non-negative decimal string such as `"19.99"` or `"5"`.
    pub fn parse(amount: &str, currency: CurrencyCode) -> Result<Self, MoneyError> {
        let amount = amount.trim();
        if amount.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || (amount.ends_with('.')) {
            return Err(MoneyError::NotADecimal);
        }
        let exponent = currency.exponent();
        if fraction.len() > exponent as usize {
            return Err(MoneyError::TooPrecise(exponent));
        }
        let scale = 10i64.pow(exponent);
        let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        let fraction_value: i64 = if fraction.is_empty() {
            0
        } else {
            fraction
                .parse::<i64>()
                .map_err(|_| MoneyError::NotADecimal)?
                * 10i64.pow(exponent - fraction.len() as u32)
        };
        let minor_units = whole
            .checked_mul(scale)
            .and_then(|v| v.checked_add(fraction_value))
            .ok_or(MoneyError::TooLarge)?;
        Ok(Self {
            minor_units,
            currency,
        })
    }

    /// Money as another subgraph's API shows it (`{ "amount": "19.99", "currencyCode": "USD" }`);
    /// `None` for anything else.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let currency = CurrencyCode::parse(value["currencyCode"].as_str()?)?;
        Self::parse(value["amount"].as_str()?, currency).ok()
    }

    /// The decimal string, always with the currency's decimal places: `"19.90"`.
    pub fn amount(&self) -> String {
        let scale = 10i64.pow(self.currency.exponent());
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = self.currency.exponent() as usize
        )
    }
}

/// The GraphQL shape of [`Money`], shared by every subgraph that shows prices.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Money", shareable)]
pub struct MoneyObject {
    /// Decimal string, e.g. "19.99".
    pub amount: String,
    pub currency_code: CurrencyCode,
}

impl From<Money> for MoneyObject {
    fn from(money: Money) -> Self {
        Self {
            amount: money.amount(),
            currency_code: money.currency,
        }
    }
}

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "MoneyInput")]
pub struct MoneyInput {
    /// Decimal string, e.g. "19.99".
    pub amount: String,
    pub currency_code: CurrencyCode,
}

impl MoneyInput {
    pub fn parse(&self) -> Result<Money, MoneyError> {
        Money::parse(&self.amount, self.currency_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_round_trip_through_minor_units() {
        let usd = CurrencyCode::Usd;
        assert_eq!(Money::parse("19.99", usd).unwrap().minor_units, 1999);
        assert_eq!(Money::parse("5", usd).unwrap().amount(), "5.00");
        assert_eq!(Money::parse("0.5", usd).unwrap().minor_units, 50);
        assert_eq!(Money::parse("-1", usd), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1.999", usd), Err(MoneyError::TooPrecise(2)));
        assert_eq!(Money::parse("1e3", usd), Err(MoneyError::NotADecimal));
        assert_eq!(Money::parse("", usd), Err(MoneyError::NotADecimal));
        assert_eq!(Money::parse("3.", usd), Err(MoneyError::NotADecimal));
        assert_eq!(
            Money::parse("99999999999999999999", usd),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn money_reads_from_another_subgraphs_json() {
        let read = |v: serde_json::Value| Money::from_json(&v);
        assert_eq!(
            read(serde_json::json!({ "amount": "19.99", "currencyCode": "EUR" })),
            Some(Money {
                minor_units: 1999,
                currency: CurrencyCode::Eur
            })
        );
        assert_eq!(
            read(serde_json::json!({ "amount": 1999, "currencyCode": "EUR" })),
            None
        );
        assert_eq!(
            read(serde_json::json!({ "amount": "1", "currencyCode": "XXX" })),
            None
        );
        assert_eq!(read(serde_json::json!(null)), None);
    }
}
