//! Email addresses as the shop takes them: an account's login, a guest's contact.

use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} is not a valid email address")]
pub struct InvalidEmail(pub String);

/// A syntactically valid email address, trimmed and lower-cased (an account's login identity,
/// a guest's contact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let normalized = raw.trim().to_lowercase();
        let parsed = email_address::EmailAddress::from_str(&normalized)
            .map_err(|_| InvalidEmail(raw.into()))?;
        // Require a dotted domain: `user@localhost` is valid RFC 5322 but not a shop customer.
        if normalized.len() > 254
            || !parsed.domain().contains('.')
            || parsed.domain().ends_with('.')
        {
            return Err(InvalidEmail(raw.into()));
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@example.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
