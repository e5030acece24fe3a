//! The orders' own settings (the shared ones are in [`kit::settings`]). Environment variables:
//! - `ORDERS_SAGA_LEASE_SECS` (default 30): how long a process holds a checkout it works on; when
//!   it dies, another takes the checkout over after this
//! - `ORDERS_SWEEP_INTERVAL_SECS` (default 5): how often unfinished checkouts are looked for
//! - `ORDERS_CHARGE_ATTEMPTS` (default 5): failed calls to reserve or charge before a checkout
//!   gives up and compensates
//! - `ORDERS_RECONCILE_INTERVAL_SECS` (default 300): how often reconciliation runs by itself
//! - `ORDERS_RECONCILE_WINDOW_HOURS` (default 72): how far back it compares the provider's
//!   charges and the orders
//! - `ORDERS_RESERVATION_TTL_SECS` (default 900, inventory's): a checkout pending longer is
//!   stuck, and reconciliation resumes it
//! - `ORDERS_PRICES_INCLUDE_TAX` (default false): whether prices hold their tax (EU shops) or
//!   tax comes on top (US shops), until an admin saves the tax settings
//! - `ORDERS_TAX_ROUNDING` (default `per_line`, or `per_total`) and `ORDERS_SHIPPING_TAX_CLASS`
//!   (default `standard`): likewise
//! - `ORDERS_TAX_RATES` (default none): rates as `COUNTRY[-REGION]:class:percent:name` separated
//!   by `;`, e.g. `DE:standard:19:DE VAT 19%;US-CA:standard:7.25:CA sales tax`. Rates admins
//!   set are laid over them. A destination without a rate is not taxed.
//! - `ORDERS_PAYMENT_ACTION_SECS` (default 900, inventory's reservation time): how long a
//!   checkout waits for the customer to confirm the payment with their bank (3-D Secure) before
//!   it gives the payment up and puts the stock back
//! - `ORDERS_GUEST_CHECKOUTS_PER_HOUR` (default 20) and `ORDERS_GUEST_LOOKUPS_PER_HOUR`
//!   (default 30): guest checkouts and guest order lookups (`guestOrder`) from one client
//!   address in an hour; more are refused until the hour is over
//! - `ACCOUNTS_URL`, `CARTS_URL`, `CATALOG_URL`, `INVENTORY_URL`, `PAYMENTS_URL`, `SHIPPING_URL`
//!   (defaults: the embedded shop's ports): the services checkout calls

use std::time::Duration;

use commerce::tax::{parse_percent, PricesInclude, TaxClass, TaxRounding, TaxRule, TaxTable};

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

use crate::domain::totals::TaxSettings;
use storage::throttle::Limit;

const HOUR_MS: i64 = 3_600_000;

#[derive(Clone, Debug)]
pub struct ServiceUrls {
    pub accounts: String,
    pub carts: String,
    pub catalog: String,
    pub inventory: String,
    pub payments: String,
    pub shipping: String,
}

#[derive(Clone, Debug)]
pub struct OrdersSettings {
    pub saga_lease: Duration,
    pub sweep_interval: Duration,
    pub call_attempts: i64,
    pub reconcile_interval: Duration,
    pub reconcile_window: Duration,
    pub reservation_ttl: Duration,
    /// How long a checkout waits for the customer's bank (3-D Secure).
    pub payment_action: Duration,
    /// The tax settings until an admin saves others.
    pub tax: TaxSettings,
    /// The configured rates; admins' rates are laid over them.
    pub tax_rates: TaxTable,
    /// Guest checkouts per client address and hour.
    pub guest_checkouts: Limit,
    /// Guest order lookups per client address and hour.
    pub guest_lookups: Limit,
    pub urls: ServiceUrls,
}

