//! Admins: messages by status (failed ones above all), retries, templates.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::ApiError;

use super::user::notifications_connection;
use super::{
    payload, service, viewer, Notification, NotificationKind, NotificationStatus,
    NotificationUserError,
};
use crate::domain::template::Template;
use crate::store::ListFilter;

/// A kind's message in one language: placeholders in `{{ }}` (minijinja).
#[derive(SimpleObject, Clone, Debug)]
pub struct NotificationTemplate {
    pub kind: NotificationKind,
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The placeholders this kind's messages have.
    pub placeholders: Vec<String>,
}

#[derive(InputObject)]
pub struct NotificationTemplateInput {
    pub kind: NotificationKind,
    /// ISO 639-1, e.g. `en`.
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(SimpleObject)]
pub struct NotificationTemplatePayload {
    pub template: Option<NotificationTemplate>,
    pub user_errors: Vec<NotificationUserError>,
}

#[derive(InputObject)]
pub struct RetryNotificationInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct RetryNotificationPayload {
    pub notification: Option<Notification>,
    pub user_errors: Vec<NotificationUserError>,
}

fn template_object(
    kind: NotificationKind,
    language: String,
    template: Template,
) -> NotificationTemplate {
    let sample = crate::domain::template::sample(kind.into());
    NotificationTemplate {
        kind,
        language,
        subject: template.subject,
        text: template.text,
        html: template.html,
        placeholders: sample
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
    }
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Messages of one status, newest first (admins): `FAILED` for those that need a look.
    #[graphql(requires_scopes = "settings:write")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        status: NotificationStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Notification>> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        notifications_connection(ctx, ListFilter::Status(status.into()), first, after).await
    }

    /// The template a kind's messages in `language` are written from now (admins).
    #[graphql(requires_scopes = "settings:write")]
    async fn notification_template(
        &self,
        ctx: &Context<'_>,
        kind: NotificationKind,
        language: String,
    ) -> async_graphql::Result<NotificationTemplate> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        let template = service(ctx)
            .template(kind.into(), &language)
            .await
            .map_err(ApiError::internal)?;
        Ok(template_object(kind, language, template))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Stores a kind's template in a language; it must render with the kind's placeholders
    /// (admins).
    #[graphql(requires_scopes = "settings:write")]
    async fn set_notification_template(
        &self,
        ctx: &Context<'_>,
        input: NotificationTemplateInput,
    ) -> async_graphql::Result<NotificationTemplatePayload> {
        let admin = viewer(ctx).require_permission(Permission::SettingsWrite)?;
        let template = Template {
            subject: input.subject,
            text: input.text,
            html: input.html,
        };
        let language = input.language.trim().to_lowercase();
        let result = service(ctx)
            .set_template(input.kind.into(), &language, template, admin)
            .await;
        payload(result, |template, user_errors| {
            NotificationTemplatePayload {
                template: template.map(|t| template_object(input.kind, language, t)),
                user_errors,
            }
        })
    }

    /// Sends a failed message again, from its first attempt (admins).
    #[graphql(requires_scopes = "settings:write")]
    async fn retry_notification(
        &self,
        ctx: &Context<'_>,
        input: RetryNotificationInput,
    ) -> async_graphql::Result<RetryNotificationPayload> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        payload(
            service(ctx).retry(&input.id).await,
            |notification, user_errors| RetryNotificationPayload {
                notification: notification.map(Into::into),
                user_errors,
            },
        )
    }
}
