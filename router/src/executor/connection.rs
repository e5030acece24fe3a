//! Subgraph connections driven by the task that sends on them.
//!
//! hyper's pooled client drives each connection in a task of its own: a request reaches that
//! task through a channel, the answer comes back through another, and the answer's body in
//! chunks, each step a wake-up of one task by the other. On a serving thread every wake-up
//! waits in one queue behind all the other ready tasks, and under load a subgraph call's steps
//! each waited behind dozens of client requests. Here the task that sends a request also
//! drives its connection (hyper's `client::conn`): it polls the connection and the answer in
//! one loop, so a call waits in the queue for its turn to write the request (see [`Write`])
//! and for the answer, and no more.
//!
//! Idle connections are kept per serving thread, as hyper's pool kept them: a connection is
//! registered with the runtime of the thread that made it.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::task::AtomicWaker;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tower::ServiceExt;

type Io = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;
pub(super) type Connector = HttpsConnector<HttpConnector>;

/// One HTTP/1.1 connection: the handle requests are sent with, and the connection itself,
/// which makes progress only while polled.
struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: http1::Connection<Io, Full<Bytes>>,
    /// The connection's future ended (closed, or failed): it must not be polled again.
    ended: bool,
    idle_since: Instant,
}

/// A subgraph's idle connections, one stack per serving thread.
pub(super) struct Connections {
    connector: Connector,
    idle: Vec<Mutex<Vec<Connection>>>,
    /// How many idle connections a thread keeps.
    max_idle: usize,
    /// Connections idle longer are closed instead of reused (see `web::client::POOL_IDLE_TIMEOUT`).
    idle_timeout: Duration,
}

/// When a call writes its request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    /// On the calling task's next turn, after the tasks already queued on its thread: the
    /// requests of a wave of tasks reach the subgraph together, instead of waking it once each
    /// (written at once from the executions' tasks, the subgraphs' context switches rose by a
    /// third and with no deduplication the router made 0.92x the requests per second).
    NextTurn,
    /// At once: the call runs in a task just spawned, whose first turn already came after the
    /// tasks queued before it (a shared call).
    AtOnce,
}

/// Why a call failed before a whole answer came back.
#[derive(Debug, thiserror::Error)]
pub(super) enum CallError<E> {
    #[error(transparent)]
    Connect(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Http(hyper::Error),
    /// The answer's own error (its body, its size).
    #[error(transparent)]
    Answer(E),
}

impl Connections {
    pub(super) fn new(
        connector: Connector,
        threads: usize,
        max_idle: usize,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            connector,
            idle: (0..threads.max(1))
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
            max_idle,
            idle_timeout,
        }
    }

