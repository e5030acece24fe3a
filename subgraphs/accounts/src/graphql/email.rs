//! Confirming addresses: the sign-up's link sent again, a change of address, and the link
//! itself.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::user::signed_in_user;
use super::{payload, service, AccountUserError, User};

#[derive(InputObject)]
pub struct ChangeEmailInput {
    pub new_email: String,
    /// The current password.
    pub password: String,
}

#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// From the link in the email.
    pub token: String,
}

#[derive(SimpleObject, Default)]
pub struct EmailRequestPayload {
    /// The email with the link is on its way.
    pub success: bool,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct VerifyEmailPayload {
    /// The account, with its confirmed address.
    pub user: Option<User>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct EmailMutation;

#[Object]
impl EmailMutation {
    /// Sends the link confirming the account's address again (at most five a quarter hour).
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn request_email_verification(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<EmailRequestPayload> {
        let user = signed_in_user(ctx).await?;
        payload(
            service(ctx).request_email_verification(&user).await,
            |done, user_errors| EmailRequestPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }

    /// Asks to change the account's address (the password needed): a link goes to the new
    /// address, which replaces the old one once confirmed; the old one is then told.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        input: ChangeEmailInput,
    ) -> async_graphql::Result<EmailRequestPayload> {
        let user = signed_in_user(ctx).await?;
        payload(
            service(ctx)
                .change_email(&user, &input.new_email, &input.password)
                .await,
            |done, user_errors| EmailRequestPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }

    /// Confirms an address with the token of its link (once, within a day). Signed in or not.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: VerifyEmailInput,
    ) -> async_graphql::Result<VerifyEmailPayload> {
        payload(
            service(ctx).verify_email(&input.token).await,
            |user, user_errors| VerifyEmailPayload {
                user: user.map(User::session_owner),
                user_errors,
            },
        )
    }
}
