//! The accounts service's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `ACCOUNTS_ACCESS_TOKEN_TTL_SECS` (default 900), `ACCOUNTS_REFRESH_TOKEN_TTL_DAYS` (default 30)
//! - `ACCOUNTS_SIGNING_KEY`: Ed25519 PKCS#8, base64; without it a key is generated once and kept
//!   in the database so every replica signs with the same key
//! - `ACCOUNTS_LOGIN_FAILURES_PER_ACCOUNT` (default 5) and `ACCOUNTS_LOGIN_FAILURES_PER_ADDRESS`
//!   (default 50) per 15 minutes
//!
//! Accounts verifies tokens with its own keys, so it ignores `JWKS_URL`.

use kit::config::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct AccountsSettings {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub signing_key: Option<String>,
    pub failures_per_account: i64,
    pub failures_per_address: i64,
}

impl OwnSettings for AccountsSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        let settings = Self {
            access_token_ttl_secs: env.parse_or("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_days: env.parse_or("REFRESH_TOKEN_TTL_DAYS", 30)?,
            signing_key: env.optional("SIGNING_KEY"),
            failures_per_account: env.parse_or("LOGIN_FAILURES_PER_ACCOUNT", 5)?,
            failures_per_address: env.parse_or("LOGIN_FAILURES_PER_ADDRESS", 50)?,
        };
        if settings.access_token_ttl_secs < 1 {
            return Err(ConfigError::Invalid {
                name: env.name("ACCESS_TOKEN_TTL_SECS"),
                message: "must be at least 1".into(),
            });
        }
        Ok(settings)
    }
}
