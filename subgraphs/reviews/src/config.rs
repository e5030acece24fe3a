//! The reviews service's own settings (the shared ones are in [`kit::settings`]). Environment
//! variables:
//! - `REVIEWS_REPORT_THRESHOLD` (default 3): reports that hide a published review until an admin
//!   looks at it (0: reports never hide)

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct ReviewsSettings {
    pub report_threshold: u32,
}

impl OwnSettings for ReviewsSettings {
    fn from_env(env: &Env, _common: &CommonSettings) -> Result<Self, ConfigError> {
        Ok(Self {
            report_threshold: env.parse_or("REPORT_THRESHOLD", 3)?,
        })
    }
}
