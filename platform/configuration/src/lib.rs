//! Where every process of the shop (the router and each subgraph) reads its settings.
//!
//! A [`Source`] answers a setting by its environment-variable name, from (highest first) values
//! set in code (the embedded launcher, tests), the process environment, and a dotenv-style file
//! of variables (`--config`). A typed section is extracted from a source with [`Source::extract`]:
//! its defaults, then a TOML file, then the variables a [`Var`] table maps to its keys (figment
//! merges them). Whatever goes wrong names the setting as the operator wrote it: the variable, or
//! the key in the file.
//!
//! A blank variable counts as unset everywhere, so `FOO=` in a deployment file means "the default".

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    #[error("{name} must be set")]
    Missing { name: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

/// The settings one process reads, by variable name.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// Set in code; wins over everything.
    values: BTreeMap<String, String>,
    read_process: bool,
    /// From a dotenv-style file; the process environment wins over it.
    file_values: BTreeMap<String, String>,
    /// A TOML file of the typed sections' keys (the router's `--config`).
    toml_file: Option<PathBuf>,
}

impl Source {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            read_process: true,
            ..Self::default()
        }
    }

    /// Only the values set with [`Source::set`]: every other setting has its default.
    pub fn isolated() -> Self {
        Self::default()
    }

    /// Sets a variable; it wins over the process environment and files.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(name.into(), value.into());
        self
    }

    /// Adds the variables of a dotenv-style file (`KEY=VALUE` lines) below the environment.
    pub fn with_env_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let file_error = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message,
        };
        for line in dotenvy::from_path_iter(path).map_err(|e| file_error(e.to_string()))? {
            let (name, value) = line.map_err(|e| file_error(e.to_string()))?;
            self.file_values.insert(name, value);
        }
        Ok(self)
    }

    /// Reads typed sections' keys from this TOML file, below the variables.
    pub fn with_toml_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.toml_file = Some(path.into());
        self
    }

    /// The variable `name`, if set and not blank.
    pub fn var(&self, name: &str) -> Option<String> {
        let value = match self.values.get(name) {
            Some(value) => Some(value.clone()),
            None => self
                .read_process
                .then(|| std::env::var(name).ok())
                .flatten()
                .or_else(|| self.file_values.get(name).cloned()),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The variable `name`, which must be set.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.var(name)
            .ok_or_else(|| ConfigError::Missing { name: name.into() })
    }

    /// The variable `name` parsed, or `default` when it is not set.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.var(name) {
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

    /// A typed section: `defaults`, then the TOML file (if any), then each variable of `vars`
    /// that is set, at its key. Numbers and booleans in variables are read from their text.
    pub fn extract<T>(&self, defaults: &T, vars: &[Var]) -> Result<T, ConfigError>
    where
        T: Serialize + DeserializeOwned,
    {
        let mut figment = Figment::from(Serialized::defaults(defaults));
        if let Some(path) = &self.toml_file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    message: "not found".into(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let variables = Variables {
            set: vars
                .iter()
                .filter_map(|var| Some((var.clone(), self.var(&var.name)?)))
                .collect(),
        };
        figment
            .merge(variables)
            .extract_lossy()
            .map_err(|error| self.name_setting(error))
    }

    /// Turns figment's error into one that names the variable or the file's key.
    fn name_setting(&self, error: figment::Error) -> ConfigError {
        let key = error.path.join(".");
        let message = error.kind.to_string();
        let Some(metadata) = &error.metadata else {
            return ConfigError::Invalid { name: key, message };
        };
        if metadata.name == VARIABLES {
            let name = metadata.interpolate(&Profile::Default, &error.path);
            return ConfigError::Invalid { name, message };
        }
        match (&self.toml_file, &metadata.source) {
            (Some(path), Some(figment::Source::File(_))) => ConfigError::File {
                path: path.display().to_string(),
                message: if key.is_empty() {
                    message
                } else {
                    format!("{key}: {message}")
                },
            },
            _ => ConfigError::Invalid { name: key, message },
        }
    }
}

/// An environment variable and the key of a typed section it sets (`ROUTER_MAX_DEPTH` sets
/// `limits.max_depth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub key: String,
}

impl Var {
    pub fn new(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
        }
    }
}

const VARIABLES: &str = "environment variable";

/// The variables that are set, as a figment provider whose errors name the variable.
struct Variables {
    set: Vec<(Var, String)>,
}

