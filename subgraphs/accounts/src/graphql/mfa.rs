//! The second factor: finishing a sign-in with a code, and turning TOTP on and off.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::session::{auth_payload, AuthPayload};
use super::user::signed_in_user;
use super::{payload, service, AccountUserError};

#[derive(InputObject)]
pub struct VerifyMfaInput {
    /// `mfaToken` from `login`.
    pub mfa_token: String,
    /// Six digits from the authenticator app, or a recovery code.
    pub code: String,
}

#[derive(InputObject)]
pub struct ConfirmTotpInput {
    /// Six digits from the authenticator app, set up with the secret just given.
    pub code: String,
}

#[derive(InputObject)]
pub struct DisableTotpInput {
    pub password: String,
    /// Six digits from the authenticator app, or a recovery code.
    pub code: String,
}

#[derive(SimpleObject, Default)]
pub struct TotpEnrollmentPayload {
    /// Base32, for typing into the app.
    pub secret: Option<String>,
    /// `otpauth://` for a QR code.
    pub otpauth_uri: Option<String>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct RecoveryCodesPayload {
    /// Each works once instead of a code from the app; shown only now.
    pub recovery_codes: Option<Vec<String>>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct DisableTotpPayload {
    pub success: bool,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct MfaMutation;

#[Object]
impl MfaMutation {
    /// Finishes a sign-in that asked for a second factor. A code works once; after five wrong
    /// ones the account's codes are refused for 15 minutes (TOO_MANY_ATTEMPTS).
    async fn verify_mfa(
        &self,
        ctx: &Context<'_>,
        input: VerifyMfaInput,
    ) -> async_graphql::Result<AuthPayload> {
        auth_payload(service(ctx).verify_mfa(&input.mfa_token, &input.code).await)
    }

    /// Starts turning on TOTP: a new secret for the authenticator app, pending until
    /// `confirmTotp` gets a code from it.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn start_totp(&self, ctx: &Context<'_>) -> async_graphql::Result<TotpEnrollmentPayload> {
        let user = signed_in_user(ctx).await?;
        payload(
            service(ctx).start_totp(&user).await,
            |enrollment, user_errors| match enrollment {
                Some(e) => TotpEnrollmentPayload {
                    secret: Some(e.secret),
                    otpauth_uri: Some(e.otpauth_uri),
                    user_errors,
                },
                None => TotpEnrollmentPayload {
                    user_errors,
                    ..Default::default()
                },
            },
        )
    }

    /// Turns TOTP on with a code from the app; answers the recovery codes. Tokens issued
    /// before stop working: sign in again (with a code from now on).
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        input: ConfirmTotpInput,
    ) -> async_graphql::Result<RecoveryCodesPayload> {
        let user = signed_in_user(ctx).await?;
        payload(
            service(ctx).confirm_totp(&user, &input.code).await,
            |recovery_codes, user_errors| RecoveryCodesPayload {
                recovery_codes,
                user_errors,
            },
        )
    }

    /// Turns TOTP off: the password and a code are both needed.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn disable_totp(
        &self,
        ctx: &Context<'_>,
        input: DisableTotpInput,
    ) -> async_graphql::Result<DisableTotpPayload> {
        let user = signed_in_user(ctx).await?;
        payload(
            service(ctx)
                .disable_totp(&user, &input.password, &input.code)
                .await,
            |done, user_errors| DisableTotpPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }
}
