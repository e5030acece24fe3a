//! The shipping service's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `SHIPPING_RATES_FILE` (default: the built-in table, USPS, UPS and DHL from the US in USD):
//!   a JSON rate table (see [`crate::domain::rates::RateTable`]), checked when it is read
//! - `SHIPPING_CARRIER_WEBHOOK_SECRETS` (required): the secrets carriers sign tracking webhooks
//!   with, comma-separated, the current one first (two during a rotation)
//! - `SHIPPING_WEBHOOK_TOLERANCE_SECS` (default 300): how old a webhook's timestamp may be
//! - `SHIPPING_DEFAULT_WEIGHT_GRAMS` (default 500): the weight counted for a variant the catalog
//!   has no weight for
//! - `SHIPPING_AUTO_FULFIL` (default `true`): a paid order gets its shipment at once; `false`
//!   leaves it to an admin's `fulfilOrder`
//! - `SHIPPING_SIMULATOR_STEP_SECS` (default 0, off): the simulated carrier moves every open
//!   shipment one step (in transit, out for delivery, delivered) this often, by signed webhooks
//! - `CATALOG_URL` (default: the embedded shop's): where product weights come from

use std::time::Duration;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

use crate::domain::rates::RateTable;

const DEFAULT_RATES: &str = include_str!("domain/default_rates.json");

#[derive(Clone, Debug)]
pub struct ShippingSettings {
    pub rates: RateTable,
    pub webhook_secrets: Vec<String>,
    pub webhook_tolerance: Duration,
    pub default_weight_grams: u32,
    pub auto_fulfil: bool,
    /// `None`: the simulated carrier is off.
    pub simulator_step: Option<Duration>,
    pub catalog_url: String,
}

impl OwnSettings for ShippingSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            name: env.name(key),
            message,
        };
        let (source, text) = match env.optional("RATES_FILE") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("RATES_FILE", format!("cannot read {path}: {e}")))?;
                (path, text)
            }
            None => ("the built-in table".to_string(), DEFAULT_RATES.to_string()),
        };
        let rates: RateTable = serde_json::from_str(&text)
            .map_err(|e| invalid("RATES_FILE", format!("{source}: {e}")))?;
        rates
            .validate()
            .map_err(|e| invalid("RATES_FILE", format!("{source}: {e}")))?;
        let webhook_secrets: Vec<String> = env
            .optional("CARRIER_WEBHOOK_SECRETS")
            .ok_or_else(|| ConfigError::Missing {
                name: env.name("CARRIER_WEBHOOK_SECRETS"),
            })?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if webhook_secrets.is_empty() || webhook_secrets.iter().any(|s| s.len() < 16) {
            return Err(invalid(
                "CARRIER_WEBHOOK_SECRETS",
                "each secret must be at least 16 characters".into(),
            ));
        }
        let auto_fulfil = match env.optional("AUTO_FULFIL").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(invalid(
                    "AUTO_FULFIL",
                    format!("must be true or false, not {other:?}"),
                ))
            }
        };
        let step: u64 = env.parse_or("SIMULATOR_STEP_SECS", 0)?;
        Ok(Self {
            rates,
            webhook_secrets,
            webhook_tolerance: Duration::from_secs(env.parse_or("WEBHOOK_TOLERANCE_SECS", 300)?),
            default_weight_grams: env.parse_or("DEFAULT_WEIGHT_GRAMS", 500)?,
            auto_fulfil,
            simulator_step: (step > 0).then(|| Duration::from_secs(step)),
            catalog_url: env
                .shared("CATALOG_URL")
                .unwrap_or_else(|| topology::CATALOG.local_graphql_url()),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_rate_table_is_valid() {
        let table: super::RateTable = serde_json::from_str(super::DEFAULT_RATES).unwrap();
        assert!(table.validate().is_ok());
        assert!(!table.quote("US", 1000).unwrap().is_empty());
        assert!(!table.quote("CA", 1000).unwrap().is_empty());
        assert!(!table.quote("DE", 1000).unwrap().is_empty());
    }
}
