//! The accounts GraphQL API. Resolvers call [`AccountsService`] and turn its errors into
//! userErrors (expected failures) or GraphQL errors (auth, internal) here.

mod admin;
mod audit;
mod checkout;
mod clients;
mod email;
mod mfa;
mod password;
mod session;
mod sessions;
mod staff;
mod user;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject};
use kit::schema::dataloader;
use kit::ApiError;

use crate::service::{AccountError, AccountsService};
pub use user::{User, UserLoader};

#[derive(MergedObject, Default)]
pub struct Query(
    user::UserQuery,
    admin::AdminQuery,
    clients::ApiClientQuery,
    staff::StaffQuery,
    audit::AuditQuery,
    checkout::CheckoutQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    password::PasswordMutation,
    sessions::SessionsMutation,
    mfa::MfaMutation,
    email::EmailMutation,
    user::ProfileMutation,
    admin::AdminMutation,
    clients::ApiClientMutation,
    staff::StaffMutation,
);

pub type AccountsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Adds the request-scoped dataloaders.
pub fn request_data(
    service: &Arc<AccountsService>,
    request: async_graphql::Request,
) -> async_graphql::Request {
    request
        .data(dataloader(UserLoader::new(service.clone())))
        .data(dataloader(user::AddressLoader::new(service.clone())))
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountErrorCode {
    InvalidEmail,
    WeakPassword,
    EmailTaken,
    /// The email looks the same as an existing account's (letters from another script).
    EmailConfusable,
    /// A password reset token that was used already, has expired, or never existed.
    InvalidResetToken,
    InvalidName,
    InvalidCredentials,
    TooManyAttempts,
    TooManyRegistrations,
    InvalidRefreshToken,
    InvalidAddress,
    NotFound,
    InvalidClient,
    ClientNameTaken,
    /// The change would leave no active staff member holding `staff:manage`.
    LastStaffManager,
    /// Staff do not change their own roles, or a role they hold.
    OwnAccess,
    StaffRoleNameTaken,
    /// A role's name or permissions are not valid.
    InvalidStaffRole,
    /// An email confirmation link that was used already, has expired, or never existed.
    InvalidVerificationToken,
    EmailAlreadyVerified,
    /// A second-factor code that is wrong or was used already.
    InvalidMfaCode,
    /// A sign-in waiting for its second factor that expired or was finished.
    InvalidMfaChallenge,
    MfaAlreadyOn,
    MfaNotPending,
    MfaNotOn,
}

/// An expected failure of an accounts mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct AccountUserError {
    /// Path to the input field at fault, when there is one.
    pub field: Option<Vec<String>>,
    pub code: AccountErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<AccountsService> {
    ctx.data_unchecked::<Arc<AccountsService>>()
}

pub(crate) use kit::access::viewer;

/// A mutation payload from a service result (see [`kit::error::mutation_payload`]).
pub(crate) fn payload<T, P>(
    result: crate::service::AccountResult<T>,
    build: impl FnOnce(Option<T>, Vec<AccountUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

/// Expected failures become userErrors; anything else is a GraphQL error.
pub(crate) fn user_error(error: AccountError) -> Result<AccountUserError, ApiError> {
    let field = |path: &[&str]| Some(path.iter().map(|s| s.to_string()).collect());
    let (field, code) = match &error {
        AccountError::InvalidEmail(_) => {
            (field(&["input", "email"]), AccountErrorCode::InvalidEmail)
        }
        AccountError::WeakPassword(_) => (
            field(&["input", "password"]),
            AccountErrorCode::WeakPassword,
        ),
        AccountError::EmailTaken => (field(&["input", "email"]), AccountErrorCode::EmailTaken),
        AccountError::EmailConfusable => (
            field(&["input", "email"]),
            AccountErrorCode::EmailConfusable,
        ),
        AccountError::InvalidName => (field(&["input", "name"]), AccountErrorCode::InvalidName),
        AccountError::InvalidCredentials => (None, AccountErrorCode::InvalidCredentials),
        AccountError::TooManyAttempts => (None, AccountErrorCode::TooManyAttempts),
        AccountError::InvalidResetToken => (
            field(&["input", "token"]),
            AccountErrorCode::InvalidResetToken,
        ),
        AccountError::TooManyRegistrations => (None, AccountErrorCode::TooManyRegistrations),
        AccountError::LastStaffManager => (None, AccountErrorCode::LastStaffManager),
        AccountError::InvalidMfaCode => {
            (field(&["input", "code"]), AccountErrorCode::InvalidMfaCode)
        }
        AccountError::InvalidMfaChallenge => (
            field(&["input", "mfaToken"]),
            AccountErrorCode::InvalidMfaChallenge,
        ),
        AccountError::MfaAlreadyOn => (None, AccountErrorCode::MfaAlreadyOn),
        AccountError::InvalidVerificationToken => (
            field(&["input", "token"]),
            AccountErrorCode::InvalidVerificationToken,
        ),
        AccountError::EmailAlreadyVerified => (None, AccountErrorCode::EmailAlreadyVerified),
        AccountError::MfaNotPending => (None, AccountErrorCode::MfaNotPending),
        AccountError::MfaNotOn => (None, AccountErrorCode::MfaNotOn),
        AccountError::OwnAccess => (None, AccountErrorCode::OwnAccess),
        AccountError::StaffRoleNameTaken => (
            field(&["input", "name"]),
            AccountErrorCode::StaffRoleNameTaken,
        ),
        AccountError::StaffRole(crate::domain::staff::StaffRoleError::Name) => (
            field(&["input", "name"]),
            AccountErrorCode::InvalidStaffRole,
        ),
        AccountError::StaffRole(crate::domain::staff::StaffRoleError::NoPermission) => (
            field(&["input", "permissions"]),
            AccountErrorCode::InvalidStaffRole,
        ),
        AccountError::InvalidRefreshToken => (
            field(&["input", "refreshToken"]),
            AccountErrorCode::InvalidRefreshToken,
        ),
        AccountError::InvalidAddress { field: f, .. } => {
            (field(&["input", f]), AccountErrorCode::InvalidAddress)
        }
        AccountError::NotFound(_) => (None, AccountErrorCode::NotFound),
        AccountError::Client(crate::domain::clients::ClientError::Name) => {
            (field(&["input", "name"]), AccountErrorCode::InvalidClient)
        }
        AccountError::Client(crate::domain::clients::ClientError::Scope { .. }) => {
            (field(&["input", "scopes"]), AccountErrorCode::InvalidClient)
        }
        AccountError::ClientNameTaken => {
            (field(&["input", "name"]), AccountErrorCode::ClientNameTaken)
        }
        AccountError::InvalidClient => (None, AccountErrorCode::InvalidCredentials),
        AccountError::Store(_)
        | AccountError::Key(_)
        | AccountError::Hash(_)
        | AccountError::Corrupt(_)
        | AccountError::CorruptPermission(_)
        | AccountError::CorruptSecret(_) => {
            return Err(ApiError::internal(error));
        }
    };
    Ok(AccountUserError {
        field,
        code,
        message: error.to_string(),
    })
}
