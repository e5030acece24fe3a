//! Bearer tokens: claims, the viewer a request acts for, and verification of access tokens
//! against a JWKS (asymmetric keys only; `kid` required; `alg: none` and HMAC are refused).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::ApiError;

/// The scope that admin operations require.
pub const ADMIN_SCOPE: &str = "admin";
/// The scope of internal services' client-credentials tokens; operations meant only for other
/// services require it.
pub const SERVICE_SCOPE: &str = "service";
/// The role of partners' client-credentials tokens: the router lets them run only the
/// operations published for partners.
pub const PARTNER_ROLE: &str = "partner";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    /// When the token was issued, to the millisecond (`iat` has whole seconds), so a revocation
    /// cuts exactly between tokens issued before and after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    pub iss: String,
    pub aud: String,
}

impl Claims {
    /// The issue time in milliseconds; from `iat` (the start of its second) when the issuer
    /// gave no `iat_ms`, so a revocation in that second refuses it.
    pub fn issued_at_ms(&self) -> i64 {
        self.iat_ms.unwrap_or(self.iat * 1000)
    }
}

/// Who a request acts for.
#[derive(Clone, Debug, Default)]
pub struct Viewer {
    claims: Option<Claims>,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Self::default()
    }

    pub fn from_claims(claims: Claims) -> Self {
        Self {
            claims: Some(claims),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        self.claims.as_ref().map(|c| c.sub.as_str())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims
            .as_ref()
            .is_some_and(|c| c.scope.split_whitespace().any(|s| s == scope))
    }

    pub fn is_admin(&self) -> bool {
        self.has_scope(ADMIN_SCOPE)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.claims
            .as_ref()
            .is_some_and(|c| c.roles.iter().any(|r| r == role))
    }

    /// A partner's API client (its id is [`Viewer::user_id`]).
    pub fn is_partner(&self) -> bool {
        self.has_role(PARTNER_ROLE)
    }

    pub fn require_user(&self) -> Result<&str, ApiError> {
        self.user_id().ok_or(ApiError::Unauthenticated)
    }

    pub fn require_admin(&self) -> Result<&str, ApiError> {
        let user = self.require_user()?;
        if self.is_admin() {
            Ok(user)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Another service (a client-credentials token with the service scope).
    pub fn require_service(&self) -> Result<&str, ApiError> {
        let client = self.require_user()?;
        if self.has_scope(SERVICE_SCOPE) {
            Ok(client)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The user themself or an admin.
    pub fn require_self_or_admin(&self, user_id: &str) -> Result<(), ApiError> {
        let me = self.require_user()?;
        if me == user_id || self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token expired")]
    Expired,
    #[error("invalid signature or claims")]
    Invalid,
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
    #[error("token revoked")]
    Revoked,
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::KeysUnavailable(detail) => ApiError::internal(detail),
            other => ApiError::InvalidToken(other.to_string()),
        }
    }
}

/// Where verification keys come from.
pub enum KeySource {
    /// Keys known in-process (the accounts service verifying its own tokens).
    Static(JwkSet),
    /// A JWKS URL, cached and refetched when a token names an unknown `kid`.
    Remote {
        url: String,
        client: reqwest::Client,
    },
}

struct CachedKeys {
    keys: Arc<JwkSet>,
    /// When the keys were last fetched successfully.
    fetched: Option<Instant>,
    /// When a fetch was last tried, successful or not.
    attempted: Option<Instant>,
}

/// How often the keys may be fetched (an unknown `kid`, stale keys, a failing JWKS host), so
/// forged kids cannot flood the JWKS host and an outage is not retried on every request.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Keys are refetched at least this often so rotated-out keys stop working.
const KEYS_TTL: Duration = Duration::from_secs(300);

pub struct TokenVerifier {
    source: KeySource,
    issuer: String,
    audience: String,
    cache: RwLock<CachedKeys>,
    refetch_interval: Duration,
    keys_ttl: Duration,
    revocations: Option<Arc<crate::revocation::Revocations>>,
}

impl TokenVerifier {
    pub fn new(source: KeySource, issuer: &str, audience: &str) -> Self {
        let keys = match &source {
            KeySource::Static(set) => Arc::new(set.clone()),
            KeySource::Remote { .. } => Arc::new(JwkSet { keys: Vec::new() }),
        };
        Self {
            source,
            issuer: issuer.into(),
            audience: audience.into(),
            cache: RwLock::new(CachedKeys {
                keys,
                fetched: None,
                attempted: None,
            }),
            refetch_interval: REFETCH_INTERVAL,
            keys_ttl: KEYS_TTL,
            revocations: None,
        }
    }

    /// Also refuses tokens of users whose access changed after the token was issued.
    pub fn with_revocations(mut self, revocations: Arc<crate::revocation::Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Other refetch timings than the defaults (5 s between fetches, keys kept 300 s): tests.
    pub fn with_refresh(mut self, refetch_interval: Duration, keys_ttl: Duration) -> Self {
        self.refetch_interval = refetch_interval;
        self.keys_ttl = keys_ttl;
        self
    }

    /// The viewer for an `Authorization` header value: anonymous without one, an error for a
    /// header that is not a valid bearer token.
    pub async fn viewer(&self, authorization: Option<&str>) -> Result<Viewer, TokenError> {
        let Some(header) = authorization else {
            return Ok(Viewer::anonymous());
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(TokenError::Malformed)?;
        self.verify(token.trim()).await.map(Viewer::from_claims)
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no `none`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !matches!(header.alg, Algorithm::EdDSA | Algorithm::RS256) {
            return Err(TokenError::Algorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if let Some(revocations) = &self.revocations {
            if revocations.is_revoked(&claims.sub, claims.issued_at_ms()) {
                return Err(TokenError::Revoked);
            }
        }
        Ok(claims)
    }

    /// The key for `kid`: from the cache while it is fresh, else fetched again. When a fetch
    /// fails, the last good keys keep serving, so a JWKS outage does not refuse every token.
    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched.is_some_and(|t| t.elapsed() < self.keys_ttl);
            if let Some(jwk) = cache.keys.find(kid) {
                if fresh || matches!(self.source, KeySource::Static(_)) {
                    return DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey);
                }
            }
        }
        let KeySource::Remote { url, client } = &self.source else {
            return Err(TokenError::UnknownKey);
        };
        let mut cache = self.cache.write().await;
        let may_refetch = cache
            .attempted
            .is_none_or(|t| t.elapsed() >= self.refetch_interval);
        if may_refetch {
            cache.attempted = Some(Instant::now());
            let fetched: Result<JwkSet, reqwest::Error> = async {
                client
                    .get(url)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await
            }
            .await;
            match fetched {
                Ok(fetched) => {
                    cache.keys = Arc::new(fetched);
                    cache.fetched = Some(Instant::now());
                }
                Err(e) if cache.keys.find(kid).is_some() => {
                    tracing::warn!(%url, error = %e, "JWKS refresh failed; keeping the last good keys");
                }
                Err(e) => return Err(TokenError::KeysUnavailable(format!("GET {url}: {e}"))),
            }
        }
        let jwk = cache.keys.find(kid).ok_or(TokenError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)
    }
}

/// Issuer and audience every service agrees on: `JWT_ISSUER` (default `shop-accounts`) and
/// `JWT_AUDIENCE` (default `shop`).
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
}

impl JwtSettings {
    pub fn from_env() -> Self {
        Self {
            issuer: crate::config::optional("JWT_ISSUER").unwrap_or_else(|| "shop-accounts".into()),
            audience: crate::config::optional("JWT_AUDIENCE").unwrap_or_else(|| "shop".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::State;
    use axum::routing::get;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    use super::*;

    /// A JWKS endpoint whose answers can be switched to 503.
    async fn serve_jwks(jwks: serde_json::Value, up: Arc<AtomicBool>) -> String {
        let app = axum::Router::new()
            .route(
                "/jwks",
                get(
                    |State((jwks, up)): State<(serde_json::Value, Arc<AtomicBool>)>| async move {
                        if up.load(Ordering::SeqCst) {
                            Ok(axum::Json(jwks))
                        } else {
                            Err(http::StatusCode::SERVICE_UNAVAILABLE)
                        }
                    },
                ),
            )
            .with_state((jwks, up));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn token(key: &EncodingKey, kid: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = Claims {
            sub: "usr_1".into(),
            roles: vec![],
            scope: String::new(),
            exp: now + 600,
            iat: now,
            iat_ms: None,
            iss: "iss".into(),
            aud: "aud".into(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    #[tokio::test]
    async fn the_last_good_keys_keep_serving_while_the_jwks_host_fails() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwks = serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        }]});
        let up = Arc::new(AtomicBool::new(true));
        let url = serve_jwks(jwks, up.clone()).await;
        // Keys are stale at once and may be refetched on every request.
        let verifier = TokenVerifier::new(
            KeySource::Remote {
                url,
                client: reqwest::Client::new(),
            },
            "iss",
            "aud",
        )
        .with_refresh(Duration::ZERO, Duration::ZERO);
        let key = EncodingKey::from_ed_der(pkcs8.as_ref());
        assert_eq!(
            verifier.verify(&token(&key, "k1")).await.unwrap().sub,
            "usr_1"
        );

        up.store(false, Ordering::SeqCst);
        assert_eq!(
            verifier.verify(&token(&key, "k1")).await.unwrap().sub,
            "usr_1"
        );
        // A key the last good set does not have cannot be verified while the host is down.
        assert!(matches!(
            verifier.verify(&token(&key, "k2")).await,
            Err(TokenError::KeysUnavailable(_))
        ));
    }
}
