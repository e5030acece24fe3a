//! The catalog's own settings (the shared ones are in [`kit::settings`]). Environment variables:
//! - `CATALOG_SEARCH_DIR`: the embedded search index directory (default `<data dir>/search`;
//!   `:memory:` keeps it in memory)
//! - `MEILISEARCH_URL`: use Meilisearch instead of the embedded index; with
//!   `MEILISEARCH_API_KEY` and `MEILISEARCH_INDEX` (default `products`)

use std::path::PathBuf;

use kit::settings::ConfigError;
use kit::settings::{CommonSettings, Env};
use kit::subgraph::OwnSettings;

#[derive(Clone, Debug)]
pub struct MeilisearchSettings {
    pub url: String,
    pub api_key: Option<String>,
    pub index: String,
}

#[derive(Clone, Debug)]
pub enum SearchSettings {
    /// The embedded index in a directory.
    Directory(PathBuf),
    /// The embedded index in memory (tests).
    Memory,
    Meilisearch(MeilisearchSettings),
}

#[derive(Clone, Debug)]
pub struct CatalogSettings {
    pub search: SearchSettings,
}

impl OwnSettings for CatalogSettings {
    fn from_env(env: &Env, common: &CommonSettings) -> Result<Self, ConfigError> {
        let search = if let Some(url) = env.shared("MEILISEARCH_URL") {
            SearchSettings::Meilisearch(MeilisearchSettings {
                url,
                api_key: env.shared("MEILISEARCH_API_KEY"),
                index: env
                    .shared("MEILISEARCH_INDEX")
                    .unwrap_or_else(|| "products".into()),
            })
        } else {
            match env.optional("SEARCH_DIR") {
                Some(dir) if dir == ":memory:" => SearchSettings::Memory,
                Some(dir) => SearchSettings::Directory(dir.into()),
                None => SearchSettings::Directory(common.data_dir.join("search")),
            }
        };
        Ok(Self { search })
    }
}
