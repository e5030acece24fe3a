//! The notifications service's own settings (the shared ones are in [`kit::settings`]).
//! Environment variables:
//! - `NOTIFICATIONS_SMTP_URL` (default: unset): the SMTP server, e.g.
//!   `smtps://user:password@smtp.example.com` or `smtp://127.0.0.1:2525` (no TLS, a local relay);
//!   unset, every message is written to `<data dir>/mail/` and logged instead
//! - `NOTIFICATIONS_FROM` (default `Shop <shop@example.com>`): the sender
//! - `NOTIFICATIONS_ADMIN_EMAILS` (default: none): comma-separated, who gets admin alerts (low stock)
//! - `NOTIFICATIONS_SHOP_URL` (default `http://127.0.0.1:4000`): the storefront, for links
//! - `NOTIFICATIONS_MAX_ATTEMPTS` (default 5): sends tried before a message is marked failed
//! - `NOTIFICATIONS_RETRY_BASE_MS` (default 1000): the first retry's delay, doubled each time

use std::path::PathBuf;
use std::time::Duration;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

/// Where messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Smtp {
        url: String,
    },
    /// Written to this directory (the embedded shop), one `.eml` file each.
    Directory(PathBuf),
}

#[derive(Clone, Debug)]
pub struct NotificationsSettings {
    pub delivery: Delivery,
    pub from: String,
    pub admin_emails: Vec<String>,
    pub shop_url: String,
    pub max_attempts: i64,
    pub retry_base: Duration,
}

impl OwnSettings for NotificationsSettings {
    fn from_env(env: &Env, common: &CommonSettings) -> Result<Self, ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            name: env.name(key),
            message: message.into(),
        };
        let delivery = match env.optional("SMTP_URL") {
            Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                Delivery::Smtp { url }
            }
            Some(_) => return Err(invalid("SMTP_URL", "must start with smtp:// or smtps://")),
            None => Delivery::Directory(common.data_dir.join("mail")),
        };
        let from = env
            .optional("FROM")
            .unwrap_or_else(|| "Shop <shop@example.com>".into());
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "FROM",
                "must be an address such as Shop <shop@example.com>",
            ));
        }
        let admin_emails: Vec<String> = env
            .optional("ADMIN_EMAILS")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if admin_emails
            .iter()
            .any(|e| e.parse::<lettre::Address>().is_err())
        {
            return Err(invalid(
                "ADMIN_EMAILS",
                "must be email addresses, comma-separated",
            ));
        }
        let max_attempts: i64 = env.parse_or("MAX_ATTEMPTS", 5)?;
        if max_attempts < 1 {
            return Err(invalid("MAX_ATTEMPTS", "must be at least 1"));
        }
        Ok(Self {
            delivery,
            from,
            admin_emails,
            shop_url: env
                .optional("SHOP_URL")
                .unwrap_or_else(|| "http://127.0.0.1:4000".into()),
            max_attempts,
            retry_base: Duration::from_millis(env.parse_or("RETRY_BASE_MS", 1000)?),
        })
    }
}
