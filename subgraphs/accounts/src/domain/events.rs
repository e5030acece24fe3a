//! Events accounts publishes (besides `user.access_changed`, in `auth::revocation`).

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// Someone registered (not users made by admins or demo data): notifications welcomes them.
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
