//! Rates: each carrier's service levels have a price per destination zone and weight band and a
//! transit time per zone. A quote for a parcel lists every service that takes it (its weight
//! within a band of the destination's zone), cheapest first.

use commerce::money::{CurrencyCode, Money};
use serde::{Deserialize, Serialize};

/// Where a parcel goes, seen from where it leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// The same country.
    Domestic,
    /// Another country of the European Union (from one of them).
    EuropeanUnion,
    /// Another European country (or the EU from outside it).
    Europe,
    /// Canada, Mexico or the United States.
    NorthAmerica,
    RestOfWorld,
}

const EUROPEAN_UNION: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

const OTHER_EUROPE: &[&str] = &[
    "AD", "AL", "BA", "BY", "CH", "FO", "GB", "GG", "GI", "IM", "IS", "JE", "LI", "MC", "MD", "ME",
    "MK", "NO", "RS", "SM", "UA", "VA", "XK",
];

const NORTH_AMERICA: &[&str] = &["CA", "MX", "US"];

/// The zone of `destination` for a parcel leaving `origin` (ISO 3166-1 alpha-2 codes).
pub fn zone(origin: &str, destination: &str) -> Zone {
    let in_eu = |c: &str| EUROPEAN_UNION.contains(&c);
    let in_europe = |c: &str| in_eu(c) || OTHER_EUROPE.contains(&c);
    let in_north_america = |c: &str| NORTH_AMERICA.contains(&c);
    if origin == destination {
        Zone::Domestic
    } else if in_eu(origin) && in_eu(destination) {
        Zone::EuropeanUnion
    } else if in_europe(origin) && in_europe(destination) {
        Zone::Europe
    } else if in_north_america(origin) && in_north_america(destination) {
        Zone::NorthAmerica
    } else {
        Zone::RestOfWorld
    }
}

/// Up to `max_grams` (inclusive) for `price_minor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightBand {
    pub max_grams: u32,
    pub price_minor: i64,
}

/// A service level's prices and transit time to one zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRate {
    pub zone: Zone,
    /// Business days, fastest and slowest.
    pub transit_days: (u32, u32),
    /// Ascending by weight.
    pub bands: Vec<WeightBand>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevel {
    pub code: String,
    pub name: String,
    pub rates: Vec<ZoneRate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carrier {
    pub code: String,
    pub name: String,
    pub services: Vec<ServiceLevel>,
}

/// Every carrier's rates, in one currency, for parcels leaving `origin`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    pub origin: String,
    pub currency: String,
    pub carriers: Vec<Carrier>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateTableError {
    #[error("unknown currency {0:?}")]
    Currency(String),
    #[error("{carrier}/{service}: {message}")]
    Service {
        carrier: String,
        service: String,
        message: &'static str,
    },
}

/// Why no service carries a parcel, said so that the buyer can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unshippable {
    #[error("no carrier ships to {destination}")]
    NoCarrierTo { destination: String },
    #[error(
        "the parcel weighs {} kg; no carrier takes more than {} kg to {destination}",
        kilograms(*grams),
        kilograms(*max_grams)
    )]
    TooHeavy {
        grams: u32,
        max_grams: u32,
        destination: String,
    },
}

/// Grams as kilograms with one decimal, for messages.
fn kilograms(grams: u32) -> String {
    format!("{:.1}", f64::from(grams) / 1000.0)
}

/// What a service level charges to carry a parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub carrier: String,
    pub carrier_name: String,
    pub service: String,
    pub service_name: String,
    pub price: Money,
    pub transit_days: (u32, u32),
}

impl RateTable {
    /// Checks the table once, when it is loaded: a known currency, non-negative prices, bands
    /// ascending by weight, sensible transit times.
    pub fn validate(&self) -> Result<CurrencyCode, RateTableError> {
        let currency = CurrencyCode::parse(&self.currency)
            .ok_or_else(|| RateTableError::Currency(self.currency.clone()))?;
        for carrier in &self.carriers {
            for service in &carrier.services {
                let fail = |message| RateTableError::Service {
                    carrier: carrier.code.clone(),
                    service: service.code.clone(),
                    message,
                };
                for rate in &service.rates {
                    if rate.bands.is_empty() {
                        return Err(fail("a zone without weight bands"));
                    }
                    if rate
                        .bands
                        .windows(2)
                        .any(|w| w[0].max_grams >= w[1].max_grams)
                    {
                        return Err(fail("weight bands must ascend"));
                    }
                    if rate.bands.iter().any(|b| b.price_minor < 0) {
                        return Err(fail("a negative price"));
                    }
                    if rate.transit_days.0 > rate.transit_days.1 {
                        return Err(fail("fastest transit slower than slowest"));
                    }
                }
            }
        }
        Ok(currency)
    }

    /// Why no service carries `grams` to `destination` (when [`RateTable::quote`] found none):
    /// no service serves its zone, or the parcel is heavier than every band there.
    pub fn unshippable(&self, destination: &str, grams: u32) -> Unshippable {
        let zone = zone(&self.origin, destination);
        let heaviest = self
            .carriers
            .iter()
            .flat_map(|c| &c.services)
            .flat_map(|s| s.rates.iter().filter(|r| r.zone == zone))
            .flat_map(|r| r.bands.iter().map(|b| b.max_grams))
            .max();
        match heaviest {
            None => Unshippable::NoCarrierTo {
                destination: destination.into(),
            },
            Some(max_grams) => Unshippable::TooHeavy {
                grams,
                max_grams,
                destination: destination.into(),
            },
        }
    }