    /// Sends the request `make_request` builds on an idle connection of `thread`, or a new one,
    /// and reads the answer with `read`. A request a reused connection could not send (it was
    /// closed meanwhile) is sent again on a new connection, as hyper's pool does.
    pub(super) async fn call<T, E, R, F>(
        &self,
        thread: usize,
        write: Write,
        uri: &http::Uri,
        make_request: impl Fn() -> http::Request<Full<Bytes>>,
        read: R,
    ) -> Result<T, CallError<E>>
    where
        R: Fn(http::Response<hyper::body::Incoming>) -> F,
        F: Future<Output = Result<T, E>>,
    {
        let idle = &self.idle[thread.min(self.idle.len() - 1)];
        if let Some(mut connection) = self.checkout(idle) {
            match connection.exchange(make_request(), write, &read).await {
                Err(CallError::Http(error)) if error.is_canceled() => {}
                answer => return self.checkin(idle, connection, answer),
            }
        }
        let mut connection = self.connect(uri).await?;
        let answer = connection.exchange(make_request(), write, &read).await;
        self.checkin(idle, connection, answer)
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self, idle: &Mutex<Vec<Connection>>) -> Option<Connection> {
        let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut connection) = idle.pop() {
            if connection.idle_since.elapsed() < self.idle_timeout && connection.is_open() {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps the connection for the next call when the answer was read whole and the
    /// connection can take another request.
    fn checkin<T, E>(
        &self,
        idle: &Mutex<Vec<Connection>>,
        mut connection: Connection,
        answer: Result<T, CallError<E>>,
    ) -> Result<T, CallError<E>> {
        if answer.is_ok() && !connection.ended && connection.sender.is_ready() {
            connection.idle_since = Instant::now();
            let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
            self.drop_expired(&mut idle);
            if idle.len() < self.max_idle {
                idle.push(connection);
            }
        }
        answer
    }

    /// Closes the idle connections that passed the idle timeout. Run now and then (see
    /// `Transport::new`): a subgraph that no call reaches any more would otherwise hold them
    /// open, closed at its end, until one does.
    pub(super) fn close_expired(&self) {
        for idle in &self.idle {
            self.drop_expired(&mut idle.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    fn drop_expired(&self, idle: &mut Vec<Connection>) {
        idle.retain(|c| c.idle_since.elapsed() < self.idle_timeout);
    }

    async fn connect<E>(&self, uri: &http::Uri) -> Result<Connection, CallError<E>> {
        let io = self
            .connector
            .clone()
            .oneshot(uri.clone())
            .await
            .map_err(CallError::Connect)?;
        let (sender, driver) = http1::handshake(io).await.map_err(CallError::Http)?;
        Ok(Connection {
            sender,
            driver,
            ended: false,
            idle_since: Instant::now(),
        })
    }
}

impl Connection {
    /// Whether an idle connection can take a request: the subgraph has not closed it.
    fn is_open(&mut self) -> bool {
        // Polled once to take in what came meanwhile: an end of stream ends it.
        self.poll_driver(&mut Context::from_waker(Waker::noop()));
        !self.ended && self.sender.is_ready()
    }

    fn poll_driver(&mut self, cx: &mut Context<'_>) {
        if !self.ended {
            // Its end (a closed connection, an error) reaches an answer it owed as its error.
            self.ended = std::pin::Pin::new(&mut self.driver).poll(cx).is_ready();
        }
    }

    /// Sends `request` and reads the answer with `read`, driving the connection meanwhile: the
    /// answer and the connection are polled in turn until the answer is complete. Each wakes
    /// the other by waking this task; such a wake-up while they are being polled goes round the
    /// loop again at once instead of through the runtime's queue.
    async fn exchange<T, E, R, F>(
        &mut self,
        request: http::Request<Full<Bytes>>,
        write: Write,
        read: &R,
    ) -> Result<T, CallError<E>>
    where
        R: Fn(http::Response<hyper::body::Incoming>) -> F,
        F: Future<Output = Result<T, E>>,
    {
        let sent = self.sender.send_request(request);
        let mut answer = pin!(async move {
            let response = sent.await.map_err(CallError::Http)?;
            read(response).await.map_err(CallError::Answer)
        });
        let waker = Arc::new(LoopWaker::default());
        let inner = Waker::from(waker.clone());
        let mut turn_taken = write == Write::AtOnce;
        std::future::poll_fn(|cx| {
            if !turn_taken {
                turn_taken = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            waker.task.register(cx.waker());
            waker.polling.store(true, Ordering::SeqCst);
            let mut inner_cx = Context::from_waker(&inner);
            for _ in 0..ROUNDS_PER_POLL {
                waker.woken.store(false, Ordering::SeqCst);
                if let Poll::Ready(output) = answer.as_mut().poll(&mut inner_cx) {
                    waker.polling.store(false, Ordering::SeqCst);
                    // Once more, so that the connection takes in the answer's end and asks for
                    // the next request (which `is_ready` tells).
                    self.poll_driver(&mut Context::from_waker(Waker::noop()));
                    return Poll::Ready(output);
                }
                self.poll_driver(&mut inner_cx);
                if waker.woken.load(Ordering::SeqCst) {
                    continue;
                }
                waker.polling.store(false, Ordering::SeqCst);
                // A wake-up from another thread between the check and here was not passed on.
                if !waker.woken.load(Ordering::SeqCst) {
                    return Poll::Pending;
                }
                waker.polling.store(true, Ordering::SeqCst);
            }
            // Still woken: give the thread's other tasks their turn (and the runtime a fresh
            // budget, when an exhausted one was what woke it), as a task woken by itself would.
            waker.polling.store(false, Ordering::SeqCst);
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }
}

/// How many times one poll of an exchange goes round its loop. tokio refuses a task's reads
/// once it has used its budget for the poll, and wakes it: going round again at once would
/// never end.
const ROUNDS_PER_POLL: usize = 32;

/// The waker the answer and the connection see: notes a wake-up while they are polled, and
/// passes on to the task one that comes later (the socket becoming readable).
#[derive(Default)]
struct LoopWaker {
    task: AtomicWaker,
    polling: AtomicBool,
    woken: AtomicBool,
}

impl Wake for LoopWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.polling.load(Ordering::SeqCst) {
            self.task.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// How the test subgraph treats a connection after each answer.
    #[derive(Clone, Copy)]
    enum After {
        KeepOpen,
        /// Closes the socket without saying so in the answer.
        Close,
        /// Answers with `connection: close`, then closes.
        SayClose,
    }

    /// A subgraph that answers each request with `<connection>.<request>` (both counted from
    /// 1), and counts the connections it accepts. The first answer waits for `release` when one
    /// is given.
    struct Subgraph {
        uri: http::Uri,
        accepted: Arc<AtomicUsize>,
        closed: Arc<tokio::sync::Notify>,
    }

    async fn subgraph(
        after: After,
        release: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> Subgraph {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/graphql", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(tokio::sync::Notify::new());
        let (counter, notify) = (accepted.clone(), closed.clone());
        tokio::spawn(async move {
            let mut release = release;
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let connection = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let release = release.take();
                let notify = notify.clone();
                tokio::spawn(async move {
                    answer_requests(stream, connection, after, release).await;
                    notify.notify_one();
                });
            }
        });
        Subgraph {
            uri,
            accepted,
            closed,
        }
    }

    async fn answer_requests(
        mut stream: TcpStream,
        connection: usize,
        after: After,
        mut release: Option<tokio::sync::oneshot::Receiver<()>>,
    ) {
        let mut buffer = Vec::new();
        for request in 1.. {
            // The head, then as many bytes of body as it declares.
            let head_end = loop {
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    break end + 4;
                }
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buffer.len() < head_end + length {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            }
            buffer.drain(..head_end + length);
            if let Some(release) = release.take() {
                let _ = release.await;
            }
            let body = format!("{connection}.{request}");
            let close = if matches!(after, After::SayClose) {
                "connection: close\r\n"
            } else {
                ""
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{close}\r\n{body}",
                body.len()
            );
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            if !matches!(after, After::KeepOpen) {
                return;
            }
        }
    }

    fn connections(idle_timeout: Duration) -> Connections {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            )
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Connections::new(connector, 1, 8, idle_timeout)
    }

    /// Builds the test's request to `uri`, for [`Connections::call`].
    fn request_to(uri: &http::Uri) -> impl Fn() -> http::Request<Full<Bytes>> + '_ {
        || {
            http::Request::post("/graphql")
                .header(http::header::HOST, uri.authority().unwrap().as_str())
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap()
        }
    }

    async fn call(connections: &Connections, uri: &http::Uri) -> String {
        let request = request_to(uri);
        let read = |response: http::Response<hyper::body::Incoming>| async move {
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(String::from_utf8(body.to_vec()).unwrap())
        };
        connections
            .call(0, Write::NextTurn, uri, request, read)
            .await
            .unwrap()
    }

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn calls_one_after_another_share_one_connection() {
        let subgraph = subgraph(After::KeepOpen, None).await;
        let connections = connections(LONG);
        for request in 1..=3 {
            assert_eq!(
                call(&connections, &subgraph.uri).await,
                format!("1.{request}")
            );
        }
        assert_eq!(subgraph.accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn parallel_calls_each_open_one_and_leave_it_for_the_next() {
        let subgraph = subgraph(After::KeepOpen, None).await;
        let connections = connections(LONG);
        let uri = &subgraph.uri;
        for _ in 0..2 {
            let (a, b, c) = tokio::join!(
                call(&connections, uri),
                call(&connections, uri),
                call(&connections, uri)
            );
            let mut connections_used: Vec<_> = [a, b, c]
                .iter()
                .map(|answer| answer.split('.').next().unwrap().to_string())
                .collect();
            connections_used.sort();
            assert_eq!(connections_used, ["1", "2", "3"]);
        }
        assert_eq!(subgraph.accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_connection_the_subgraph_closed_or_said_it_would_close_is_not_reused() {
        for after in [After::Close, After::SayClose] {
            let subgraph = subgraph(after, None).await;
            let connections = connections(LONG);
            assert_eq!(call(&connections, &subgraph.uri).await, "1.1");
            subgraph.closed.notified().await;
            // The runtime takes in the end of stream before the next call looks.
            tokio::task::yield_now().await;
            assert_eq!(call(&connections, &subgraph.uri).await, "2.1");
            assert_eq!(subgraph.accepted.load(Ordering::SeqCst), 2);
        }
    }

    /// Waits by waking itself at once, as hyper does when it lets other tasks have a turn.
    async fn yield_by_waking() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                return Poll::Ready(());
            }
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    /// A reader that yields until another task on its thread has run must see that task run:
    /// the exchange hands the thread back instead of going round its loop for ever.
    #[tokio::test]
    async fn a_reader_that_yields_to_the_threads_other_tasks_lets_them_run() {
        let subgraph = subgraph(After::KeepOpen, None).await;
        let connections = connections(LONG);
        let other_task_ran = Arc::new(AtomicBool::new(false));
        let read = |response: http::Response<hyper::body::Incoming>| {
            let other_task_ran = other_task_ran.clone();
            let flag = other_task_ran.clone();
            // Runs on this thread only when the call gives the thread back.
            tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });
            async move {
                while !other_task_ran.load(Ordering::SeqCst) {
                    yield_by_waking().await;
                }
                let body = response.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>(body)
            }
        };
        let answer = connections
            .call(
                0,
                Write::NextTurn,
                &subgraph.uri,
                request_to(&subgraph.uri),
                read,
            )
            .await;
        assert_eq!(&answer.unwrap()[..], b"1.1");
    }

    #[tokio::test]
    async fn idle_connections_past_the_timeout_are_closed_without_waiting_for_a_call() {
        let subgraph = subgraph(After::KeepOpen, None).await;
        let connections = connections(Duration::ZERO);
        assert_eq!(call(&connections, &subgraph.uri).await, "1.1");
        connections.close_expired();
        let closed = tokio::time::timeout(LONG, subgraph.closed.notified()).await;
        assert!(closed.is_ok(), "the subgraph saw its connection closed");
    }

    #[tokio::test]
    async fn a_connection_idle_past_the_timeout_is_not_reused() {
        let subgraph = subgraph(After::KeepOpen, None).await;
        let connections = connections(Duration::ZERO);
        assert_eq!(call(&connections, &subgraph.uri).await, "1.1");
        assert_eq!(call(&connections, &subgraph.uri).await, "2.1");
    }

    #[tokio::test]
    async fn a_call_given_up_leaves_its_connection_behind_so_no_late_answer_is_read() {
        let (release, released) = tokio::sync::oneshot::channel();
        let subgraph = subgraph(After::KeepOpen, Some(released)).await;
        let connections = connections(LONG);
        let given_up =
            tokio::time::timeout(Duration::from_millis(50), call(&connections, &subgraph.uri))
                .await;
        assert!(given_up.is_err(), "the first answer waits for the release");
        release.send(()).unwrap();
        assert_eq!(call(&connections, &subgraph.uri).await, "2.1");
    }
}
