//! Test helpers for a subgraph alone: [`spawn_app`] starts it on port 0 against a fresh
//! PostgreSQL schema with tokens from a [`TestTokens`] issuer, and [`assert_sdl_fresh`] checks its
//! checked-in SDL.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::app::App;
use crate::auth::Claims;
use crate::db::Database;
use crate::settings::{Env, VerificationKeys};
use crate::subgraph::{Settings, StopSignal, Subgraph};

/// Signs access tokens the way accounts does, with a key of its own; a subgraph started by
/// [`spawn_app`] trusts it.
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
        let now_ms = crate::db::now_millis();
        let now = now_ms / 1000;
        let claims = Claims {
            sub: user_id.into(),
            roles: Vec::new(),
            scope: scopes.join(" "),
            exp: now + 600,
            iat: now,
            nbf: None,
            iat_ms: Some(now_ms),
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

    pub fn admin(&self, user_id: &str) -> String {
        self.token(user_id, &[crate::auth::ADMIN_SCOPE])
    }
}

impl Default for TestTokens {
    fn default() -> Self {
        Self::new()
    }
}

/// A subgraph serving on a free port until it is dropped.
pub struct TestApp<S: Subgraph> {
    pub address: SocketAddr,
    pub subgraph: Arc<S>,
    pub database: Database,
    pub tokens: TestTokens,
    pub settings: Settings<S::Settings>,
    pub http: reqwest::Client,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    data_dir: std::path::PathBuf,
}

/// Starts `S` alone on port 0 against a fresh PostgreSQL schema, trusting [`TestTokens`].
pub async fn spawn_app<S: Subgraph>() -> TestApp<S> {
    spawn_app_with::<S>(|env| env).await
}

/// Like [`spawn_app`], with settings of the test's own (e.g. a SQLite database URL).
pub async fn spawn_app_with<S: Subgraph>(configure: impl FnOnce(Env) -> Env) -> TestApp<S> {
    crate::telemetry::init_for_tests();
    let data_dir = std::env::temp_dir().join(crate::id::new_id("test-data"));
    let env = Env::isolated(S::NAME)
        .set(format!("{}_LISTEN", S::NAME.to_uppercase()), "127.0.0.1:0")
        .set("SHOP_DATA_DIR", data_dir.display().to_string());
    let mut env = configure(env);
    if env.optional("DATABASE_URL").is_none() {
        let url = crate::db::testing::postgres_url().await;
        let name = env.name("DATABASE_URL");
        env = env.set(name, url);
    }
    let tokens = TestTokens::new();
    let mut settings = Settings::<S::Settings>::load::<S>(&env).expect("test settings are valid");
    settings.common.keys = VerificationKeys::Fixed(tokens.jwks());
    let app = App::<S>::build(&settings)
        .await
        .expect("the subgraph starts");
    let (stop, receiver) = watch::channel(false);
    let address = app.local_addr();
    let subgraph = app.subgraph.clone();
    let database = app.database.clone();
    let task = tokio::spawn(app.run_until(StopSignal::new(receiver).stopped()));
    TestApp {
        address,
        subgraph,
        database,
        tokens,
        settings,
        http: reqwest::Client::new(),
        stop,
        task: Some(task),
        data_dir,
    }
}

impl<S: Subgraph> TestApp<S> {
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.address)
    }

    /// Posts an operation; returns the JSON body (GraphQL answers 200 with errors in the body).
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .http
            .post(self.url())
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("the subgraph answers")
            .json()
            .await
            .expect("a JSON body")
    }

    /// Posts and expects data without errors.
    pub async fn data(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.graphql(query, variables, token).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        body["data"].clone()
    }

    /// Stops serving and waits for the background tasks to end.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl<S: Subgraph> Drop for TestApp<S> {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The code of the first GraphQL error of a response body.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// Fails when `schema/<name>.graphql` differs from what `S` serves; `UPDATE_SCHEMA=1` rewrites it.
pub fn assert_sdl_fresh<S: Subgraph>() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schema")
        .join(format!("{}.graphql", S::NAME));
    let url = format!("http://127.0.0.1:{}/graphql", S::PORT);
    crate::schema::assert_file_fresh(&path, &crate::schema::sdl_file(&url, &S::sdl()));
}
