//! What accounts publishes.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// `user.registered`: someone signed up (not users made by admins or demo data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    pub user_id: String,
    pub email: String,
    pub name: String,
}

impl Fact for UserRegistered {
    const TOPIC: &'static str = "user.registered";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}

/// `user.access_changed`: a user was disabled, enabled again, given other roles, reset their
/// password or ended a session. Tokens issued before `changed_at` no longer count (only those of
/// `session_id` when it is given); new ones (login, refresh) carry the current roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAccessChanged {
    pub user_id: String,
    pub disabled: bool,
    pub roles: Vec<String>,
    /// Unix milliseconds.
    pub changed_at: i64,
    /// The one session (a sign-in: the `sid` of its tokens) that ended; none for every token
    /// of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

impl Fact for UserAccessChanged {
    const TOPIC: &'static str = "user.access_changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}

/// `user.password_reset_requested`: someone asked to reset the password of this account. The
/// email with the link goes to its address; `token` is in that link and nowhere else (accounts
/// keeps only its hash), so the event is as secret as the email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetRequested {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub token: String,
    /// Unix milliseconds: the token does nothing after it.
    pub expires_at: i64,
}

impl Fact for PasswordResetRequested {
    const TOPIC: &'static str = "user.password_reset_requested";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}
