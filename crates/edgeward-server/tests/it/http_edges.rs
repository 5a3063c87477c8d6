//! The HTTP edges of both listeners: methods, repeated security headers, strict query values,
//! media types, bounded bodies, bounded metric labels and the protection of `/metrics`.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::sync::Arc;

use crate::common::*;
use chrono::{TimeZone, Utc};
use edgeward_client::Edgerc;
use edgeward_core::clock::ManualClock;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn noon() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
}

const NS: &str = "/edgekv/v1/networks/production/namespaces";
const ITEM: &str = "/api/v1/namespaces/default/groups/countries/items/DE";

/// A token: (uuid, value if expiring).
async fn token(
    app: &TestApp,
    name: &str,
    expiry: &str,
    ns: &[(&str, &str)],
    ewids: &[&str],
) -> (String, Option<String>) {
    let mut body: serde_json::Value = serde_json::from_str(&cli_body(name, true, true, expiry, ns)).unwrap();
    if !ewids.is_empty() {
        body["restrictToEwids"] = serde_json::json!(ewids);
    }
    let (s, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body.to_string())).await;
    assert_eq!(s, 200, "{t}");
    (t["uuid"].as_str().unwrap().to_owned(), t["value"].as_str().map(str::to_owned))
}

/// A signed admin request with a body and a Content-Type of the caller's choice.
async fn signed(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, String, String) {
    let auth = app.admin.authorization(method.as_str(), path, body);
    signed_with(app, method, path, content_type, body, auth).await
}

async fn signed_with(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
    auth: String,
) -> (u16, String, String) {
    let mut req = app.plain_http().request(method, app.url(path)).header("authorization", auth).body(body.to_vec());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn problem(status: u16, ct: &str, body: &str, want: u16) -> serde_json::Value {
    assert_eq!(status, want, "{body}");
    assert_eq!(ct, "application/problem+json", "{body}");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["status"], want, "{body}");
    v
}

#[tokio::test]
async fn head_on_an_admin_item_reads_it_and_deletes_nothing() {
    let app = spawn_app().await;
    let item = format!("{NS}/default/groups/g/items/k");
    assert_eq!(raw(&app.admin, Method::PUT, &item, Some("v")).await.0, 200);
    let (s, _, b) = signed(&app, Method::HEAD, &item, None, b"").await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) = raw(&app.admin, Method::GET, &item, None).await;
    assert_eq!((s, b), (200, serde_json::Value::String("v".into())), "HEAD left the item in place");
    // Any other method is 405, never a delete.
    let (s, _, b) = signed(&app, Method::PATCH, &item, None, b"").await;
    assert_eq!(s, 405, "{b}");
    assert_eq!(raw(&app.admin, Method::GET, &item, None).await.0, 200);
    app.server.shutdown().await;
}

#[tokio::test]
async fn each_listener_serves_only_its_own_routes() {
    let app = spawn_app().await;
    let (reference, _) = token(&app, "auto", "", &[("default", "rwd")], &[]).await;
    // The data plane's item path on the admin listener, signed or not: no such resource.
    let (s, _, v) = raw(&app.admin, Method::GET, ITEM, None).await;
    assert_edgekv_error(s, &v, 404, "EKV_9000");
    let r = app.plain_http().put(app.url(ITEM)).header("X-Akamai-EdgeDB-Auth-Ref", &reference).body("v").send().await;
    let r = r.unwrap();
    let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
    problem(s, &ct, &r.text().await.unwrap(), 404);
    // The admin API's paths on the data plane: none is served there.
    let data = app.server.data_addr;
    for (method, path) in [
        (Method::GET, "/edgekv/v1/tokens".to_owned()),
        (Method::GET, "/openapi.json".to_owned()),
        (Method::PUT, format!("{NS}/default/groups/g/items/k")),
    ] {
        let r = reqwest::Client::new()
            .request(method, format!("http://{data}{path}"))
            .header("X-Akamai-EdgeDB-Auth-Ref", &reference)
            .body("v")
            .send()
            .await
            .unwrap();
        let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
        problem(s, &ct, &r.text().await.unwrap(), 404);
    }
    let (s, _, v) = raw(&app.admin, Method::GET, &format!("{NS}/default/groups/g/items/k"), None).await;
    assert_edgekv_error(s, &v, 404, "EKV_9000");
    app.server.shutdown().await;
}

