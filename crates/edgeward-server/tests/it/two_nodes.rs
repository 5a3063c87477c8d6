//! Two servers on one database: what one writes, the other honours within the change feed's
//! bound, without a restart.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use edgeward_client::Client;
use edgeward_core::clock::SystemClock;
use reqwest::Method;

async fn node(dir: &std::path::Path) -> (edgeward_server::RunningServer, Client) {
    let mut cfg = config(dir);
    cfg.change_poll_ms = 50;
    let server = edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.expect("server starts");
    // The edgerc names the first server of the directory; each node is reached at its own address.
    let edgerc = edgerc_of(&server);
    let admin = Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap();
    (server, admin)
}

/// Poll until `want` (at most 10 s, far above the 50 ms feed interval); returns how long it took.
async fn until(addr: std::net::SocketAddr, path: &str, token: &str, want: (u16, &str)) -> Duration {
    let start = Instant::now();
    loop {
        let (s, body) = data_get(addr, path, token).await;
        if s == want.0 && (want.1.is_empty() || body == want.1) {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "still {s} {body}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn writes_and_revocations_on_one_server_reach_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (a, admin_a) = node(dir.path()).await;
    let (b, admin_b) = node(dir.path()).await;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let body = cli_body("shared", false, true, &expiry, &[("default", "rwd")]);
    let (s, _, t) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    let token = t["value"].as_str().unwrap().to_owned();
    // Created on A, retrievable on B.
    let (s, _, again) = raw(&admin_b, Method::GET, "/edgekv/v1/tokens/shared", None).await;
    assert_eq!((s, again["value"].as_str()), (200, Some(token.as_str())));

    // An item written through B is read (and cached) by A; rewritten through B, A serves the new
    // value; deleted through B, A answers 404.
    let item = "/api/v1/namespaces/default/groups/g/items/i";
    let put = |v: &'static str| {
        let token = token.clone();
        async move {
            let r = reqwest::Client::new()
                .put(format!("http://{}{item}", b.data_addr))
                .header("X-Akamai-EdgeDB-Auth", token)
                .body(v)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    put("v1").await;
    assert_eq!(data_get(a.data_addr, item, &token).await, (200, "v1".to_owned()));
    assert_eq!(data_get(a.data_addr, item, &token).await, (200, "v1".to_owned()), "cached on A");
    put("v2").await;
    until(a.data_addr, item, &token, (200, "v2")).await;
    let (s, _, _) =
        raw(&admin_b, Method::DELETE, "/edgekv/v1/networks/production/namespaces/default/groups/g/items/i", None).await;
    assert_eq!(s, 200);
    until(a.data_addr, item, &token, (404, "")).await;

    // Revoked on A: refused by B's data plane, which had the token's grant cached.
    put("v3").await;
    assert_eq!(data_get(b.data_addr, item, &token).await.0, 200);
    admin_a.revoke_token("shared").await.unwrap();
    until(b.data_addr, item, &token, (401, "")).await;
    a.shutdown().await;
    b.shutdown().await;
}

/// A token retrieved on B (so kept in B's retrieval cache) and revoked on A: A no longer
/// retrieves it at once, B within the change feed's bound; a new token of the same name is then
/// retrieved on both. Fails if B's cache is not kept exact by the revocations the feed brings.
#[tokio::test]
async fn a_token_revoked_on_one_server_is_no_longer_retrieved_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (a, admin_a) = node(dir.path()).await;
    let (b, admin_b) = node(dir.path()).await;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let body = cli_body("kept", false, true, &expiry, &[("default", "r")]);
    let (s, _, t) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    for admin in [&admin_b, &admin_b, &admin_a] {
        assert_eq!(admin.get_token("kept").await.unwrap().uuid, t["uuid"].as_str().unwrap());
    }
    admin_a.revoke_token("kept").await.unwrap();
    let (s, _, _) = raw(&admin_a, Method::GET, "/edgekv/v1/tokens/kept", None).await;
    assert_eq!(s, 404, "A, which revoked it");
    let start = Instant::now();
    loop {
        let (s, _, resp) = raw(&admin_b, Method::GET, "/edgekv/v1/tokens/kept", None).await;
        if s == 404 {
            break;
        }
        assert_eq!(s, 200, "{resp}");
        assert!(start.elapsed() < Duration::from_secs(10), "B still retrieves a token revoked on A 10 s ago");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (s, _, again) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(admin_b.get_token("kept").await.unwrap().uuid, again["uuid"].as_str().unwrap());
    a.shutdown().await;
    b.shutdown().await;
}

/// Send a captured request (its `Authorization` header) to `addr`, with the Host it was signed for.
async fn replay(addr: std::net::SocketAddr, host: &str, auth: &str) -> u16 {
    reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .get(format!("https://{addr}/edgekv/v1/tokens"))
        .header("host", host)
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_signed_request_is_accepted_once_across_servers_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    // The default configuration (an old file's `shared_nonces = false` changes nothing).
    let start = |dir: std::path::PathBuf| async move {
        let mut cfg = config(&dir);
        cfg.edgegrid.shared_nonces = false;
        let server = edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.unwrap();
        let admin = Client::new(edgerc_of(&server), Some(&server.prepared.tls_cert)).unwrap();
        (server, admin)
    };
    let (a, admin_a) = start(dir.path().to_owned()).await;
    let (b, _) = start(dir.path().to_owned()).await;
    // One request, signed for A's host name (behind a load balancer both servers see the same).
    let host = admin_a.host().to_owned();
    let auth = admin_a.authorization("GET", "/edgekv/v1/tokens", b"");
    assert_eq!(replay(a.admin_addr, &host, &auth).await, 200);
    assert_eq!(replay(a.admin_addr, &host, &auth).await, 401, "replayed to the same server");
    assert_eq!(replay(b.admin_addr, &host, &auth).await, 401, "replayed to the other server");
    // Restarted on the same data directory (and database): still refused.
    a.shutdown().await;
    b.shutdown().await;
    let (again, _) = start(dir.path().to_owned()).await;
    assert_eq!(replay(again.admin_addr, &host, &auth).await, 401, "replayed after a restart");
    // A fresh request is accepted as usual.
    let fresh = admin_a.authorization("GET", "/edgekv/v1/tokens", b"");
    assert_eq!(replay(again.admin_addr, &host, &fresh).await, 200);
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_across_two_servers_give_exactly_one_token() {
    let dir = tempfile::tempdir().unwrap();
    let (a, admin_a) = node(dir.path()).await;
    let (b, admin_b) = node(dir.path()).await;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let body = cli_body("contested", false, true, &expiry, &[("default", "r")]);
    let admins = [admin_a.clone(), admin_b.clone()];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let (admin, body) = (admins[i % 2].clone(), body.clone());
        tasks.spawn(async move { raw(&admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await });
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut winner = None;
    while let Some(r) = tasks.join_next().await {
        let (status, _, json) = r.unwrap();
        *statuses.entry(status).or_default() += 1;
        if status == 200 {
            winner = json["uuid"].as_str().map(str::to_owned);
        }
    }
    assert_eq!(statuses.get(&200), Some(&1), "exactly one create succeeds: {statuses:?}");
    assert_eq!(statuses.get(&409), Some(&99), "every other one is told the name is taken: {statuses:?}");
    // Both servers agree on the one token, and the account counts one.
    for admin in [&admin_a, &admin_b] {
        let (s, _, t) = raw(admin, Method::GET, "/edgekv/v1/tokens/contested", None).await;
        assert_eq!((s, t["uuid"].as_str().map(str::to_owned)), (200, winner.clone()));
    }
    let (_, _, list) = raw(&admin_a, Method::GET, "/edgekv/v1/tokens", None).await;
    let named = list["tokens"].as_array().unwrap().iter().filter(|t| t["name"] == "contested").count();
    assert_eq!(named, 1, "{list}");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_check_runs_once_when_both_servers_try() {
    use chrono::TimeZone;
    use edgeward_core::capability::{Capability, Grants};
    use edgeward_core::clock::{Clock, ManualClock};
    use edgeward_core::notify::User;
    use edgeward_server::notify::run_if_owed;

    // Before the day's check time, so neither server's scheduler runs it at start.
    let before = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(before));
    let dir = tempfile::tempdir().unwrap();
    let start = |clock: Arc<ManualClock>| {
        let dir = dir.path().to_owned();
        async move {
            let server = edgeward_server::spawn(config(&dir), clock.clone()).await.expect("server starts");
            let edgerc = edgerc_of(&server);
            let admin = Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap().with_clock(clock);
            (server, admin)
        }
    };
    let (a, admin_a) = start(clock.clone()).await;
    let (b, _) = start(clock.clone()).await;
    a.state
        .store
        .create_user(User {
            id: uuid::Uuid::new_v4(),
            name: "ana".into(),
            email: Some("ana@example.com".into()),
            email_registered: true,
            active: true,
            grants: Grants::new([Capability::CreateToken]),
            roles: Vec::new(),
            created_at: before,
        })
        .await
        .unwrap();
    let body = cli_body("weekly", false, true, "2026-12-08", &[("default", "r")]);
    let (s, _, t) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");

    // 06:01: both servers find the check owed and race for it, five times over.
    clock.set(before + chrono::Duration::minutes(61));
    let now = clock.now();
    let check = |server: &edgeward_server::RunningServer| {
        let (store, n) = (server.state.store.clone(), &server.state.notify);
        let (holder, at, thresholds, outputs) = (n.holder.clone(), n.check_time, n.thresholds.clone(), n.outputs);
        async move { run_if_owed(store.as_ref(), now, &holder, at, &thresholds, outputs).await.unwrap() }
    };
    let mut ran = Vec::new();
    for _ in 0..5 {
        let (ra, rb) = tokio::join!(check(&a), check(&b));
        for r in [ra, rb] {
            if r.ran {
                ran.push(r.notices);
            }
        }
    }
    assert_eq!(ran, vec![2], "one run, on one server, with the 7-day notice to ana and to the administrator");
    let runs = a.state.store.check_runs(10).await.unwrap();
    assert_eq!(runs.iter().filter(|r| !r.dry_run && r.check_day == now.date_naive()).count(), 1, "{runs:?}");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_on_their_own_hosts_share_signing_keys_through_the_database() {
    // Separate data directories, as on separate hosts; one PostgreSQL database.
    let url = edgeward_store::testing::fresh_postgres_database().await;
    let on = |dir: &std::path::Path| edgeward_server::ServeConfig {
        database: edgeward_server::DatabaseConfig::with_url(Some(url.clone())),
        ..config_on_sqlite(dir)
    };
    let (dir_a, dir_b, dir_c) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = edgeward_server::spawn(on(dir_a.path()), Arc::new(SystemClock)).await.expect("A starts");
    let admin_a = Client::new(edgerc_of(&a), Some(&a.prepared.tls_cert)).unwrap();
    // B gets the data key (the one secret every server shares), nothing else.
    std::fs::create_dir_all(dir_b.path().join("keys")).unwrap();
    std::fs::copy(dir_a.path().join("keys/data.key"), dir_b.path().join("keys/data.key")).unwrap();
    let b = edgeward_server::spawn(on(dir_b.path()), Arc::new(SystemClock)).await.expect("B starts");
    assert_eq!(a.state.keys.current().set.jwks(), b.state.keys.current().set.jwks(), "both publish the same keys");

    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let body = cli_body("signed_on_a", false, true, &expiry, &[("default", "r")]);
    let (s, _, t) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    let (s, _) =
        data_get(b.data_addr, "/api/v1/namespaces/default/groups/g/items/i", t["value"].as_str().unwrap()).await;
    assert_eq!(s, 404, "B verifies a value A signed (the item does not exist)");

    // A server without the data key cannot read the keys, and says what it needs.
    let err = edgeward_server::spawn(on(dir_c.path()), Arc::new(SystemClock)).await.err().expect("C is refused");
    assert!(err.to_string().contains("data.key"), "{err}");
    a.shutdown().await;
    b.shutdown().await;
}
