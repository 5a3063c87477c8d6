//! PostgreSQL stops (as in a crash) under load and comes back: both servers recover without a
//! restart, report not-ready meanwhile, and every write acknowledged before or after the outage
//! is there. Runs on a PostgreSQL server of its own, so other tests are not disturbed.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::private_postgres::PrivatePostgres;
use crate::common::*;
use edgeward_client::Client;
use edgeward_core::clock::SystemClock;
use edgeward_server::{DatabaseConfig, RunningServer, ServeConfig};
use reqwest::Method;

async fn node(dir: &std::path::Path, url: &str) -> (RunningServer, Client) {
    let cfg = ServeConfig {
        data_dir: dir.to_owned(),
        database: DatabaseConfig { url: Some(url.to_owned()), max_connections: 8, connect_wait_secs: 30 },
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        data_addr: "127.0.0.1:0".parse().unwrap(),
        change_poll_ms: 50,
        ..ServeConfig::default()
    };
    let server = edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.expect("server starts");
    let edgerc = edgerc_of(&server);
    let admin = Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap();
    (server, admin)
}

#[derive(Default)]
struct Acked {
    tokens: Vec<String>,
    items: Vec<(String, String)>,
    refused: usize,
}

async fn status(url: String) -> u16 {
    match reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap().get(url).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_ride_out_a_postgres_crash_without_losing_an_acknowledged_write() {
    let pg = PrivatePostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, admin_a) = node(dir.path(), &pg.url()).await;
    let (b, admin_b) = node(dir.path(), &pg.url()).await;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let body = cli_body("writer", false, true, &expiry, &[("default", "rwd")]);
    let (s, _, t) = raw(&admin_a, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    let writer = t["value"].as_str().unwrap().to_owned();

    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for (n, admin) in [admin_a.clone(), admin_b.clone()].into_iter().enumerate() {
        let (acked, stop, expiry) = (acked.clone(), stop.clone(), expiry.clone());
        load.spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("load_{n}_{i}");
                let body = cli_body(&name, false, true, &expiry, &[("default", "r")]);
                let (s, _, _) = raw(&admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
                assert!(s == 200 || s == 503, "an outage is reported as unavailable (503), got {s}");
                {
                    let mut a = acked.lock().unwrap();
                    if s == 200 {
                        a.tokens.push(name);
                    } else {
                        a.refused += 1;
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    for (n, data) in [a.data_addr, b.data_addr].into_iter().enumerate() {
        let (acked, stop, writer) = (acked.clone(), stop.clone(), writer.clone());
        load.spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let (key, value) = (format!("k{n}_{i}"), format!("v{n}_{i}"));
                let r = http
                    .put(format!("http://{data}/api/v1/namespaces/default/groups/g/items/{key}"))
                    .header("X-Akamai-EdgeDB-Auth", &writer)
                    .body(value.clone())
                    .send()
                    .await;
                if let Ok(r) = r {
                    let s = r.status().as_u16();
                    assert!(s == 200 || s == 503, "an outage is reported as unavailable (503), got {s}");
                    let mut a = acked.lock().unwrap();
                    if s == 200 {
                        a.items.push((key, value));
                    } else {
                        a.refused += 1;
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    let count = |acked: &Mutex<Acked>| {
        let a = acked.lock().unwrap();
        (a.tokens.len(), a.items.len())
    };
    let wait_for = |want: (usize, usize), what: &'static str| {
        let acked = acked.clone();
        async move {
            let start = Instant::now();
            while count(&acked).0 < want.0 || count(&acked).1 < want.1 {
                assert!(start.elapsed() < Duration::from_secs(90), "{what}: only {:?} acknowledged", count(&acked));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for((40, 40), "before the outage").await;
    let ready = |addr: std::net::SocketAddr| status(format!("http://{addr}/readyz"));
    assert_eq!((ready(a.data_addr).await, ready(b.data_addr).await), (200, 200));

    pg.crash();
    let at_crash = count(&acked);
    // Not ready while PostgreSQL is down.
    let mut seen_not_ready = false;
    for _ in 0..20 {
        if ready(a.data_addr).await == 503 && ready(b.data_addr).await == 503 {
            seen_not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen_not_ready, "both servers report not-ready while PostgreSQL is down");
    // Writes waiting for a connection are refused (503) once the pool gives up on PostgreSQL.
    let start = Instant::now();
    while acked.lock().unwrap().refused == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "writes are refused during the outage");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    pg.start_again();
    wait_for((at_crash.0 + 40, at_crash.1 + 40), "after the outage (the servers did not recover)").await;
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = load.join_next().await {
        r.unwrap();
    }
    assert_eq!(ready(a.data_addr).await, 200);
    assert_eq!(ready(b.data_addr).await, 200);

    // Every acknowledged write is there, read through either server.
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.tokens.len() > at_crash.0 && acked.items.len() > at_crash.1);
    let tokens = {
        let (s, _, list) = raw(&admin_b, Method::GET, "/edgekv/v1/tokens", None).await;
        assert_eq!(s, 200);
        list["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let missing: Vec<_> = acked.tokens.iter().filter(|n| !tokens.contains(n)).collect();
    assert!(missing.is_empty(), "acknowledged tokens lost: {missing:?}");
    let http = reqwest::Client::new();
    for (i, (key, value)) in acked.items.iter().enumerate() {
        let data = if i % 2 == 0 { a.data_addr } else { b.data_addr };
        let r = http
            .get(format!("http://{data}/api/v1/namespaces/default/groups/g/items/{key}"))
            .header("X-Akamai-EdgeDB-Auth", &writer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged item {key} lost");
        assert_eq!(r.text().await.unwrap(), *value);
    }
    eprintln!(
        "outage test: {} tokens and {} items acknowledged ({} before the crash), {} writes refused meanwhile",
        acked.tokens.len(),
        acked.items.len(),
        at_crash.0 + at_crash.1,
        acked.refused
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_while_postgres_is_down_waits_for_it() {
    let pg = PrivatePostgres::start();
    pg.crash();
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (data_addr, staging_addr, metrics_addr) = (free(), free(), free());
    let mut cfg = ServeConfig {
        data_dir: dir.path().to_owned(),
        database: DatabaseConfig { url: Some(url), max_connections: 4, connect_wait_secs: 30 },
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        data_addr,
        ..ServeConfig::default()
    };
    cfg.data_plane.staging_addr = Some(staging_addr);
    cfg.metrics.addr = Some(metrics_addr);
    let starting = tokio::spawn(edgeward_server::spawn(cfg, Arc::new(SystemClock)));
    // Meanwhile every data-plane port and the metrics port answer: alive, not ready.
    for addr in [data_addr, staging_addr, metrics_addr] {
        let start = Instant::now();
        while status(format!("http://{addr}/healthz")).await != 200 {
            assert!(start.elapsed() < Duration::from_secs(10), "the starting server answers /healthz on {addr}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status(format!("http://{addr}/readyz")).await, 503, "{addr}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!starting.is_finished(), "the server waits for the database instead of giving up");
    pg.start_again();
    let server = tokio::time::timeout(Duration::from_secs(30), starting).await.expect("started").unwrap().unwrap();
    assert_eq!(status(format!("http://{data_addr}/readyz")).await, 200, "ready once started");
    assert_eq!(status(format!("http://{staging_addr}/readyz")).await, 200, "ready once started");
    assert_eq!(status(format!("http://{metrics_addr}/metrics")).await, 200, "metrics once started");
    let edgerc = edgerc_of(&server);
    let admin = Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap();
    let (s, _, _) = raw(&admin, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_eq!(s, 200);
    server.shutdown().await;
}
