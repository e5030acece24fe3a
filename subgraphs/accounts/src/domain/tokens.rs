//! Access tokens (EdDSA-signed JWTs, published as a JWKS) and opaque refresh tokens.

use auth::Claims;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};

use super::Grants;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key is not a valid Ed25519 PKCS#8 key")]
    Invalid,
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A new Ed25519 key as base64 PKCS#8.
pub fn generate_signing_key() -> String {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .expect("the system random source works");
    STANDARD.encode(document.as_ref())
}

/// The public JWK of a private key, and the key's DER bytes.
fn public_jwk(kid: &str, private_key_base64: &str) -> Result<(Jwk, Vec<u8>), KeyError> {
    let der = STANDARD
        .decode(private_key_base64.trim())
        .map_err(|_| KeyError::Invalid)?;
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| KeyError::Invalid)?;
    let jwk = serde_json::from_value(serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    }))
    .map_err(|_| KeyError::Invalid)?;
    Ok((jwk, der))
}

/// A key id derived from the key itself (for keys given by configuration).
pub fn fingerprint_kid(private_key_base64: &str) -> Result<String, KeyError> {
    let (jwk, _) = public_jwk("", private_key_base64)?;
    let x = serde_json::to_value(&jwk).map_err(|_| KeyError::Invalid)?["x"].to_string();
    Ok(format!("key_{}", &hash_refresh_token(&x)[..16]))
}

pub struct TokenSigner {
    kid: String,
    key: EncodingKey,
    published: Vec<Jwk>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl TokenSigner {
    pub fn new(
        kid: &str,
        private_key_base64: &str,
        issuer: &str,
        audience: &str,
        ttl_secs: i64,
    ) -> Result<Self, KeyError> {
        let (public, der) = public_jwk(kid, private_key_base64)?;
        Ok(Self {
            kid: kid.into(),
            key: EncodingKey::from_ed_der(&der),
            published: vec![public],
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_secs,
        })
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Also publishes older keys `(kid, private key)`, so tokens they signed keep verifying.
    pub fn publishing(mut self, older: &[(String, String)]) -> Result<Self, KeyError> {
        for (kid, key) in older {
            if *kid != self.kid {
                self.published.push(public_jwk(kid, key)?.0);
            }
        }
        Ok(self)
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.published.clone(),
        }
    }

    /// An access token of `session` (the refresh-token family it was issued with): ending the
    /// session refuses it at once.
    pub fn sign_in_session(
        &self,
        user_id: &str,
        grants: &Grants,
        now_secs: i64,
        session: &str,
    ) -> Result<String, KeyError> {
        self.sign_claims(&Claims {
            sid: Some(session.into()),
            ..self.claims(user_id, grants, now_secs)
        })
    }

    pub fn sign(&self, user_id: &str, grants: &Grants, now_secs: i64) -> Result<String, KeyError> {
        self.sign_claims(&self.claims(user_id, grants, now_secs))
    }

    /// The grants' permissions become the token's scopes.
    fn claims(&self, user_id: &str, grants: &Grants, now_secs: i64) -> Claims {
        Claims {
            sub: user_id.into(),
            roles: grants.role_names(),
            scope: auth::permission::encode(&grants.permissions),
            iat: now_secs,
            nbf: None,
            iat_ms: Some(primitives::time::now_millis().max(now_secs * 1000)),
            sid: None,
            exp: now_secs + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        }
    }
}

impl TokenSigner {
    /// These claims signed with the current key (tests craft odd claims with it).
    pub fn sign_claims(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.key)?)
    }

    /// An access token for an API client: `sub` is the client id, `scope` its scopes.
    pub fn sign_client(
        &self,
        client_id: &str,
        roles: &[String],
        scopes: &[String],
        now_secs: i64,
    ) -> Result<String, KeyError> {
        let claims = Claims {
            sub: client_id.into(),
            roles: roles.to_vec(),
            scope: scopes.join(" "),
            iat: now_secs,
            nbf: None,
            iat_ms: Some(primitives::time::now_millis().max(now_secs * 1000)),
            sid: None,
            exp: now_secs + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        self.sign_claims(&claims)
    }
}

/// A new opaque refresh token (256 random bits) and the hash it is stored under.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    primitives::id::sha256_hex(token.as_bytes())
}

/// Whether two byte strings are equal, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
