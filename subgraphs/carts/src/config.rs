//! The carts' own settings (the shared ones are in [`kit::settings`]). Environment variables:
//! - `CARTS_REDIS_URL`: keep carts in Redis (production); without it they live in the
//!   subgraph's database (`CARTS_DATABASE_URL`, the embedded mode's SQLite file)
//! - `CARTS_REDIS_NAMESPACE` (default `shop`): the prefix of the cart keys
//! - `CATALOG_URL` (default `http://127.0.0.1:4002/graphql`): where prices are read

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct CartsSettings {
    pub redis_url: Option<String>,
    pub redis_namespace: String,
    pub catalog_url: String,
}

impl OwnSettings for CartsSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        Ok(Self {
            redis_url: env.optional("REDIS_URL"),
            redis_namespace: env
                .optional("REDIS_NAMESPACE")
                .unwrap_or_else(|| "shop".into()),
            catalog_url: env
                .shared("CATALOG_URL")
                .unwrap_or_else(|| topology::CATALOG.local_graphql_url()),
        })
    }
}
