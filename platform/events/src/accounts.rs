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

/// `user.access_changed`: a user was disabled, enabled again, or given other roles. Tokens
/// issued before `changed_at` no longer count; new ones (login, refresh) carry the current
/// roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAccessChanged {
    pub user_id: String,
    pub disabled: bool,
    pub roles: Vec<String>,
    /// Unix milliseconds.
    pub changed_at: i64,
}

impl Fact for UserAccessChanged {
    const TOPIC: &'static str = "user.access_changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.user_id.clone()
    }
}
