//! Slow and stalled clients are cut off by the listeners' timeouts, and the connection limit
//! holds, while normal requests keep being served.
//!
//! Timeouts are set to a second here; the assertions are only that the server closed the
//! connection (generous bounds guard against a hang, they are not what is tested).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use edgeward_core::clock::SystemClock;
use edgeward_server::config::ListenersConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any timeout configured here: a test that waits this long has failed.
const HANG: Duration = Duration::from_secs(30);

const LONG: u64 = 3600;

/// The data listener hands its connections to two data-plane threads, whatever the machine's
/// cores: the limits are tested where the data plane applies them (the admin listener serves on
/// the main runtime).
async fn app(listeners: ListenersConfig) -> TestApp {
    spawn_app_with(
        move |c| {
            c.listeners = listeners;
            c.data_plane.threads = Some(2);
        },
        Arc::new(SystemClock),
    )
    .await
}

fn limits(header: u64, idle: u64, body: u64) -> ListenersConfig {
    ListenersConfig {
        header_read_timeout_secs: header,
        idle_timeout_secs: idle,
        body_read_timeout_secs: body,
        tls_handshake_timeout_secs: header,
        max_connections: 4096,
    }
}

/// Read until the server closes the connection; what it sent.
async fn until_closed(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(HANG, s.read(&mut buf)).await.expect("the server closes the connection") {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Read one response to a request whose answer has a Content-Length.
async fn one_response(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(HANG, s.read(&mut buf)).await.expect("an answer").unwrap();
        assert!(n > 0, "closed before answering: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0usize);
            if body.len() >= len {
                return text;
            }
        }
    }
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

async fn healthy(addr: SocketAddr) {
    let r = reqwest::Client::new().get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_stalled_request_head_is_cut_off() {
    let app = app(limits(1, LONG, LONG)).await;
    let addr = app.server.data_addr;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // Meanwhile, on other connections, requests are served.
    healthy(addr).await;
    assert_eq!(until_closed(&mut half).await, "", "closed without an answer");
    assert_eq!(until_closed(&mut silent).await, "");
    healthy(addr).await;
    // The same on the admin listener, after the TLS handshake, and for a stalled handshake.
    let mut no_handshake = TcpStream::connect(app.server.admin_addr).await.unwrap();
    until_closed(&mut no_handshake).await;
    let r = app.plain_http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.server.shutdown().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    // The header timeout is long: only the idle timeout can close this connection.
    let app = app(limits(LONG, 1, LONG)).await;
    let addr = app.server.data_addr;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(HEALTH).await.unwrap();
    assert!(one_response(&mut s).await.starts_with("HTTP/1.1 200"));
    // A second request on the same connection is served: it was kept alive.
    s.write_all(HEALTH).await.unwrap();
    assert!(one_response(&mut s).await.starts_with("HTTP/1.1 200"));
    healthy(addr).await;
    assert_eq!(until_closed(&mut s).await, "", "the idle connection is closed");
    healthy(addr).await;
    app.server.shutdown().await;
}

#[tokio::test]
async fn a_slow_body_is_cut_off() {
    let app = app(limits(LONG, LONG, 1)).await;
    let (s, _, t) = raw(
        &app.admin,
        reqwest::Method::POST,
        "/edgekv/v1/tokens",
        Some(&cli_body("slow", true, true, "", &[("default", "rw")])),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let reference = t["uuid"].as_str().unwrap().to_owned();
    let addr = app.server.data_addr;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /api/v1/namespaces/default/groups/g/items/i HTTP/1.1\r\nHost: x\r\n\
         X-Akamai-EdgeDB-Auth-Ref: {reference}\r\nContent-Length: 100\r\n\r\nonly ten b"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    healthy(addr).await;
    let answer = until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    healthy(addr).await;
    app.server.shutdown().await;
}

#[tokio::test]
async fn the_connection_limit_holds() {
    let app = app(ListenersConfig { max_connections: 2, ..limits(LONG, LONG, LONG) }).await;
    let addr = app.server.data_addr;
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    for s in [&mut first, &mut second] {
        s.write_all(HEALTH).await.unwrap();
        assert!(one_response(s).await.starts_with("HTTP/1.1 200"));
    }
    // Both are open (kept alive): a third client waits, unserved.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte)).await.is_err(),
        "the third connection is not served while two are open"
    );
    // The admin listener has a limit of its own and still serves.
    assert_eq!(app.plain_http().get(app.url("/healthz")).send().await.unwrap().status(), 200);
    drop(first);
    assert!(one_response(&mut third).await.starts_with("HTTP/1.1 200"), "served once a connection closed");
    app.server.shutdown().await;
}
