//! Settings every subgraph shares, read from one place per prefix with one set of defaults.
//!
//! For a subgraph named `catalog` (prefix `CATALOG_`):
//! - `CATALOG_LISTEN` (default `127.0.0.1:<the subgraph's port>`)
//! - `CATALOG_DATABASE_URL` (`postgres://...` or `sqlite://path`; default
//!   `sqlite://<data dir>/catalog.db`)
//! - `CATALOG_DB_MAX_CONNECTIONS` (default 10)
//! - `SHOP_DATA_DIR` (default `data`): where the embedded backends keep their files
//! - `SHOP_CURRENCY` (default `USD`): the one currency the shop sells in
//! - `JWT_ISSUER` (default `shop-accounts`), `JWT_AUDIENCE` (default `shop`),
//!   `JWT_MAX_LIFETIME_SECS` (default 86400): tokens whose `exp` lies further after their `iat`
//!   are refused
//! - `HTTP_HEADER_READ_TIMEOUT_MS` (default 10000: a new connection's first request headers),
//!   `HTTP_IDLE_TIMEOUT_MS` (default 75000: a kept-alive connection's next request),
//!   `HTTP_REQUEST_TIMEOUT_MS` (default 60000), `HTTP_MAX_CONNECTIONS` (default 4096): the
//!   server's limits against slow and idle clients
//! - `ROUTER_SUBGRAPH_SECRET`: the secret the router proves itself with; when set, the GraphQL
//!   endpoint answers only the router and service tokens (set it in production)
//! - `JWKS_URL`: where access-token keys are published (default
//!   `http://127.0.0.1:4001/.well-known/jwks.json`)
//! - `EVENTS_URL`: the event bus, `redis://...` or `sqlite://path` (default
//!   `sqlite://<data dir>/events.db`), and `EVENTS_NAMESPACE` (default `shop`), the prefix of its
//!   stream names
//!
//! - `CATALOG_CLIENT_ID`, `CATALOG_CLIENT_SECRET`: the subgraph's API client at accounts, for
//!   service calls (`accounts register-client --name catalog --scope service` makes one), and
//!   `ACCOUNTS_TOKEN_URL` (default `http://127.0.0.1:4001/oauth/token`)
//!
//! A subgraph's own settings use the same prefix (see [`Env`]).

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

use auth::JwtSettings;
use configuration::Source;

pub use configuration::ConfigError;

/// A subgraph's settings: its [`Source`] and the prefix of its own variables.
#[derive(Clone, Debug)]
pub struct Env {
    prefix: String,
    source: Source,
}

impl Env {
    /// The settings of the subgraph named `name` in `source`.
    pub fn new(name: &str, source: Source) -> Self {
        Self {
            prefix: format!("{}_", name.to_uppercase()),
            source,
        }
    }

    /// The process environment, for the subgraph named `name`.
    pub fn process(name: &str) -> Self {
        Self::new(name, Source::process())
    }

    /// Only the values set with [`Env::set`]: every other setting has its default.
    pub fn isolated(name: &str) -> Self {
        Self::new(name, Source::isolated())
    }

    /// Sets a variable by its full name (e.g. `CATALOG_SEARCH_DIR` or `JWKS_URL`); it wins over
    /// the process environment.
    pub fn set(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            source: self.source.set(name, value),
            ..self
        }
    }

    /// Where the settings come from (the embedded launcher reads the router's from the same).
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The full name of the subgraph's own setting `key`: `name("LISTEN")` is `CATALOG_LISTEN`.
    pub fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// A shared (unprefixed) variable, if set and not blank.
    pub fn shared(&self, name: &str) -> Option<String> {
        self.source.var(name)
    }

    /// The subgraph's own setting `key`, if set.
    pub fn optional(&self, key: &str) -> Option<String> {
        self.shared(&self.name(key))
    }

    /// The subgraph's own setting `key` parsed, or `default` when it is not set.
    pub fn parse_or<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.source.parse_or(&self.name(key), default)
    }

    /// A shared variable parsed, or `default` when it is not set.
    pub fn parse_shared_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.source.parse_or(name, default)
    }
}

