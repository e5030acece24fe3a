//! The accounts subgraph: users, addresses, staff roles, sessions, the audit log; signs access
//! tokens and publishes their keys at `/.well-known/jwks.json`.

pub mod config;
pub mod consumers;
pub mod domain;
pub mod graphql;
pub mod hashing;
pub mod oauth;
pub mod service;
pub mod store;

use std::sync::Arc;

use axum::routing::get;
use axum::Json;
use futures_util::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;
use kit::subgraph::{Demo, Resources, Settings};
use kit::Subgraph;
use primitives::stop::StopSignal;
use storage::db::Database;

pub use config::AccountsSettings;
pub use domain::clients::ClientKind;
use domain::{Email, Password, Role};
use service::{AccessPolicy, AccountsService, ThrottleSettings};
use store::AccountsStore;

pub static MIGRATIONS: storage::migrations::Migrations = storage::migrations!(
    "../../migrations/accounts",
    [
        "0001_accounts.sql",
        "0002_api_clients.sql",
        "0003_partner_clients.sql",
        "0004_email_skeletons.sql",
        "0005_password_resets.sql",
        "0006_staff_roles.sql",
        "0007_audit_log.sql",
        "0008_mfa.sql",
        "0009_email_verification.sql",
    ]
);

/// Demo accounts created on first start: (email, password, name).
pub const DEMO_ADMIN: (&str, &str, &str) = ("admin@example.com", "orchid-lantern-47", "Demo Admin");
pub const DEMO_CUSTOMER: (&str, &str, &str) =
    ("customer@example.com", "meadow-copper-82", "Demo Customer");

/// The stored signing keys, newest first; the first start creates one. Replicas racing at first
/// start may each store a key: all are published and every replica signs with the same newest.
async fn stored_signing_keys(store: &AccountsStore) -> anyhow::Result<Vec<(String, String)>> {
    let keys = store.signing_keys().await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let key = domain::tokens::generate_signing_key();
    store
        .add_signing_key(&primitives::id::new_id("key"), &key, 0)
        .await?;
    Ok(store.signing_keys().await?)
}

/// Adds a new signing key. Replicas started afterwards sign with it and publish the older keys
/// too, so tokens signed before keep verifying; verifiers fetch the JWKS again when they meet
/// the new `kid`. Returns the new key's id.
pub async fn rotate_signing_key(database_url: &str) -> anyhow::Result<String> {
    let database = Database::connect(database_url, 1, &MIGRATIONS).await?;
    let store = AccountsStore::new(database);
    let kid = primitives::id::new_id("key");
    store
        .add_signing_key(
            &kid,
            &domain::tokens::generate_signing_key(),
            primitives::time::now_millis(),
        )
        .await?;
    Ok(kid)
}

pub struct Accounts {
    pub service: Arc<AccountsService>,
    jwks: JwkSet,
    /// How long the audit log keeps a record, in milliseconds.
    audit_retention_ms: i64,
}

/// How often the audit log's retention sweep runs.
const AUDIT_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The accounts service's own commands.
#[derive(clap::Subcommand, Debug)]
pub enum AccountsCommand {
    /// Add a new token signing key: replicas started afterwards sign with it and still publish
    /// the older keys.
    RotateSigningKey,
    /// Print a new Ed25519 signing key (base64 PKCS#8) for `ACCOUNTS_SIGNING_KEY`; nothing is
    /// stored.
    GenerateSigningKey,
    /// Register an API client (or give one a new secret) and print its id and secret.
    RegisterClient {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["service", "partner"], default_value = "service")]
        kind: String,
        /// A scope the client holds (repeatable): `service` for internal services,
        /// `catalog:read` or `reviews:read` for partners.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Create an admin (the first one of a new shop), or make an existing user an admin. The
    /// password is read from standard input, so it stays out of shell history and `ps`.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
}

impl Subgraph for Accounts {
    const NAME: &'static str = "accounts";
    const PORT: u16 = topology::ACCOUNTS.port;
    type Settings = AccountsSettings;
    type Query = graphql::Query;
    type Mutation = graphql::Mutation;
    type Command = AccountsCommand;

    const MIGRATIONS: &'static storage::migrations::Migrations = &MIGRATIONS;

