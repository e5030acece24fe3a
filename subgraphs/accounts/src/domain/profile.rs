//! Profile rules: a user's display name and postal addresses.

/// A display name: 1 to 100 characters, outer spaces dropped.
pub fn parse_name(raw: &str) -> Result<String, InvalidName> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(InvalidName);
    }
    Ok(name.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("name must be 1 to 100 characters")]
pub struct InvalidName;

pub use commerce::address::{parse_address, Address, AddressInput, InvalidAddress};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(parse_name("  Ada ").unwrap(), "Ada");
        assert!(parse_name(" ").is_err());
    }
}
