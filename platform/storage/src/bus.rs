//! Opening the event bus by URL: the embedded bus in a SQLite file, or Redis Streams.

use std::path::Path;
use std::sync::Arc;

use event_bus::{EventBus, EventError};

use crate::embedded_bus::EmbeddedBus;

/// Opens the bus at `url`: `sqlite://path` (the embedded bus) or `redis://...` (`rediss://`
/// with a certificate from the CA in `ca_file` when given); `namespace` prefixes every stream
/// name, so several shops (or tests) can share one Redis.
pub async fn connect(
    url: &str,
    namespace: &str,
    ca_file: Option<&Path>,
) -> Result<Arc<dyn EventBus>, EventError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(EmbeddedBus::open(url, namespace).await?))
    } else if url.starts_with("redis://") || url.starts_with("rediss://") {
        event_bus::connect(url, namespace, ca_file).await
    } else {
        Err(EventError::UnsupportedUrl(url.into()))
    }
}
