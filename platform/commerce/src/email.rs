//! Email addresses as the shop takes them: an account's login, a guest's contact.

use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} is not a valid email address")]
pub struct InvalidEmail(pub String);

/// A syntactically valid email address, normalized ([`normalize`]: an account's login
/// identity, a guest's contact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

/// An address as the shop compares it: trimmed, Unicode NFKC (full-width letters become
/// ASCII ones) and lower-cased.
pub fn normalize(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

/// What an address looks like (its Unicode UTS #39 skeleton, lower-cased): addresses a reader
/// cannot tell apart, such as one with a Cyrillic "с" for a Latin "c", have the same one.
pub fn skeleton(address: &str) -> String {
    unicode_security::confusable_detection::skeleton(&normalize(address))
        .collect::<String>()
        .to_lowercase()
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let normalized = normalize(raw);
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
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err(), "over 254 characters");
    }

    #[test]
    fn full_width_letters_are_the_ascii_ones_and_look_alikes_share_a_skeleton() {
        // Full-width "ｃｕｓｔｏｍｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ" is the same address.
        let full_width = "\u{ff43}\u{ff55}\u{ff53}\u{ff54}\u{ff4f}\u{ff4d}\u{ff45}\u{ff52}\u{ff20}example\u{ff0e}com";
        assert_eq!(
            Email::parse(full_width).unwrap().as_str(),
            "customer@example.com"
        );
        // A Cyrillic "с" (U+0441) and "о" (U+043E) for the Latin letters: another address, the
        // same look.
        let cyrillic = "\u{441}ust\u{43e}mer@example.com";
        let parsed = Email::parse(cyrillic).expect("a valid internationalized address");
        assert_ne!(parsed.as_str(), "customer@example.com");
        assert_eq!(skeleton(parsed.as_str()), skeleton("customer@example.com"));
        assert_eq!(
            skeleton("Customer@Example.com"),
            skeleton("customer@example.com")
        );
        assert_ne!(
            skeleton("grace@example.com"),
            skeleton("customer@example.com")
        );
    }
}
