//! Sharing identical work while it is in flight: the first caller with a key starts the work,
//! callers with an equal key that arrive before it ends wait for the same result.
//!
//! The work runs as a task of its own (in the first caller's span), so a caller that goes away
//! (a client that disconnects) cancels nothing for the others; only when every caller has gone
//! is the work aborted. A task of its own because the callers of a shared future are woken
//! every time its work is: fifty requests waiting on one execution were each polled at every
//! subgraph answer it read, and the work waited behind them. Now the callers are woken once,
//! with the result. Used for subgraph requests, for client operations and for preparing
//! operations.
//!
//! The task lives on the runtime of the caller that started it. A serving thread that stops
//! (the router shutting down) drops its runtime's tasks once its own connections are done, and
//! with them work that callers on other threads may still wait for: each of those runs its own
//! work instead of failing.

use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, WeakShared};
use futures::FutureExt;
use rustc_hash::FxHashMap;
use tracing::Instrument;

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

/// A call in flight: its result, held weakly, so that work every caller has left is dropped;
/// the id tells this call from a later one under the key.
type Running<V> = (u64, WeakShared<BoxFuture<'static, Result<V, Lost>>>);

/// Why a call's work gave no value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lost {
    Panicked,
    /// Its task was dropped with its runtime.
    Dropped,
}

pub struct Inflight<K, V: Clone> {
    calls: Mutex<FxHashMap<HashedKey<K>, Running<V>>>,
    next_id: AtomicU64,
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
            next_id: AtomicU64::new(0),
            joined: AtomicU64::new(0),
        })
    }

    /// Runs `work`, or waits for the work already running under an equal key. `None` when the
    /// work panicked (every waiter sees it). `work` makes the work's future: a caller that
    /// waited for work whose task was dropped with its runtime makes and runs its own.
    pub async fn run<W, F>(self: &Arc<Self>, key: HashedKey<K>, work: W) -> Option<V>
    where
        W: FnOnce() -> F,
        F: Future<Output = V> + Send + 'static,
    {
        let (shared, own_work) = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            match calls.get(&key).and_then(|(_, running)| running.upgrade()) {
                Some(running) => {
                    self.joined.fetch_add(1, Ordering::Relaxed);
                    (running, Some(work))
                }
                None => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let entry = || Entry {
                        inflight: self.clone(),
                        key: Some(key.clone()),
                        id,
                    };
                    let ended = entry();
                    // Boxed: a task's future is copied whole when it is spawned, polled first
                    // and when it ends, and a subgraph fetch's is about 9 KB (callgrind: the
                    // copies were a sixth of the instructions of a request whose every fetch
                    // was shared).
                    let work = work().boxed();
                    let task = tokio::spawn(
                        async move {
                            let value = AssertUnwindSafe(work).catch_unwind().await.ok();
                            // Later callers start afresh: they may depend on changes made since.
                            drop(ended);
                            value
                        }
                        .instrument(tracing::Span::current()),
                    );
                    let abandoned = Abandoned {
                        task: task.abort_handle(),
                        _entry: entry(),
                    };
                    let shared = async move {
                        let ended = match task.await {
                            Ok(Some(value)) => Ok(value),
                            Ok(None) => Err(Lost::Panicked),
                            Err(error) if error.is_cancelled() => Err(Lost::Dropped),
                            Err(_) => Err(Lost::Panicked),
                        };
                        drop(abandoned);
                        ended
                    }
                    .boxed()
                    .shared();
                    let weak = shared.downgrade().expect("a new shared future is pending");
                    calls.insert(key, (id, weak));
                    (shared, None)
                }
            }
        };
        match (shared.await, own_work) {
            (Ok(value), _) => Some(value),
            (Err(Lost::Dropped), Some(work)) => AssertUnwindSafe(work()).catch_unwind().await.ok(),
            (Err(_), _) => None,
        }
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
        let running = {
            let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls
                .get(&HashedKey::new(key))
                .and_then(|(_, running)| running.upgrade())
        };
        // Not counting the one just made; dropped outside the lock, as it could be the last.
        running
            .and_then(|running| running.strong_count())
            .map_or(0, |count| count - 1)
    }
}

