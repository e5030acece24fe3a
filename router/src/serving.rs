//! Serving clients on threads of their own (`http.threads`): each thread runs a single-threaded
//! runtime that accepts on the shared listener, so a request's tasks, its subgraph connections
//! (one pool per thread, see [`crate::executor::transport::set_serving_thread`]) and the memory
//! it allocates stay on one thread. With one work-stealing runtime, requests moved between
//! threads and freed memory another thread allocated: under the gateway benchmark with no
//! deduplication, 0.46 ms of CPU per request on two serving threads against 0.57-0.62 ms
//! (README, "Benchmarks").
//!
//! Whichever thread wakes first accepts, so how connections split between threads was left to
//! chance: the gateway benchmark's fifty connections split unevenly, differently in each run,
//! and one thread was overloaded while the other idled. A thread that accepts a connection
//! while another serves fewer hands it to the one that serves fewest.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use web::serve::{Accept, HttpLimits};

use crate::executor::transport::set_serving_thread;
use crate::metrics;

/// Serves `router` on `threads` threads until `shutdown` completes, then lets each finish its
/// requests in flight. `limits.max_connections` is shared out among the threads.
pub async fn serve_on_threads(
    listener: TcpListener,
    router: axum::Router,
    limits: HttpLimits,
    threads: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = listener.into_std()?;
    let limits = HttpLimits {
        max_connections: limits.max_connections.div_ceil(threads).max(1),
        ..limits
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (handoffs, received): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
    let shares = Arc::new(Shares {
        open: (0..threads).map(|_| AtomicUsize::new(0)).collect(),
        handoffs,
    });
    let mut serving = Vec::with_capacity(threads);
    for (index, received) in received.into_iter().enumerate() {
        let listener = listener.try_clone()?;
        let shares = shares.clone();
        let (router, limits, mut stopped) = (router.clone(), limits.clone(), stopped.clone());
        let thread = std::thread::Builder::new()
            .name(format!("router-serve-{index}"))
            .spawn(move || -> io::Result<()> {
                set_serving_thread(index);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let acceptor = SharedOut {
                        listener: TcpListener::from_std(listener)?,
                        index,
                        shares,
                        received,
                    };
                    let stopped = async move {
                        let _ = stopped.wait_for(|stopped| *stopped).await;
                    };
                    web::serve::serve(acceptor, router, &limits, stopped).await
                })
            })?;
        serving.push(thread);
    }
    drop((listener, shares));
    shutdown.await;
    let _ = stop.send(true);
    tokio::task::spawn_blocking(move || {
        serving.into_iter().try_for_each(|thread| {
            thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a serving thread panicked")))
        })
    })
    .await
    .map_err(io::Error::other)?
}

/// A connection accepted by one thread on its way to another, already counted as that one's.
type Handoff = (std::net::TcpStream, SocketAddr, Served);

/// What the serving threads share to balance their connections.
struct Shares {
    /// Connections each thread serves, counting those on their way to it.
    open: Vec<AtomicUsize>,
    handoffs: Vec<mpsc::UnboundedSender<Handoff>>,
}

impl Shares {
    /// Counts a connection as `thread`'s until the returned value is dropped.
    fn count(self: &Arc<Self>, thread: usize) -> Served {
        self.open[thread].fetch_add(1, Ordering::Relaxed);
        metrics::record_serving_thread_connection(thread, true);
        Served {
            shares: self.clone(),
            thread,
        }
    }

    /// Which thread is to serve a connection that thread `index` accepted: `index`, unless
    /// another serves fewer.
    fn assign(self: &Arc<Self>, index: usize) -> Served {
        let load = |thread: usize| self.open[thread].load(Ordering::Relaxed);
        let fewest = (0..self.open.len())
            .min_by_key(|&thread| (load(thread), thread != index))
            .unwrap_or(index);
        self.count(fewest)
    }
}

/// A connection counted as its thread's while it is open.
struct Served {
    shares: Arc<Shares>,
    thread: usize,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shares.open[self.thread].fetch_sub(1, Ordering::Relaxed);
        metrics::record_serving_thread_connection(self.thread, false);
    }
}

/// One serving thread's connections: those it accepts and keeps, and those handed to it.
struct SharedOut {
    listener: TcpListener,
    index: usize,
    shares: Arc<Shares>,
    received: mpsc::UnboundedReceiver<Handoff>,
}

impl Accept for SharedOut {
    type Held = Served;

    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr, Served)> {
        loop {
            let (stream, peer) = tokio::select! {
                Some((stream, peer, served)) = self.received.recv() => {
                    return Ok((TcpStream::from_std(stream)?, peer, served));
                }
                accepted = self.listener.accept() => accepted?,
            };
            let served = self.shares.assign(self.index);
            if served.thread == self.index {
                return Ok((stream, peer, served));
            }
            let handoff = (stream.into_std()?, peer, served);
            let thread = handoff.2.thread;
            if let Err(mpsc::error::SendError((stream, peer, served))) =
                self.shares.handoffs[thread].send(handoff)
            {
                // That thread has stopped serving; this one has not.
                drop(served);
                let served = self.shares.count(self.index);
                return Ok((TcpStream::from_std(stream)?, peer, served));
            }
        }
    }
}