/// Where the keys that verify access tokens come from.
#[derive(Clone, Debug)]
pub enum VerificationKeys {
    /// A JWKS URL, fetched and cached.
    Jwks(String),
    /// Keys known up front (tests signing their own tokens).
    Fixed(JwkSet),
}

#[derive(Clone, Debug)]
pub struct CommonSettings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub max_connections: u32,
    pub data_dir: PathBuf,
    pub jwt: JwtSettings,
    pub keys: VerificationKeys,
    pub events: EventBusSettings,
    /// Service calls go out with this client's tokens; without it, anonymously.
    pub credentials: Option<web::client::Credentials>,
    /// PEM certificates trusted for `https://` calls besides the web's public roots, and the CA
    /// of a `rediss://` Redis (`TLS_CA_FILE`: the private CA of the shop's services).
    pub tls_ca_file: Option<PathBuf>,
    /// The one currency the shop sells in (`SHOP_CURRENCY`, default USD): prices in another are
    /// refused where they are written.
    pub currency: commerce::money::CurrencyCode,
    /// The subgraph server's header-read, idle and request timeouts and connection cap
    /// (`HTTP_HEADER_READ_TIMEOUT_MS`, `HTTP_IDLE_TIMEOUT_MS`, `HTTP_REQUEST_TIMEOUT_MS`,
    /// `HTTP_MAX_CONNECTIONS`).
    pub http: web::serve::HttpLimits,
    /// The secret the router sends in `x-router-secret` (`ROUTER_SUBGRAPH_SECRET`): with it, the
    /// GraphQL endpoint serves only the router and service tokens (see [`crate::server::Gate`]).
    pub router_secret: Option<String>,
    /// The variable names these came from, for start-up errors.
    pub names: SettingNames,
}

#[derive(Clone, Debug)]
pub struct SettingNames {
    pub listen: String,
    pub database_url: String,
}

/// Where the event bus is: `EVENTS_URL` (default the SQLite file `<data dir>/events.db`) and
/// `EVENTS_NAMESPACE` (default `shop`). The subgraphs and the router read the same two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBusSettings {
    pub url: String,
    pub namespace: String,
}

impl EventBusSettings {
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let data_dir: PathBuf = env.parse_shared_or("SHOP_DATA_DIR", PathBuf::from("data"))?;
        Ok(Self {
            url: env
                .shared("EVENTS_URL")
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("events.db").display())),
            namespace: env
                .shared("EVENTS_NAMESPACE")
                .unwrap_or_else(|| "shop".into()),
        })
    }
}

impl CommonSettings {
    /// The settings of the subgraph `env` is for, whose default port is `port`.
    pub fn load(env: &Env, port: u16) -> Result<Self, ConfigError> {
        let data_dir: PathBuf = env.parse_shared_or("SHOP_DATA_DIR", PathBuf::from("data"))?;
        let file = format!("{}.db", env.prefix.trim_end_matches('_').to_lowercase());
        let database_url = env
            .optional("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join(file).display()));
        let max_connections = env.parse_or("DB_MAX_CONNECTIONS", 10u32)?;
        if max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: env.name("DB_MAX_CONNECTIONS"),
                message: "must be at least 1".into(),
            });
        }
        let currency = match env.shared("SHOP_CURRENCY") {
            None => commerce::money::CurrencyCode::Usd,
            Some(code) => commerce::money::CurrencyCode::parse(code.trim()).ok_or_else(|| {
                ConfigError::Invalid {
                    name: "SHOP_CURRENCY".into(),
                    message: format!("{code:?} is not a currency the shop knows"),
                }
            })?,
        };
        Ok(Self {
            currency,
            tls_ca_file: env
                .shared("TLS_CA_FILE")
                .filter(|path| !path.trim().is_empty())
                .map(PathBuf::from),
            http: http_limits(env)?,
            router_secret: env
                .shared("ROUTER_SUBGRAPH_SECRET")
                .filter(|s| !s.trim().is_empty()),
            events: EventBusSettings::load(env)?,
            listen: env.parse_or("LISTEN", SocketAddr::from(([127, 0, 0, 1], port)))?,
            database_url,
            max_connections,
            data_dir,
            jwt: JwtSettings {
                issuer: env
                    .shared("JWT_ISSUER")
                    .unwrap_or_else(|| "shop-accounts".into()),
                audience: env.shared("JWT_AUDIENCE").unwrap_or_else(|| "shop".into()),
                max_lifetime_secs: env.parse_shared_or(
                    "JWT_MAX_LIFETIME_SECS",
                    JwtSettings::DEFAULT_MAX_LIFETIME_SECS,
                )?,
            },
            keys: VerificationKeys::Jwks(
                env.shared("JWKS_URL")
                    .unwrap_or_else(|| topology::ACCOUNTS.local_url("/.well-known/jwks.json")),
            ),
            credentials: match (env.optional("CLIENT_ID"), env.optional("CLIENT_SECRET")) {
                (Some(client_id), Some(client_secret)) => Some(web::client::Credentials {
                    token_url: env
                        .shared("ACCOUNTS_TOKEN_URL")
                        .unwrap_or_else(|| topology::ACCOUNTS.local_url("/oauth/token")),
                    client_id,
                    client_secret,
                }),
                (None, None) => None,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: env.name("CLIENT_SECRET"),
                        message: format!("set both or neither of it and {}", env.name("CLIENT_ID")),
                    })
                }
            },
            names: SettingNames {
                listen: env.name("LISTEN"),
                database_url: env.name("DATABASE_URL"),
            },
        })
    }
}

