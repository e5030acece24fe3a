//! The accounts service's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `ACCOUNTS_ACCESS_TOKEN_TTL_SECS` (default 900, at most `JWT_MAX_LIFETIME_SECS`), `ACCOUNTS_REFRESH_TOKEN_TTL_DAYS` (default 30)
//! - `ACCOUNTS_SIGNING_KEY`: Ed25519 PKCS#8, base64; without it a key is generated once and kept
//!   in the database so every replica signs with the same key
//! - `ACCOUNTS_LOGIN_FAILURES_PER_ACCOUNT` (default 5) and `ACCOUNTS_LOGIN_FAILURES_PER_ADDRESS`
//!   (default 50) per 15 minutes, `ACCOUNTS_REGISTRATIONS_PER_ADDRESS` (default 10) per 15
//!   minutes; the address is the router's word for the client's, else the peer's
//! - `ACCOUNTS_PASSWORD_RESETS_PER_ADDRESS` (default 10) per 15 minutes: password reset requests
//!   and reset attempts (token guesses) from one address; `ACCOUNTS_PASSWORD_RESET_TTL_MINS`
//!   (default 60): how long a reset link works
//! - `ACCOUNTS_HASHING_THREADS` (default half the CPUs, at least 1): password hashes computed at
//!   once, off the threads that serve requests
//! - `ACCOUNTS_ARGON2_MEMORY_KIB` (default 19456), `ACCOUNTS_ARGON2_ITERATIONS` (default 2),
//!   `ACCOUNTS_ARGON2_PARALLELISM` (default 1): argon2id's cost for new hashes (stored hashes
//!   keep the cost they were made with)
//! - `ACCOUNTS_STAFF_MFA` (default `required`): staff hold their permissions only once they
//!   have turned on a second factor (TOTP); `optional` gives staff their permissions without one
//! - `ACCOUNTS_AUDIT_RETENTION_DAYS` (default 365): the audit log keeps records this long; older
//!   ones are removed once an hour
//!
//! Accounts verifies tokens with its own keys, so it ignores `JWKS_URL`.

use kit::settings::ConfigError;

use crate::domain::password::HashCost;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct AccountsSettings {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub signing_key: Option<String>,
    pub failures_per_account: i64,
    pub failures_per_address: i64,
    pub registrations_per_address: i64,
    pub password_resets_per_address: i64,
    pub password_reset_ttl_mins: i64,
    pub hashing_threads: usize,
    pub hash_cost: HashCost,
    pub audit_retention_days: i64,
    pub staff_mfa_required: bool,
}

impl OwnSettings for AccountsSettings {
    fn from_env(env: &Env, common: &CommonSettings) -> Result<Self, ConfigError> {
        let settings = Self {
            access_token_ttl_secs: env.parse_or("ACCESS_TOKEN_TTL_SECS", 900)?,
            refresh_token_ttl_days: env.parse_or("REFRESH_TOKEN_TTL_DAYS", 30)?,
            signing_key: env.optional("SIGNING_KEY"),
            failures_per_account: env.parse_or("LOGIN_FAILURES_PER_ACCOUNT", 5)?,
            failures_per_address: env.parse_or("LOGIN_FAILURES_PER_ADDRESS", 50)?,
            registrations_per_address: env.parse_or("REGISTRATIONS_PER_ADDRESS", 10)?,
            password_resets_per_address: env.parse_or("PASSWORD_RESETS_PER_ADDRESS", 10)?,
            password_reset_ttl_mins: env.parse_or("PASSWORD_RESET_TTL_MINS", 60)?,
            hashing_threads: env.parse_or("HASHING_THREADS", default_hashing_threads())?,
            audit_retention_days: env.parse_or("AUDIT_RETENTION_DAYS", 365)?,
            staff_mfa_required: match env.optional("STAFF_MFA").as_deref() {
                None | Some("required") => true,
                Some("optional") => false,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: env.name("STAFF_MFA"),
                        message: format!("{other:?} is neither `required` nor `optional`"),
                    })
                }
            },
            hash_cost: HashCost::new(
                env.parse_or("ARGON2_MEMORY_KIB", argon2::Params::DEFAULT_M_COST)?,
                env.parse_or("ARGON2_ITERATIONS", argon2::Params::DEFAULT_T_COST)?,
                env.parse_or("ARGON2_PARALLELISM", argon2::Params::DEFAULT_P_COST)?,
            )
            .map_err(|e| ConfigError::Invalid {
                name: env.name("ARGON2_MEMORY_KIB"),
                message: format!("argon2 refuses this cost: {e}"),
            })?,
        };
        if settings.hashing_threads == 0 {
            return Err(ConfigError::Invalid {
                name: env.name("HASHING_THREADS"),
                message: "must be at least 1".into(),
            });
        }
        if settings.audit_retention_days < 1 {
            return Err(ConfigError::Invalid {
                name: env.name("AUDIT_RETENTION_DAYS"),
                message: "must be at least 1".into(),
            });
        }
        if settings.access_token_ttl_secs < 1 {
            return Err(ConfigError::Invalid {
                name: env.name("ACCESS_TOKEN_TTL_SECS"),
                message: "must be at least 1".into(),
            });
        }
        // Longer-lived tokens would be refused by every verifier, this one included.
        if settings.access_token_ttl_secs > common.jwt.max_lifetime_secs {
            return Err(ConfigError::Invalid {
                name: env.name("ACCESS_TOKEN_TTL_SECS"),
                message: format!(
                    "must be at most JWT_MAX_LIFETIME_SECS ({})",
                    common.jwt.max_lifetime_secs
                ),
            });
        }
        Ok(settings)
    }
}

/// Half the CPUs (at least one): logins may use that much, queries keep the rest.
fn default_hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}
