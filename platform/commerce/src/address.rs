//! Postal addresses as every subgraph takes them (the address book, checkout's shipping
//! address): required fields, optional ones, the country an assigned ISO 3166-1 alpha-2 code, a
//! region where the country's addresses need one, and the postal code checked against the main
//! countries' formats and written their way.

use async_graphql::{InputObject, SimpleObject};
use events::common::PostalAddress;
use serde::{Deserialize, Serialize};

/// An address as entered (GraphQL `AddressInput`, the same in every subgraph that takes one).
#[derive(InputObject, Clone, Debug, Serialize)]
pub struct AddressInput {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub phone: Option<String>,
}

/// An address with every field checked (see [`parse_address`]): required ones 1 to 200
/// characters, empty optional ones dropped, the country an upper-case ISO 3166-1 alpha-2 code, the
/// postal code in its country's format. Shown as `PostalAddress` (e.g.
/// an order's shipping address); stored as camelCase JSON.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(name = "PostalAddress", shareable)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub phone: Option<String>,
}

/// An address as the event contract carries it (the same fields: a field added to one and not
/// the other stops this compiling).
impl From<Address> for PostalAddress {
    fn from(address: Address) -> Self {
        let Address {
            full_name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        } = address;
        Self {
            full_name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        }
    }
}

