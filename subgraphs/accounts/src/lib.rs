//! The accounts subgraph: users, addresses, roles, sessions; signs access tokens and publishes
//! their keys at `/.well-known/jwks.json`.

pub mod config;
pub mod domain;
pub mod graphql;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Json;
use kit::auth::{KeySource, TokenVerifier};
use kit::db::Database;
use kit::server::Server;

pub use config::AccountsConfig;
use service::{AccountsService, ThrottleSettings};
use store::{SigningKeyStore, SqlStore};

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/accounts");

/// The SDL this subgraph serves (checked in as `schema/accounts.graphql`).
pub fn sdl() -> String {
    kit::schema::federation_sdl(&graphql::builder().finish())
}

/// The stored signing keys, newest first; the first start creates one. Replicas racing at first
/// start may each store a key: all are published and every replica signs with the same newest.
async fn stored_signing_keys(store: &SqlStore) -> anyhow::Result<Vec<(String, String)>> {
    let keys = store.signing_keys().await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let key = domain::tokens::generate_signing_key();
    store
        .add_signing_key(&kit::id::new_id("key"), &key, 0)
        .await?;
    Ok(store.signing_keys().await?)
}

/// Adds a new signing key. Replicas started afterwards sign with it and publish the older keys
/// too, so tokens signed before keep verifying; verifiers fetch the JWKS again when they meet
/// the new `kid`. Returns the new key's id.
pub async fn rotate_signing_key(database_url: &str) -> anyhow::Result<String> {
    let database = Database::connect(database_url, 1, &MIGRATIONS).await?;
    let store = SqlStore::new(database);
    let kid = kit::id::new_id("key");
    store
        .add_signing_key(
            &kid,
            &domain::tokens::generate_signing_key(),
            kit::db::now_millis(),
        )
        .await?;
    Ok(kid)
}

pub struct AccountsApp {
    server: Server,
    pub service: Arc<AccountsService>,
    pub database: Database,
}

impl AccountsApp {
    /// Connects to the database, applies migrations, loads the signing key and binds the listener.
    pub async fn build(config: &AccountsConfig) -> anyhow::Result<Self> {
        let database =
            Database::connect(&config.database_url, config.max_connections, &MIGRATIONS).await?;
        let store = SqlStore::new(database.clone());
        let keys = match &config.signing_key {
            Some(key) => vec![(domain::tokens::fingerprint_kid(key)?, key.clone())],
            None => stored_signing_keys(&store).await?,
        };
        let (kid, key) = &keys[0];
        let signer = domain::tokens::TokenSigner::new(
            kid,
            key,
            &config.jwt.issuer,
            &config.jwt.audience,
            config.access_token_ttl_secs,
        )?
        .publishing(&keys[1..])?;
        let jwks = signer.jwks();
        let service = Arc::new(AccountsService::new(
            Arc::new(store),
            signer,
            config.refresh_token_ttl_days * 24 * 3600 * 1000,
            ThrottleSettings {
                failures_per_account: config.failures_per_account,
                failures_per_address: config.failures_per_address,
                ..ThrottleSettings::default()
            },
        ));
        let verifier = Arc::new(TokenVerifier::new(
            KeySource::Static(jwks.clone()),
            &config.jwt.issuer,
            &config.jwt.audience,
        ));
        let schema = graphql::schema(service.clone());
        let routes =
            kit::server::graphql_routes(schema, verifier, graphql::per_request(service.clone()))
                .route(
                    "/.well-known/jwks.json",
                    get(move || async move { Json(jwks.clone()) }),
                );
        let server = Server::bind(config.listen, routes).await?;
        Ok(Self {
            server,
            service,
            database,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.server.run_until(shutdown).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/accounts.graphql");
        kit::schema::assert_file_fresh(
            &path,
            &kit::schema::sdl_file("http://127.0.0.1:4001/graphql", &super::sdl()),
        );
    }
}
