//! The data plane enforces every rule of a token on every call, as an edge would.

use std::sync::Arc;

use crate::common::*;
use chrono::{Duration, TimeZone, Utc};
use edgeward_core::clock::ManualClock;
use reqwest::Method;

fn noon() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
}

async fn two_networks(clock: ManualClock, tweak: impl FnOnce(&mut edgeward_server::ServeConfig)) -> TestApp {
    spawn_app_with(
        |c| {
            c.data_plane.staging_addr = Some("127.0.0.1:0".parse().unwrap());
            tweak(c);
        },
        Arc::new(clock),
    )
    .await
}

/// A token: (uuid, value if expiring).
async fn token(
    app: &TestApp,
    name: &str,
    staging: bool,
    production: bool,
    expiry: &str,
    ns: &[(&str, &str)],
    ewids: &[&str],
) -> (String, Option<String>) {
    let mut body: serde_json::Value = serde_json::from_str(&cli_body(name, staging, production, expiry, ns)).unwrap();
    if !ewids.is_empty() {
        body["restrictToEwids"] = serde_json::json!(ewids);
    }
    let (s, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body.to_string())).await;
    assert_eq!(s, 200, "{t}");
    (t["uuid"].as_str().unwrap().to_owned(), t["value"].as_str().map(str::to_owned))
}

enum Auth<'a> {
    Value(&'a str),
    Ref(&'a str),
    None,
}

/// A call as edgekv.js makes it: no Content-Type on PUT.
async fn call(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<String>,
) -> (u16, String) {
    let mut req = reqwest::Client::new().request(method, format!("http://{addr}{path}"));
    req = match auth {
        Auth::Value(v) => req.header("X-Akamai-EdgeDB-Auth", v),
        Auth::Ref(r) => req.header("X-Akamai-EdgeDB-Auth-Ref", r),
        Auth::None => req,
    };
    if let Some(b) = body {
        req = req.body(b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    (status, r.text().await.unwrap())
}

const ITEM: &str = "/api/v1/namespaces/default/groups/countries/items/DE";

#[tokio::test]
async fn both_headers_work_and_values_round_trip() {
    let app = two_networks(noon(), |_| {}).await;
    let (prod, stg) = (app.server.data_addr, app.server.staging_addr.unwrap());
    let (reference, _) = token(&app, "auto", true, false, "", &[("default", "rwd")], &[]).await;
    let (_, value) = token(&app, "exp", true, true, "2026-12-20", &[("default", "rwd")], &[]).await;
    let value = value.unwrap();

    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&reference), None).await.0, 404, "absent");
    assert_eq!(call(stg, Method::PUT, ITEM, Auth::Ref(&reference), Some("{\"name\":\"Germany\"}".into())).await.0, 200);
    assert_eq!(
        call(stg, Method::GET, ITEM, Auth::Value(&value), None).await,
        (200, "{\"name\":\"Germany\"}".to_owned())
    );
    assert_eq!(
        call(prod, Method::GET, ITEM, Auth::Value(&value), None).await.0,
        404,
        "staging and production data are separate"
    );
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Value(&value), Some("prod".into())).await.0, 200);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&value), None).await, (200, "prod".to_owned()));
    assert_eq!(call(stg, Method::DELETE, ITEM, Auth::Ref(&reference), None).await.0, 200);
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&reference), None).await.0, 404);

    // The largest value round-trips; one character more is refused and the old value stays.
    let big: String = "é".repeat(262_144);
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Value(&value), Some(big.clone())).await.0, 200);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&value), None).await.1, big);
    let (s, body) = call(prod, Method::PUT, ITEM, Auth::Value(&value), Some(format!("{big}x"))).await;
    assert_eq!(s, 413, "{body}");
    assert!(body.contains("Value cannot exceed 262144 characters."));
    assert_eq!(
        call(prod, Method::GET, ITEM, Auth::Value(&value), None).await.1,
        big,
        "a refused write leaves the value intact"
    );

    // Bad names.
    assert_eq!(
        call(prod, Method::GET, "/api/v1/namespaces/default/groups/a%20b/items/x", Auth::Value(&value), None).await.0,
        400
    );
    app.server.shutdown().await;
}

