//! Staff's user management: listing, disabling.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::audit::Auditor;
use kit::pagination::{encode_cursor, Page, PageRequest};

use super::user::load_user;
use super::{payload, service, viewer, AccountUserError, User};
use crate::domain::Role;
use crate::store::UserFilter;

/// Extra connection fields: `totalCount` runs its query only when asked for.
pub struct UserConnectionFields {
    filter: UserFilter,
}

#[Object]
impl UserConnectionFields {
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(service(ctx)
            .store
            .count_users(&self.filter)
            .await
            .map_err(kit::ApiError::from)?)
    }
}

pub type UserConnection = Connection<String, User, UserConnectionFields>;

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Users ordered by sign-up (`role: STAFF`: the staff).
    #[graphql(requires_scopes = "customers:read")]
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        role: Option<Role>,
        #[graphql(desc = "Part of the email or name")] query: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        viewer(ctx).require_permission(Permission::CustomersRead)?;
        let page_request = PageRequest::<String>::from_args(first, after, last, before)?;
        let filter = UserFilter { role, query };
        let rows = service(ctx)
            .store
            .list_users(&filter, &page_request)
            .await
            .map_err(kit::ApiError::from)?;
        let page = Page::from_rows(&page_request, rows);
        let mut connection = Connection::with_additional_fields(
            page.has_previous,
            page.has_next,
            UserConnectionFields { filter },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|row| Edge::new(encode_cursor(&row.id), User::from(row))),
        );
        Ok(connection)
    }

    /// Any user by id.
    #[graphql(requires_scopes = "customers:read")]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        viewer(ctx).require_permission(Permission::CustomersRead)?;
        load_user(ctx, &id).await
    }
}

#[derive(InputObject)]
pub struct SetUserDisabledInput {
    pub user_id: ID,
    /// True disables the user and ends their sessions; false enables them again.
    pub disabled: bool,
}

#[derive(SimpleObject, Default)]
pub struct AdminUserPayload {
    pub user: Option<User>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    #[graphql(requires_scopes = "customers:write")]
    async fn set_user_disabled(
        &self,
        ctx: &Context<'_>,
        input: SetUserDisabledInput,
    ) -> async_graphql::Result<AdminUserPayload> {
        let staff = Auditor::require(ctx, Permission::CustomersWrite)?;
        payload(
            service(ctx)
                .set_disabled(&staff, &input.user_id, input.disabled)
                .await,
            |row, user_errors| AdminUserPayload {
                user: row.map(Into::into),
                user_errors,
            },
        )
    }
}
