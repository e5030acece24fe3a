//! Bearer tokens: claims, the viewer a request acts for, and verification of access tokens
//! against a JWKS (asymmetric keys only; `kid` required; `alg: none` and HMAC are refused).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

pub mod permission;
pub mod revocation;
pub mod testing;

pub use permission::Permission;

/// The role staff members' tokens carry (besides `customer`): they hold a staff role, whose
/// permissions the token's scopes list.
pub const STAFF_ROLE: &str = "staff";
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
    /// Not valid before (seconds); tokens from the shop's issuer have none, others may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// When the token was issued, to the millisecond (`iat` has whole seconds), so a revocation
    /// cuts exactly between tokens issued before and after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    /// The session (sign-in) the token belongs to: revoking it refuses its tokens at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
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

    /// The session the viewer's token belongs to, if it names one.
    pub fn session_id(&self) -> Option<&str> {
        self.claims.as_ref().and_then(|c| c.sid.as_deref())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims
            .as_ref()
            .is_some_and(|c| c.scope.split_whitespace().any(|s| s == scope))
    }

    pub fn has_permission(&self, permission: Permission) -> bool {
        self.has_scope(permission.scope())
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
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token issued in the future")]
    IssuedInFuture,
    #[error("token lifetime exceeds {0} seconds")]
    LifetimeTooLong(i64),
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
/// Clock skew tolerated between the issuer and a verifier, for `exp`, `nbf` and `iat`.
const LEEWAY_SECS: i64 = 5;

pub struct TokenVerifier {
    source: KeySource,
    issuer: String,
    audience: String,
    cache: RwLock<CachedKeys>,
    refetch_interval: Duration,
    keys_ttl: Duration,
    max_lifetime_secs: i64,
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
            max_lifetime_secs: JwtSettings::DEFAULT_MAX_LIFETIME_SECS,
            revocations: None,
        }
    }

    /// Refuses tokens whose `exp` lies more than this after their `iat` (default a day).
    pub fn with_max_lifetime(mut self, seconds: i64) -> Self {
        self.max_lifetime_secs = seconds;
        self
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
        validation.leeway = LEEWAY_SECS as u64;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        self.check_times(&claims, primitives::time::now_millis() / 1000)?;
        if let Some(revocations) = &self.revocations {
            if revocations.is_revoked(&claims.sub, claims.sid.as_deref(), claims.issued_at_ms()) {
                return Err(TokenError::Revoked);
            }
        }
        Ok(claims)
    }

    /// A token is used only inside the time it was issued for, and that time is bounded: a
    /// stolen signing key or a careless issuer cannot mint tokens that work for years.
    fn check_times(&self, claims: &Claims, now_secs: i64) -> Result<(), TokenError> {
        if claims.nbf.is_some_and(|nbf| nbf > now_secs + LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
        if claims.iat > now_secs + LEEWAY_SECS {
            return Err(TokenError::IssuedInFuture);
        }
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime_secs {
            return Err(TokenError::LifetimeTooLong(self.max_lifetime_secs));
        }
        Ok(())
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
/// `JWT_AUDIENCE` (default `shop`), and the longest lifetime (`exp` - `iat`) a verifier accepts,
/// `JWT_MAX_LIFETIME_SECS` (default a day).
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    pub max_lifetime_secs: i64,
}

impl JwtSettings {
    pub const DEFAULT_MAX_LIFETIME_SECS: i64 = 24 * 60 * 60;
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
            nbf: None,
            iat_ms: None,
            sid: None,
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

    #[tokio::test]
    async fn tokens_from_the_future_or_for_too_long_are_refused() {
        let keys = crate::testing::TestTokens::new();
        let verifier = TokenVerifier::new(
            KeySource::Static(keys.jwks()),
            crate::testing::TestTokens::ISSUER,
            crate::testing::TestTokens::AUDIENCE,
        )
        .with_max_lifetime(3600);
        let now = primitives::time::now_millis() / 1000;
        let claims = |iat: i64, exp: i64, nbf: Option<i64>| Claims {
            sub: "usr_1".into(),
            roles: vec![],
            scope: String::new(),
            exp,
            iat,
            nbf,
            iat_ms: None,
            sid: None,
            iss: crate::testing::TestTokens::ISSUER.into(),
            aud: crate::testing::TestTokens::AUDIENCE.into(),
        };
        let year_9999 = 253_402_300_799;
        for (name, claims, refused) in [
            (
                "nbf an hour ahead",
                claims(now, now + 600, Some(now + 3600)),
                TokenError::NotYetValid,
            ),
            (
                "iat a day ahead",
                claims(now + 86_400, now + 87_000, None),
                TokenError::IssuedInFuture,
            ),
            (
                "exp in 9999",
                claims(now, year_9999, None),
                TokenError::LifetimeTooLong(3600),
            ),
            (
                "lifetime over the cap",
                claims(now, now + 3601, None),
                TokenError::LifetimeTooLong(3600),
            ),
        ] {
            assert_eq!(
                verifier.verify(&keys.sign(&claims)).await,
                Err(refused),
                "{name}"
            );
        }
        // Within the leeway and the cap: accepted.
        for (name, claims) in [
            ("nbf now", claims(now, now + 600, Some(now + 2))),
            ("iat a moment ahead", claims(now + 2, now + 600, None)),
            ("exactly the cap", claims(now, now + 3600, None)),
        ] {
            assert!(verifier.verify(&keys.sign(&claims)).await.is_ok(), "{name}");
        }
    }
}
