//! Serving clients on threads of their own (`http.threads`): each thread runs a single-threaded
//! runtime that accepts on the shared listener, so a request's tasks, its subgraph connections
//! (one pool per thread, see [`crate::executor::transport::set_serving_thread`]) and the memory
//! it allocates stay on one thread. With one work-stealing runtime, requests moved between
//! threads and freed memory another thread allocated: under the gateway benchmark with no
//! deduplication, 0.46 ms of CPU per request on two serving threads against 0.57-0.62 ms
//! (README, "Benchmarks").

use std::future::Future;
use std::io;

use tokio::net::TcpListener;
use web::serve::HttpLimits;

use crate::executor::transport::set_serving_thread;

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
    let mut serving = Vec::with_capacity(threads);
    for index in 0..threads {
        let listener = listener.try_clone()?;
        let (router, limits, mut stopped) = (router.clone(), limits.clone(), stopped.clone());
        let thread = std::thread::Builder::new()
            .name(format!("router-serve-{index}"))
            .spawn(move || -> io::Result<()> {
                set_serving_thread(index);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)?;
                    let stopped = async move {
                        let _ = stopped.wait_for(|stopped| *stopped).await;
                    };
                    web::serve::serve(listener, router, &limits, stopped).await
                })
            })?;
        serving.push(thread);
    }
    drop(listener);
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
