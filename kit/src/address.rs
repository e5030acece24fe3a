//! Postal addresses as every subgraph takes them (the address book, checkout's shipping
//! address): required fields, optional ones, the country as an ISO 3166-1 alpha-2 code.

use async_graphql::{InputObject, SimpleObject};
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

/// An address with every field checked: required ones 1 to 200 characters, empty optional ones
/// dropped, the country an upper-case ISO 3166-1 alpha-2 code. Shown as `PostalAddress` (e.g.
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
