//! The storefront (at `/`) and the admin dashboard (at `/admin`), as `npm run build` in `web/`
//! wrote them to `web/dist/`. The built files are checked in and embedded in the binary, so
//! that `cargo run --release` serves both apps on a machine with nothing but Rust (debug builds
//! read `web/dist/` from disk, so a rebuilt app needs no rebuilt binary); the test
//! `built_apps_are_fresh` fails while `web/dist/` is older than its sources.
//!
//! Assets have content hashes in their names and are cached for a year; the pages that name
//! them are revalidated on every load (an ETag answers `304`). A `.gz` written beside a file at
//! build time is served to clients that accept gzip, so nothing is compressed per request.

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../dist/"]
struct Built;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
/// Scripts, styles and requests stay on the shop's origin; product images may come from any
/// https host (the demo's do).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https: data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// Serves every GET and HEAD request it is given: a built file by its path, else the page of
/// the app the path belongs to (the apps route in the browser), else 404.
pub fn routes() -> axum::Router {
    axum::Router::new().fallback(serve)
}

async fn serve(request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = request.uri().path().trim_start_matches('/');
    let headers = request.headers();
    if path.starts_with("assets/") {
        return match file(path, headers, IMMUTABLE) {
            Some(response) => response,
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    // A path with an extension names a file; there is none by that name.
    if path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let page = if path == "admin" || path.starts_with("admin/") {
        "admin/index.html"
    } else {
        "index.html"
    };
    file(page, headers, REVALIDATE).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

fn file(path: &str, headers: &HeaderMap, cache_control: &'static str) -> Option<Response> {
    let plain = Built::get(path)?;
    let etag = format!("\"{}\"", hex(&plain.metadata.sha256_hash()[..16]));
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match accepts_gzip(headers)
            .then(|| Built::get(&format!("{path}.gz")))
            .flatten()
        {
            Some(compressed) => {
                let mut response = Body::from(compressed.data).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            None => Body::from(plain.data).into_response(),
        }
    };
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(plain.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    Some(response)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name == "gzip" || name == "*") && !refused
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
