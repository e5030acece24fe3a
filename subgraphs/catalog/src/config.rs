//! Catalog configuration. Environment variables:
//! - `CATALOG_LISTEN` (default `127.0.0.1:4002`)
//! - `CATALOG_DATABASE_URL` (`postgres://...` or `sqlite://path`; default `sqlite://data/catalog.db`)
//! - `CATALOG_DB_MAX_CONNECTIONS` (default 10)
//! - `CATALOG_SEARCH_DIR`: the embedded search index directory (default `data/search`)
//! - `MEILISEARCH_URL`: use Meilisearch instead of the embedded index; with
//!   `MEILISEARCH_API_KEY` and `MEILISEARCH_INDEX` (default `products`)
//! - `JWKS_URL`: where access-token keys are published (default
//!   `http://127.0.0.1:4001/.well-known/jwks.json`)
//! - `JWT_ISSUER`, `JWT_AUDIENCE` (shared by every service)

use std::net::SocketAddr;
use std::path::PathBuf;

use kit::auth::JwtSettings;
use kit::config::{optional, parse_or, ConfigError};

#[derive(Clone, Debug)]
pub struct MeilisearchConfig {
    pub url: String,
    pub api_key: Option<String>,
    pub index: String,
}

#[derive(Clone, Debug)]
pub struct CatalogConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub max_connections: u32,
    /// `None`: an in-memory index (tests).
    pub search_dir: Option<PathBuf>,
    pub meilisearch: Option<MeilisearchConfig>,
    pub jwks_url: String,
    pub jwt: JwtSettings,
}

impl CatalogConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            listen: parse_or("CATALOG_LISTEN", SocketAddr::from(([127, 0, 0, 1], 4002)))?,
            database_url: optional("CATALOG_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/catalog.db".into()),
            max_connections: parse_or("CATALOG_DB_MAX_CONNECTIONS", 10)?,
            search_dir: Some(parse_or(
                "CATALOG_SEARCH_DIR",
                PathBuf::from("data/search"),
            )?),
            meilisearch: optional("MEILISEARCH_URL").map(|url| MeilisearchConfig {
                url,
                api_key: optional("MEILISEARCH_API_KEY"),
                index: optional("MEILISEARCH_INDEX").unwrap_or_else(|| "products".into()),
            }),
            jwks_url: optional("JWKS_URL")
                .unwrap_or_else(|| "http://127.0.0.1:4001/.well-known/jwks.json".into()),
            jwt: JwtSettings::from_env(),
        })
    }

    /// Defaults for a database URL (tests and the embedded launcher), port 0.
    pub fn for_database(database_url: &str, jwks_url: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            max_connections: 10,
            search_dir: None,
            meilisearch: None,
            jwks_url: jwks_url.into(),
            jwt: JwtSettings {
                issuer: "shop-accounts".into(),
                audience: "shop".into(),
            },
        }
    }
}