#[tokio::test]
async fn production_refuses_sandboxes_at_both_doors() {
    let app = spawn_app_at(noon()).await;
    let (reference, _) = token(&app, "auto", "", &[("default", "rwd")], &[]).await;
    let r = reqwest::Client::new()
        .put(format!("http://{}{ITEM}?sandboxId=sb1", app.server.data_addr))
        .header("X-Akamai-EdgeDB-Auth-Ref", &reference)
        .body("hidden")
        .send()
        .await
        .unwrap();
    let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
    let v = problem(s, &ct, &r.text().await.unwrap(), 400);
    assert!(v["detail"].as_str().unwrap().contains("staging"), "{v}");
    // The admin API gives the same answer.
    let (s, _, v) =
        raw(&app.admin, Method::GET, &format!("{NS}/default/groups/countries/items/DE?sandboxId=sb1"), None).await;
    assert_edgekv_error(s, &v, 400, "EKV_2000");
    app.server.shutdown().await;
}

#[tokio::test]
async fn repeated_security_headers_are_refused() {
    let app = spawn_app_with(|c| c.data_plane.edgeworker_id_header = Some("X-EW-Id".into()), Arc::new(noon())).await;
    let (reference, _) = token(&app, "auto", "", &[("default", "rwd")], &[]).await;
    let (other, _) = token(&app, "other", "", &[("default", "rwd")], &[]).await;
    let (_, value) = token(&app, "exp", "2026-12-20", &[("default", "rwd")], &[]).await;
    let value = value.unwrap();
    let (_, for7) = token(&app, "for7", "2026-12-20", &[("default", "r")], &["7"]).await;
    let for7 = for7.unwrap();
    let url = format!("http://{}{ITEM}", app.server.data_addr);
    let send = |headers: Vec<(&'static str, String)>| {
        let url = url.clone();
        async move {
            let mut r = reqwest::Client::new().get(url);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            (status, ct, r.text().await.unwrap())
        }
    };
    let ok = send(vec![("X-Akamai-EdgeDB-Auth-Ref", reference.clone())]).await;
    assert_eq!(ok.0, 404, "{}", ok.2);
    let (s, ct, b) =
        send(vec![("X-Akamai-EdgeDB-Auth-Ref", reference.clone()), ("X-Akamai-EdgeDB-Auth-Ref", other)]).await;
    problem(s, &ct, &b, 401);
    let (s, ct, b) = send(vec![("X-Akamai-EdgeDB-Auth", value.clone()), ("X-Akamai-EdgeDB-Auth", value.clone())]).await;
    problem(s, &ct, &b, 401);
    let ok = send(vec![("X-Akamai-EdgeDB-Auth", for7.clone()), ("X-EW-Id", "7".into())]).await;
    assert_eq!(ok.0, 404, "{}", ok.2);
    let (s, ct, b) =
        send(vec![("X-Akamai-EdgeDB-Auth", for7.clone()), ("X-EW-Id", "7".into()), ("X-EW-Id", "8".into())]).await;
    problem(s, &ct, &b, 403);
    app.server.shutdown().await;
}

#[tokio::test]
async fn query_flags_are_true_or_false_and_never_repeated() {
    let app = spawn_app().await;
    let c = &app.admin;
    for bad in ["1", "yes", "on", "null", "", "true&dryRun=true", "false&dryRun=true"] {
        let (s, _, v) = raw(c, Method::POST, &format!("/edgeward/v1/notify/run?dryRun={bad}"), None).await;
        assert_edgekv_error(s, &v, 400, "EKV_2000");
    }
    assert_eq!(raw(c, Method::POST, "/edgeward/v1/notify/run?dryRun=true", None).await.0, 200);
    assert_eq!(raw(c, Method::POST, "/edgeward/v1/notify/run?dryRun=TRUE", None).await.0, 200);
    assert_eq!(
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("t", true, false, "", &[("default", "r")]))).await.0,
        200
    );
    for path in [
        "/edgekv/v1/tokens/t?includeUsage=AAA",
        "/edgekv/v1/tokens?includeExpired=maybe",
        "/edgekv/v1/tokens?includeExpired=true&includeExpired=false",
        "/edgekv/v1/networks/staging/namespaces?details=1",
        "/edgekv/v1/networks/staging/namespaces?details=on&details=on",
    ] {
        let (s, _, v) = raw(c, Method::GET, path, None).await;
        assert_edgekv_error(s, &v, 400, "EKV_2000");
    }
    assert_eq!(raw(c, Method::GET, "/edgekv/v1/tokens/t?includeUsage=true", None).await.0, 200);
    assert_eq!(raw(c, Method::GET, "/edgekv/v1/networks/staging/namespaces?details=on", None).await.0, 200);
    let (s, _, v) = raw(c, Method::DELETE, &format!("{NS}/nope?sync=yes"), None).await;
    assert_edgekv_error(s, &v, 400, "EKV_2000");
    app.server.shutdown().await;
}

