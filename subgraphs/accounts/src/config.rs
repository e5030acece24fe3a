//! Accounts configuration. Environment variables:
//! - `ACCOUNTS_LISTEN` (default `127.0.0.1:4001`)
//! - `ACCOUNTS_DATABASE_URL` (`postgres://...` or `sqlite://path`; default `sqlite://data/accounts.db`)
//! - `ACCOUNTS_DB_MAX_CONNECTIONS` (default 10)
//! - `ACCOUNTS_ACCESS_TOKEN_TTL_SECS` (default 900), `ACCOUNTS_REFRESH_TOKEN_TTL_DAYS` (default 30)
//! - `ACCOUNTS_SIGNING_KEY`: Ed25519 PKCS#8, base64; without it a key is generated once and kept
//!   in the database so every replica signs with the same key
//! - `ACCOUNTS_LOGIN_FAILURES_PER_ACCOUNT` (default 5) and `ACCOUNTS_LOGIN_FAILURES_PER_ADDRESS`
//!   (default 50) per 15 minutes
//! - `JWT_ISSUER`, `JWT_AUDIENCE` (shared by every service)

use std::net::SocketAddr;

use kit::auth::JwtSettings;
use kit::config::{optional, parse_or, ConfigError};

#[derive(Clone, Debug)]
pub struct AccountsConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub max_connections: u32,
    pub jwt: JwtSettings,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub signing_key: Option<String>,
    pub failures_per_account: i64,
    pub failures_per_address: i64,
}

impl AccountsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let config = Self {
            listen: parse_or("ACCOUNTS_LISTEN", SocketAddr::from(([127, 0, 0, 1], 4001)))?,
            database_url: optional("ACCOUNTS_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/accounts.db".into()),
            max_connections: parse_or("ACCOUNTS_DB_MAX_CONNECTIONS", 10)?,
            jwt: JwtSettings::from_env(),
            access_token_ttl_secs: parse_or("ACCOUNTS_ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_days: parse_or("ACCOUNTS_REFRESH_TOKEN_TTL_DAYS", 30)?,
            signing_key: optional("ACCOUNTS_SIGNING_KEY"),
            failures_per_account: parse_or("ACCOUNTS_LOGIN_FAILURES_PER_ACCOUNT", 5)?,
            failures_per_address: parse_or("ACCOUNTS_LOGIN_FAILURES_PER_ADDRESS", 50)?,
        };
        if config.access_token_ttl_secs < 1 {
            return Err(ConfigError::Invalid {
                name: "ACCOUNTS_ACCESS_TOKEN_TTL_SECS".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(config)
    }

    /// Defaults for a database URL (tests and the embedded launcher), port 0 unless set.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            max_connections: 10,
            jwt: JwtSettings {
                issuer: "shop-accounts".into(),
                audience: "shop".into(),
            },
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            signing_key: None,
            failures_per_account: 5,
            failures_per_address: 50,
        }
    }
}
