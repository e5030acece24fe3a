//! Configuration helpers: every process reads one typed struct from environment variables (and an
//! optional dotenv-style file loaded into the environment first); errors name the bad setting.

use std::fmt::Display;
use std::path::Path;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    #[error("{name} must be set")]
    Missing { name: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

/// Loads a dotenv-style file (`KEY=VALUE` lines) into the environment; variables already set win.
pub fn load_env_file(path: &Path) -> Result<(), ConfigError> {
    dotenvy::from_path(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// A non-empty variable, if set.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn required(name: &str) -> Result<String, ConfigError> {
    optional(name).ok_or_else(|| ConfigError::Missing { name: name.into() })
}

/// Parses a variable, or returns `default` when it is not set.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name: name.into(),
                message: format!("{raw:?}: {e}"),
            }),
    }
}