#[tokio::test]
async fn rejections_before_any_handler_are_problems() {
    let app = spawn_app_at(noon()).await;
    // A path segment that is not UTF-8, on both listeners.
    let (s, _, v) = raw(&app.admin, Method::GET, "/edgekv/v1/tokens/%FF", None).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["status"], 400);
    let (reference, _) = token(&app, "auto", "", &[("default", "rwd")], &[]).await;
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/v1/namespaces/%FF/groups/g/items/i", app.server.data_addr))
        .header("X-Akamai-EdgeDB-Auth-Ref", &reference)
        .send()
        .await
        .unwrap();
    let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
    problem(s, &ct, &r.text().await.unwrap(), 400);
    // Repeated query parameters on the data plane.
    let r = reqwest::Client::new()
        .get(format!("http://{}{ITEM}?sandboxId=a&sandboxId=b", app.server.data_addr))
        .header("X-Akamai-EdgeDB-Auth-Ref", &reference)
        .send()
        .await
        .unwrap();
    let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
    problem(s, &ct, &r.text().await.unwrap(), 400);
    let r = reqwest::Client::new()
        .get(format!("http://{}{ITEM}?sandboxFallback=yes", app.server.data_addr))
        .header("X-Akamai-EdgeDB-Auth-Ref", &reference)
        .send()
        .await
        .unwrap();
    let (s, ct) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_owned());
    problem(s, &ct, &r.text().await.unwrap(), 400);
    app.server.shutdown().await;
}