impl Provider for Variables {
    fn metadata(&self) -> Metadata {
        let names: Vec<Var> = self.set.iter().map(|(var, _)| var.clone()).collect();
        Metadata::named(VARIABLES).interpolater(move |_, path| {
            let key = path.join(".");
            names
                .iter()
                .find(|var| var.key == key)
                .map(|var| var.name.clone())
                .unwrap_or(key)
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (var, value) in &self.set {
            let nested = figment::util::nest(&var.key, Value::from(value.trim().to_string()));
            if let Value::Dict(_, entries) = nested {
                merge_into(&mut dict, entries);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_into(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, entries)) => {
                merge_into(existing, entries)
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Section {
        listen: String,
        enabled: bool,
        limits: Limits,
        origins: Option<String>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Limits {
        depth: u16,
        rate: f64,
    }

    impl Default for Section {
        fn default() -> Self {
            Self {
                listen: "127.0.0.1:1".into(),
                enabled: false,
                limits: Limits::default(),
                origins: None,
            }
        }
    }

    impl Default for Limits {
        fn default() -> Self {
            Self {
                depth: 8,
                rate: 1.5,
            }
        }
    }

    fn vars() -> Vec<Var> {
        vec![
            Var::new("T_LISTEN", "listen"),
            Var::new("T_ENABLED", "enabled"),
            Var::new("T_MAX_DEPTH", "limits.depth"),
            Var::new("T_RATE", "limits.rate"),
        ]
    }

    fn temp_file(text: &str, extension: &str) -> PathBuf {
        let path = std::env::temp_dir()
            .join(primitives::id::new_id("settings"))
            .with_extension(extension);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn variables_win_over_the_file_which_wins_over_defaults() {
        let file = temp_file("listen = \"0.0.0.0:2\"\n[limits]\ndepth = 3\n", "toml");
        let source = Source::isolated()
            .with_toml_file(&file)
            .set("T_MAX_DEPTH", " 4 ")
            .set("T_ENABLED", "true")
            .set("T_RATE", "");
        let section = source.extract(&Section::default(), &vars()).unwrap();
        assert_eq!(
            section,
            Section {
                listen: "0.0.0.0:2".into(),
                enabled: true,
                limits: Limits {
                    depth: 4,
                    rate: 1.5
                },
                origins: None,
            }
        );
        std::fs::remove_file(file).ok();
    }

    #[test]
    fn a_bad_value_names_its_variable_or_its_key_in_the_file() {
        let source = Source::isolated().set("T_MAX_DEPTH", "deep");
        let error = source
            .extract(&Section::default(), &vars())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("T_MAX_DEPTH: "), "{error}");
        assert!(error.contains("\"deep\""), "{error}");

        let file = temp_file("[limits]\ndepth = \"deep\"\n", "toml");
        let source = Source::isolated().with_toml_file(&file);
        let error = source
            .extract(&Section::default(), &vars())
            .unwrap_err()
            .to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("limits.depth"), "{error}");
        std::fs::remove_file(&file).ok();

        let file = temp_file("listen = \"x\"\nlisten_typo = 1\n", "toml");
        let error = Source::isolated()
            .with_toml_file(&file)
            .extract(&Section::default(), &vars())
            .unwrap_err()
            .to_string();
        assert!(error.contains("listen_typo"), "{error}");
        std::fs::remove_file(&file).ok();

        let missing = Source::isolated()
            .with_toml_file("/nonexistent/router.toml")
            .extract(&Section::default(), &vars())
            .unwrap_err();
        assert!(
            matches!(missing, ConfigError::File { ref path, .. } if path == "/nonexistent/router.toml")
        );
    }

    #[test]
    fn single_settings_parse_and_name_their_variable() {
        let source = Source::isolated()
            .set("T_PORT_OK", " 4005 ")
            .set("T_PORT_BAD", "forty");
        assert_eq!(source.parse_or("T_PORT_OK", 1u16).unwrap(), 4005);
        assert_eq!(source.parse_or("T_PORT_UNSET", 7u16).unwrap(), 7);
        let error = source.parse_or("T_PORT_BAD", 1u16).unwrap_err().to_string();
        assert!(error.starts_with("T_PORT_BAD: \"forty\""), "{error}");
        assert_eq!(
            source.required("T_MISSING").unwrap_err().to_string(),
            "T_MISSING must be set"
        );
    }

    #[test]
    fn env_files_sit_below_the_environment_and_values_set_in_code() {
        let path = temp_file(
            "# comment\nT_FROM_FILE=file\nT_PRESET=file\nT_CODE=file\n",
            "env",
        );
        std::env::set_var("T_PRESET", "process");
        let source = Source::process()
            .with_env_file(&path)
            .unwrap()
            .set("T_CODE", "code");
        assert_eq!(source.var("T_FROM_FILE").as_deref(), Some("file"));
        assert_eq!(source.var("T_PRESET").as_deref(), Some("process"));
        assert_eq!(source.var("T_CODE").as_deref(), Some("code"));
        // Reading the file sets nothing in the process.
        assert!(std::env::var("T_FROM_FILE").is_err());
        let missing = Source::process()
            .with_env_file(&path.with_extension("missing"))
            .unwrap_err();
        assert!(missing.to_string().contains("config file"), "{missing}");
        std::fs::remove_file(path).ok();
    }
}
