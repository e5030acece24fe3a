//! The inventory's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `INVENTORY_RESERVATION_TTL_SECS` (default 900): how long a reservation holds stock
//! - `INVENTORY_LOW_STOCK_THRESHOLD` (default 5): the threshold of variants without their own
//! - `INVENTORY_EXPIRY_INTERVAL_SECS` (default 30): how often expired reservations are released
//! - `CATALOG_URL` (default `http://127.0.0.1:4002/graphql`): the catalog, asked which variant
//!   (and product) a stock change is for, and read for the demo stock

use std::time::Duration;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct InventorySettings {
    pub reservation_ttl: Duration,
    pub low_stock_threshold: i64,
    pub expiry_interval: Duration,
    pub catalog_url: String,
}

impl OwnSettings for InventorySettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        let at_least_one = |key: &str, value: u64| {
            if value == 0 {
                Err(ConfigError::Invalid {
                    name: env.name(key),
                    message: "must be at least 1".into(),
                })
            } else {
                Ok(Duration::from_secs(value))
            }
        };
        let threshold: i64 = env.parse_or("LOW_STOCK_THRESHOLD", 5)?;
        if crate::domain::parse_threshold(threshold).is_err() {
            return Err(ConfigError::Invalid {
                name: env.name("LOW_STOCK_THRESHOLD"),
                message: format!("must be between 0 and {}", crate::domain::MAX_THRESHOLD),
            });
        }
        Ok(Self {
            reservation_ttl: at_least_one(
                "RESERVATION_TTL_SECS",
                env.parse_or("RESERVATION_TTL_SECS", 900)?,
            )?,
            low_stock_threshold: threshold,
            expiry_interval: at_least_one(
                "EXPIRY_INTERVAL_SECS",
                env.parse_or("EXPIRY_INTERVAL_SECS", 30)?,
            )?,
            catalog_url: env
                .shared("CATALOG_URL")
                .unwrap_or_else(|| topology::CATALOG.local_graphql_url()),
        })
    }
}