/// Aborts the work, and forgets its key at once, when every caller went away (dropped with the
/// last of them; a no-op once the work ended).
struct Abandoned<K: Hash + Eq, V: Clone> {
    task: tokio::task::AbortHandle,
    _entry: Entry<K, V>,
}

impl<K: Hash + Eq, V: Clone> Drop for Abandoned<K, V> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Removes the call's key when the work ends, also when it panics or every caller went away
/// (unless a later call took the key over).
struct Entry<K: Hash + Eq, V: Clone> {
    inflight: Arc<Inflight<K, V>>,
    key: Option<HashedKey<K>>,
    id: u64,
}

impl<K: Hash + Eq, V: Clone> Drop for Entry<K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut calls = self
                .inflight
                .calls
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if calls.get(&key).is_some_and(|(id, _)| *id == self.id) {
                calls.remove(&key);
            }
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
                    .run(HashedKey::new(key), move || async move {
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
                    .run(HashedKey::new(1), move || async move {
                        let _ = released.wait_for(|r| *r).await;
                        7
                    })
                    .await
            })
        };
        until(|| inflight.waiters(1) == 1).await;
        let second = {
            let inflight = inflight.clone();
            tokio::spawn(async move { inflight.run(HashedKey::new(1), || async { 0 }).await })
        };
        until(|| inflight.waiters(1) == 2).await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        release.send(true).unwrap();
        assert_eq!(second.await.unwrap(), Some(7));

        let panicked = inflight
            .run(HashedKey::new(2), || async { panic!("work failed") })
            .await;
        assert_eq!(panicked, None);
        assert!(inflight.is_empty());
    }

    #[tokio::test]
    async fn work_that_every_caller_left_is_dropped_and_forgotten() {
        /// Tells when the work holding it was dropped.
        struct Held(Arc<AtomicUsize>);
        impl Drop for Held {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let inflight = Inflight::<u8, u8>::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let only = {
            let (inflight, held) = (inflight.clone(), Held(dropped.clone()));
            tokio::spawn(async move {
                inflight
                    .run(HashedKey::new(1), move || async move {
                        let _held = held;
                        std::future::pending::<u8>().await
                    })
                    .await
            })
        };
        until(|| inflight.waiters(1) == 1).await;
        only.abort();
        assert!(only.await.unwrap_err().is_cancelled());
        assert!(inflight.is_empty());
        until(|| dropped.load(Ordering::SeqCst) == 1).await;
        assert_eq!(
            inflight.run(HashedKey::new(1), || async { 3 }).await,
            Some(3)
        );
    }

    #[tokio::test]
    async fn a_waiter_runs_its_own_work_when_the_shared_work_is_dropped_with_its_runtime() {
        let inflight = Inflight::<u8, u8>::new();
        // Another serving thread's runtime, on which the first caller starts the work.
        let other = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let first = {
            let inflight = inflight.clone();
            other.spawn(async move {
                inflight
                    .run(HashedKey::new(1), std::future::pending::<u8>)
                    .await
            })
        };
        until(|| inflight.waiters(1) == 1).await;
        let waiter = {
            let inflight = inflight.clone();
            tokio::spawn(async move { inflight.run(HashedKey::new(1), || async { 8 }).await })
        };
        until(|| inflight.waiters(1) == 2).await;
        // That thread stops serving: its runtime drops its tasks, the shared work's with them.
        other.shutdown_background();
        assert_eq!(waiter.await.unwrap(), Some(8));
        assert!(first.await.unwrap_err().is_cancelled());
        assert!(inflight.is_empty());
        assert_eq!(inflight.joined(), 1);
    }
}
