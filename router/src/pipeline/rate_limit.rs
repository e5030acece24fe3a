//! Rate limits: each client's operations take a token from its bucket ([`crate::rate_limit`]);
//! without one the request is refused with 429 and `Retry-After`. A client is a partner's API
//! client, a signed-in user, or (anonymous) the caller's address.

use auth::Viewer;
use http::HeaderMap;

use super::PipelineError;
use crate::rate_limit::bucket::Decision;
use crate::rate_limit::{OperationKind, RateLimiter};

pub async fn limit_rate(
    limiter: Option<&RateLimiter>,
    viewer: Option<&Viewer>,
    headers: &HeaderMap,
    trusted_proxy_hops: usize,
    kind: OperationKind,
) -> Result<(), PipelineError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    let client = client_key(viewer, headers, trusted_proxy_hops);
    match limiter.check(&client, kind).await {
        Decision::Allowed => Ok(()),
        Decision::Refused { retry_after_ms } => {
            crate::metrics::record_rate_limited(kind.as_str());
            Err(PipelineError::RateLimited { retry_after_ms })
        }
    }
}

/// Who the request counts against.
pub fn client_key(
    viewer: Option<&Viewer>,
    headers: &HeaderMap,
    trusted_proxy_hops: usize,
) -> String {
    if let Some(viewer) = viewer {
        if let Some(id) = viewer.user_id() {
            let kind = if viewer.is_partner() {
                "partner"
            } else {
                "user"
            };
            return format!("{kind}:{id}");
        }
    }
    format!(
        "addr:{}",
        client_address(headers, trusted_proxy_hops).unwrap_or("unknown")
    )
}

/// The caller's address: the router appended its peer's address to `x-forwarded-for` last;
/// each of the `trusted_proxy_hops` proxies in front appended the address it was called from
/// before that. Entries further left are the client's to forge. The subgraphs get this one
/// address as their `x-forwarded-for`.
pub fn client_address(headers: &HeaderMap, trusted_proxy_hops: usize) -> Option<&str> {
    let forwarded: Vec<&str> = headers
        .get_all(&crate::executor::transport::X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    forwarded
        .len()
        .checked_sub(1 + trusted_proxy_hops)
        .and_then(|i| forwarded.get(i))
        .or(forwarded.first())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_caller_and_forged_forwarding_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 10.0.0.7, 192.0.2.1".parse().unwrap(),
        );
        assert_eq!(client_key(None, &headers, 0), "addr:192.0.2.1");
        assert_eq!(client_key(None, &headers, 1), "addr:10.0.0.7");
        assert_eq!(client_key(None, &HeaderMap::new(), 0), "addr:unknown");
        let partner = Viewer::from_claims(auth::Claims {
            sub: "cli_1".into(),
            roles: vec!["partner".into()],
            scope: String::new(),
            exp: 0,
            iat: 0,
            nbf: None,
            iat_ms: None,
            sid: None,
            iss: String::new(),
            aud: String::new(),
        });
        assert_eq!(client_key(Some(&partner), &headers, 0), "partner:cli_1");
    }
}
