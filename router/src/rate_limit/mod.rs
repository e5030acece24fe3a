//! Rate limits per client: a token bucket per client and kind of operation (queries and
//! mutations have their own), in Redis when replicas share them (every replica takes from the
//! same bucket, atomically) or in memory for one router.
//!
//! A Redis that fails does not stop the shop: the request is let through and the failure
//! logged (limits protect the service; an outage of the limiter should not become one of the
//! service).

pub mod bucket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use self::bucket::{Bucket, Decision, Limit, TOKEN_BUCKET_SCRIPT};
use crate::config::RateLimitConfig;
use crate::shared_store::SharedStore;

/// Buckets kept in memory before those that have filled up again are forgotten.
const MEMORY_SWEEP_AT: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Mutation => "mutation",
        }
    }
}

enum Buckets {
    Memory(Mutex<HashMap<String, Bucket>>),
    Redis {
        store: SharedStore,
        script: redis::Script,
    },
}

pub struct RateLimiter {
    queries: Limit,
    mutations: Limit,
    buckets: Buckets,
    refused: AtomicU64,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig, shared: Option<SharedStore>) -> Self {
        let buckets = match shared {
            Some(store) => Buckets::Redis {
                store,
                script: redis::Script::new(TOKEN_BUCKET_SCRIPT),
            },
            None => Buckets::Memory(Mutex::new(HashMap::new())),
        };
        Self {
            queries: Limit {
                per_second: config.queries_per_second,
                burst: config.query_burst,
            },
            mutations: Limit {
                per_second: config.mutations_per_second,
                burst: config.mutation_burst,
            },
            buckets,
            refused: AtomicU64::new(0),
        }
    }

    /// Takes a token for one operation of `client`.
    pub async fn check(&self, client: &str, kind: OperationKind) -> Decision {
        let limit = match kind {
            OperationKind::Query => self.queries,
            OperationKind::Mutation => self.mutations,
        };
        let key = format!("{}:{client}", kind.as_str());
        let decision = match &self.buckets {
            Buckets::Memory(buckets) => {
                let forget_after = self.queries.refill_ms().max(self.mutations.refill_ms());
                take_in_memory(buckets, &limit, key, forget_after as i64)
            }
            Buckets::Redis { store, script } => {
                let taken: Result<(i64, i64), _> = script
                    .key(store.key("ratelimit", &key))
                    .arg(limit.per_second)
                    .arg(limit.burst)
                    .invoke_async(&mut store.connection.clone())
                    .await;
                match taken {
                    Ok((1, _)) => Decision::Allowed,
                    Ok((_, retry_after_ms)) => Decision::Refused {
                        retry_after_ms: retry_after_ms.max(1) as u64,
                    },
                    Err(error) => {
                        tracing::warn!(%error, "rate limiting in Redis failed; request let through");
                        Decision::Allowed
                    }
                }
            }
        };
        if decision != Decision::Allowed {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        decision
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

fn take_in_memory(
    buckets: &Mutex<HashMap<String, Bucket>>,
    limit: &Limit,
    key: String,
    forget_after_ms: i64,
) -> Decision {
    let now = primitives::time::now_millis();
    let mut buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
    if buckets.len() >= MEMORY_SWEEP_AT {
        // A bucket untouched for longer than it takes to refill is as good as a new one.
        buckets.retain(|_, b| now - b.at_ms < forget_after_ms);
    }
    let (bucket, decision) = limit.take(buckets.get(&key).copied(), now);
    buckets.insert(key, bucket);
    decision
}
