//! Ending sessions: one of the signed-in user's (another device), or all of them.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::{payload, service, viewer, AccountUserError};

#[derive(InputObject)]
pub struct RevokeSessionInput {
    /// A `User.sessions` id.
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct RevokeSessionPayload {
    pub success: bool,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct SessionsMutation;

#[Object]
impl SessionsMutation {
    /// Ends one of the signed-in user's sessions: its refresh token stops working and its
    /// access tokens are refused everywhere from the next request.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let user = viewer(ctx).require_user()?;
        payload(
            service(ctx).revoke_session(user, &input.id).await,
            |done, user_errors| RevokeSessionPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }

    /// Ends every session of the signed-in user, this one too.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn revoke_all_sessions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let user = viewer(ctx).require_user()?;
        payload(
            service(ctx).revoke_all_sessions(user).await,
            |done, user_errors| RevokeSessionPayload {
                success: done.is_some(),
                user_errors,
            },
        )
    }
}
