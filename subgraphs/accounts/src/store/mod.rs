//! Storage for accounts: rows, errors, and the SQL store (PostgreSQL and SQLite).

mod audit;
mod mfa;
mod sql;
mod staff;
mod verification;

use event_bus::Event;

use crate::domain::clients::ClientKind;

pub use audit::AuditCursor;
pub use mfa::TotpFactor;
pub use sql::AccountsStore;
pub use verification::{NewVerification, PendingVerification};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("email already registered")]
    DuplicateEmail,
    /// The change would leave the shop without an active user holding `staff:manage`.
    #[error("the change would leave no active staff member able to manage staff")]
    LastStaffManager,
    #[error("a staff role with this name already exists")]
    DuplicateRoleName,
    #[error(transparent)]
    CorruptPermission(#[from] auth::permission::UnknownPermission),
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

/// A sign-in that can go on: a refresh-token family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    /// Unix milliseconds: the sign-in, and the latest refresh.
    pub started_at: i64,
    pub last_used_at: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq)]
pub enum Rotation {
    /// The token was valid: it is now used and `next` replaces it, in the same family (the
    /// session).
    Rotated {
        user_id: String,
        family_id: String,
    },
    /// The token was already used or revoked: its whole family is now revoked.
    Reused,
    Expired,
    Unknown,
}

/// Admin listing filter.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub role: Option<crate::domain::Role>,
    /// Substring of the email or name.
    pub query: Option<String>,
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
