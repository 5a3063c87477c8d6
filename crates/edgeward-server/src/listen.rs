//! The listeners' accept loop: connection limits and timeouts for every listener.
//!
//! Each listener (admin, data plane, metrics, and the data plane's "starting" responder)
//! accepts on its own loop, holding one permit of a semaphore per open connection: at
//! [`Limits::max_connections`] it stops accepting, and further clients wait in the kernel's
//! backlog until a connection closes. Every connection is watched:
//!
//! - a new connection, and one that has started sending its next request, must deliver the
//!   complete request head within [`Limits::header_read`] (a TLS connection must first finish
//!   its handshake within [`Limits::tls_handshake`]);
//! - a keep-alive connection with no request in flight is closed after [`Limits::idle`];
//! - a request body must arrive within [`Limits::body_read`] of its first read (see
//!   [`crate::body::DeadlineBody`]), or the request gets a 408 and the connection is closed.
//!
//! hyper's own `header_read_timeout` is not used: it starts as soon as a response has been
//! written, so it would also close idle keep-alive connections after the header timeout.
//! Instead the connection's reads and its requests are tracked here (a read on an idle
//! HTTP/1 connection starts the header clock; a request stops it; the end of the last response
//! starts the idle clock). HTTP/2 connections (ALPN on the admin listener, prior knowledge on
//! plain ones) keep their idle clock through control frames.
//!
//! Tracking costs a request nothing but a few uncontended locks: nothing wakes the connection's
//! task when its clocks change. The task looks at them on a tick of its own (a quarter of the
//! shorter of the header and idle timeouts, at most a second), so a timeout is enforced at most
//! one tick late. Waking the task and arming a timer at each read, request and response cost
//! the data plane about a tenth of its throughput.
//!
//! The data-plane listeners hand each connection to one of the data plane's threads
//! ([`crate::workers`], `data_plane.threads`): the accepted socket leaves this runtime's reactor
//! and is registered with the thread's, so that its reads, writes and timers wake that thread
//! alone. The loop, the permit, the limits and the stop signal are the same either way; the
//! loop's `JoinSet` tracks connections on any runtime.
//!
//! At shutdown the loop stops accepting, asks every connection to finish gracefully, and waits
//! for them at most [`SHUTDOWN_GRACE`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::body::DeadlineBody;
use crate::workers::WorkerHandles;

/// How long shutdown waits for open connections to finish their requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A listener's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most time to receive a complete request head.
    pub header_read: Duration,
    /// Most time a keep-alive connection stays open with no request.
    pub idle: Duration,
    /// Most time to receive a request body, from its first read.
    pub body_read: Duration,
    /// Most time for a TLS handshake (TLS listeners).
    pub tls_handshake: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

/// What a listener serves: a router, or any service that answers every request (the data
/// plane's, [`crate::app::DataPlane`]).
pub trait App:
    tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static
{
}

impl<S> App for S where
    S: tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send>
        + Clone
        + Send
        + 'static
{
}

/// Serve `app` on `listener` (over TLS with `tls`) until `shutdown` completes. `name` names the
/// listener in logs. With `workers`, each connection is served on one of their runtimes, in
/// turn; without, on the runtime running this loop.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: impl App,
    limits: Limits,
    name: &'static str,
    workers: Option<WorkerHandles>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut warned_full = false;
    tokio::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(listener = name, max = limits.max_connections, "connection limit reached");
                    warned_full = true;
                }
                tokio::select! {
                    _ = &mut shutdown => break,
                    p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                }
            }
        };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                // To a data-plane thread, the socket goes off this runtime's reactor.
                let stream = match &workers {
                    None => Ok(Accepted::Here(stream)),
                    Some(_) => stream.into_std().map(Accepted::Moved),
                };
                match stream {
                    Ok(stream) => {
                        let conn = connection(stream, peer, tls.clone(), app.clone(), limits, stopping.clone(), permit);
                        match &workers {
                            None => connections.spawn(conn),
                            Some(workers) => connections.spawn_on(conn, workers.next()),
                        };
                    }
                    // The permit is released with the socket.
                    Err(e) => {
                        tracing::debug!(listener = name, error = %e, "an accepted connection could not be handed to a data-plane thread")
                    }
                }
                if permits.available_permits() > 0 {
                    warned_full = false;
                }
            }
            Err(e) => {
                // Out of file descriptors, most likely: give connections a moment to close
                // rather than spin.
                tracing::warn!(listener = name, error = %e, "accept failed");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(listener = name, left = connections.len(), "connections still open at shutdown were closed");
        connections.shutdown().await;
    }
}

/// An accepted connection's socket.
enum Accepted {
    /// Registered with the accepting runtime's reactor, and served there.
    Here(tokio::net::TcpStream),
    /// Taken off the accepting runtime's reactor (non-blocking), to be registered with the
    /// reactor of the runtime that serves it.
    Moved(std::net::TcpStream),
}

