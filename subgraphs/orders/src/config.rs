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
//! - `ACCOUNTS_URL`, `CARTS_URL`, `CATALOG_URL`, `INVENTORY_URL`, `PAYMENTS_URL`, `SHIPPING_URL`
//!   (defaults: the embedded shop's ports): the services checkout calls

use std::time::Duration;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

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
    pub urls: ServiceUrls,
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