/// The server's limits from `HTTP_HEADER_READ_TIMEOUT_MS`, `HTTP_IDLE_TIMEOUT_MS`,
/// `HTTP_REQUEST_TIMEOUT_MS` and `HTTP_MAX_CONNECTIONS`; each must be at least 1.
fn http_limits(env: &Env) -> Result<web::serve::HttpLimits, ConfigError> {
    let defaults = web::serve::HttpLimits::default();
    let positive = |name: &str, default: u64| -> Result<u64, ConfigError> {
        match env.parse_shared_or(name, default)? {
            0 => Err(ConfigError::Invalid {
                name: name.into(),
                message: "must be at least 1".into(),
            }),
            value => Ok(value),
        }
    };
    let millis = |name: &str, default: Duration| {
        positive(name, default.as_millis() as u64).map(Duration::from_millis)
    };
    Ok(web::serve::HttpLimits {
        header_read_timeout: millis("HTTP_HEADER_READ_TIMEOUT_MS", defaults.header_read_timeout)?,
        idle_timeout: millis("HTTP_IDLE_TIMEOUT_MS", defaults.idle_timeout)?,
        request_timeout: millis("HTTP_REQUEST_TIMEOUT_MS", defaults.request_timeout)?,
        max_connections: positive("HTTP_MAX_CONNECTIONS", defaults.max_connections as u64)?
            as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_one_prefix_with_one_set_of_defaults() {
        let defaults = CommonSettings::load(&Env::isolated("catalog"), 4002).unwrap();
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:4002");
        assert_eq!(defaults.database_url, "sqlite://data/catalog.db");
        assert_eq!(defaults.max_connections, 10);
        assert_eq!(defaults.names.database_url, "CATALOG_DATABASE_URL");

        let env = Env::isolated("catalog")
            .set("CATALOG_LISTEN", "0.0.0.0:9000")
            .set("SHOP_DATA_DIR", "/var/shop")
            .set("JWKS_URL", "http://accounts/jwks");
        let set = CommonSettings::load(&env, 4002).unwrap();
        assert_eq!(set.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(set.database_url, "sqlite:///var/shop/catalog.db");
        assert!(matches!(set.keys, VerificationKeys::Jwks(url) if url == "http://accounts/jwks"));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let env = Env::isolated("inventory").set("INVENTORY_DB_MAX_CONNECTIONS", "many");
        let error = CommonSettings::load(&env, 4003).unwrap_err().to_string();
        assert!(
            error.starts_with("INVENTORY_DB_MAX_CONNECTIONS: \"many\""),
            "{error}"
        );
        let env = Env::isolated("inventory").set("INVENTORY_DB_MAX_CONNECTIONS", "0");
        let error = CommonSettings::load(&env, 4003).unwrap_err().to_string();
        assert_eq!(error, "INVENTORY_DB_MAX_CONNECTIONS: must be at least 1");
    }
}