    /// Loads the signing keys (the first start stores one) and the service.
    async fn build(resources: Resources<'_, AccountsSettings>) -> anyhow::Result<Self> {
        let own = &resources.settings.own;
        let jwt = &resources.settings.common.jwt;
        let store = AccountsStore::new(resources.database);
        store.fill_email_skeletons().await?;
        let keys = match &own.signing_key {
            Some(key) => vec![(domain::tokens::fingerprint_kid(key)?, key.clone())],
            None => stored_signing_keys(&store).await?,
        };
        let (kid, key) = &keys[0];
        let signer = domain::tokens::TokenSigner::new(
            kid,
            key,
            &jwt.issuer,
            &jwt.audience,
            own.access_token_ttl_secs,
        )?
        .publishing(&keys[1..])?;
        let jwks = signer.jwks();
        let service = Arc::new(AccountsService::new(
            Arc::new(store),
            signer,
            AccessPolicy {
                refresh_ttl_ms: own.refresh_token_ttl_days * 24 * 3600 * 1000,
                reset_ttl_ms: own.password_reset_ttl_mins * 60 * 1000,
                staff_mfa_required: own.staff_mfa_required,
            },
            ThrottleSettings {
                failures_per_account: own.failures_per_account,
                failures_per_address: own.failures_per_address,
                registrations_per_address: own.registrations_per_address,
                password_resets_per_address: own.password_resets_per_address,
                ..ThrottleSettings::default()
            },
            hashing::PasswordHashing::new(own.hash_cost.clone(), own.hashing_threads)?,
            resources.events,
        ));
        Ok(Self {
            service,
            jwks,
            audit_retention_ms: own.audit_retention_days * 24 * 3600 * 1000,
        })
    }

    fn schema(self: &Arc<Self>) -> graphql::AccountsSchema {
        Self::schema_builder().data(self.service.clone()).finish()
    }

    fn per_request(&self, request: async_graphql::Request) -> async_graphql::Request {
        graphql::request_data(&self.service, request)
    }

    /// The public keys at `/.well-known/jwks.json`, API clients' tokens at `/oauth/token`.
    fn routes(self: &Arc<Self>) -> axum::Router {
        let jwks = self.jwks.clone();
        axum::Router::new()
            .route(
                "/.well-known/jwks.json",
                get(move || async move { Json(jwks.clone()) }),
            )
            .route(
                "/oauth/token",
                axum::routing::post(oauth::token).with_state(self.service.clone()),
            )
    }

    /// The audit log's consumer, and its retention sweep.
    fn background_tasks(self: &Arc<Self>, stop: StopSignal) -> Vec<BoxFuture<'static, ()>> {
        let consumer = self.service.events().consumer(
            <events::audit::AuditRecorded as event_bus::Fact>::TOPIC,
            Arc::new(consumers::AuditLog(self.service.clone())),
        );
        let consumer_stop = stop.clone();
        let store = self.service.store.clone();
        let retention = self.audit_retention_ms;
        let sweep = async move {
            let stopped = stop.stopped();
            tokio::pin!(stopped);
            let mut ticks = tokio::time::interval(AUDIT_SWEEP_INTERVAL);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = ticks.tick() => {}
                }
                let before = primitives::time::now_millis() - retention;
                match store.forget_audit_before(before).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "audit records past retention removed"),
                    Err(error) => tracing::error!(%error, "the audit retention sweep failed"),
                }
            }
        };
        vec![Box::pin(consumer.run(consumer_stop)), Box::pin(sweep)]
    }

    fn verification_keys(&self) -> Option<JwkSet> {
        Some(self.jwks.clone())
    }

    async fn load_demo_data(&self, _demo: Demo) -> anyhow::Result<()> {
        // The demo admin holds the Administrator role (every permission).
        let (email, password, name) = DEMO_ADMIN;
        if self.service.store.user_by_email(email).await?.is_none() {
            self.service.create_admin(email, password, name).await?;
        }
        let (email, password, name) = DEMO_CUSTOMER;
        if self.service.store.user_by_email(email).await?.is_none() {
            let email = Email::parse(email)?;
            let password = Password::parse(password, email.as_str())?;
            self.service
                .create_user(&email, password, name, &[Role::Customer])
                .await?;
        }
        Ok(())
    }

    async fn run_command(
        command: AccountsCommand,
        settings: Settings<AccountsSettings>,
    ) -> anyhow::Result<()> {
        match command {
            AccountsCommand::RotateSigningKey => {
                let kid = rotate_signing_key(&settings.common.database_url).await?;
                println!("added signing key {kid}; restart the accounts replicas to sign with it");
            }
            AccountsCommand::GenerateSigningKey => {
                println!("{}", domain::tokens::generate_signing_key());
            }
            AccountsCommand::RegisterClient { name, kind, scopes } => {
                let kind = ClientKind::parse(&kind).expect("clap allows only known kinds");
                let (accounts, _, _) = kit::app::prepare::<Self>(&settings).await?;
                let (client, secret) = accounts
                    .service
                    .register_client(&name, kind, &scopes)
                    .await?;
                println!("client_id={}\nclient_secret={secret}", client.id);
            }
            AccountsCommand::CreateAdmin { email, name } => {
                let mut password = String::new();
                std::io::stdin().read_line(&mut password)?;
                let (accounts, _, _) = kit::app::prepare::<Self>(&settings).await?;
                let (user_id, created) = accounts
                    .service
                    .create_admin(&email, password.trim_end_matches(['\r', '\n']), &name)
                    .await?;
                let what = if created {
                    "created admin"
                } else {
                    "made admin"
                };
                println!("{what} {user_id}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_is_fresh() {
        kit::testing::assert_sdl_fresh::<super::Accounts>();
    }

    #[test]
    fn every_migration_is_embedded() {
        kit::testing::assert_migrations_listed::<super::Accounts>();
    }
}
