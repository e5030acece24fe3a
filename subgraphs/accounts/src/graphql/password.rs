//! Forgotten and changed passwords: a reset link by email, the new password set with its token,
//! and the signed-in user's own change.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use kit::server::client_address;

use super::session::{auth_payload, AuthPayload};
use super::{service, user_error, viewer, AccountUserError};
use crate::domain::Email;
use crate::service::AccountError;

#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    pub email: String,
}

#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// From the link in the reset email.
    pub token: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(SimpleObject, Default)]
pub struct PasswordPayload {
    /// True when done (for a reset request: when the request was taken, whether or not an
    /// account has the email).
    pub success: bool,
    pub user_errors: Vec<AccountUserError>,
}

fn password_payload(result: Result<(), AccountError>) -> async_graphql::Result<PasswordPayload> {
    Ok(match result {
        Ok(()) => PasswordPayload {
            success: true,
            user_errors: Vec::new(),
        },
        Err(error) => PasswordPayload {
            success: false,
            user_errors: vec![user_error(error)?],
        },
    })
}

#[derive(Default)]
pub struct PasswordMutation;

#[Object]
impl PasswordMutation {
    /// Emails a link to set a new password to the account with this email, if there is one.
    /// The answer is the same either way, and comes before the email is made, so neither it
    /// nor its time tells whether the account exists. At most
    /// `ACCOUNTS_PASSWORD_RESETS_PER_ADDRESS` per 15 minutes from one address.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        input: RequestPasswordResetInput,
    ) -> async_graphql::Result<PasswordPayload> {
        let service = service(ctx);
        let result = async {
            service.count_password_reset(client_address(ctx)).await?;
            let email = Email::parse(&input.email)?;
            let service = service.clone();
            tokio::spawn(async move {
                if let Err(error) = service.send_password_reset(&email).await {
                    tracing::error!(%error, "a password reset email could not be prepared");
                }
            });
            Ok(())
        }
        .await;
        password_payload(result)
    }

    /// Sets a new password with the token from a reset email: it works once, until it expires.
    /// Every session of the account ends and its access tokens stop working at once. Token
    /// attempts count against `ACCOUNTS_PASSWORD_RESETS_PER_ADDRESS`.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<PasswordPayload> {
        let service = service(ctx);
        let result = async {
            service.count_password_reset(client_address(ctx)).await?;
            service
                .reset_password(&input.token, &input.new_password)
                .await
        }
        .await;
        password_payload(result)
    }

    /// Changes the signed-in user's password; the current one is required. Every other session
    /// ends; this one goes on with the tokens returned.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<AuthPayload> {
        let user = viewer(ctx).require_user()?;
        auth_payload(
            service(ctx)
                .change_password(user, &input.current_password, &input.new_password)
                .await,
        )
    }
}
