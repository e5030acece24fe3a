//! The payments service's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `PAYMENTS_PROVIDER_URL` (default `http://127.0.0.1:4090`): the card processor's API (the
//!   built-in test provider in the embedded shop)
//! - `PAYMENTS_PROVIDER_API_KEY` (required): the key the provider's API is called with (the
//!   embedded shop makes one for its built-in test provider)
//! - `PAYMENTS_WEBHOOK_SECRETS` (required): the secrets the provider signs webhooks with,
//!   comma-separated, the current one first (two during a rotation)
//! - `PAYMENTS_WEBHOOK_TOLERANCE_SECS` (default 300): how old a webhook's timestamp may be
//! - `PAYMENTS_SETTLE_WAIT_MS` (default 3000): how long a charge request waits for the provider's
//!   webhook before it asks the provider for the result (and answers with the payment still
//!   authorized if the provider cannot tell yet); keep it below the callers' 5 s service-call
//!   timeout

use std::time::Duration;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct PaymentsSettings {
    pub provider_url: String,
    pub provider_api_key: String,
    pub webhook_secrets: Vec<String>,
    pub webhook_tolerance: Duration,
    pub settle_wait: Duration,
}

impl OwnSettings for PaymentsSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        let webhook_secrets: Vec<String> = env
            .optional("WEBHOOK_SECRETS")
            .ok_or_else(|| ConfigError::Missing {
                name: env.name("WEBHOOK_SECRETS"),
            })?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if webhook_secrets.iter().any(|s| s.len() < 16) {
            return Err(ConfigError::Invalid {
                name: env.name("WEBHOOK_SECRETS"),
                message: "each secret must be at least 16 characters".into(),
            });
        }
        Ok(Self {
            provider_url: env
                .optional("PROVIDER_URL")
                .unwrap_or_else(|| "http://127.0.0.1:4090".into()),
            provider_api_key: env.optional("PROVIDER_API_KEY").ok_or_else(|| {
                ConfigError::Missing {
                    name: env.name("PROVIDER_API_KEY"),
                }
            })?,
            webhook_secrets,
            webhook_tolerance: Duration::from_secs(env.parse_or("WEBHOOK_TOLERANCE_SECS", 300)?),
            settle_wait: Duration::from_millis(env.parse_or("SETTLE_WAIT_MS", 3000)?),
        })
    }
}