#[tokio::test]
async fn every_deny_path() {
    let clock = noon();
    let app = two_networks(clock.clone(), |_| {}).await;
    let (prod, stg) = (app.server.data_addr, app.server.staging_addr.unwrap());
    let (auto_ref, _) = token(&app, "auto", true, false, "", &[("default", "r")], &[]).await;
    let (exp_uuid, value) = token(&app, "exp", true, true, "2026-11-29", &[("default", "rw")], &[]).await;
    let value = value.unwrap();

    // 401: missing, both, malformed, tampered, unknown, expiring-by-reference.
    assert_eq!(call(prod, Method::GET, ITEM, Auth::None, None).await.0, 401);
    let both = reqwest::Client::new()
        .get(format!("http://{prod}{ITEM}"))
        .header("X-Akamai-EdgeDB-Auth", &value)
        .header("X-Akamai-EdgeDB-Auth-Ref", &auto_ref)
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 401);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value("not-a-token"), None).await.0, 401);
    let mut tampered = value.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(std::str::from_utf8(&tampered).unwrap()), None).await.0, 401);
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&uuid::Uuid::new_v4().to_string()), None).await.0, 401);
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&exp_uuid), None).await.0, 401);
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref("not-a-uuid"), None).await.0, 401);

    // 403: wrong network, missing right, other namespace.
    assert_eq!(
        call(prod, Method::GET, ITEM, Auth::Ref(&auto_ref), None).await.0,
        403,
        "staging-only token on production"
    );
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&auto_ref), None).await.0, 404, "allowed: absent");
    assert_eq!(call(stg, Method::PUT, ITEM, Auth::Ref(&auto_ref), Some("x".into())).await.0, 403, "read-only token");
    assert_eq!(call(stg, Method::DELETE, ITEM, Auth::Value(&value), None).await.0, 403, "no d right");
    let other = "/api/v1/namespaces/other/groups/g/items/i";
    let (s, body) = call(stg, Method::GET, other, Auth::Value(&value), None).await;
    assert_eq!(s, 403);
    assert!(body.contains("does not cover namespace other"), "{body}");

    // Revocation takes effect on the very next request, for both kinds (both were cached).
    assert_eq!(call(stg, Method::PUT, ITEM, Auth::Value(&value), Some("v".into())).await.0, 200);
    app.admin.revoke_token("exp").await.unwrap();
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Value(&value), None).await.0, 401);
    app.admin.revoke_token("auto").await.unwrap();
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&auto_ref), None).await.0, 401);

    // Expiry crossing: valid at 23:59:59 on the expiry day, refused one second later.
    let (_, v2) = token(&app, "exp2", true, false, "2026-11-29", &[("default", "r")], &[]).await;
    let v2 = v2.unwrap();
    clock.set(Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap());
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Value(&v2), None).await.0, 200);
    clock.advance(Duration::seconds(1));
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Value(&v2), None).await.0, 401);
    app.server.shutdown().await;
}

#[tokio::test]
async fn revoked_tokens_stay_refused_after_a_restart() {
    let app = two_networks(noon(), |_| {}).await;
    let (_, value) = token(&app, "exp", false, true, "2026-12-20", &[("default", "r")], &[]).await;
    let value = value.unwrap();
    assert_eq!(call(app.server.data_addr, Method::GET, ITEM, Auth::Value(&value), None).await.0, 404, "valid before");
    app.admin.revoke_token("exp").await.unwrap();
    let TestApp { server, dir, .. } = app;
    server.shutdown().await;
    // A new server on the same data directory loads the revocation list from the store.
    let again = edgeward_server::spawn(config(dir.path()), Arc::new(noon())).await.unwrap();
    assert_eq!(call(again.data_addr, Method::GET, ITEM, Auth::Value(&value), None).await.0, 401);
    again.shutdown().await;
}

