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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_variable() {
        std::env::set_var("KIT_TEST_PORT_OK", " 4005 ");
        std::env::set_var("KIT_TEST_PORT_BAD", "forty");
        assert_eq!(parse_or("KIT_TEST_PORT_OK", 1u16).unwrap(), 4005);
        assert_eq!(parse_or("KIT_TEST_PORT_UNSET", 7u16).unwrap(), 7);
        let error = parse_or("KIT_TEST_PORT_BAD", 1u16).unwrap_err().to_string();
        assert!(error.starts_with("KIT_TEST_PORT_BAD: \"forty\""), "{error}");
        assert_eq!(
            required("KIT_TEST_MISSING").unwrap_err().to_string(),
            "KIT_TEST_MISSING must be set"
        );
    }

    #[test]
    fn env_files_fill_only_unset_variables() {
        let path = std::env::temp_dir().join(primitives::id::new_id("env"));
        std::fs::write(
            &path,
            "# comment\nKIT_TEST_FROM_FILE=file\nKIT_TEST_PRESET=file\n",
        )
        .unwrap();
        std::env::set_var("KIT_TEST_PRESET", "process");
        load_env_file(&path).unwrap();
        assert_eq!(optional("KIT_TEST_FROM_FILE").as_deref(), Some("file"));
        assert_eq!(optional("KIT_TEST_PRESET").as_deref(), Some("process"));
        let missing = load_env_file(&path.with_extension("missing")).unwrap_err();
        assert!(missing.to_string().contains("config file"), "{missing}");
        std::fs::remove_file(path).ok();
    }
}
