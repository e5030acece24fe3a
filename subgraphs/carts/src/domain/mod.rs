//! Cart rules: quantities, limits, who owns a cart and how guest carts are addressed, and how a
//! guest cart merges into a user's. No storage here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// Units of one variant in a cart.
pub const MAX_QUANTITY: i64 = 99;
/// Distinct variants in a cart.
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("quantity must be between 1 and {MAX_QUANTITY}")]
    Quantity,
    #[error("{0:?} is not a product id")]
    ProductId(String),
    #[error("{0:?} is not a variant id")]
    VariantId(String),
}

/// A quantity a customer may ask for: 1 to [`MAX_QUANTITY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(raw: i64) -> Result<Self, RuleError> {
        if (1..=MAX_QUANTITY).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(RuleError::Quantity)
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

pub fn parse_product_id(raw: &str) -> Result<String, RuleError> {
    if primitives::id::has_prefix(raw, "prod") {
        Ok(raw.to_string())
    } else {
        Err(RuleError::ProductId(raw.to_string()))
    }
}

pub fn parse_variant_id(raw: &str) -> Result<String, RuleError> {
    if commerce::variant::is_variant_id(raw) {
        Ok(raw.to_string())
    } else {
        Err(RuleError::VariantId(raw.to_string()))
    }
}

/// Whose cart: a signed-in user's (one per user), or a guest's, reachable only with its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartOwner {
    User(String),
    Guest(GuestToken),
}

impl CartOwner {
    /// The storage key. A guest cart is stored under its token's hash, so the store never holds
    /// a usable token.
    pub fn key(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Guest(token) => format!("guest:{}", token.hash()),
        }
    }

    /// How long the cart lives after its last change.
    pub fn ttl(&self) -> std::time::Duration {
        let days = match self {
            Self::User(_) => 30,
            Self::Guest(_) => 7,
        };
        std::time::Duration::from_secs(days * 24 * 3600)
    }
}

/// A guest cart's token: 256 random bits, unguessable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestToken(String);

impl GuestToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random source works");
        Self(format!("gct_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token as a client presents it: looked up by its hash, so one that is not ours (guessed,
    /// mistyped) simply finds no cart.
    pub fn presented(raw: &str) -> Self {
        Self(raw.trim().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        primitives::id::sha256_hex(self.0.as_bytes())
    }
}

/// A guest line merged into a user's cart: quantities add up to at most [`MAX_QUANTITY`]; a new
/// product is added while the cart has fewer than [`MAX_LINES`] lines, otherwise left out.
pub fn merged_quantity(existing: Option<i64>, guest: i64) -> i64 {
    (existing.unwrap_or(0) + guest).min(MAX_QUANTITY)
}

/// A cart's public id: derived from its storage key, so it names the cart without revealing a
/// guest token.
pub fn cart_id(key: &str) -> String {
    primitives::id::derived_id("cart", key, 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_tokens_are_checked() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(-1).is_err());
        assert!(Quantity::parse(100).is_err());
        assert_eq!(Quantity::parse(99).unwrap().get(), 99);
        let token = GuestToken::generate();
        assert_eq!(GuestToken::presented(token.as_str()), token);
        assert_eq!(token.as_str().len(), 4 + 43);
        assert_ne!(
            CartOwner::Guest(token).key(),
            CartOwner::Guest(GuestToken::generate()).key()
        );
        assert_eq!(merged_quantity(Some(60), 60), 99);
        assert_eq!(merged_quantity(None, 3), 3);
    }
}
