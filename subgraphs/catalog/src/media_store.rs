//! Where uploaded product images live: a directory in the embedded shop, an S3-compatible bucket
//! in production (both through `object_store`), and the `/media/{key}` route that serves them.
//!
//! Keys are content hashes ([`crate::domain::media::inspect_image`]), so a stored image never
//! changes: it is written before the product names it (a crash in between leaves an unused
//! file, never a product naming a missing one) and served with a year's cache.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload};

use crate::config::{MediaSettings, MediaStoreLocation};
use crate::domain::media::{is_media_key, Image, ImageFormat};

pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
    public_url: String,
    pub max_bytes: usize,
}

impl MediaStore {
    pub fn open(settings: &MediaSettings) -> anyhow::Result<Self> {
        let objects: Arc<dyn ObjectStore> = match &settings.store {
            MediaStoreLocation::Directory(dir) => {
                std::fs::create_dir_all(dir)?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            MediaStoreLocation::Url(url) => {
                let url = reqwest::Url::parse(url)
                    .map_err(|e| anyhow::anyhow!("CATALOG_MEDIA_STORE {url:?}: {e}"))?;
                let options = std::env::vars()
                    .filter(|(name, _)| name.starts_with("AWS_"))
                    .map(|(name, value)| (name.to_ascii_lowercase(), value));
                let (store, prefix) = object_store::parse_url_opts(&url, options)?;
                Arc::new(PrefixStore::new(store, prefix))
            }
        };
        Ok(Self {
            objects,
            public_url: settings.public_url.clone(),
            max_bytes: settings.max_bytes,
        })
    }

    /// The store itself, for what else is kept beside the images (exports).
    pub fn objects(&self) -> Arc<dyn ObjectStore> {
        self.objects.clone()
    }

    /// Where `/media` is served from.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The URL an image stored under `key` is shown at.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_url)
    }

    /// Stores an inspected image (again, harmlessly, when the same bytes were stored before)
    /// and returns its URL.
    pub async fn put(&self, image: &Image, bytes: Bytes) -> Result<String, object_store::Error> {
        let location = object_store::path::Path::from(image.key.as_str());
        self.objects
            .put(&location, PutPayload::from_bytes(bytes))
            .await?;
        Ok(self.url(&image.key))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, object_store::Error> {
        let location = object_store::path::Path::from(key);
        match self.objects.get(&location).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `GET /media/{key}`: a stored image, cached for a year (its key is its content hash).
    pub fn routes(self: Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/media/{key}", axum::routing::get(serve))
            .with_state(self)
    }
}

async fn serve(
    State(media): State<Arc<MediaStore>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(format) = is_media_key(&key)
        .then(|| key.rsplit_once('.'))
        .flatten()
        .and_then(|(_, extension)| ImageFormat::from_extension(extension))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{key}\"");
    let cache_headers = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("a media key is a valid header value"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tag| tag.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, cache_headers).into_response();
    }
    match media.get(&key).await {
        Ok(Some(bytes)) => (
            cache_headers,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, key, "reading a stored image failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
