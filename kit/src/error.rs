//! The one place where errors become GraphQL errors. Domain and storage modules have their own
//! `thiserror` enums and convert into [`ApiError`]; internal failures are logged with their detail
//! and shown to clients only as "Internal server error".
//!
//! `ApiError` deliberately has no `Display`: async-graphql converts every `Display` type into an
//! error without a code, so leaving it out makes `?` go through the conversion below.

use async_graphql::ErrorExtensions;

#[derive(Debug)]
pub enum ApiError {
    Unauthenticated,
    InvalidToken(String),
    Forbidden,
    /// Forbidden, with the reason the caller needs to do it right.
    ForbiddenBecause(String),
    NotFound(&'static str),
    BadUserInput(String),
    /// Too many attempts from this caller for now; the reason says when to try again.
    RateLimited(String),
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated | Self::InvalidToken(_) => "UNAUTHENTICATED",
            Self::Forbidden | Self::ForbiddenBecause(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The text a client sees.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication required".into(),
            Self::InvalidToken(reason) => format!("the access token is invalid: {reason}"),
            Self::Forbidden => "not allowed".into(),
            Self::ForbiddenBecause(reason) => reason.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadUserInput(message) | Self::RateLimited(message) => message.clone(),
            Self::Internal(_) => "Internal server error".into(),
        }
    }

    /// Wraps any internal failure; its text is logged, never shown.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        if let ApiError::Internal(detail) = &error {
            tracing::error!(%detail, "internal error");
        }
        let message = error.message();
        let code = error.code();
        async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(format!("database: {error}"))
    }
}

impl From<storage::db::DbError> for ApiError {
    fn from(error: storage::db::DbError) -> Self {
        Self::internal(error)
    }
}

impl From<auth::TokenError> for ApiError {
    fn from(error: auth::TokenError) -> Self {
        match error {
            auth::TokenError::KeysUnavailable(detail) => ApiError::internal(detail),
            other => ApiError::InvalidToken(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A mutation payload from a service result: `build` gets the value on success, or the userError
/// `to_user_error` makes of an expected failure; a failure it does not expect is a GraphQL error.
pub fn mutation_payload<T, E, U, P>(
    result: Result<T, E>,
    to_user_error: impl FnOnce(E) -> Result<U, ApiError>,
    build: impl FnOnce(Option<T>, Vec<U>) -> P,
) -> async_graphql::Result<P> {
    Ok(match result {
        Ok(value) => build(Some(value), Vec::new()),
        Err(error) => build(None, vec![to_user_error(error)?]),
    })
}