    /// Every service that carries `grams` to `destination`, cheapest first (then fastest).
    pub fn quote(&self, destination: &str, grams: u32) -> Result<Vec<Quote>, RateTableError> {
        let currency = self.validate()?;
        let zone = zone(&self.origin, destination);
        let mut quotes: Vec<Quote> = self
            .carriers
            .iter()
            .flat_map(|carrier| {
                carrier.services.iter().filter_map(move |service| {
                    let rate = service.rates.iter().find(|r| r.zone == zone)?;
                    let band = rate.bands.iter().find(|b| grams <= b.max_grams)?;
                    Some(Quote {
                        carrier: carrier.code.clone(),
                        carrier_name: carrier.name.clone(),
                        service: service.code.clone(),
                        service_name: service.name.clone(),
                        price: Money {
                            minor_units: band.price_minor,
                            currency,
                        },
                        transit_days: rate.transit_days,
                    })
                })
            })
            .collect();
        quotes.sort_by_key(|q| (q.price.minor_units, q.transit_days.1, q.carrier.clone()));
        Ok(quotes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RateTable {
        serde_json::from_value(serde_json::json!({
            "origin": "DE",
            "currency": "EUR",
            "carriers": [
                { "code": "dhl", "name": "DHL", "services": [
                    { "code": "parcel", "name": "DHL Parcel", "rates": [
                        { "zone": "domestic", "transit_days": [1, 2], "bands": [
                            { "max_grams": 2000, "price_minor": 499 },
                            { "max_grams": 10000, "price_minor": 899 } ] },
                        { "zone": "european_union", "transit_days": [2, 4], "bands": [
                            { "max_grams": 5000, "price_minor": 1399 } ] } ] } ] },
                { "code": "ups", "name": "UPS", "services": [
                    { "code": "express", "name": "UPS Express", "rates": [
                        { "zone": "domestic", "transit_days": [1, 1], "bands": [
                            { "max_grams": 30000, "price_minor": 1999 } ] },
                        { "zone": "rest_of_world", "transit_days": [3, 6], "bands": [
                            { "max_grams": 30000, "price_minor": 5999 } ] } ] } ] }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn zones_follow_origin_and_destination() {
        assert_eq!(zone("DE", "DE"), Zone::Domestic);
        assert_eq!(zone("DE", "FR"), Zone::EuropeanUnion);
        assert_eq!(zone("DE", "CH"), Zone::Europe);
        assert_eq!(zone("GB", "FR"), Zone::Europe);
        assert_eq!(zone("US", "CA"), Zone::NorthAmerica);
        assert_eq!(zone("US", "DE"), Zone::RestOfWorld);
        assert_eq!(zone("DE", "JP"), Zone::RestOfWorld);
    }

    #[test]
    fn a_quote_lists_the_services_that_take_the_parcel_cheapest_first() {
        let table = table();
        let quotes = table.quote("DE", 1500).unwrap();
        let offered: Vec<(&str, i64)> = quotes
            .iter()
            .map(|q| (q.service.as_str(), q.price.minor_units))
            .collect();
        assert_eq!(offered, [("parcel", 499), ("express", 1999)]);
        assert_eq!(quotes[0].price.currency, CurrencyCode::Eur);
        // The band's upper weight is included; above it, the next band.
        assert_eq!(table.quote("DE", 2000).unwrap()[0].price.minor_units, 499);
        assert_eq!(table.quote("DE", 2001).unwrap()[0].price.minor_units, 899);
        // Too heavy for DHL: only UPS.
        let heavy = table.quote("DE", 12000).unwrap();
        assert_eq!(heavy.len(), 1);
        assert_eq!(heavy[0].carrier, "ups");
        // No service to North America from Germany but UPS's rest of the world.
        let far = table.quote("US", 1000).unwrap();
        assert_eq!((far.len(), far[0].transit_days), (1, (3, 6)));
        // Nobody takes 40 kg.
        assert!(table.quote("DE", 40000).unwrap().is_empty());
    }

    #[test]
    fn a_broken_table_is_refused_when_loaded() {
        let mut unordered = table();
        unordered.carriers[0].services[0].rates[0].bands.swap(0, 1);
        assert_eq!(
            unordered.validate().unwrap_err().to_string(),
            "dhl/parcel: weight bands must ascend"
        );
        let mut unknown_currency = table();
        unknown_currency.currency = "XXX".into();
        assert!(unknown_currency.quote("DE", 1).is_err());
        let mut backwards = table();
        backwards.carriers[1].services[0].rates[0].transit_days = (3, 1);
        assert!(backwards.validate().is_err());
    }

    #[test]
    fn a_parcel_nobody_takes_says_why() {
        let table = table();
        assert!(table.quote("JP", 50_000).unwrap().is_empty());
        assert_eq!(
            table.unshippable("JP", 50_000).to_string(),
            "the parcel weighs 50.0 kg; no carrier takes more than 30.0 kg to JP"
        );
        assert!(table.quote("CH", 100).unwrap().is_empty());
        assert_eq!(
            table.unshippable("CH", 100).to_string(),
            "no carrier ships to CH"
        );
    }
}