#[tokio::test]
async fn edgeworker_restrictions() {
    let app = two_networks(noon(), |c| c.data_plane.edgeworker_id = Some("42".into())).await;
    let prod = app.server.data_addr;
    let (_, for_7) = token(&app, "for7", false, true, "2026-12-20", &[("default", "r")], &["7"]).await;
    let (_, for_42) = token(&app, "for42", false, true, "2026-12-20", &[("default", "r")], &["42", "43"]).await;
    let (_, all) = token(&app, "all", false, true, "2026-12-20", &[("default", "r")], &[]).await;
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&for_7.unwrap()), None).await.0, 403);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&for_42.unwrap()), None).await.0, 404);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&all.unwrap()), None).await.0, 404);
    app.server.shutdown().await;

    let app = two_networks(noon(), |c| c.data_plane.edgeworker_id_header = Some("X-EW-Id".into())).await;
    let (_, for_7) = token(&app, "for7", false, true, "2026-12-20", &[("default", "r")], &["7"]).await;
    let v = for_7.unwrap();
    let get = |id: Option<&'static str>| {
        let v = v.clone();
        let addr = app.server.data_addr;
        async move {
            let mut r = reqwest::Client::new().get(format!("http://{addr}{ITEM}")).header("X-Akamai-EdgeDB-Auth", v);
            if let Some(id) = id {
                r = r.header("X-EW-Id", id);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(get(Some("7")).await, 404);
    assert_eq!(get(Some("8")).await, 403);
    assert_eq!(get(None).await, 403, "a restricted token needs a caller ID");
    app.server.shutdown().await;
}

#[tokio::test]
async fn sandboxes_fall_back_and_retention_hides_old_items() {
    let clock = noon();
    let app = two_networks(clock.clone(), |_| {}).await;
    let stg = app.server.staging_addr.unwrap();
    let (r, _) = token(&app, "auto", true, false, "", &[("default", "rwd")], &[]).await;
    assert_eq!(call(stg, Method::PUT, ITEM, Auth::Ref(&r), Some("base".into())).await.0, 200);
    let sb = format!("{ITEM}?sandboxId=sb1");
    assert_eq!(call(stg, Method::GET, &sb, Auth::Ref(&r), None).await.0, 404, "sandbox data is separate");
    assert_eq!(
        call(stg, Method::GET, &format!("{sb}&sandboxFallback=true"), Auth::Ref(&r), None).await,
        (200, "base".to_owned())
    );
    assert_eq!(call(stg, Method::PUT, &sb, Auth::Ref(&r), Some("sandboxed".into())).await.0, 200);
    assert_eq!(call(stg, Method::GET, &format!("{sb}&sandboxFallback=true"), Auth::Ref(&r), None).await.1, "sandboxed");
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&r), None).await.1, "base");
    // `default` keeps items about six months (15,724,800 s).
    clock.advance(Duration::seconds(15_724_799));
    assert_eq!(call(stg, Method::GET, ITEM, Auth::Ref(&r), None).await.0, 200);
    clock.advance(Duration::seconds(2));
    assert_eq!(
        call(stg, Method::GET, ITEM, Auth::Ref(&r), None).await.0,
        404,
        "older than the retention: never returned"
    );
    app.server.shutdown().await;
}

#[tokio::test]
async fn usage_is_recorded_per_token_and_network() {
    let app = two_networks(noon(), |_| {}).await;
    let (prod, stg) = (app.server.data_addr, app.server.staging_addr.unwrap());
    let (reference, _) = token(&app, "used", true, true, "", &[("default", "rw")], &[]).await;
    let (_, unused) = token(&app, "unused", true, true, "", &[("default", "r")], &[]).await;
    assert!(unused.is_none());
    for _ in 0..3 {
        call(stg, Method::GET, ITEM, Auth::Ref(&reference), None).await;
    }
    call(prod, Method::PUT, ITEM, Auth::Ref(&reference), Some("x".into())).await;
    call(prod, Method::GET, "/api/v1/namespaces/other/groups/g/items/i", Auth::Ref(&reference), None).await; // 403: not counted
    edgeward_server::dataplane::flush_usage(&app.server.state).await;
    let t = app.admin.get_token_with_usage("used").await.unwrap();
    assert!(app.admin.get_token("used").await.unwrap().usage.is_none(), "only on request");
    let usage: Vec<_> = t.usage.unwrap().into_iter().map(|u| (u.network, u.requests, u.last_used)).collect();
    assert_eq!(
        usage,
        vec![
            ("production".to_owned(), 1, "2026-11-28T12:00:00Z".to_owned()),
            ("staging".to_owned(), 3, "2026-11-28T12:00:00Z".to_owned())
        ]
    );
    assert_eq!(app.admin.get_token_with_usage("unused").await.unwrap().usage.unwrap().len(), 0);
    app.server.shutdown().await;
}

