//! The OTLP/HTTP span exporter, sending through our own rustls client: the web's public roots
//! and, for a collector behind a private CA, the PEM certificates of
//! `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE` or `OTEL_EXPORTER_OTLP_CERTIFICATE` (the
//! OpenTelemetry names for it). The collector's address and headers come from the other
//! `OTEL_EXPORTER_OTLP_*` variables, which the exporter reads itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig};

/// How long one export may take, as the exporter's own default.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// A collector's answer is a short status; anything longer is cut here.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Why spans cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error(transparent)]
    CaFile(#[from] crate::trust::CaFileError),
    #[error("the OTLP HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Where spans go when they are exported.
#[derive(Debug, Clone, Default)]
pub struct OtlpSettings {
    /// The traces endpoint (`https://collector:4318/v1/traces`); `None` leaves it to the
    /// `OTEL_EXPORTER_OTLP_*ENDPOINT` variables.
    pub endpoint: Option<String>,
    /// PEM certificates trusted besides the web's public roots.
    pub ca_file: Option<PathBuf>,
}

impl OtlpSettings {
    /// The settings from the environment, or `None` when no endpoint is configured.
    pub fn from_env() -> Option<Self> {
        let set = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
        let configured = set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
        configured.then(|| Self {
            endpoint: None,
            ca_file: set("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
                .or_else(|| set("OTEL_EXPORTER_OTLP_CERTIFICATE"))
                .map(PathBuf::from),
        })
    }
}

/// The OTLP/HTTP (protobuf) span exporter for these settings.
pub fn span_exporter(settings: &OtlpSettings) -> Result<SpanExporter, OtlpError> {
    // A blocking client made on an async runtime's thread panics there: make it on one of its own.
    let client = std::thread::scope(|scope| {
        scope
            .spawn(|| blocking_client(settings.ca_file.as_deref()))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    let mut builder = SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_timeout(EXPORT_TIMEOUT)
        .with_http_client(BlockingClient(client));
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    Ok(builder.build()?)
}

fn blocking_client(ca_file: Option<&Path>) -> Result<reqwest::blocking::Client, OtlpError> {
    let mut builder = reqwest::blocking::Client::builder().timeout(EXPORT_TIMEOUT);
    if let Some(path) = ca_file {
        for certificate in crate::trust::ca_certificates(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder.build()?)
}

/// The batch processor exports on a thread of its own, outside any async runtime, and waits for
/// each export: a blocking client is what it needs.
#[derive(Debug)]
struct BlockingClient(reqwest::blocking::Client);

#[async_trait::async_trait]
impl HttpClient for BlockingClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // The exporter reports a failed send as "network error": say why here.
        let mut response = self.0.execute(request.try_into()?).inspect_err(|error| {
            tracing::warn!(reason = %primitives::error::with_causes(error), "spans cannot reach the trace collector")
        })?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        response.take(MAX_ANSWER_BYTES).read_to_end(&mut body)?;
        let mut answer = Response::builder().status(status).body(Bytes::from(body))?;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}
