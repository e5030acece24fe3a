//! Inventory rules: valid quantities, codes and adjustments, which warehouse serves a line, when
//! stock counts as low, and the events the inventory publishes. No storage here.

pub mod allocation;

use async_graphql::Enum;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("quantity must be between 1 and {max}")]
    Quantity { max: i64 },
    #[error("a correction must change the stock (a non-zero quantity)")]
    ZeroCorrection,
    #[error("warehouse codes are 2 to 16 letters, digits or dashes")]
    WarehouseCode,
    #[error("names are 1 to 100 characters")]
    Name,
    #[error("reasons are 1 to 500 characters")]
    Reason,
    #[error("{0:?} is not a product id")]
    ProductId(String),
    #[error("{0:?} is not a variant id")]
    VariantId(String),
    #[error("the threshold must be between 0 and {max}")]
    Threshold { max: i64 },
    #[error("a reservation needs 1 to {max} lines, one per variant")]
    Lines { max: usize },
    #[error("keys and order references are 1 to 100 characters")]
    Key,
}

/// Units in one line or adjustment: 1 to [`Quantity::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 100_000;

    pub fn parse(raw: i64) -> Result<Self, RuleError> {
        if (1..=Self::MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(RuleError::Quantity { max: Self::MAX })
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A product id as the catalog makes them (`prod_` and a ULID).
pub fn parse_product_id(raw: &str) -> Result<String, RuleError> {
    if primitives::id::has_prefix(raw, "prod") {
        Ok(raw.to_string())
    } else {
        Err(RuleError::ProductId(raw.to_string()))
    }
}

/// A variant id as the catalog makes them (see [`commerce::variant`]).
pub fn parse_variant_id(raw: &str) -> Result<String, RuleError> {
    if commerce::variant::is_variant_id(raw) {
        Ok(raw.to_string())
    } else {
        Err(RuleError::VariantId(raw.to_string()))
    }
}

pub fn parse_warehouse_code(raw: &str) -> Result<String, RuleError> {
    let code = raw.trim().to_uppercase();
    let valid = (2..=16).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(code)
    } else {
        Err(RuleError::WarehouseCode)
    }
}

pub fn parse_name(raw: &str) -> Result<String, RuleError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RuleError::Name);
    }
    Ok(name.to_string())
}

pub fn parse_reason(raw: &str) -> Result<String, RuleError> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(RuleError::Reason);
    }
    Ok(reason.to_string())
}

/// An idempotency key or order reference: 1 to 100 characters, outer spaces dropped.
pub fn parse_key(raw: &str) -> Result<String, RuleError> {
    let key = raw.trim();
    if key.is_empty() || key.chars().count() > 100 {
        return Err(RuleError::Key);
    }
    Ok(key.to_string())
}

pub const MAX_THRESHOLD: i64 = 1_000_000;

pub fn parse_threshold(raw: i64) -> Result<i64, RuleError> {
    if (0..=MAX_THRESHOLD).contains(&raw) {
        Ok(raw)
    } else {
        Err(RuleError::Threshold { max: MAX_THRESHOLD })
    }
}

/// Why on-hand stock changed.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentKind {
    /// Units arrived (a positive quantity).
    Restock,
    /// A count found a difference (a signed quantity).
    Correction,
    /// Units were damaged or lost (a positive quantity, taken off).
    Damage,
    /// Units left with a confirmed order (made by reservations, not by admins).
    Sale,
}

impl AdjustmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restock => "restock",
            Self::Correction => "correction",
            Self::Damage => "damage",
            Self::Sale => "sale",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Restock, Self::Correction, Self::Damage, Self::Sale]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    /// The change of on-hand stock an admin's adjustment of `quantity` makes.
    pub fn delta(self, quantity: i64) -> Result<i64, RuleError> {
        match self {
            Self::Restock => Ok(Quantity::parse(quantity)?.get()),
            Self::Damage => Ok(-Quantity::parse(quantity)?.get()),
            Self::Correction if quantity == 0 => Err(RuleError::ZeroCorrection),
            Self::Correction => Ok(quantity.signum() * Quantity::parse(quantity.abs())?.get()),
            Self::Sale => Err(RuleError::Quantity { max: 0 }),
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(inaccessible)]
pub enum ReservationStatus {
    /// Units are held until the reservation expires.
    Held,
    /// The units left the stock with the order.
    Confirmed,
    /// Given back before expiry.
    Released,
    /// Given back when the hold ran out.
    Expired,
    /// Confirmed, then back in stock (the order was cancelled).
    Returned,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirmed => "confirmed",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Returned => "returned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Held,
            Self::Confirmed,
            Self::Released,
            Self::Expired,
            Self::Returned,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Whether a variant's available stock crossed its low-stock threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossing {
    /// It fell to the threshold or below: publish `StockLow` (once).
    BecameLow,
    /// It rose above the threshold: the next fall publishes again.
    Recovered,
    Unchanged,
}

/// Low means available at or below the threshold.
pub fn crossing(was_low: bool, available: i64, threshold: i64) -> Crossing {
    match (was_low, available <= threshold) {
        (false, true) => Crossing::BecameLow,
        (true, false) => Crossing::Recovered,
        _ => Crossing::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjustments_move_stock_in_their_direction_only() {
        assert_eq!(AdjustmentKind::Restock.delta(5), Ok(5));
        assert_eq!(AdjustmentKind::Damage.delta(5), Ok(-5));
        assert_eq!(AdjustmentKind::Correction.delta(-3), Ok(-3));
        assert!(AdjustmentKind::Restock.delta(0).is_err());
        assert!(AdjustmentKind::Restock.delta(-2).is_err());
        assert!(AdjustmentKind::Damage.delta(-2).is_err());
        assert_eq!(
            AdjustmentKind::Correction.delta(0),
            Err(RuleError::ZeroCorrection)
        );
        assert!(AdjustmentKind::Restock.delta(Quantity::MAX + 1).is_err());
        assert!(AdjustmentKind::Sale.delta(1).is_err());
    }

    #[test]
    fn stock_low_fires_once_per_crossing() {
        assert_eq!(crossing(false, 6, 5), Crossing::Unchanged);
        assert_eq!(crossing(false, 5, 5), Crossing::BecameLow);
        assert_eq!(crossing(true, 2, 5), Crossing::Unchanged);
        assert_eq!(crossing(true, 6, 5), Crossing::Recovered);
    }

    #[test]
    fn codes_and_ids_are_checked() {
        assert_eq!(parse_warehouse_code(" ber-1 ").unwrap(), "BER-1");
        assert!(parse_warehouse_code("x").is_err());
        assert!(parse_warehouse_code("no spaces").is_err());
        assert!(parse_product_id(&primitives::id::new_id("prod")).is_ok());
        assert!(parse_product_id("prod_nope").is_err());
    }
}
