//! Exports an admin downloads: written beside the images (the same object store, under
//! `exports/`) and served at `/media/exports/{name}` for [`EXPORT_LIFETIME`]. The link is the
//! credential, as a presigned link is: its name carries 256 random bits, and the file is
//! served with no caching. Expired files are deleted when the next export is made or when one
//! is asked for.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::TryStreamExt;
use http::{header, HeaderValue, StatusCode};
use object_store::{ObjectStore, PutPayload};

use crate::domain::import::ImportFormat;

/// How long an export's link works.
pub const EXPORT_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

const PREFIX: &str = "exports";

pub struct ExportStore {
    objects: Arc<dyn ObjectStore>,
    /// Where `/media` is served from (the images' public URL).
    media_url: String,
}

fn extension(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::Csv => "csv",
        ImportFormat::JsonLines => "jsonl",
    }
}

/// The format of a stored export's name (`export_<43 base64url characters>.csv`), if it is one.
fn format_of(name: &str) -> Option<ImportFormat> {
    let (stem, extension) = name.split_once('.')?;
    let secret = stem.strip_prefix("export_")?;
    let well_formed = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    match (well_formed, extension) {
        (true, "csv") => Some(ImportFormat::Csv),
        (true, "jsonl") => Some(ImportFormat::JsonLines),
        _ => None,
    }
}

fn location(name: &str) -> object_store::path::Path {
    object_store::path::Path::from(format!("{PREFIX}/{name}"))
}

/// Whether a file written at `modified` (milliseconds since the epoch) is past its lifetime.
fn expired(modified: i64) -> bool {
    primitives::time::now_millis() - modified > EXPORT_LIFETIME.as_millis() as i64
}

impl ExportStore {
    pub fn new(objects: Arc<dyn ObjectStore>, media_url: String) -> Self {
        Self { objects, media_url }
    }

    /// Stores an export and returns the URL it is downloaded from.
    pub async fn put(
        &self,
        file: Bytes,
        format: ImportFormat,
    ) -> Result<String, object_store::Error> {
        self.delete_expired().await?;
        let name = format!(
            "{}.{}",
            primitives::id::new_secret("export"),
            extension(format)
        );
        self.objects
            .put(&location(&name), PutPayload::from_bytes(file))
            .await?;
        Ok(format!("{}/{PREFIX}/{name}", self.media_url))
    }

    async fn delete_expired(&self) -> Result<(), object_store::Error> {
        let prefix = object_store::path::Path::from(PREFIX);
        let stored: Vec<_> = self.objects.list(Some(&prefix)).try_collect().await?;
        for meta in stored {
            if expired(meta.last_modified.timestamp_millis()) {
                self.objects.delete(&meta.location).await?;
            }
        }
        Ok(())
    }

    /// The export named `name`, unless it expired (then it is deleted).
    async fn get(&self, name: &str) -> Result<Option<Bytes>, object_store::Error> {
        let found = match self.objects.get(&location(name)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        if expired(found.meta.last_modified.timestamp_millis()) {
            self.objects.delete(&location(name)).await?;
            return Ok(None);
        }
        Ok(Some(found.bytes().await?))
    }

    /// `GET /media/exports/{name}`: a download, while its link works.
    pub fn routes(self: Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/media/exports/{name}", axum::routing::get(serve))
            .with_state(self)
    }
}

async fn serve(State(exports): State<Arc<ExportStore>>, Path(name): Path<String>) -> Response {
    let Some(format) = format_of(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (content_type, download) = match format {
        ImportFormat::Csv => (
            "text/csv; charset=utf-8",
            "attachment; filename=\"products.csv\"",
        ),
        ImportFormat::JsonLines => (
            "application/x-ndjson",
            "attachment; filename=\"products.jsonl\"",
        ),
    };
    match exports.get(&name).await {
        Ok(Some(file)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static(download),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            file,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "reading a stored export failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_export_names_are_served() {
        let name = format!("{}.csv", primitives::id::new_secret("export"));
        assert_eq!(format_of(&name), Some(ImportFormat::Csv));
        assert_eq!(
            format_of(&name.replace(".csv", ".jsonl")),
            Some(ImportFormat::JsonLines)
        );
        for bad in [
            "export_short.csv",
            "../media/x.csv",
            &name.replace(".csv", ".png"),
            &name.replace("export_", "import_"),
            &format!("{}.csv", "export_".to_string() + &"a/".repeat(21) + "a"),
        ] {
            assert_eq!(format_of(bad), None, "{bad}");
        }
    }
}
