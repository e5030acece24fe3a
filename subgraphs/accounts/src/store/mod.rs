//! Storage traits for accounts and their SQL implementation (PostgreSQL and SQLite).

mod sql;

use async_trait::async_trait;
use event_bus::Event;
use kit::pagination::PageRequest;

use crate::domain::clients::ClientKind;

pub use sql::SqlStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("email already registered")]
    DuplicateEmail,
    /// The change would leave the shop without an active admin.
    #[error("the last active admin cannot lose that role or be disabled")]
    LastAdmin,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<StoreError> for kit::ApiError {
    fn from(error: StoreError) -> Self {
        kit::ApiError::internal(error)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub roles: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AddressRow {
    pub id: String,
    pub user_id: String,
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country_code: String,
    pub phone: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq)]
pub enum Rotation {
    /// The token was valid: it is now used and `next` replaces it.
    Rotated {
        user_id: String,
    },
    /// The token was already used or revoked: its whole family is now revoked.
    Reused,
    Expired,
    Unknown,
}

/// Admin listing filter.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    /// Substring of the email or name.
    pub query: Option<String>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn insert_user(&self, user: &UserRow) -> StoreResult<()>;
    /// Inserts a user who registered, with `event` (`user.registered`) in the outbox, atomically.
    async fn insert_registered(&self, user: &UserRow, event: &Event) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>>;
    /// All users with these ids, in one query.
    async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<UserRow>>;
    async fn update_name(&self, id: &str, name: &str, now: i64) -> StoreResult<bool>;
    /// Sets a user's roles and appends `event` (their access changed) to the outbox, atomically;
    /// false (and no event) when there is no such user; [`StoreError::LastAdmin`] (and nothing
    /// changed) when it would leave no active admin, also against concurrent changes.
    async fn set_roles(&self, id: &str, roles: &str, now: i64, event: &Event) -> StoreResult<bool>;
    /// Disables (`Some(time)`) or enables (`None`) a user with `event`, like [`Self::set_roles`]
    /// (the last active admin is not disabled); disabling revokes their sessions.
    async fn set_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
        now: i64,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Users ordered by id, keyset-paged.
    async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest<String>,
    ) -> StoreResult<Vec<UserRow>>;
    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64>;
}

#[async_trait]
pub trait AddressStore: Send + Sync {
    /// Addresses of all these users, in one query.
    async fn addresses_of(&self, user_ids: &[String]) -> StoreResult<Vec<AddressRow>>;
    async fn insert_address(&self, address: &AddressRow) -> StoreResult<()>;
    /// Replaces an address the user owns; false when there is none.
    async fn update_address(&self, address: &AddressRow) -> StoreResult<bool>;
    async fn delete_address(&self, user_id: &str, id: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_refresh_token(&self, token: &RefreshTokenRow) -> StoreResult<()>;
    /// Uses the token with `hash` and stores `next` (same family) in one transaction.
    async fn rotate_refresh_token(
        &self,
        hash: &str,
        next: &RefreshTokenRow,
        now: i64,
    ) -> StoreResult<Rotation>;
    /// Revokes the family of the token with `hash`; false when the token is unknown.
    async fn revoke_family_of(&self, hash: &str, now: i64) -> StoreResult<bool>;
}

#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// Attempts recorded for `key` since `window_start`: failed logins (`email:`, `addr:` keys)
    /// and registrations (`register:` keys).
    async fn failures(&self, key: &str, window_start: i64) -> StoreResult<i64>;
    /// Records one attempt (an atomic increment; one after the window starts a new window) and
    /// returns the count it made, so attempts made at once each see their own place.
    async fn record_failure(&self, key: &str, now: i64, window_start: i64) -> StoreResult<i64>;
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every stored signing key `(kid, private key)`, newest first: the first signs, all are
    /// published so tokens signed before a rotation keep verifying.
    async fn signing_keys(&self) -> StoreResult<Vec<(String, String)>>;
    /// Stores a key; `created_at` orders keys. A kid already stored is left as it is.
    async fn add_signing_key(
        &self,
        kid: &str,
        private_key: &str,
        created_at: i64,
    ) -> StoreResult<()>;
}

/// A registered API client: an internal service or a partner.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub kind: ClientKind,
    /// Space-separated.
    pub scopes: String,
    pub created_at: i64,
    /// When it was revoked: it gets no more tokens.
    pub revoked_at: Option<i64>,
}

#[async_trait]
pub trait ApiClientStore: Send + Sync {
    /// Registers a client, or for a name registered before gives it a new secret, this kind
    /// and these scopes (the old secret stops working, a revoked client works again); returns
    /// the stored row.
    async fn upsert_api_client(&self, client: &ApiClientRow) -> StoreResult<ApiClientRow>;
    /// Registers a new client; `false` when the name is taken.
    async fn insert_api_client(&self, client: &ApiClientRow) -> StoreResult<bool>;
    async fn api_client(&self, id: &str) -> StoreResult<Option<ApiClientRow>>;
    /// Every client, oldest first.
    async fn api_clients(&self) -> StoreResult<Vec<ApiClientRow>>;
    /// Gives a client that is not revoked a new secret and records `event` (its tokens issued
    /// before stop working); `false` when there is no such client.
    async fn set_api_client_secret(
        &self,
        id: &str,
        secret_hash: &str,
        now: i64,
        event: &Event,
    ) -> StoreResult<bool>;
    /// Revokes a client and records `event`; `false` when there is no such client or it was
    /// revoked already.
    async fn revoke_api_client(&self, id: &str, now: i64, event: &Event) -> StoreResult<bool>;
}

/// Everything the accounts service stores.
pub trait AccountsStore:
    UserStore + AddressStore + SessionStore + LoginThrottle + SigningKeyStore + ApiClientStore
{
}
impl<
        T: UserStore + AddressStore + SessionStore + LoginThrottle + SigningKeyStore + ApiClientStore,
    > AccountsStore for T
{
}
