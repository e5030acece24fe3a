//! Registration, login, token refresh and logout.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use kit::server::client_address;

use super::{payload, service, user_error, AccountUserError, User};
use crate::service::{AccountResult, Session, SignIn};

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    pub refresh_token: String,
}

/// A signed-in session: a short-lived access token (send as `Authorization: Bearer ...`) and a
/// refresh token that can be exchanged once for a new pair.
#[derive(SimpleObject, Default)]
pub struct AuthPayload {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: Option<i64>,
    pub user: Option<User>,
    /// Instead of tokens, when the account has a second factor: send it to `verifyMfa` with
    /// a code from the authenticator app (or a recovery code) within five minutes.
    pub mfa_token: Option<String>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct LogoutPayload {
    pub success: bool,
    pub user_errors: Vec<AccountUserError>,
}

pub(super) fn auth_payload(result: AccountResult<Session>) -> async_graphql::Result<AuthPayload> {
    Ok(match result {
        Ok(session) => AuthPayload {
            access_token: Some(session.access_token),
            refresh_token: Some(session.refresh_token),
            expires_in: Some(session.expires_in),
            user: Some(User::session_owner(session.user)),
            ..Default::default()
        },
        Err(error) => AuthPayload {
            user_errors: vec![user_error(error)?],
            ..Default::default()
        },
    })
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Creates a customer account and signs it in. Throttled per client address
    /// (TOO_MANY_REGISTRATIONS).
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        auth_payload(
            service(ctx)
                .register(
                    &input.email,
                    &input.password,
                    &input.name,
                    client_address(ctx),
                )
                .await,
        )
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        match service(ctx)
            .login(&input.email, &input.password, client_address(ctx))
            .await
        {
            Ok(SignIn::Session(session)) => auth_payload(Ok(session)),
            Ok(SignIn::SecondFactor { token, .. }) => Ok(AuthPayload {
                mfa_token: Some(token),
                ..Default::default()
            }),
            Err(error) => auth_payload(Err(error)),
        }
    }

    /// Exchanges a refresh token for a new access and refresh token. Each refresh token works
    /// once; using one again ends the session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> async_graphql::Result<AuthPayload> {
        auth_payload(service(ctx).refresh(&input.refresh_token).await)
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        payload(
            service(ctx).logout(&input.refresh_token).await,
            |done, user_errors| LogoutPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }
}
