//! `User.notifications`, `User.notificationPreferences` and their update.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::pagination::{connection, PageRequest};
use kit::ApiError;

use super::{payload, service, viewer, Notification, NotificationUserError};
use crate::store::{ListCursor, ListFilter, Preferences};

/// What the user chose to receive.
#[derive(SimpleObject, Clone, Debug)]
pub struct NotificationPreferences {
    /// ISO 639-1, e.g. `en`: the language of the user's emails where a template exists in it.
    pub language: String,
    /// Marketing emails (review requests); order, shipping and account emails are always sent.
    pub marketing: bool,
}

impl From<Preferences> for NotificationPreferences {
    fn from(p: Preferences) -> Self {
        Self {
            language: p.language,
            marketing: !p.marketing_opt_out,
        }
    }
}

/// The accounts' user, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
}

#[ComplexObject]
impl User {
    /// The emails sent (or being sent) to the user, newest first (the user and admins).
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Notification>> {
        viewer(ctx).require_self_or(&self.id, Permission::CustomersRead)?;
        notifications_connection(ctx, ListFilter::User(&self.id), first, after).await
    }

    /// The user's choices (the user and admins).
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<NotificationPreferences> {
        viewer(ctx).require_self_or(&self.id, Permission::CustomersRead)?;
        let preferences = service(ctx)
            .store
            .preferences(&self.id)
            .await
            .map_err(ApiError::internal)?;
        Ok(preferences.into())
    }
}

pub(crate) async fn notifications_connection(
    ctx: &Context<'_>,
    filter: ListFilter<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, Notification>> {
    let page = PageRequest::<ListCursor>::from_args(first, after, None, None)?;
    let rows = service(ctx)
        .store
        .list(filter, page.cursor.as_ref(), page.limit + 1)
        .await
        .map_err(ApiError::internal)?;
    Ok(connection(
        &page,
        rows,
        |row| (row.created_at, row.id.clone()),
        Notification::from,
    ))
}

#[derive(InputObject)]
pub struct NotificationPreferencesInput {
    /// ISO 639-1, e.g. `de`.
    pub language: Option<String>,
    pub marketing: Option<bool>,
}

#[derive(SimpleObject)]
pub struct NotificationPreferencesPayload {
    pub preferences: Option<NotificationPreferences>,
    pub user_errors: Vec<NotificationUserError>,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Changes the signed-in user's language or turns marketing emails on or off.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn update_notification_preferences(
        &self,
        ctx: &Context<'_>,
        input: NotificationPreferencesInput,
    ) -> async_graphql::Result<NotificationPreferencesPayload> {
        let user = viewer(ctx).require_user()?;
        let result = service(ctx)
            .set_preferences(user, input.language.as_deref(), input.marketing)
            .await;
        payload(result, |preferences, user_errors| {
            NotificationPreferencesPayload {
                preferences: preferences.map(Into::into),
                user_errors,
            }
        })
    }
}
