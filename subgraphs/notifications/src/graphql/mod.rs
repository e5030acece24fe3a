//! The notifications GraphQL API: `User.notifications` (what was sent to the user) and their
//! preferences, and the admins' view: failed messages and retries, templates. Service errors
//! become userErrors or GraphQL errors here.

mod admin;
mod user;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Enum, MergedObject, Schema, SimpleObject, ID};
use kit::ApiError;

use crate::domain::kind::Kind;
use crate::service::{NotificationsService, NotifyError, NotifyResult};
use crate::store::{Notification as Row, Status};

#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery, admin::AdminQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(user::UserMutation, admin::AdminMutation);

pub type NotificationsSchema = Schema<Query, Mutation, EmptySubscription>;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "Kind")]
pub enum NotificationKind {
    Welcome,
    PasswordReset,
    EmailVerification,
    EmailChanged,
    OrderPlaced,
    OrderPaid,
    OrderCancelled,
    OrderFailed,
    Refund,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    DeliveryException,
    Returned,
    ReviewRequest,
    StockLow,
    ReconciliationNeeded,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "Status")]
pub enum NotificationStatus {
    /// Waiting to be sent (or to be tried again).
    Pending,
    Sent,
    /// Every attempt failed; admins may retry it.
    Failed,
    /// Not sent: the recipient turned this kind of message off.
    Skipped,
}

/// An email the shop sent (or is sending).
#[derive(SimpleObject, Clone, Debug)]
pub struct Notification {
    pub id: ID,
    pub kind: NotificationKind,
    pub email: String,
    pub subject: String,
    pub text_body: String,
    pub status: NotificationStatus,
    pub attempts: i64,
    /// Why the last attempt failed (admins see it on failed messages).
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<Row> for Notification {
    fn from(row: Row) -> Self {
        Self {
            id: ID(row.id),
            kind: row.kind.into(),
            email: row.email,
            subject: row.subject,
            text_body: row.text_body,
            status: row.status.into(),
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: primitives::time::format_millis(row.created_at),
            sent_at: row.sent_at.map(primitives::time::format_millis),
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationErrorCode {
    InvalidInput,
    InvalidTemplate,
    NotFound,
}

/// An expected failure of a notifications mutation.
#[derive(SimpleObject, Clone, Debug)]
pub struct NotificationUserError {
    pub field: Option<Vec<String>>,
    pub code: NotificationErrorCode,
    pub message: String,
}

pub(crate) fn service<'a>(ctx: &Context<'a>) -> &'a Arc<NotificationsService> {
    ctx.data_unchecked::<Arc<NotificationsService>>()
}

pub(crate) use kit::access::viewer;

pub(crate) fn payload<T, P>(
    result: NotifyResult<T>,
    build: impl FnOnce(Option<T>, Vec<NotificationUserError>) -> P,
) -> async_graphql::Result<P> {
    kit::error::mutation_payload(result, user_error, build)
}

pub(crate) fn user_error(error: NotifyError) -> Result<NotificationUserError, ApiError> {
    let field = |name: &str| Some(vec!["input".to_string(), name.to_string()]);
    let (field, code) = match &error {
        NotifyError::Template(e) => (field(e.part), NotificationErrorCode::InvalidTemplate),
        NotifyError::Language => (field("language"), NotificationErrorCode::InvalidInput),
        NotifyError::NotFailed => (field("id"), NotificationErrorCode::NotFound),
        NotifyError::Store(_) => return Err(ApiError::internal(error)),
    };
    Ok(NotificationUserError {
        field,
        code,
        message: error.to_string(),
    })
}
