//! Test support: access tokens signed with a key of the test's own, and its JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

use crate::Claims;

/// Signs access tokens the way accounts does, with a key of its own; a subgraph started by
/// the subgraph test kit's `spawn_app` trusts it.
pub struct TestTokens {
    key: EncodingKey,
    jwks: JwkSet,
}

impl TestTokens {
    pub const ISSUER: &str = "shop-accounts";
    pub const AUDIENCE: &str = "shop";

    pub fn new() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the system random source works");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a generated key parses");
        let jwks = serde_json::from_value(json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "test-key",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        }]}))
        .expect("a valid JWKS");
        Self {
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwks,
        }
    }

    pub fn jwks(&self) -> JwkSet {
        self.jwks.clone()
    }

    /// A token for `user_id` with `scopes` (space-separated in the claim).
    pub fn token(&self, user_id: &str, scopes: &[&str]) -> String {
        let now_ms = primitives::time::now_millis();
        let now = now_ms / 1000;
        let claims = Claims {
            sub: user_id.into(),
            roles: Vec::new(),
            scope: scopes.join(" "),
            exp: now + 600,
            iat: now,
            nbf: None,
            iat_ms: Some(now_ms),
            sid: None,
            iss: Self::ISSUER.into(),
            aud: Self::AUDIENCE.into(),
        };
        self.sign(&claims)
    }

    /// These claims signed with the trusted key (for tests of odd claims).
    pub fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("test-key".into());
        jsonwebtoken::encode(&header, claims, &self.key).expect("signing works")
    }

    pub fn customer(&self, user_id: &str) -> String {
        self.token(user_id, &[])
    }

    /// A staff member holding every permission.
    pub fn admin(&self, user_id: &str) -> String {
        self.staff(user_id, &crate::Permission::ALL)
    }

    /// A staff member holding only `permissions`.
    pub fn staff(&self, user_id: &str, permissions: &[crate::Permission]) -> String {
        let scopes: Vec<&str> = permissions.iter().map(|p| p.scope()).collect();
        self.token(user_id, &scopes)
    }
}

impl Default for TestTokens {
    fn default() -> Self {
        Self::new()
    }
}
