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

/// Fields of an address, as entered.
pub struct AddressFields {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country_code: String,
    pub phone: Option<String>,
}

/// An address with every field checked: required ones 1 to 200 characters, empty optional ones
/// dropped, the country an upper-case ISO 3166-1 alpha-2 code.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country_code: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct InvalidAddress {
    pub field: &'static str,
    pub message: &'static str,
}

pub fn parse_address(f: AddressFields) -> Result<Address, InvalidAddress> {
    let required = |value: &str, field: &'static str| {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 200 {
            Err(InvalidAddress {
                field,
                message: "must be 1 to 200 characters",
            })
        } else {
            Ok(value.to_string())
        }
    };
    let optional = |value: Option<String>| {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let country = f.country_code.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InvalidAddress {
            field: "countryCode",
            message: "must be a two-letter ISO 3166-1 code",
        });
    }
    Ok(Address {
        full_name: required(&f.full_name, "fullName")?,
        line1: required(&f.line1, "line1")?,
        line2: optional(f.line2),
        city: required(&f.city, "city")?,
        region: optional(f.region),
        postal_code: required(&f.postal_code, "postalCode")?,
        country_code: country,
        phone: optional(f.phone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_checked() {
        assert_eq!(parse_name("  Ada ").unwrap(), "Ada");
        assert!(parse_name(" ").is_err());
        let fields = |country: &str| AddressFields {
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
