//! Revocation: disabling a user, changing their roles or ending one of their sessions takes
//! effect at once everywhere, not when their access token expires. Accounts publishes [`UserAccessChanged`]; every process that
//! verifies tokens (the router, each subgraph replica) reads the topic outside any consumer group
//! (each must see every event) into its [`Revocations`], and its verifier refuses that user's
//! tokens issued before the change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use event_bus::{EventBus, Fact};
use events::accounts::UserAccessChanged;
use primitives::stop::StopSignal;

/// How far back a process starting up reads: longer than any access token lives.
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);

/// Per user (and per session of a user), the time (Unix milliseconds) before which their tokens
/// are refused.
#[derive(Debug)]
pub struct Revocations {
    not_before: RwLock<HashMap<String, i64>>,
    /// Counts applied changes, so tests can await one instead of sleeping.
    applied: watch::Sender<u64>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            not_before: RwLock::new(HashMap::new()),
            applied: watch::channel(0).0,
        }
    }
}

impl Revocations {
    /// Tokens of `change.user_id` (of its session, when it names one) issued before the change
    /// are refused from now on.
    pub fn apply(&self, change: &UserAccessChanged) {
        let cut = change.changed_at;
        let key = match &change.session_id {
            Some(session) => session_key(&change.user_id, session),
            None => change.user_id.clone(),
        };
        {
            let mut map = self.not_before.write().expect("never poisoned");
            let entry = map.entry(key).or_insert(cut);
            *entry = (*entry).max(cut);
        }
        self.applied.send_modify(|n| *n += 1);
    }

    /// Whether a token of `user_id` (in `session`) issued at `issued_at_ms` was revoked.
    pub fn is_revoked(&self, user_id: &str, session: Option<&str>, issued_at_ms: i64) -> bool {
        let map = self.not_before.read().expect("never poisoned");
        let before = |key: &str| map.get(key).is_some_and(|cut| issued_at_ms < *cut);
        before(user_id) || session.is_some_and(|s| before(&session_key(user_id, s)))
    }

    /// Changes applied so far; `changed()` resolves on the next one.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Applies every change on the bus until `stop`, starting with those of the last day.
    pub async fn follow(self: Arc<Self>, bus: Arc<dyn EventBus>, stop: StopSignal) {
        let stopped = stop.stopped();
        tokio::pin!(stopped);
        let since = primitives::time::now_millis() - LOOKBACK.as_millis() as i64;
        let mut position: Option<String> = None;
        loop {
            let read = tokio::select! {
                _ = &mut stopped => return,
                read = bus.read(UserAccessChanged::TOPIC, position.as_deref(), since, 256, Duration::from_secs(5)) => read,
            };
            match read {
                Ok(entries) => {
                    for (entry, raw) in entries {
                        match serde_json::from_str::<event_bus::Event>(&raw)
                            .map_err(|e| e.to_string())
                            .and_then(|event| {
                                event
                                    .decode::<UserAccessChanged>()
                                    .map_err(|e| e.to_string())
                            }) {
                            Ok(change) => self.apply(&change),
                            Err(error) => {
                                tracing::error!(%entry, %error, "unreadable access change skipped")
                            }
                        }
                        position = Some(entry);
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "reading access changes failed; retrying");
                    tokio::select! {
                        _ = &mut stopped => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }
}

/// A session's entry: its user's id and its own (a user's id has no newline).
fn session_key(user_id: &str, session: &str) -> String {
    format!("{user_id}\n{session}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(user_id: &str, session_id: Option<&str>, changed_at: i64) -> UserAccessChanged {
        UserAccessChanged {
            user_id: user_id.into(),
            disabled: false,
            roles: vec![],
            changed_at,
            session_id: session_id.map(String::from),
        }
    }

    #[test]
    fn tokens_issued_before_a_change_are_refused() {
        let revocations = Revocations::default();
        assert!(!revocations.is_revoked("usr_1", None, 100_000));
        revocations.apply(&change("usr_1", None, 100_500));
        assert!(revocations.is_revoked("usr_1", None, 100_499));
        assert!(revocations.is_revoked("usr_1", Some("fam_a"), 100_499));
        assert!(!revocations.is_revoked("usr_1", None, 100_500));
        assert!(!revocations.is_revoked("usr_2", None, 50));
        // An older change read later does not move the cut back.
        revocations.apply(&change("usr_1", None, 10_000));
        assert!(revocations.is_revoked("usr_1", None, 100_499));
        assert_eq!(*revocations.watch().borrow(), 2);
    }

    #[test]
    fn an_ended_session_refuses_its_own_tokens_only() {
        let revocations = Revocations::default();
        revocations.apply(&change("usr_1", Some("fam_a"), 100_500));
        assert!(revocations.is_revoked("usr_1", Some("fam_a"), 100_499));
        assert!(!revocations.is_revoked("usr_1", Some("fam_b"), 100_499));
        assert!(!revocations.is_revoked("usr_1", None, 100_499));
        assert!(!revocations.is_revoked("usr_2", Some("fam_a"), 100_499));
        assert!(!revocations.is_revoked("usr_1", Some("fam_a"), 100_500));
    }
}
