//! Authentication: the caller from a verified bearer token.

use auth::{TokenError, TokenVerifier, Viewer};
use http::{header, HeaderMap};

use super::PipelineError;

/// The caller, from a verified bearer token; `None` when the router does not check tokens
/// (no JWKS configured). A token that is present but invalid is refused.
pub async fn authenticate(
    verifier: Option<&TokenVerifier>,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, PipelineError> {
    let Some(verifier) = verifier else {
        return Ok(None);
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    match verifier.viewer(authorization).await {
        Ok(viewer) => Ok(Some(viewer)),
        Err(TokenError::KeysUnavailable(detail)) => Err(PipelineError::AuthUnavailable(detail)),
        Err(error) => Err(PipelineError::Unauthenticated(format!(
            "the access token is invalid: {error}"
        ))),
    }
}
