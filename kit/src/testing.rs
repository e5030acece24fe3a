//! Test helpers for a subgraph alone: [`spawn_app`] starts it on port 0 against a fresh
//! PostgreSQL schema with tokens from a [`TestTokens`] issuer, [`assert_sdl_fresh`] checks its
//! checked-in SDL and [`assert_migrations_listed`] that its binary embeds every migration.

use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::testing::TestTokens;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::app::App;
use crate::settings::{Env, VerificationKeys};
use crate::subgraph::{Settings, Subgraph};
use primitives::stop::StopSignal;
use storage::db::Database;

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
    spawn_app_built::<S>(configure, crate::app::default_build::<S>()).await
}

/// Like [`spawn_app_with`], building the subgraph's state with `build` (e.g. with in-memory
/// fakes of the services it calls, to test it without them running).
pub async fn spawn_app_built<S: Subgraph>(
    configure: impl FnOnce(Env) -> Env,
    build: crate::app::Build<S>,
) -> TestApp<S> {
    telemetry::init_for_tests();
    let data_dir = std::env::temp_dir().join(primitives::id::new_id("test-data"));
    let env = Env::isolated(S::NAME)
        .set(format!("{}_LISTEN", S::NAME.to_uppercase()), "127.0.0.1:0")
        .set("SHOP_DATA_DIR", data_dir.display().to_string());
    let mut env = configure(env);
    if env.optional("DATABASE_URL").is_none() {
        let url = storage::db::testing::postgres_url().await;
        let name = env.name("DATABASE_URL");
        env = env.set(name, url);
    }
    let tokens = TestTokens::new();
    let mut settings = Settings::<S::Settings>::load::<S>(&env).expect("test settings are valid");
    settings.common.keys = VerificationKeys::Fixed(tokens.jwks());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let app = App::<S>::build_on_with(listener, &settings, build)
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
        let request = self
            .http
            .post(self.url())
            .json(&json!({ "query": query, "variables": variables }));
        answer(request, token).await
    }

    /// Posts an operation with files as a GraphQL multipart request: each file fills the
    /// variable path given (`"input.file"`), which `variables` holds as null.
    pub async fn graphql_with_files(
        &self,
        query: &str,
        variables: Value,
        files: Vec<(&str, &str, Vec<u8>)>,
        token: Option<&str>,
    ) -> Value {
        let mut map = serde_json::Map::new();
        let mut form = reqwest::multipart::Form::new().text(
            "operations",
            json!({ "query": query, "variables": variables }).to_string(),
        );
        let mut parts = Vec::new();
        for (i, (path, filename, bytes)) in files.into_iter().enumerate() {
            map.insert(i.to_string(), json!([format!("variables.{path}")]));
            parts.push((
                i.to_string(),
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string()),
            ));
        }
        form = form.text("map", Value::Object(map).to_string());
        for (name, part) in parts {
            form = form.part(name, part);
        }
        answer(self.http.post(self.url()).multipart(form), token).await
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

/// Sends `request` with `token`; the JSON body.
async fn answer(mut request: reqwest::RequestBuilder, token: Option<&str>) -> Value {
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

/// Fails when a file in `S`'s migrations directory is not listed in its `storage::migrations!`.
pub fn assert_migrations_listed<S: Subgraph>() {
    let unlisted = S::MIGRATIONS
        .unlisted()
        .expect("the migrations directory is readable");
    assert!(
        unlisted.is_empty(),
        "migrations of {} not listed in its storage::migrations!: {unlisted:?}",
        S::NAME
    );
}
