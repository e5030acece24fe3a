//! Automatic persisted queries: bodies registered by their SHA-256, so that clients can send
//! the hash alone afterwards. In memory for one router, in Redis for replicas that share
//! registrations (a body registered through one is found through any). An entry never changes
//! (the key is the hash of the value), so every replica also keeps the bodies it has seen in
//! memory, and a Redis that is down only costs clients a resend with the body.

use std::sync::Arc;
use std::time::Duration;

use quick_cache::sync::Cache;

use crate::shared_store::SharedStore;

pub struct ApqStore {
    local: Cache<String, Arc<str>>,
    shared: Option<(SharedStore, Duration)>,
}

impl ApqStore {
    /// `shared`: the Redis registrations go to, and how long they live there.
    pub fn new(local_entries: usize, shared: Option<(SharedStore, Duration)>) -> Self {
        Self {
            local: Cache::new(local_entries.max(1)),
            shared,
        }
    }

    /// The body registered under `hash`, if any replica registered it.
    pub async fn get(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(body) = self.local.get(hash) {
            return Some(body);
        }
        let (store, _) = self.shared.as_ref()?;
        let found: Result<Option<String>, _> = redis::cmd("GET")
            .arg(store.key("apq", hash))
            .query_async(&mut store.connection.clone())
            .await;
        match found {
            Ok(Some(body)) if super::manifest::sha256_hex(&body) == hash => {
                let body: Arc<str> = body.into();
                self.local.insert(hash.to_string(), body.clone());
                Some(body)
            }
            Ok(Some(_)) => {
                tracing::error!(%hash, "a shared APQ entry does not match its hash; ignored");
                None
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "APQ lookup in Redis failed; the client will resend the body");
                None
            }
        }
    }

    /// Registers a body whose hash was checked and which proved a valid operation.
    pub async fn put(&self, hash: &str, body: Arc<str>) {
        self.local.insert(hash.to_string(), body.clone());
        let Some((store, ttl)) = &self.shared else {
            return;
        };
        let stored: Result<(), _> = redis::cmd("SET")
            .arg(store.key("apq", hash))
            .arg(&*body)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut store.connection.clone())
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, "APQ registration in Redis failed; kept by this replica only");
        }
    }
}