#[tokio::test]
async fn cached_reads_follow_every_write_path() {
    use edgeward_core::clock::Clock;
    let clock = noon();
    let app = two_networks(clock.clone(), |_| {}).await;
    let prod = app.server.data_addr;
    let c = &app.admin;
    let ns_body = r#"{"namespace":"shop","retentionInSeconds":86400,"groupId":0}"#;
    let ns_path = "/edgekv/v1/networks/production/namespaces";
    assert_eq!(raw(c, Method::POST, ns_path, Some(ns_body)).await.0, 200);
    let (r, _) = token(&app, "auto", false, true, "", &[("default", "rwd"), ("shop", "rwd")], &[]).await;
    let admin_item = "/edgekv/v1/networks/production/namespaces/default/groups/countries/items/DE";
    let get = || call(prod, Method::GET, ITEM, Auth::Ref(&r), None);

    // Data-plane writes, admin writes and deletes: each read after them sees them.
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Ref(&r), Some("v1".into())).await.0, 200);
    assert_eq!(get().await, (200, "v1".to_owned()));
    assert_eq!(get().await, (200, "v1".to_owned()), "now from the cache");
    assert_eq!(raw(c, Method::PUT, admin_item, Some("\"v2\"")).await.0, 200);
    assert_eq!(get().await, (200, "\"v2\"".to_owned()));
    assert_eq!(raw(c, Method::DELETE, admin_item, None).await.0, 200);
    assert_eq!(get().await.0, 404);
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Ref(&r), Some("v3".into())).await.0, 200);
    assert_eq!(raw(c, Method::GET, admin_item, None).await.2, serde_json::json!("v3"));
    assert_eq!(get().await, (200, "v3".to_owned()));
    // A refused write leaves the value, cached or not.
    let too_big = "x".repeat(262_145);
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Ref(&r), Some(too_big)).await.0, 413);
    assert_eq!(get().await, (200, "v3".to_owned()));
    assert_eq!(call(prod, Method::DELETE, ITEM, Auth::Ref(&r), None).await.0, 200);
    assert_eq!(get().await.0, 404);

    // Namespace changes: retention, deletion at once, scheduled deletion.
    let shop_item = "/api/v1/namespaces/shop/groups/g/items/i";
    let shop_get = || call(prod, Method::GET, shop_item, Auth::Ref(&r), None);
    assert_eq!(call(prod, Method::PUT, shop_item, Auth::Ref(&r), Some("s1".into())).await.0, 200);
    assert_eq!(shop_get().await, (200, "s1".to_owned()));
    clock.advance(Duration::hours(23));
    assert_eq!(shop_get().await.0, 200);
    let shorter = r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#;
    assert_eq!(raw(c, Method::PUT, &format!("{ns_path}/shop"), Some(shorter)).await.0, 200);
    clock.advance(Duration::hours(2));
    assert_eq!(shop_get().await, (200, "s1".to_owned()), "kept indefinitely now, not by the cached day");
    assert_eq!(raw(c, Method::DELETE, &format!("{ns_path}/shop?sync=true"), None).await.0, 200);
    assert_eq!(shop_get().await.0, 404, "gone with its namespace");
    assert_eq!(raw(c, Method::POST, ns_path, Some(shorter)).await.0, 200);
    assert_eq!(shop_get().await.0, 404, "a new namespace of that name starts empty");
    assert_eq!(call(prod, Method::PUT, shop_item, Auth::Ref(&r), Some("s2".into())).await.0, 200);
    assert_eq!(shop_get().await, (200, "s2".to_owned()));
    assert_eq!(raw(c, Method::DELETE, &format!("{ns_path}/shop"), None).await.0, 202);
    clock.advance(Duration::days(1));
    assert_eq!(shop_get().await, (200, "s2".to_owned()), "serves until the maintenance run deletes it");
    assert_eq!(edgeward_server::jobs::run_once(&app.server.state, clock.now()).await.namespaces_deleted, 1);
    assert_eq!(shop_get().await.0, 404);
    app.server.shutdown().await;
}

