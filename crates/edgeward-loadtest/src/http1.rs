//! The data plane's HTTP client: one hyper HTTP/1.1 connection per load-generator worker
//! (`hyper::client::conn::http1`), one request in flight on it at a time.
//!
//! Through reqwest (connection pool, URL parsing, redirect and header policy) the load generator
//! spent 19–24 µs of CPU per HTTP request against about 8.5 µs per Redis GET (BENCHMARKS.md,
//! 2026-12-04). On two cores shared with the server, a costlier client leaves less of the
//! machine to the server it drives, so comparing the HTTP sides with Redis through reqwest
//! measured the two clients as much as the two servers. Through this client, on one thread, it
//! spent 12–16 µs per HTTP request against 10–11 µs per Redis GET (2026-12-05). This client does only what a request needs: it writes
//! the request line, `Host`, the token header and the body, and reads the status and the whole
//! body. Both HTTP sides (the bare handler and the server) go through it alike.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Method, Request, StatusCode};
use tokio::sync::Mutex;

/// One keep-alive HTTP/1.1 connection to `addr`, cheap to clone (clones share it).
#[derive(Clone)]
pub struct Conn {
    send: Arc<Mutex<SendRequest<Full<Bytes>>>>,
    host: HeaderValue,
}

impl Conn {
    /// Connect to `addr` (`host:port`) and drive the connection on a task of its own.
    pub async fn open(addr: &str) -> Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let (send, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            // Ends when the worker drops its `Conn` or the peer closes; a request on a closed
            // connection fails and is counted as an error by the caller.
            let _ = connection.await;
        });
        Ok(Self { send: Arc::new(Mutex::new(send)), host: HeaderValue::from_str(addr)? })
    }

    /// `n` connections to `addr`.
    pub async fn open_many(addr: &str, n: usize) -> Result<Vec<Self>> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(Self::open(addr).await?);
        }
        Ok(conns)
    }

    /// Send `method path` with one header and `body`; the status, once the whole response body
    /// has been read (`None` if the connection failed).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        header: (&'static str, &str),
        body: Bytes,
    ) -> Option<StatusCode> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(HeaderName::from_static(header.0), HeaderValue::from_str(header.1).ok()?)
            .body(Full::new(body))
            .ok()?;
        let mut send = self.send.lock().await;
        send.ready().await.ok()?;
        let response = send.send_request(req).await.ok()?;
        let status = response.status();
        response.into_body().collect().await.ok()?;
        Some(status)
    }
}