/// Reads `ORDERS_TAX_RATES`: `COUNTRY[-REGION]:class:percent:name` entries separated by `;`.
pub fn parse_tax_rates(raw: &str) -> Result<TaxTable, String> {
    let mut rules = Vec::new();
    for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let fields: Vec<&str> = entry.splitn(4, ':').map(str::trim).collect();
        let [place, class, percent, name] = fields[..] else {
            return Err(format!(
                "{entry:?}: write COUNTRY[-REGION]:class:percent:name"
            ));
        };
        let (country, region) = match place.split_once('-') {
            Some((country, region)) => (country, Some(region.to_string())),
            None => (place, None),
        };
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "{entry:?}: {country:?} is not a two-letter country code"
            ));
        }
        rules.push(TaxRule {
            country_code: country.to_ascii_uppercase(),
            region,
            class: TaxClass::parse(class).ok_or_else(|| {
                format!("{entry:?}: the class is standard, reduced, zero or exempt")
            })?,
            rate_ppm: parse_percent(percent).map_err(|e| format!("{entry:?}: {e}"))?,
            name: name.into(),
        });
    }
    TaxTable::new(rules).map_err(|e| e.to_string())
}

/// The setting `key` read by `parse`, or `default` when it is not set.
fn named<T>(
    env: &Env,
    key: &str,
    default: T,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    match env.optional(key) {
        None => Ok(default),
        Some(raw) => parse(raw.trim()).ok_or_else(|| ConfigError::Invalid {
            name: env.name(key),
            message: format!("{raw:?} is not one of its values"),
        }),
    }
}

impl OwnSettings for OrdersSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        let url = |name: &str, service: topology::Process| {
            env.shared(name)
                .unwrap_or_else(|| service.local_graphql_url())
        };
        let positive = |key: &str, default: u64| -> Result<u64, ConfigError> {
            match env.parse_or(key, default)? {
                0 => Err(ConfigError::Invalid {
                    name: env.name(key),
                    message: "must be at least 1".into(),
                }),
                value => Ok(value),
            }
        };
        Ok(Self {
            saga_lease: Duration::from_secs(positive("SAGA_LEASE_SECS", 30)?),
            sweep_interval: Duration::from_secs(positive("SWEEP_INTERVAL_SECS", 5)?),
            call_attempts: positive("CHARGE_ATTEMPTS", 5)? as i64,
            reconcile_interval: Duration::from_secs(positive("RECONCILE_INTERVAL_SECS", 300)?),
            reconcile_window: Duration::from_secs(positive("RECONCILE_WINDOW_HOURS", 72)? * 3600),
            reservation_ttl: Duration::from_secs(positive("RESERVATION_TTL_SECS", 900)?),
            payment_action: Duration::from_secs(positive("PAYMENT_ACTION_SECS", 900)?),
            tax: TaxSettings {
                prices: if env.parse_or("PRICES_INCLUDE_TAX", false)? {
                    PricesInclude::Tax
                } else {
                    PricesInclude::NoTax
                },
                rounding: named(
                    env,
                    "TAX_ROUNDING",
                    TaxRounding::PerLine,
                    TaxRounding::parse,
                )?,
                shipping_class: named(
                    env,
                    "SHIPPING_TAX_CLASS",
                    TaxClass::Standard,
                    TaxClass::parse,
                )?,
            },
            tax_rates: match env.optional("TAX_RATES") {
                Some(raw) => parse_tax_rates(&raw).map_err(|message| ConfigError::Invalid {
                    name: env.name("TAX_RATES"),
                    message,
                })?,
                None => TaxTable::default(),
            },
            guest_checkouts: Limit {
                limit: positive("GUEST_CHECKOUTS_PER_HOUR", 20)? as i64,
                window_ms: HOUR_MS,
            },
            guest_lookups: Limit {
                limit: positive("GUEST_LOOKUPS_PER_HOUR", 30)? as i64,
                window_ms: HOUR_MS,
            },
            urls: ServiceUrls {
                accounts: url("ACCOUNTS_URL", topology::ACCOUNTS),
                catalog: url("CATALOG_URL", topology::CATALOG),
                inventory: url("INVENTORY_URL", topology::INVENTORY),
                carts: url("CARTS_URL", topology::CARTS),
                payments: url("PAYMENTS_URL", topology::PAYMENTS),
                shipping: url("SHIPPING_URL", topology::SHIPPING),
            },
        })
    }
}