async fn connection(
    stream: Accepted,
    peer: std::net::SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: impl App,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let stream = match stream {
        Accepted::Here(stream) => stream,
        // Run on the serving runtime, so that this registers the socket with its reactor.
        Accepted::Moved(stream) => match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "an accepted connection could not be registered with its thread's runtime");
                return;
            }
        },
    };
    let activity = Arc::new(Activity::new(limits.header_read, limits.idle));
    match tls {
        None => drive(Tracked::new(stream, activity.clone()), None, app, limits, activity, stopping).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                r = tokio::time::timeout(limits.tls_handshake, acceptor.accept(stream)) => r,
                _ = stopping.wait_for(|s| *s) => return,
            };
            let stream = match handshake {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!("TLS handshake timed out");
                    return;
                }
            };
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                activity.set_h2();
            }
            // The header clock starts after the handshake.
            activity.restart_head();
            drive(Tracked::new(stream, activity.clone()), Some(peer), app, limits, activity, stopping).await
        }
    }
}

async fn drive<I>(
    io: Tracked<I>,
    peer: Option<std::net::SocketAddr>,
    app: impl App,
    limits: Limits,
    activity: Arc<Activity>,
    mut stopping: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let tick = (limits.header_read.min(limits.idle) / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = RequestGuard::start(service_activity.clone());
        let http1 = req.version() < Version::HTTP_2;
        let mut req = req.map(|b| Body::new(DeadlineBody::new(b, limits.body_read)));
        // The peer address of an admin connection, for the audit trail (as axum's
        // `ConnectInfo`); the plain listeners (data plane, metrics) have no use for it.
        if let Some(peer) = peer {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        let mut app = app.clone();
        async move {
            let Ok(mut resp) = app.call(req).await;
            if http1 && resp.status() == StatusCode::REQUEST_TIMEOUT {
                // The rest of a late body is not worth waiting for.
                resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(resp.map(|b| GuardedBody { inner: b, _guard: guard }))
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut asked_to_stop = false;
    let check = tokio::time::sleep(tick);
    tokio::pin!(check);
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut check => {
                let now = Instant::now();
                match activity.expired(now) {
                    None => {}
                    Some(Phase::Head) => {
                        tracing::debug!("closing a connection that did not send a request head in time");
                        return;
                    }
                    Some(Phase::Idle) => {
                        // Close it gracefully (HTTP/2: GOAWAY); it gets the header time to go.
                        conn.as_mut().graceful_shutdown();
                        activity.restart_head();
                    }
                }
                let next = now + tick;
                check.as_mut().reset(activity.deadline().map_or(next, |at| at.clamp(now, next)));
            }
            _ = stopping.wait_for(|s| *s), if !asked_to_stop => {
                asked_to_stop = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What a connection is waiting for, when it waits for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request head (new connection, or the client has started its next request).
    Head,
    /// Nothing: no request in flight.
    Idle,
}

struct ActivityState {
    in_flight: usize,
    waiting: Option<(Instant, Phase)>,
    h2: bool,
    seen_bytes: bool,
}

/// The requests and reads of one connection, and its deadline.
struct Activity {
    state: Mutex<ActivityState>,
    header_read: Duration,
    idle: Duration,
}

impl Activity {
    fn new(header_read: Duration, idle: Duration) -> Self {
        Self {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                waiting: Some((Instant::now() + header_read, Phase::Head)),
                h2: false,
                seen_bytes: false,
            }),
            header_read,
            idle,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_h2(&self) {
        self.lock().h2 = true;
    }

    fn restart_head(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 {
            s.waiting = Some((Instant::now() + self.header_read, Phase::Head));
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.lock().waiting.map(|(at, _)| at)
    }

    fn expired(&self, now: Instant) -> Option<Phase> {
        self.lock().waiting.filter(|(at, _)| *at <= now).map(|(_, p)| p)
    }

    fn on_read(&self, bytes: &[u8]) {
        let mut s = self.lock();
        if !s.seen_bytes {
            s.seen_bytes = true;
            if bytes.starts_with(b"PRI * HTTP/2.0") {
                s.h2 = true;
            }
        }
        if !s.h2 && s.in_flight == 0 && matches!(s.waiting, Some((_, Phase::Idle))) {
            s.waiting = Some((Instant::now() + self.header_read, Phase::Head));
        }
    }

    fn start_request(&self) {
        let mut s = self.lock();
        s.in_flight += 1;
        s.waiting = None;
    }

    fn end_request(&self) {
        let idle = self.idle;
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.waiting = Some((Instant::now().checked_add(idle).unwrap_or_else(far_future), Phase::Idle));
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// One request in flight on a connection; dropped with its response body (sent or abandoned).
struct RequestGuard(Arc<Activity>);

impl RequestGuard {
    fn start(activity: Arc<Activity>) -> Self {
        activity.start_request();
        Self(activity)
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// A response body that ends its request when it is dropped.
struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's I/O, telling its [`Activity`] about every read.
struct Tracked<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I> Tracked<I> {
    fn new(inner: I, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read(&buf.filled()[before..]);
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
