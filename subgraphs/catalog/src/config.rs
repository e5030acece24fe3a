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

/// Where product images are kept and how their URLs start.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// `CATALOG_MEDIA_STORE`: an object store URL (`s3://bucket/prefix`, credentials from the
    /// usual `AWS_*` variables, `AWS_ENDPOINT` for any S3-compatible service); when unset, the
    /// directory `media` in the data directory.
    pub store: MediaStoreLocation,
    /// `CATALOG_MEDIA_PUBLIC_URL`: what an uploaded image's URL starts with (a CDN in front of
    /// the bucket, say); `/media`, which the catalog and the embedded shop's router serve, when
    /// unset.
    pub public_url: String,
    /// `CATALOG_MEDIA_MAX_BYTES`: the largest image an admin may upload (10 MiB by default).
    pub max_bytes: usize,
}

#[derive(Clone, Debug)]
pub enum MediaStoreLocation {
    Directory(PathBuf),
    Url(String),
}

#[derive(Clone, Debug)]
pub struct CatalogSettings {
    pub search: SearchSettings,
    pub media: MediaSettings,
    /// `CATALOG_STOREFRONT_URL`: where the storefront is (`https://shop.example.com`), for the
    /// sitemap's addresses; the host a request came to when unset.
    pub storefront_url: Option<String>,
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
        let media = MediaSettings {
            store: match env.optional("MEDIA_STORE") {
                Some(url) => MediaStoreLocation::Url(url),
                None => MediaStoreLocation::Directory(common.data_dir.join("media")),
            },
            public_url: env
                .optional("MEDIA_PUBLIC_URL")
                .unwrap_or_else(|| "/media".into())
                .trim_end_matches('/')
                .to_string(),
            max_bytes: env.parse_or("MEDIA_MAX_BYTES", 10 * 1024 * 1024)?,
        };
        Ok(Self {
            search,
            media,
            storefront_url: env.optional("STOREFRONT_URL"),
        })
    }
}
