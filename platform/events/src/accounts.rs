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

/// `user.email_verification_requested`: an address is to be confirmed: the one a user signed up
/// with, or (`change`) the one they asked to change to. Carries the link's token, like a
/// password reset, to notifications alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailVerificationRequested {
    pub user_id: String,
    /// The address to confirm (where the email goes).
    pub email: String,
    pub name: String,
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    /// A change of address (the new one), not a sign-up.
    pub change: bool,
}

impl Fact for EmailVerificationRequested {
    const TOPIC: &'static str = "user.email_verification_requested";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}

/// `user.email_verified`: the user proved they hold `email` (at sign-up, or a new address).
/// Orders gives them the orders placed as a guest with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailVerified {
    pub user_id: String,
    pub email: String,
}

impl Fact for EmailVerified {
    const TOPIC: &'static str = "user.email_verified";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}

/// `user.email_changed`: the account's address is now `new_email`; the old address is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailChanged {
    pub user_id: String,
    pub old_email: String,
    pub new_email: String,
    pub name: String,
}

impl Fact for EmailChanged {
    const TOPIC: &'static str = "user.email_changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}
