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

pub use kit::address::{parse_address, Address, AddressInput, InvalidAddress};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_checked() {
        assert_eq!(parse_name("  Ada ").unwrap(), "Ada");
        assert!(parse_name(" ").is_err());
        let fields = |country: &str| AddressInput {
            full_name: "Ada".into(),
            line1: "1 Main St".into(),
            line2: Some("  ".into()),
            city: "Berlin".into(),
            region: None,
            postal_code: "10115".into(),
            country_code: country.into(),
            phone: None,
        };
        let address = parse_address(fields("de")).unwrap();
        assert_eq!((address.country_code.as_str(), address.line2), ("DE", None));
        assert_eq!(
            parse_address(fields("DEU")).unwrap_err().field,
            "countryCode"
        );
    }
}
