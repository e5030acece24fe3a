//! Sharing identical work while it is in flight: the first caller with a key starts the work,
//! callers with an equal key that arrive before it ends wait for the same result.
//!
//! The work runs in a task of its own, so a caller that goes away (a client that disconnects)
//! cancels nothing for the others. Used for subgraph requests and for client operations.

use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, Shared};
use futures::FutureExt;
use rustc_hash::FxHashMap;

/// A key with its hash computed once: keys can be large (a subgraph request body), and the
/// map hashes a key on every lookup, insert and removal.
#[derive(Clone, PartialEq, Eq)]
pub struct HashedKey<K> {
    hash: u64,
    key: K,
}

impl<K: Hash> HashedKey<K> {
    pub fn new(key: K) -> Self {
        let hash = rustc_hash::FxBuildHasher.hash_one(&key);
        Self { hash, key }
    }
}

impl<K> Hash for HashedKey<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The result every caller with the same key gets; `None` when the work panicked.
type SharedResult<V> = Shared<BoxFuture<'static, Option<V>>>;

pub struct Inflight<K, V: Clone> {
    calls: Mutex<FxHashMap<HashedKey<K>, SharedResult<V>>>,
    /// How many callers waited for another's work instead of starting their own.
    joined: AtomicU64,
}

impl<K, V> Inflight<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(FxHashMap::default()),
            joined: AtomicU64::new(0),
        })
    }

    /// Runs `work`, or waits for the work already running under an equal key. `None` when the
    /// work panicked (every waiter sees it).
    pub async fn run<F>(self: &Arc<Self>, key: HashedKey<K>, work: F) -> Option<V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let shared = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            match calls.get(&key) {
                Some(running) => {
                    self.joined.fetch_add(1, Ordering::Relaxed);
                    running.clone()
                }
                None => {
                    let entry = Entry {
                        inflight: self.clone(),
                        key: Some(key.clone()),
                    };
                    let task = tokio::spawn(async move {
                        let value = work.await;
                        // Later callers start afresh: they may depend on changes made since.
                        drop(entry);
                        value
                    });
                    let shared = async move { task.await.ok() }.boxed().shared();
                    calls.insert(key, shared.clone());
                    shared
                }
            }
        };
        shared.await
    }

    /// How many callers so far shared a call another caller started.
    pub fn joined(&self) -> u64 {
        self.joined.load(Ordering::Relaxed)
    }

    /// How many distinct calls are in flight.
    pub fn len(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many callers wait for the call under `key` (0 when none is in flight).
    #[cfg(test)]
    fn waiters(&self, key: K) -> usize {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .get(&HashedKey::new(key))
            .and_then(Shared::strong_count)
            .map_or(0, |count| count - 1)
    }
}

/// Removes the key when the work ends, also when it panics.
struct Entry<K: Hash + Eq, V: Clone> {
    inflight: Arc<Inflight<K, V>>,
    key: Option<HashedKey<K>>,
}

impl<K: Hash + Eq, V: Clone> Drop for Entry<K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inflight
                .calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::watch;

    use super::*;

    async fn until(condition: impl Fn() -> bool) {
        while !condition() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn equal_keys_share_one_run_and_distinct_keys_do_not() {
        let inflight = Inflight::<&'static str, usize>::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = watch::channel(false);
        let call = |key: &'static str| {
            let (inflight, runs, mut released) = (inflight.clone(), runs.clone(), released.clone());
            tokio::spawn(async move {
                inflight
                    .run(HashedKey::new(key), async move {
                        let _ = released.wait_for(|r| *r).await;
                        runs.fetch_add(1, Ordering::SeqCst)
                    })
                    .await
            })
        };
        let (a1, a2, b) = (call("a"), call("a"), call("b"));
        until(|| inflight.waiters("a") == 2 && inflight.waiters("b") == 1).await;
        release.send(true).unwrap();
        let (a1, a2, b) = (a1.await.unwrap(), a2.await.unwrap(), b.await.unwrap());
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(inflight.joined(), 1);
        assert!(inflight.is_empty());
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_cancels_nothing_and_a_panic_reaches_every_waiter() {
        let inflight = Inflight::<u8, u8>::new();
        let (release, mut released) = watch::channel(false);
        let first = {
            let inflight = inflight.clone();
            tokio::spawn(async move {
                inflight
                    .run(HashedKey::new(1), async move {
                        let _ = released.wait_for(|r| *r).await;
                        7
                    })
                    .await
            })
        };
        until(|| inflight.waiters(1) == 1).await;
        let second = {
            let inflight = inflight.clone();
            tokio::spawn(async move { inflight.run(HashedKey::new(1), async { 0 }).await })
        };
        until(|| inflight.waiters(1) == 2).await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        release.send(true).unwrap();
        assert_eq!(second.await.unwrap(), Some(7));

        let panicked = inflight
            .run(HashedKey::new(2), async { panic!("work failed") })
            .await;
        assert_eq!(panicked, None);
        assert!(inflight.is_empty());
    }
}