/// An address from an event: checked when it was entered, so taken as it is.
impl From<PostalAddress> for Address {
    fn from(address: PostalAddress) -> Self {
        let PostalAddress {
            full_name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        } = address;
        Self {
            full_name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct InvalidAddress {
    pub field: &'static str,
    pub message: &'static str,
}

pub fn parse_address(f: AddressInput) -> Result<Address, InvalidAddress> {
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
    if COUNTRIES.binary_search(&country.as_str()).is_err() {
        return Err(InvalidAddress {
            field: "countryCode",
            message: "must be an ISO 3166-1 alpha-2 country code",
        });
    }
    let region = optional(f.region);
    if region.is_none() && REGION_REQUIRED.contains(&country.as_str()) {
        return Err(InvalidAddress {
            field: "region",
            message: "is required in this country (state, province or territory)",
        });
    }
    let postal_code = required(&f.postal_code, "postalCode")?;
    let postal_code = postal_code_of(&country, &postal_code).ok_or(InvalidAddress {
        field: "postalCode",
        message: "is not a postal code of this country",
    })?;
    Ok(Address {
        full_name: required(&f.full_name, "fullName")?,
        line1: required(&f.line1, "line1")?,
        line2: optional(f.line2),
        city: required(&f.city, "city")?,
        region,
        postal_code,
        country_code: country,
        phone: optional(f.phone),
    })
}

/// ISO 3166-1 alpha-2, every officially assigned code, sorted.
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Countries whose addresses need a region (state, province, territory).
const REGION_REQUIRED: &[&str] = &["AU", "BR", "CA", "US"];

/// Postal code shapes of the main countries: `A` a letter, `9` a digit, anything else itself.
/// A code matches a shape when its letters and digits do (spaces and hyphens as typed do not
/// matter), and is then written the country's way: `sw1y4jh` becomes `SW1Y 4JH`.
const POSTAL_CODES: &[(&str, &[&str])] = &[
    ("AT", &["9999"]),
    ("AU", &["9999"]),
    ("BE", &["9999"]),
    ("BR", &["99999-999"]),
    ("CA", &["A9A 9A9"]),
    ("CH", &["9999"]),
    ("DE", &["99999"]),
    ("DK", &["9999"]),
    ("ES", &["99999"]),
    ("FR", &["99999"]),
    (
        "GB",
        &[
            "A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA",
        ],
    ),
    ("IN", &["999999"]),
    ("IT", &["99999"]),
    ("JP", &["999-9999"]),
    ("NL", &["9999 AA"]),
    ("NO", &["9999"]),
    ("PL", &["99-999"]),
    ("PT", &["9999-999"]),
    ("SE", &["999 99"]),
    ("US", &["99999", "99999-9999"]),
];

/// The postal code written the country's way, or `None` when it has not the country's shape.
/// Countries without a shape here take any code of 1 to 200 characters, as typed.
fn postal_code_of(country: &str, raw: &str) -> Option<String> {
    let Some((_, shapes)) = POSTAL_CODES.iter().find(|(c, _)| *c == country) else {
        return Some(raw.to_string());
    };
    let compact: Vec<char> = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    shapes.iter().find_map(|shape| {
        let slots: Vec<char> = shape.chars().filter(|c| matches!(c, 'A' | '9')).collect();
        let fits = slots.len() == compact.len()
            && slots.iter().zip(&compact).all(|(slot, c)| match slot {
                'A' => c.is_ascii_uppercase(),
                _ => c.is_ascii_digit(),
            });
        if !fits {
            return None;
        }
        let mut chars = compact.iter();
        Some(
            shape
                .chars()
                .map(|s| match s {
                    'A' | '9' => *chars.next().expect("as many characters as slots"),
                    separator => separator,
                })
                .collect(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(country: &str, region: Option<&str>, postal_code: &str) -> AddressInput {
        AddressInput {
            full_name: " Ada ".into(),
            line1: "1 Main St".into(),
            line2: Some("  ".into()),
            city: "Berlin".into(),
            region: region.map(String::from),
            postal_code: postal_code.into(),
            country_code: country.into(),
            phone: None,
        }
    }

    #[test]
    fn fields_are_trimmed_and_the_country_is_a_real_code() {
        let address = parse_address(input("de", None, "10115")).unwrap();
        assert_eq!(
            (address.full_name.as_str(), address.country_code.as_str()),
            ("Ada", "DE")
        );
        assert_eq!(address.line2, None);
        for bad in ["DEU", "XX", "D", ""] {
            let error = parse_address(input(bad, None, "10115")).unwrap_err();
            assert_eq!(error.field, "countryCode", "{bad}");
        }
        assert!(
            COUNTRIES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        assert_eq!(COUNTRIES.len(), 249);
    }

    #[test]
    fn postal_codes_have_their_countrys_shape_and_are_written_its_way() {
        let code = |country: &str, raw: &str| {
            parse_address(input(country, Some("X"), raw)).map(|a| a.postal_code)
        };
        assert_eq!(code("gb", "sw1y4jh").unwrap(), "SW1Y 4JH");
        assert_eq!(code("GB", "N1 9GU").unwrap(), "N1 9GU");
        assert_eq!(code("CA", "k1a0b1").unwrap(), "K1A 0B1");
        assert_eq!(code("NL", "1234ab").unwrap(), "1234 AB");
        assert_eq!(code("US", "94105").unwrap(), "94105");
        assert_eq!(code("US", "94105 1234").unwrap(), "94105-1234");
        assert_eq!(code("JP", "1000001").unwrap(), "100-0001");
        assert_eq!(code("DE", " 10115 ").unwrap(), "10115");
        // Elsewhere, as typed.
        assert_eq!(code("IE", "D02 X285").unwrap(), "D02 X285");
        for (country, bad) in [
            ("US", "9410"),
            ("US", "ABCDE"),
            ("DE", "1011"),
            ("GB", "12345"),
            ("CA", "123 456"),
            ("NL", "AB 1234"),
        ] {
            let error = code(country, bad).unwrap_err();
            assert_eq!(error.field, "postalCode", "{country} {bad}");
        }
        assert_eq!(code("FR", "  ").unwrap_err().field, "postalCode");
    }

    #[test]
    fn some_countries_need_a_region() {
        let error = parse_address(input("US", None, "94105")).unwrap_err();
        assert_eq!(error.field, "region");
        assert!(parse_address(input("US", Some("CA"), "94105")).is_ok());
        assert!(parse_address(input("DE", None, "10115")).is_ok());
    }
}
