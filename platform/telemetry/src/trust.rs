//! CA files: PEM certificates trusted for `https://` besides the web's public roots (a private
//! CA between the shop's services, or in front of the trace collector). Every HTTP client of the
//! shop reads them here; this is the lowest crate that makes HTTP clients (the OTLP exporter's).

use std::path::Path;

/// A CA file that cannot be trusted: unreadable, or without a PEM certificate.
#[derive(Debug, thiserror::Error)]
#[error("CA file {path}: {message}")]
pub struct CaFileError {
    pub path: String,
    pub message: String,
}

/// The certificates in the PEM file at `path`; at least one.
pub fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, CaFileError> {
    let invalid = |message: String| CaFileError {
        path: path.display().to_string(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(e.to_string()))?;
    if certificates.is_empty() {
        return Err(invalid("holds no PEM certificate".into()));
    }
    Ok(certificates)
}
