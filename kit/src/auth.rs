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
    pub iss: String,
    pub aud: String,
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
    fetched: Option<Instant>,
}

/// How often an unknown `kid` may trigger a refetch, so forged kids cannot flood the JWKS host.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Keys are refetched at least this often so rotated-out keys stop working.
const KEYS_TTL: Duration = Duration::from_secs(300);

pub struct TokenVerifier {
    source: KeySource,
    issuer: String,
    audience: String,
    cache: RwLock<CachedKeys>,
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
            }),
        }
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
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched.is_some_and(|t| t.elapsed() < KEYS_TTL);
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
            .fetched
            .is_none_or(|t| t.elapsed() >= REFETCH_INTERVAL);
        if may_refetch {
            let fetched: JwkSet = async {
                client
                    .get(url)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await
            }
            .await
            .map_err(|e| TokenError::KeysUnavailable(format!("GET {url}: {e}")))?;
            cache.keys = Arc::new(fetched);
            cache.fetched = Some(Instant::now());
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
