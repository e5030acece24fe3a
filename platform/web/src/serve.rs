//! Serving an axum router on a listener with limits that hold against slow and idle clients: a
//! new connection must deliver its first request's headers within a short time, a kept-alive
//! connection may wait for its next request (and receive its headers) within a longer one,
//! every request must be answered within a time, and at most so many connections are open at
//! once. The router, every subgraph and the test payment processor serve through [`serve`].
//! Connections come from a listener, or from anything else that implements [`Accept`] (the
//! router's serving threads share theirs out).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits on what one client connection may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// How long a new connection may take to send its first request's headers.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request and take to send its
    /// headers, counted from its last response. Longer than a load balancer's idle timeout in
    /// front (60 s is common), so that the balancer, not the server, closes idle connections.
    /// Our own clients keep idle connections for less ([`crate::client::http_client`]).
    pub idle_timeout: Duration,
    /// How long a request may take from its headers to its response (reading its body
    /// included); a slower one is answered 408 and its connection closed.
    pub request_timeout: Duration,
    /// Connections open at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            request_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Where [`serve`] takes its connections from.
pub trait Accept: Send {
    /// Kept while the connection is open, dropped when it closes.
    type Held: Send + 'static;

    /// The next connection, with its peer.
    fn accept(
        &mut self,
    ) -> impl Future<Output = std::io::Result<(TcpStream, SocketAddr, Self::Held)>> + Send;
}

impl Accept for TcpListener {
    type Held = ();

    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr, ())> {
        let (stream, peer) = TcpListener::accept(self).await?;
        Ok((stream, peer, ()))
    }
}

/// Serves `router` (HTTP/1.1) on the connections `listener` accepts until `shutdown` resolves,
/// then lets the connections finish their requests in flight. Handlers see the peer as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    mut listener: impl Accept,
    router: Router,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's header timer starts when the connection is ready for a request's head: at accept
    // and again after each response. It is the idle limit; the first request's shorter limit is
    // kept below.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer, held) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let first_request = Arc::new(tokio::sync::Notify::new());
        let started = first_request.clone();
        let service = hyper::service::service_fn(move |mut request: http::Request<_>| {
            started.notify_one();
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            tokio::pin!(connection);
            // Timeouts and resets end connections here; they are the client's doing.
            tokio::select! {
                _ = &mut connection => {}
                () = first_request.notified() => {
                    let _ = connection.await;
                }
                // No complete request head in time: dropping the connection closes it.
                () = tokio::time::sleep(header_read_timeout) => {}
            }
            drop((slot, held));
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