/// Send raw bytes to the data plane and read the whole answer (the server closes).
async fn raw_tcp(addr: std::net::SocketAddr, bytes: &[u8], half_close: bool) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    if half_close {
        s.shutdown().await.unwrap();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Read the head and what body there is; stop at the end of a Content-Length body.
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), s.read(&mut buf)).await.unwrap().unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
            });
            if len.is_some_and(|l| body.len() >= l) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn broken_framing_is_400_and_too_much_is_413() {
    let app = spawn_app_at(noon()).await;
    let (reference, _) = token(&app, "auto", "", &[("default", "rwd")], &[]).await;
    let addr = app.server.data_addr;
    let head =
        |extra: &str| format!("PUT {ITEM} HTTP/1.1\r\nHost: x\r\nX-Akamai-EdgeDB-Auth-Ref: {reference}\r\n{extra}\r\n");
    let chunked = format!("{}zz\r\nabc\r\n0\r\n\r\n", head("Transfer-Encoding: chunked\r\n"));
    let answer = raw_tcp(addr, chunked.as_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    let short = format!("{}abc", head("Content-Length: 10\r\n"));
    let answer = raw_tcp(addr, short.as_bytes(), true).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // A declared length over the limit is refused before the body is sent.
    let big = head(&format!("Content-Length: {}\r\n", 262_144 * 4 + 1));
    let answer = raw_tcp(addr, big.as_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn json_endpoints_take_json_only() {
    let app = spawn_app().await;
    let body = cli_body("t1", true, false, "", &[("default", "r")]);
    for ct in ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/xml", "text/xml"] {
        let (s, rct, b) = signed(&app, Method::POST, "/edgekv/v1/tokens", Some(ct), body.as_bytes()).await;
        problem(s, &rct, &b, 415);
    }
    let (s, _, b) =
        signed(&app, Method::POST, "/edgekv/v1/tokens", Some("application/json; charset=utf-8"), body.as_bytes()).await;
    assert_eq!(s, 200, "{b}");
    let body = cli_body("t2", true, false, "", &[("default", "r")]);
    let (s, _, b) = signed(&app, Method::POST, "/edgekv/v1/tokens", None, body.as_bytes()).await;
    assert_eq!(s, 200, "{b}");
    // The body is a JSON object, or nothing.
    for bad in ["[null]", "null", "[]", "\"x\"", "[{\"dataAccessPolicy\":null}]"] {
        let (s, _, v) = raw(&app.admin, Method::PUT, "/edgekv/v1/initialize", Some(bad)).await;
        assert_edgekv_error(s, &v, 400, "EKV_2000");
    }
    let (s, _, v) = raw(&app.admin, Method::PUT, "/edgekv/v1/initialize", Some("")).await;
    assert!(s == 200 || s == 201, "{v}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn signed_post_bodies_end_where_the_signature_ends() {
    let app = spawn_app().await;
    // Valid JSON, one byte longer than the signed part: the rest would be unsigned.
    let mut body = cli_body("long", true, false, "", &[("default", "r")]);
    body.push_str(&" ".repeat(131_073 - body.len()));
    let (s, ct, b) = signed(&app, Method::POST, "/edgekv/v1/tokens", Some("application/json"), body.as_bytes()).await;
    problem(s, &ct, &b, 413);
    body.truncate(131_072);
    let (s, _, b) = signed(&app, Method::POST, "/edgekv/v1/tokens", Some("application/json"), body.as_bytes()).await;
    assert_eq!(s, 200, "{b}");
    // An unsigned request is refused before its body is read (it used to be read first).
    let big = vec![b' '; 2 * 1024 * 1024];
    let (s, ct, b) = signed_with(&app, Method::PUT, "/edgekv/v1/initialize", None, &big, "Bearer x".into()).await;
    problem(s, &ct, &b, 401);
    app.server.shutdown().await;
}

#[tokio::test]
async fn nonces_have_the_shape_of_a_uuid() {
    let app = spawn_app().await;
    let creds = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap().credentials;
    let host = app.admin.host().to_owned();
    let sign = |nonce: &str| {
        let req = edgeward_edgegrid::SignedRequest {
            method: "GET",
            host: &host,
            target: "/edgekv/v1/tokens",
            headers: &[],
            body: b"",
        };
        let ts = edgeward_edgegrid::format_timestamp(Utc::now());
        creds.authorization(&req, &edgeward_edgegrid::Settings::default(), &ts, nonce)
    };
    for bad in ["x".repeat(129), "x".repeat(10_000), "ab*cd".into(), "a b".into()] {
        let (s, ct, b) = signed_with(&app, Method::GET, "/edgekv/v1/tokens", None, b"", sign(&bad)).await;
        let v = problem(s, &ct, &b, 401);
        assert!(v["detail"].as_str().unwrap().contains("nonce"), "{v}");
    }
    let (s, _, b) =
        signed_with(&app, Method::GET, "/edgekv/v1/tokens", None, b"", sign(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) =
        signed_with(&app, Method::GET, "/edgekv/v1/tokens", None, b"", sign("nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
            .await;
    assert_eq!(s, 200, "{b}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn made_up_methods_add_no_metric_series() {
    let app = spawn_app().await;
    let http = app.plain_http();
    for m in ["FOOBAR", "BAZQUX1"] {
        let r = http.request(Method::from_bytes(m.as_bytes()).unwrap(), app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 405);
        let r = http
            .request(Method::from_bytes(m.as_bytes()).unwrap(), app.url(&format!("/made/up/{m}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    let text = http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("FOOBAR") && !text.contains("BAZQUX1") && !text.contains("/made/up"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn metrics_can_need_a_bearer_token_or_have_a_listener_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("metrics-token");
    std::fs::write(&token_file, "s3cret-metrics-token-0123\n").unwrap();
    let tf = token_file.clone();
    let app =
        spawn_app_with(move |c| c.metrics.bearer_token_file = Some(tf), Arc::new(edgeward_core::clock::SystemClock))
            .await;
    let http = app.plain_http();
    let r = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = http.get(app.url("/metrics")).bearer_auth("s3cret-metrics-token-0124").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(app.url("/metrics")).bearer_auth("s3cret-metrics-token-0123").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("http_requests"));
    app.server.shutdown().await;

    let tf = token_file.clone();
    let app = spawn_app_with(
        move |c| {
            c.metrics.addr = Some("127.0.0.1:0".parse().unwrap());
            c.metrics.bearer_token_file = Some(tf);
        },
        Arc::new(edgeward_core::clock::SystemClock),
    )
    .await;
    let addr = app.server.metrics_addr.expect("a metrics listener");
    let r = app.plain_http().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404, "not on the admin listener any more");
    let r = reqwest::Client::new().get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth("s3cret-metrics-token-0123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.server.shutdown().await;

    // A token too short to be one refuses to start.
    std::fs::write(&token_file, "short").unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let mut cfg = config(dir2.path());
    cfg.metrics.bearer_token_file = Some(token_file);
    assert!(edgeward_server::spawn(cfg, Arc::new(edgeward_core::clock::SystemClock)).await.is_err());
}