/// Every scope rule, for both headers on both networks: the network, the namespace, and each
/// right (r for GET, w for PUT, d for DELETE) allowed when granted and refused (403) when not.
#[tokio::test]
async fn scope_matrix_for_both_headers_and_both_networks() {
    let app = two_networks(noon(), |_| {}).await;
    let (prod, stg) = (app.server.data_addr, app.server.staging_addr.unwrap());
    for (net_name, here, staging, production) in [("stg", stg, true, false), ("prod", prod, false, true)] {
        let there = if here == stg { prod } else { stg };
        for by_ref in [true, false] {
            let expiry = if by_ref { "" } else { "2026-12-20" };
            for rights in ["r", "w", "d", "rwd"] {
                let name = format!("{net_name}_{}_{}", if by_ref { "ref" } else { "val" }, rights);
                let (uuid, value) = token(&app, &name, staging, production, expiry, &[("default", rights)], &[]).await;
                let auth = || if by_ref { Auth::Ref(&uuid) } else { Auth::Value(value.as_deref().unwrap()) };
                let ctx = format!("{name} on {net_name}");
                // Each right on its own method.
                for (method, letter) in [(Method::PUT, 'w'), (Method::GET, 'r'), (Method::DELETE, 'd')] {
                    let body = (method == Method::PUT).then(|| "v".to_owned());
                    let (s, text) = call(here, method.clone(), ITEM, auth(), body).await;
                    if rights.contains(letter) {
                        assert!(s == 200 || s == 404, "{ctx}: {method} allowed, got {s} {text}");
                    } else {
                        assert_eq!(s, 403, "{ctx}: {method} without '{letter}': {text}");
                    }
                }
                // Another namespace, and the other network: 403 whatever the right.
                let other = "/api/v1/namespaces/other/groups/g/items/i";
                assert_eq!(call(here, Method::GET, other, auth(), None).await.0, 403, "{ctx}: other namespace");
                let (s, text) = call(there, Method::GET, ITEM, auth(), None).await;
                assert_eq!(s, 403, "{ctx}: other network: {text}");
                assert!(text.contains("not valid on the"), "{text}");
            }
        }
    }
    // A value signed by a key this server does not know is a 401, like a bad signature.
    let foreign = edgeward_token::SigningKeyPair::generate();
    let claims = edgeward_token::Claims {
        iss: "edgeward".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: 1_764_331_200,
        exp: 1_799_999_999,
        cpc: app.server.state.cpcode.clone(),
        env: vec!["s".into(), "p".into()],
        ewids: "all".into(),
        name: "forged".into(),
        namespaces: [("namespace-default".to_owned(), serde_json::json!(["r", "w", "d"]))].into_iter().collect(),
    };
    let forged = edgeward_token::sign(&claims, &foreign);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Value(&forged), None).await.0, 401);
    app.server.shutdown().await;
}

