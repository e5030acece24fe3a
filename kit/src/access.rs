//! The viewer as a resolver sees it: the request's [`Viewer`] with requirements that fail as
//! GraphQL errors (`UNAUTHENTICATED`, `FORBIDDEN`).

use std::ops::Deref;

use async_graphql::Context;
use auth::{Permission, Viewer, SERVICE_SCOPE};

use crate::ApiError;

/// The request's viewer (put in every request by the scaffold).
pub fn viewer<'a>(ctx: &Context<'a>) -> Access<'a> {
    Access(ctx.data_unchecked::<Viewer>())
}

/// A [`Viewer`] with the checks resolvers make before acting.
#[derive(Clone, Copy)]
pub struct Access<'a>(pub &'a Viewer);

impl<'a> Access<'a> {
    pub fn require_user(&self) -> Result<&'a str, ApiError> {
        self.0.user_id().ok_or(ApiError::Unauthenticated)
    }

    /// A staff member holding `permission` (the scope the field's `@requiresScopes` names, so
    /// a subgraph called directly refuses what the router refuses).
    pub fn require_permission(&self, permission: Permission) -> Result<&'a str, ApiError> {
        self.require_scope(permission.scope())
    }

    /// Another service (a client-credentials token with the service scope).
    pub fn require_service(&self) -> Result<&'a str, ApiError> {
        self.require_scope(SERVICE_SCOPE)
    }

    /// The user themself, or staff holding `permission`.
    pub fn require_self_or(&self, user_id: &str, permission: Permission) -> Result<(), ApiError> {
        let me = self.require_user()?;
        if me == user_id || self.0.has_permission(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    fn require_scope(&self, scope: &str) -> Result<&'a str, ApiError> {
        let user = self.require_user()?;
        if self.0.has_scope(scope) {
            Ok(user)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl Deref for Access<'_> {
    type Target = Viewer;

    fn deref(&self) -> &Viewer {
        self.0
    }
}