#[tokio::test]
async fn other_methods_get_405_naming_the_allowed_ones() {
    let app = two_networks(noon(), |_| {}).await;
    let (_, value) = token(&app, "exp", true, true, "2026-11-29", &[("default", "rwd")], &[]).await;
    let value = value.unwrap();
    for method in [Method::POST, Method::PATCH, Method::TRACE, Method::OPTIONS] {
        let r = reqwest::Client::new()
            .request(method.clone(), format!("http://{}{ITEM}", app.server.data_addr))
            .header("X-Akamai-EdgeDB-Auth", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{method}");
        // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
        assert_eq!(r.headers().get("allow").map(|v| v.to_str().unwrap()), Some("GET, PUT, DELETE"), "{method}");
    }
    app.server.shutdown().await;
}

/// With `data_plane.threads = 2`, the data plane's connections are served by two threads of
/// their own, in turn, on both listeners; at shutdown their runtimes end with the server.
#[tokio::test]
async fn data_plane_threads_serve_many_connections_and_end_at_shutdown() {
    let app = two_networks(noon(), |c| c.data_plane.threads = Some(2)).await;
    let (prod, stg) = (app.server.data_addr, app.server.staging_addr.unwrap());
    let workers = app.server.data_plane_workers.clone().expect("data_plane.threads = 2 starts threads");
    assert_eq!(workers.len(), 2);
    let (reference, _) = token(&app, "auto", true, true, "", &[("default", "rwd")], &[]).await;
    let alive = |workers: &edgeward_server::workers::WorkerHandles| {
        (0..workers.len()).map(|_| workers.next().metrics().num_alive_tasks()).collect::<Vec<_>>()
    };
    assert_eq!(alive(&workers), [0, 0], "no data-plane connection yet");

    // Four kept-alive connections, two on each thread, where they stay while open.
    let kept: Vec<reqwest::Client> = (0..4).map(|_| reqwest::Client::new()).collect();
    for client in &kept {
        let r = client.get(format!("http://{prod}{ITEM}")).header("X-Akamai-EdgeDB-Auth-Ref", &reference);
        assert_eq!(r.send().await.unwrap().status(), 404);
    }
    assert!(alive(&workers).iter().all(|n| *n >= 2), "each thread serves two connections: {:?}", alive(&workers));
    drop(kept);

    // Many connections at once, on both listeners: each writes, reads and deletes its own item.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..48 {
        let (addr, reference) = (if i % 2 == 0 { prod } else { stg }, reference.clone());
        calls.spawn(async move {
            let item = format!("/api/v1/namespaces/default/groups/many/items/i{i}");
            let value = format!("v{i}");
            assert_eq!(call(addr, Method::PUT, &item, Auth::Ref(&reference), Some(value.clone())).await.0, 200);
            assert_eq!(call(addr, Method::GET, &item, Auth::Ref(&reference), None).await, (200, value));
            assert_eq!(call(addr, Method::DELETE, &item, Auth::Ref(&reference), None).await.0, 200);
            assert_eq!(call(addr, Method::GET, &item, Auth::Ref(&reference), None).await.0, 404);
        });
    }
    while let Some(r) = calls.join_next().await {
        r.unwrap();
    }

    app.server.shutdown().await;
    // The threads' runtimes are gone: a task handed to either is cancelled, never run.
    for _ in 0..workers.len() {
        assert!(workers.next().spawn(async {}).await.unwrap_err().is_cancelled());
    }
}

/// A request in flight on a data-plane thread when shutdown begins is finished, then its
/// connection closed; the listener stops accepting at once.
#[tokio::test]
async fn a_request_in_flight_on_a_data_plane_thread_is_finished_at_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = two_networks(noon(), |c| c.data_plane.threads = Some(2)).await;
    let prod = app.server.data_addr;
    let (reference, _) = token(&app, "auto", false, true, "", &[("default", "rwd")], &[]).await;
    let mut conn = tokio::net::TcpStream::connect(prod).await.unwrap();
    let head = format!(
        "PUT {ITEM} HTTP/1.1\r\nhost: edge\r\nx-akamai-edgedb-auth-ref: {reference}\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // The handler reads the body: the request is in flight.
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"), "{}", String::from_utf8_lossy(&buf[..n]));

    let shutdown = tokio::spawn(app.server.shutdown());
    while tokio::net::TcpStream::connect(prod).await.is_ok() {
        tokio::task::yield_now().await;
    }
    conn.write_all(b"v1").await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(30), conn.read_to_end(&mut response))
        .await
        .expect("the connection is closed after its response")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    shutdown.await.unwrap();
}

/// `data_plane.threads = 0` serves the data plane on the main runtime, as before there were
/// threads; more than 256 refuses to start, naming the setting, before the data directory is made.
#[tokio::test]
#[allow(clippy::disallowed_methods, reason = "the test looks whether the data directory was made")]
async fn zero_data_plane_threads_serve_on_the_main_runtime_and_too_many_are_refused() {
    let app = two_networks(noon(), |c| c.data_plane.threads = Some(0)).await;
    assert!(app.server.data_plane_workers.is_none());
    let (reference, _) = token(&app, "auto", false, true, "", &[("default", "rwd")], &[]).await;
    let prod = app.server.data_addr;
    assert_eq!(call(prod, Method::PUT, ITEM, Auth::Ref(&reference), Some("v".into())).await.0, 200);
    assert_eq!(call(prod, Method::GET, ITEM, Auth::Ref(&reference), None).await, (200, "v".to_owned()));
    app.server.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir.path().join("data"));
    cfg.data_plane.threads = Some(257);
    let refused = edgeward_server::spawn(cfg, Arc::new(noon())).await.err().expect("refused");
    assert_eq!(refused.to_string(), "invalid configuration: data_plane.threads must be 0 to 256");
    assert!(!dir.path().join("data").exists(), "nothing is made before the settings are checked");
}
