//! `edgeward-loadtest`: starts the release `edgeward` binary on a fresh data directory and
//! measures it from a second process over real TLS connections, every request EdgeGrid-signed
//! with a fresh nonce. Each figure comes with its baseline, measured in the same run:
//!
//! 1. the raw durable SQLite commit rate on the same disk (one row per fsynced transaction);
//! 2. token creation at N connections (throughput, p50/p99), and the server's peak RSS after it;
//! 3. `/healthz` and retrieval by name over the same connections, alternating phases.
//!
//! `--data-plane` measures the data plane against two baselines, both measured from this
//! process over the same number of connections (`--connections`, 32 by default), one request in
//! flight per connection: a bare axum handler in its own process (`--serve-baseline`), sent
//! exactly the requests the server gets, and a `redis-server` of its own (`--redis-server`,
//! Debian's by default; the run fails without it) answering `GET` over connections that each
//! sent `AUTH` once. After filling `--items` items (and the same keys in Redis) with 100-byte
//! values, it alternates `--rounds` rounds of five phases: a cached item (authorized GET of one
//! item held in the server's item cache, the bare handler's GET, Redis GET of one key) and a
//! 98 % GET / 2 % PUT mix (bare handler, server), and prints one row per target: cached item
//! ≥ 90 % of the bare handler and ≥ 100 % of Redis; the mix ≥ 85 % of the bare handler (80 % on
//! PostgreSQL) with a p99 ≤ 1.2× the bare handler's own.
//!
//! With `--database postgres://…` the server runs on a fresh PostgreSQL database (created on that
//! server and dropped afterwards) and the baseline is raw durable PostgreSQL commits over the same
//! number of connections. `--revocation-delay` starts two servers on one database and measures
//! how long a token revoked on one is still accepted by the other's data plane.
//!
//! Prints a Markdown report. Bounded in requests and time; talks to 127.0.0.1 only (and to the
//! PostgreSQL server named).
#![allow(
    clippy::disallowed_methods,
    reason = "the load tool drives a real server in real time, in a work directory of its own (configuration, certificate), and reads /proc for the server's CPU time"
)]

mod console_bench;
mod http1;
mod notify_bench;
mod postgres;
mod redis_baseline;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use edgeward_client::Edgerc;
use edgeward_edgegrid::{format_timestamp, Settings, SignedRequest};
use http1::Conn;
use hyper::Method;

#[derive(Parser)]
#[command(about = "Benchmark a real edgeward server (token creation, retrieval, memory)")]
struct Args {
    /// The edgeward binary [default: next to this one].
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Concurrent connections [default: 16 for the admin API, 32 for the data plane].
    #[arg(long)]
    connections: Option<usize>,
    /// Tokens to create in the creation phase.
    #[arg(long, default_value_t = 100_000)]
    tokens: usize,
    /// Seconds of each healthz / retrieval phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of the raw SQLite commit baseline.
    #[arg(long, default_value_t = 5)]
    sqlite_seconds: u64,
    /// Directory for the data directory and the SQLite baseline (same disk for both).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Benchmark the data plane instead of the admin API.
    #[arg(long)]
    data_plane: bool,
    /// Data plane: items written before the mixed phase.
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    /// Data plane: distinct tokens used.
    #[arg(long, default_value_t = 1_000)]
    distinct_tokens: usize,
    /// Data plane: seconds of unmeasured load before each measured phase (baseline and mix
    /// alike), so both are measured in their steady state.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Data plane: the server's item cache in MiB (0 = off, every GET reads the database)
    /// [default: the server's default].
    #[arg(long)]
    item_cache_mb: Option<u64>,
    /// Data plane: the server's `data_plane.threads` (0 = the main runtime) [default: the
    /// server's default, 0].
    #[arg(long)]
    data_plane_threads: Option<usize>,
    /// Data plane: alternating rounds of the phases (cached item: bare handler, server, Redis;
    /// mix: bare handler, server), each `--seconds` long.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Data plane: the `redis-server` binary of the Redis baseline (required: the run fails
    /// without it).
    #[arg(long, default_value = "/usr/bin/redis-server")]
    redis_server: PathBuf,
    /// Benchmark the daily expiry check over a large database instead.
    #[arg(long)]
    notify_check: bool,
    /// Expiry check: tokens in the database.
    #[arg(long, default_value_t = 1_000_000)]
    check_tokens: usize,
    /// Expiry check: tokens due (within 30 days).
    #[arg(long, default_value_t = 100)]
    check_due: usize,
    /// Run the server on PostgreSQL: the URL of a PostgreSQL server (a database is created on it
    /// for the run and dropped after), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long)]
    database: Option<String>,
    /// Measure the cross-server revocation delay instead: two servers on one database.
    #[arg(long)]
    revocation_delay: bool,
    /// Revocation delay: tokens revoked (one at a time).
    #[arg(long, default_value_t = 100)]
    revocations: usize,
    /// Admin API: send retrievals in the `/healthz` halves too (for counting the server's
    /// instructions per retrieval under a profiler: `scripts/instructions-per-retrieval`).
    #[arg(long)]
    retrieval_only: bool,
    /// Benchmark the web console's pages instead (signed in, with `--tokens` tokens; use
    /// `--tokens 1000`).
    #[arg(long)]
    console: bool,
    /// Internal: serve the bare baseline handler and print its address.
    #[arg(long, hide = true)]
    serve_baseline: bool,
}

struct Server {
    child: Child,
    pid: u32,
    data_dir: PathBuf,
    data_addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &Path, data_dir: &Path, config: Option<&Path>, database: Option<&str>) -> Result<Server> {
    let mut cmd = Command::new(bin);
    if let Some(c) = config {
        cmd.arg("serve").arg("--config").arg(c);
    } else {
        cmd.arg("serve");
    }
    if let Some(url) = database {
        cmd.arg("--database").arg(url);
    }
    let mut child = cmd
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--admin-addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0", "--max-tokens", "100000000"])
        // `server` logs the addresses (`app` in builds before the composition root moved there).
        .env("EDGEWARD_LOG", "warn,edgeward_server::server=info,edgeward_server::app=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // The server's own warnings and errors belong in the report's context.
            if line.contains("WARN") || line.contains("ERROR") {
                eprintln!("server: {line}");
            }
            if line.contains("data plane listening") {
                if let Some(a) = line.split("data_addr=").nth(1) {
                    let _ = tx.send(a.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        }
    });
    let data_addr = rx.recv_timeout(Duration::from_secs(30)).context("the server did not start")?;
    let pid = child.id();
    Ok(Server { child, pid, data_dir: data_dir.to_owned(), data_addr })
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// CPU time the process has used so far, all threads (nanoseconds, from `schedstat`).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Microseconds of CPU per request, from nanoseconds spent on `requests`.
fn micros_per_request(ns: u64, requests: usize) -> f64 {
    ns as f64 / 1000.0 / requests.max(1) as f64
}

fn sqlite_baseline(dir: &Path, seconds: u64) -> Result<f64> {
    let path = dir.join("baseline.sqlite");
    let conn = rusqlite::Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB NOT NULL);",
    )?;
    let payload = vec![7u8; 600]; // about the size of a token row
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        conn.execute_batch("BEGIN")?;
        conn.execute(
            "INSERT INTO t (id, v) VALUES (?1, ?2)",
            rusqlite::params![uuid::Uuid::new_v4().to_string(), payload],
        )?;
        conn.execute_batch("COMMIT")?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

#[derive(Clone)]
struct Signer {
    edgerc: Edgerc,
    settings: Settings,
}

impl Signer {
    fn auth(&self, method: &str, target: &str, body: &[u8]) -> String {
        let req = SignedRequest { method, host: &self.edgerc.host, target, headers: &[], body };
        let ts = format_timestamp(chrono::Utc::now());
        self.edgerc.credentials.authorization(&req, &self.settings, &ts, &uuid::Uuid::new_v4().to_string())
    }
}

fn http_client(cert: &Path) -> Result<reqwest::Client> {
    let pem = std::fs::read(cert)?;
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()?)
}

#[derive(Default)]
struct Phase {
    latencies_us: Vec<u32>,
    errors: usize,
    elapsed: Duration,
}

impl Phase {
    fn absorb(&mut self, other: Phase) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        self.elapsed += other.elapsed;
    }

    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a float-to-integer `as` saturates (NaN to 0), and the rank is clamped to the samples"
    )]
    fn pct(&mut self, p: f64) -> f64 {
        self.latencies_us.sort_unstable();
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 * p).ceil() as usize).clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Create one token through the admin API (setup, not measured); returns the token object.
async fn create_token(admin: &reqwest::Client, signer: &Signer, body: Vec<u8>) -> Result<serde_json::Value> {
    let auth = signer.auth("POST", "/edgekv/v1/tokens", &body);
    Ok(admin
        .post(format!("https://{}/edgekv/v1/tokens", signer.edgerc.host))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?
        .json()
        .await?)
}

fn create_body(name: &str, expiry: &str) -> Vec<u8> {
    format!(
        r#"{{"name":"{name}","allowOnProduction":false,"allowOnStaging":true,"restrictToEwids":["all"],"expiry":"{expiry}","namespacePermissions":{{"default":["r","w"]}}}}"#
    )
    .into_bytes()
}

/// Create `total` tokens over the clients; every request is a fresh signature.
async fn create_phase(clients: &[reqwest::Client], signer: &Signer, total: usize, expiry: &str) -> Phase {
    let (signer, expiry) = (Arc::new(signer.clone()), Arc::new(expiry.to_owned()));
    let reported = Arc::new(AtomicUsize::new(0));
    drive(clients, None, Some(total), move |client, w, i| {
        let (signer, expiry, reported) = (signer.clone(), expiry.clone(), reported.clone());
        async move {
            let body = create_body(&format!("t{i}"), &expiry);
            let auth = signer.auth("POST", "/edgekv/v1/tokens", &body);
            let r = client
                .post(format!("https://{}/edgekv/v1/tokens", signer.edgerc.host))
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let problem = match r {
                Ok(resp) if resp.status() == 200 => {
                    let _ = resp.bytes().await;
                    return Some(true);
                }
                Ok(resp) => format!("HTTP {} {}", resp.status(), resp.text().await.unwrap_or_default()),
                Err(e) => e.to_string(),
            };
            if reported.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("worker {w}: {problem}");
            }
            None
        }
    })
    .await
}

/// GET the paths, round robin, for `seconds` on every client.
async fn get_phase(clients: &[reqwest::Client], signer: &Signer, seconds: u64, paths: Arc<Vec<String>>) -> Phase {
    let signer = Arc::new(signer.clone());
    drive(clients, Some(seconds), None, move |client, _, i| {
        let (signer, paths) = (signer.clone(), paths.clone());
        async move {
            let path = &paths[i % paths.len()];
            let auth = signer.auth("GET", path, b"");
            let resp = client
                .get(format!("https://{}{}", signer.edgerc.host, path))
                .header("authorization", auth)
                .send()
                .await
                .ok()?;
            let ok = resp.status() == 200;
            let _ = resp.bytes().await;
            ok.then_some(true)
        }
    })
    .await
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// The bare baseline: an axum handler that returns a constant string, in its own process.
async fn serve_baseline() -> Result<()> {
    // The same path template as the data plane, any method: the load generator sends the
    // baseline exactly the requests it sends the server (headers and PUT bodies included), so
    // the two differ only in what the server does with them.
    let app = axum::Router::new()
        .route("/api/v1/namespaces/{ns}/groups/{group}/items/{item}", axum::routing::any(|| async { "ok" }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", l.local_addr()?);
    use std::io::Write as _;
    std::io::stdout().flush()?;
    axum::serve(l, app).await?;
    Ok(())
}

/// Run `op(worker, i)` on every client until `seconds` pass (or `total` operations if given).
/// A client is a reqwest client or a Redis connection: one worker task per client, each with one
/// request in flight at a time.
async fn drive<C, F, Fut>(clients: &[C], seconds: Option<u64>, total: Option<usize>, op: F) -> Phase
where
    C: Clone + Send + 'static,
    F: Fn(C, usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (w, client) in clients.iter().enumerate() {
        let (client, stop, next, op) = (client.clone(), stop.clone(), next.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if total.is_some_and(|t| i >= t) {
                    break;
                }
                let t0 = Instant::now();
                match op(client.clone(), w, i).await {
                    // Saturating: a latency over an hour counts as u32::MAX µs.
                    Some(true) => lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Some(false) => {} // counted elsewhere (writes in a read phase)
                    None => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    if let Some(s) = seconds {
        tokio::time::sleep(Duration::from_secs(s)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut phase = Phase::default();
    for t in tasks {
        let (lat, errors) = t.await.expect("worker");
        phase.latencies_us.extend(lat);
        phase.errors += errors;
    }
    phase.elapsed = start.elapsed();
    phase
}

/// One side of a comparison, summed over the rounds: its requests, its process's CPU time and
/// the load generator's own CPU time while it was measured.
#[derive(Default)]
struct Side {
    phase: Phase,
    /// CPU time of the process answering (bare handler, server or Redis), nanoseconds.
    cpu_ns: u64,
    /// CPU time of this process (the load generator), nanoseconds.
    client_cpu_ns: u64,
    /// Requests answered but not counted as GETs (the mix's PUTs).
    others: usize,
}

impl Side {
    fn rate(&self) -> f64 {
        self.phase.rate()
    }
    fn requests(&self) -> usize {
        self.phase.latencies_us.len() + self.others
    }
    /// Server and load-generator CPU per request, in µs.
    fn cpu_per_request(&self) -> (f64, f64) {
        (micros_per_request(self.cpu_ns, self.requests()), micros_per_request(self.client_cpu_ns, self.requests()))
    }
}

/// Measure one phase of `seconds` on `clients`, charging `pid`'s CPU time to it, and add it to
/// `side`; returns the phase's GET rate (for the per-round ratios).
async fn measure<C, F, Fut>(side: &mut Side, clients: &[C], seconds: u64, pid: u32, op: F) -> f64
where
    C: Clone + Send + 'static,
    F: Fn(C, usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Option<bool>> + Send,
{
    let me = std::process::id();
    let (s0, c0) = (cpu_ns(pid), cpu_ns(me));
    let phase = drive(clients, Some(seconds), None, op).await;
    side.cpu_ns += cpu_ns(pid).saturating_sub(s0);
    side.client_cpu_ns += cpu_ns(me).saturating_sub(c0);
    let rate = phase.rate();
    side.phase.absorb(phase);
    rate
}

/// A percentage of `a` over `b`.
fn pct_of(a: f64, b: f64) -> f64 {
    a / b * 100.0
}

async fn data_plane(args: &Args, bin: &Path, work: &Path, database: Option<&str>) -> Result<()> {
    println!("# edgeward-loadtest --data-plane\n");
    // First, so that a missing redis-server fails the run before any setup.
    let redis = redis_baseline::RedisServer::start(&args.redis_server, work).await?;
    println!("- database: {}", database.map_or("SQLite", |_| "PostgreSQL (a fresh database)"));
    let conns = args.connections.unwrap_or(32);
    println!(
        "- machine: {} cores (shared by the load generator and every server); connections: {conns}; items: {}; tokens: {}; phase length: {} s, each after {} s of warm-up",
        std::thread::available_parallelism()?,
        args.items,
        args.distinct_tokens,
        args.seconds,
        args.warmup
    );
    let mut baseline = Command::new(std::env::current_exe()?).arg("--serve-baseline").stdout(Stdio::piped()).spawn()?;
    let mut line = String::new();
    BufReader::new(baseline.stdout.take().expect("piped")).read_line(&mut line)?;
    let baseline_addr = line.trim().to_owned();
    let mut settings = String::new();
    if let Some(mb) = args.item_cache_mb {
        settings.push_str(&format!("item_cache_mb = {mb}\n"));
    }
    if let Some(n) = args.data_plane_threads {
        settings.push_str(&format!("threads = {n}\n"));
    }
    let config = if settings.is_empty() {
        None
    } else {
        let path = work.join("edgeward.toml");
        std::fs::write(&path, format!("[data_plane]\n{settings}"))?;
        Some(path)
    };
    println!(
        "- server's data-plane threads: {}",
        args.data_plane_threads.map_or("the default (0, the main runtime)".to_owned(), |n| match n {
            0 => "0 (the main runtime)".to_owned(),
            n => n.to_string(),
        })
    );
    let server = start_server(bin, &work.join("data"), config.as_deref(), database)?;
    let edgerc = Edgerc::load(&server.data_dir.join("edgerc"), "default")?;
    let signer = Signer { edgerc, settings: Settings::default() };
    let admin = http_client(&server.data_dir.join("tls/cert.pem"))?;
    // Tokens: half auto-refreshing (by reference), half expiring (by value).
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(90)).to_string();
    let mut auth: Vec<(&'static str, String)> = Vec::new();
    for i in 0..args.distinct_tokens {
        let e = if i % 2 == 0 { "" } else { expiry.as_str() };
        let body = format!(
            r#"{{"name":"dp{i}","allowOnProduction":true,"allowOnStaging":false,"restrictToEwids":["all"],"expiry":"{e}","namespacePermissions":{{"default":["r","w"]}}}}"#
        )
        .into_bytes();
        let t = create_token(&admin, &signer, body).await?;
        auth.push(match t["value"].as_str() {
            Some(v) => ("x-akamai-edgedb-auth", v.to_owned()),
            None => ("x-akamai-edgedb-auth-ref", t["uuid"].as_str().context("token uuid")?.to_owned()),
        });
    }
    let auth = Arc::new(auth);
    // The same paths on both HTTP sides; each side has its own connections.
    const ITEMS: &str = "/api/v1/namespaces/default/groups/g/items";
    const HOT: &str = "/api/v1/namespaces/default/groups/g/items/hot";
    let clients = Conn::open_many(&server.data_addr, conns).await?;
    let bare_clients = Conn::open_many(&baseline_addr, conns).await?;
    let items = args.items;
    let value = Bytes::from("v".repeat(100));
    let (a, v) = (auth.clone(), value.clone());
    // Items k0..k{items-1}, then the hot item `hot` (never written by the mix, so once read it
    // stays in the server's item cache).
    let fill = drive(&clients, None, Some(items + 1), move |c: Conn, _, i| {
        let (a, v) = (a.clone(), v.clone());
        async move {
            let (h, t) = &a[i % a.len()];
            let key = if i == items { "hot".to_owned() } else { format!("k{i}") };
            let status = c.send(Method::PUT, &format!("{ITEMS}/{key}"), (h, t), v).await?;
            (status == 200).then_some(true)
        }
    })
    .await;
    println!(
        "- filled {} items at {:.0}/s ({} errors); server RSS {:.1} MB",
        fill.latencies_us.len(),
        fill.rate(),
        fill.errors,
        rss_kib(server.pid, "VmRSS:") as f64 / 1024.0
    );
    let redis_keys = redis
        .fill(
            (0..items).map(|i| format!("k{i}")).chain(std::iter::once("hot".to_owned())),
            std::str::from_utf8(&value)?,
        )
        .await?;
    let redis_conns = redis.connections(conns).await?;
    println!(
        "- Redis baseline: {} (its own process, 127.0.0.1, requirepass, no persistence), {redis_keys} keys of the same names and 100-byte values; GET with AUTH once per connection, over {conns} connections (the `redis` crate's tokio connections, one per load-generator worker, one command in flight each, no pipelining)",
        redis.version
    );
    println!(
        "- load generator: one thread; HTTP sides through hyper's HTTP/1.1 client connections (one per worker, keep-alive, one request in flight each)"
    );
    // The token a request carries: the same spread over the tokens on every side.
    let token = |i: usize, w: usize| (i.wrapping_mul(2_654_435_761) ^ w) % 1_000_003;
    // The cached item: authorized GET of `hot`, sent to the bare baseline and to the server alike.
    let hot_op = {
        let a = auth.clone();
        move |c: Conn, w: usize, i: usize| {
            let a = a.clone();
            async move {
                let (h, t) = &a[token(i, w) % a.len()];
                let status = c.send(Method::GET, HOT, (h, t), Bytes::new()).await?;
                (status == 200).then_some(true)
            }
        }
    };
    let bare_hot_op = hot_op.clone();
    // Redis: GET of the one key, which must come back with its 100 bytes.
    let redis_get = |mut c: redis::aio::MultiplexedConnection, _: usize, _: usize| async move {
        let v: Option<Vec<u8>> = redis::cmd("GET").arg("hot").query_async(&mut c).await.ok()?;
        (v?.len() == 100).then_some(true)
    };
    // One 98 % GET / 2 % PUT mix, sent to the bare baseline and to the server alike.
    let mix = |writes: Arc<AtomicUsize>| {
        let (a, v) = (auth.clone(), value.clone());
        move |c: Conn, w: usize, i: usize| {
            let (a, v, writes) = (a.clone(), v.clone(), writes.clone());
            async move {
                let x = token(i, w);
                let (h, t) = &a[x % a.len()];
                let path = format!("{ITEMS}/k{}", x % items);
                if i.is_multiple_of(50) {
                    let status = c.send(Method::PUT, &path, (h, t), v).await?;
                    writes.fetch_add(1, Ordering::Relaxed);
                    return (status == 200).then_some(false);
                }
                let status = c.send(Method::GET, &path, (h, t), Bytes::new()).await?;
                (status == 200).then_some(true)
            }
        }
    };
    let writes = Arc::new(AtomicUsize::new(0));
    let bare_writes = Arc::new(AtomicUsize::new(0));
    let bare_op = mix(bare_writes.clone());
    let mixed_op = mix(writes.clone());
    if args.warmup > 0 {
        // The server's warm-up reads `hot` into its item cache.
        drive(&bare_clients, Some(args.warmup), None, bare_hot_op.clone()).await;
        let warm_hot = drive(&clients, Some(args.warmup), None, hot_op.clone()).await;
        let warm_redis = drive(&redis_conns, Some(args.warmup), None, redis_get).await;
        drive(&bare_clients, Some(args.warmup), None, bare_op.clone()).await;
        let warm = drive(&clients, Some(args.warmup), None, mixed_op.clone()).await;
        if warm.errors + warm_hot.errors > 0 {
            bail!("{} requests to the server failed while warming up", warm.errors + warm_hot.errors);
        }
        if warm_redis.errors > 0 {
            bail!("{} Redis GETs failed while warming up", warm_redis.errors);
        }
        writes.store(0, Ordering::Relaxed);
    }
    bare_writes.store(0, Ordering::Relaxed);
    // Alternate the five phases, so that drift on the machine hits every side alike.
    let (mut bare_hot, mut server_hot, mut redis_hot) = (Side::default(), Side::default(), Side::default());
    let (mut bare, mut mixed) = (Side::default(), Side::default());
    let (mut hot_vs_bare, mut hot_vs_redis, mut mix_vs_bare) = (Vec::new(), Vec::new(), Vec::new());
    let secs = args.seconds;
    for _ in 0..args.rounds.max(1) {
        let bh = measure(&mut bare_hot, &bare_clients, secs, baseline.id(), bare_hot_op.clone()).await;
        let sh = measure(&mut server_hot, &clients, secs, server.pid, hot_op.clone()).await;
        let rh = measure(&mut redis_hot, &redis_conns, secs, redis.pid, redis_get).await;
        let bm = measure(&mut bare, &bare_clients, secs, baseline.id(), bare_op.clone()).await;
        let sm = measure(&mut mixed, &clients, secs, server.pid, mixed_op.clone()).await;
        hot_vs_bare.push(format!("{:.0}%", pct_of(sh, bh)));
        hot_vs_redis.push(format!("{:.0}%", pct_of(sh, rh)));
        mix_vs_bare.push(format!("{:.0}%", pct_of(sm, bm)));
    }
    bare.others = bare_writes.load(Ordering::Relaxed);
    mixed.others = writes.load(Ordering::Relaxed);
    let (bhr, shr, rhr) = (bare_hot.rate(), server_hot.rate(), redis_hot.rate());
    let (bh99, sh99, rh99) = (bare_hot.phase.pct(0.99), server_hot.phase.pct(0.99), redis_hot.phase.pct(0.99));
    let (br, mr) = (bare.rate(), mixed.rate());
    let (b99, m99) = (bare.phase.pct(0.99), mixed.phase.pct(0.99));
    println!(
        "- {} alternating rounds of {secs} s for each of five phases; per round: cached item / bare {}; cached item / Redis {}; mix / bare {}",
        args.rounds.max(1),
        hot_vs_bare.join(", "),
        hot_vs_redis.join(", "),
        mix_vs_bare.join(", ")
    );
    let cached = if args.item_cache_mb == Some(0) { " (item cache off: read from the database)" } else { "" };
    println!(
        "- cached item, the same requests on each HTTP side: bare axum handler (constant string) {bhr:.0} GETs/s, p99 {bh99:.2} ms; authorized GET of one item{cached} {shr:.0}/s, p99 {sh99:.2} ms, errors {}; Redis GET of one key {rhr:.0}/s, p99 {rh99:.2} ms, errors {}",
        server_hot.phase.errors,
        redis_hot.phase.errors
    );
    println!(
        "- 98/2 mix, the same requests on both sides: bare axum handler {br:.0} GETs/s, p99 {b99:.2} ms; authorized GETs over {} tokens {mr:.0}/s (plus {} PUTs), p99 {m99:.2} ms, errors {}",
        args.distinct_tokens,
        mixed.others,
        mixed.phase.errors
    );
    let cpu = |s: &Side| {
        let (server, client) = s.cpu_per_request();
        format!("{server:.1} µs (load generator {client:.1} µs)")
    };
    println!(
        "- CPU per request, the side's process (and the load generator's own): cached item: bare handler {}, server {}, Redis {}; mix (GET or PUT): bare handler {}, server {}",
        cpu(&bare_hot),
        cpu(&server_hot),
        cpu(&redis_hot),
        cpu(&bare),
        cpu(&mixed)
    );
    println!(
        "- server RSS at the end: {:.1} MB (peak {:.1} MB)",
        rss_kib(server.pid, "VmRSS:") as f64 / 1024.0,
        rss_kib(server.pid, "VmHWM:") as f64 / 1024.0
    );
    let (mix_target, backend) = if database.is_some() { (80.0, "PostgreSQL") } else { (85.0, "SQLite") };
    let at_size = if items == 100_000 && args.distinct_tokens == 1_000 {
        String::new()
    } else {
        format!(" (measured at {items} items, {} tokens: not the target's size)", args.distinct_tokens)
    };
    println!(
        "\n| target ({backend}, {conns} connections) | Edgeward | baseline | ratio | verdict |\n|---|---|---|---|---|"
    );
    let r = pct_of(shr, bhr);
    println!(
        "| authorized GET of a cached item ≥ 90 % of the bare handler | {shr:.0}/s | {bhr:.0}/s | {r:.1} % | {} |",
        verdict(r >= 90.0)
    );
    let r = pct_of(shr, rhr);
    println!(
        "| authorized GET of a cached item ≥ 100 % of Redis GET with AUTH (same connections) | {shr:.0}/s | {rhr:.0}/s | {r:.1} % | {} |",
        verdict(r >= 100.0)
    );
    let r = pct_of(mr, br);
    println!(
        "| 98/2 mix with 100,000 items and 1,000 tokens ≥ {mix_target:.0} % of the bare handler | {mr:.0} GETs/s | {br:.0} GETs/s | {r:.1} % | {}{at_size} |",
        verdict(r >= mix_target)
    );
    let r = m99 / b99;
    println!(
        "| mix p99 ≤ 1.2× the bare handler's own p99 | {m99:.2} ms | {b99:.2} ms | {r:.2}× | {}{at_size} |",
        verdict(r <= 1.2)
    );
    let _ = baseline.kill();
    let _ = baseline.wait();
    drop(redis);
    let failed = fill.errors + server_hot.phase.errors + mixed.phase.errors;
    if failed > 0 {
        bail!("{failed} requests to the server failed");
    }
    if redis_hot.phase.errors > 0 {
        bail!("{} Redis GETs failed", redis_hot.phase.errors);
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = if args.data_plane {
        // The data plane's load generator is one thread, as redis-benchmark's is: its 32
        // connections' workers share it, so the client's cost is what one thread pays.
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        // The bare baseline runs on the runtime the server uses (tokio's multi-thread default);
        // the admin API's load generator signs and encrypts, on every core as before.
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    if args.serve_baseline {
        return serve_baseline().await;
    }
    if args.notify_check {
        let work = match &args.work_dir {
            Some(d) => {
                std::fs::create_dir_all(d).with_context(|| format!("creating --work-dir {}", d.display()))?;
                tempfile::tempdir_in(d)?
            }
            None => tempfile::tempdir_in(".")?,
        };
        return notify_bench::run(work.path(), args.check_tokens, args.check_due).await;
    }
    let bin = match args.bin.clone() {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("edgeward"),
    };
    if !bin.exists() {
        bail!("{} not found: run `cargo build --release -p edgeward` first", bin.display());
    }
    let work = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating --work-dir {}", d.display()))?;
            tempfile::tempdir_in(d)?
        }
        None => tempfile::tempdir_in(".")?,
    };
    let db = match &args.database {
        Some(admin) => Some(postgres::BenchDatabase::create(admin).await?),
        None => None,
    };
    let database = db.as_ref().map(|d| d.url.clone());
    let result = if args.console {
        console_bench::run(
            &bin,
            work.path(),
            database.as_deref(),
            args.tokens,
            args.connections.unwrap_or(4),
            args.seconds,
        )
        .await
    } else if args.revocation_delay {
        revocation_delay(&args, &bin, work.path(), database.as_deref()).await
    } else if args.data_plane {
        data_plane(&args, &bin, work.path(), database.as_deref()).await
    } else {
        admin_api(&args, &bin, work.path(), database.as_deref()).await
    };
    if let Some(db) = db {
        db.drop_now().await?;
    }
    result
}

async fn admin_api(args: &Args, bin: &Path, work: &Path, database: Option<&str>) -> Result<()> {
    println!("# edgeward-loadtest\n");
    let conns = args.connections.unwrap_or(16);
    println!(
        "- machine: {} cores; connections: {conns}; tokens: {}; phase length: {} s; database: {}",
        std::thread::available_parallelism()?,
        args.tokens,
        args.seconds,
        database.map_or("SQLite", |_| "PostgreSQL (a fresh database)")
    );

    let (baseline_rate, baseline_name) = match database {
        None => {
            let r = sqlite_baseline(work, args.sqlite_seconds)?;
            println!("- raw durable SQLite commits on the same disk (WAL, synchronous=FULL, 1 row/commit): {r:.0}/s");
            (r, "raw durable SQLite commits".to_owned())
        }
        Some(url) => {
            let one = postgres::commit_baseline(url, args.sqlite_seconds, 1).await?;
            let many = postgres::commit_baseline(url, args.sqlite_seconds, conns).await?;
            println!(
                "- raw durable PostgreSQL commits (1 row/commit): {one:.0}/s on 1 connection, {many:.0}/s over {conns}"
            );
            (many, format!("raw durable PostgreSQL commits over {conns} connections"))
        }
    };

    let server = start_server(bin, &work.join("data"), None, database)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(server.pid, "VmRSS:");
    let idle_hwm = rss_kib(server.pid, "VmHWM:");
    println!("- idle server: RSS {:.1} MB, peak RSS {:.1} MB", idle_rss as f64 / 1024.0, idle_hwm as f64 / 1024.0);

    let edgerc = Edgerc::load(&server.data_dir.join("edgerc"), "default")?;
    let signer = Signer { edgerc, settings: Settings::default() };
    let cert = server.data_dir.join("tls/cert.pem");
    let clients: Vec<_> = (0..args.connections.unwrap_or(16)).map(|_| http_client(&cert)).collect::<Result<_>>()?;
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(90)).to_string();

    let mut create = create_phase(&clients, &signer, args.tokens, &expiry).await;
    let create_rate = create.rate();
    let (c50, c99) = (create.pct(0.50), create.pct(0.99));
    let after_rss = rss_kib(server.pid, "VmRSS:");
    let after_hwm = rss_kib(server.pid, "VmHWM:");
    println!(
        "- token creation ({} expiring tokens, signed value sealed at rest, durable): {create_rate:.0}/s, p50 {c50:.2} ms, p99 {c99:.2} ms, errors {}",
        create.latencies_us.len(),
        create.errors
    );
    println!("- after creation: RSS {:.1} MB, peak RSS {:.1} MB", after_rss as f64 / 1024.0, after_hwm as f64 / 1024.0);

    let names: Arc<Vec<String>> =
        Arc::new((0..args.tokens.min(10_000)).map(|i| format!("/edgekv/v1/tokens/t{i}")).collect());
    let health = if args.retrieval_only { names.clone() } else { Arc::new(vec!["/healthz".to_owned()]) };
    // Warm both paths, then measure them in alternating halves so drift hits both equally.
    get_phase(&clients, &signer, 1, health.clone()).await;
    let half = (args.seconds / 2).max(1);
    let mut h = Phase::default();
    let mut g = Phase::default();
    // The server's CPU time in each kind of phase: per request, it is what the server spends,
    // whatever share of the two cores the load generator takes.
    let (mut h_cpu, mut g_cpu) = (0u64, 0u64);
    for _ in 0..2 {
        let t0 = cpu_ns(server.pid);
        let mut a = get_phase(&clients, &signer, half, health.clone()).await;
        let t1 = cpu_ns(server.pid);
        let mut b = get_phase(&clients, &signer, half, names.clone()).await;
        let t2 = cpu_ns(server.pid);
        h_cpu += t1.saturating_sub(t0);
        g_cpu += t2.saturating_sub(t1);
        h.latencies_us.append(&mut a.latencies_us);
        h.errors += a.errors;
        h.elapsed += a.elapsed;
        g.latencies_us.append(&mut b.latencies_us);
        g.errors += b.errors;
        g.elapsed += b.elapsed;
    }
    let (hr, gr) = (h.rate(), g.rate());
    let (h99, g99) = (h.pct(0.99), g.pct(0.99));
    println!("- /healthz over the same connections: {hr:.0}/s, p99 {h99:.2} ms, errors {}", h.errors);
    println!(
        "- retrieval by name (GET /edgekv/v1/tokens/{{name}}, value unsealed): {gr:.0}/s, p99 {g99:.2} ms, errors {}",
        g.errors
    );
    println!(
        "- server CPU per request: /healthz {:.1} µs, retrieval {:.1} µs",
        micros_per_request(h_cpu, h.latencies_us.len()),
        micros_per_request(g_cpu, g.latencies_us.len())
    );
    let final_hwm = rss_kib(server.pid, "VmHWM:");

    println!("\n| target | measured | verdict |\n|---|---|---|");
    println!(
        "| creation ≥ 2,000/s at {} connections | {create_rate:.0}/s | {} |",
        args.connections.unwrap_or(16),
        verdict(create_rate >= 2000.0)
    );
    let ratio = create_rate / baseline_rate;
    println!(
        "| creation ≥ 40% of {baseline_name} ({baseline_rate:.0}/s) | {:.0}% | {} |",
        ratio * 100.0,
        verdict(ratio >= 0.40)
    );
    println!("| creation p99 ≤ 25 ms | {c99:.2} ms | {} |", verdict(c99 <= 25.0));
    let gratio = gr / hr;
    println!(
        "| retrieval ≥ 50% of /healthz ({hr:.0}/s) | {:.0}% ({gr:.0}/s) | {} |",
        gratio * 100.0,
        verdict(gratio >= 0.50)
    );
    println!("| idle peak RSS ≤ 64 MB | {:.1} MB | {} |", idle_hwm as f64 / 1024.0, verdict(idle_hwm <= 64 * 1024));
    println!(
        "| peak RSS after {} tokens ≤ 128 MB | {:.1} MB (end of run: {:.1} MB) | {} |",
        create.latencies_us.len(),
        after_hwm as f64 / 1024.0,
        final_hwm as f64 / 1024.0,
        verdict(after_hwm <= 128 * 1024 && create.latencies_us.len() >= 100_000)
    );
    if create.errors + h.errors + g.errors > 0 {
        bail!("{} requests failed", create.errors + h.errors + g.errors);
    }
    Ok(())
}

/// Two servers on one database: revoke tokens one at a time on A and time how long B's data
/// plane (which had each token's grant cached) still accepts them.
async fn revocation_delay(args: &Args, bin: &Path, work: &Path, database: Option<&str>) -> Result<()> {
    println!("# edgeward-loadtest --revocation-delay\n");
    let dir = work.join("data");
    let a = start_server(bin, &dir, None, database)?;
    // Each start points the data directory's edgerc at itself: read A's before B starts.
    let edgerc = Edgerc::load(&dir.join("edgerc"), "default")?;
    let b = start_server(bin, &dir, None, database)?;
    let signer = Signer { edgerc, settings: Settings::default() };
    let admin = http_client(&dir.join("tls/cert.pem"))?;
    let data = reqwest::Client::builder().http1_only().build()?;
    println!(
        "- two servers on one {} database, change feed polled every 1000 ms (the default){}; {} tokens revoked one at a time, each at a random point (0-1000 ms) after B cached it",
        database.map_or("SQLite", |_| "PostgreSQL"),
        database.map_or("", |_| ", LISTEN/NOTIFY on"),
        args.revocations
    );
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let item = |addr: &str| format!("http://{addr}/api/v1/namespaces/default/groups/g/items/probe");
    let mut delays_us = Vec::with_capacity(args.revocations);
    for i in 0..args.revocations {
        let name = format!("rv{i}");
        let body = String::from_utf8(create_body(&name, &expiry))?
            .replace(r#""allowOnProduction":false"#, r#""allowOnProduction":true"#);
        let t = create_token(&admin, &signer, body.into_bytes()).await?;
        let value = t["value"].as_str().context("token value")?.to_owned();
        // B verifies the token once and caches its grant.
        let s = data.get(item(&b.data_addr)).header("x-akamai-edgedb-auth", &value).send().await?.status();
        if s != 404 && s != 200 {
            bail!("B refused a live token: {s}");
        }
        // At a random point of the follower's poll cycle (else every revocation would fall at the
        // same phase of it, just after the poll that saw the previous one).
        let jitter = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into()?) % 1000;
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        let path = format!("/edgekv/v1/tokens/{name}");
        let auth = signer.auth("DELETE", &path, b"");
        let r =
            admin.delete(format!("https://{}{path}", signer.edgerc.host)).header("authorization", auth).send().await?;
        if !r.status().is_success() {
            bail!("revocation failed: {}", r.status());
        }
        let revoked = Instant::now();
        loop {
            let s = data.get(item(&b.data_addr)).header("x-akamai-edgedb-auth", &value).send().await?.status();
            if s == 401 {
                break;
            }
            if revoked.elapsed() > Duration::from_secs(30) {
                bail!("B still accepts a token revoked 30 s ago");
            }
        }
        delays_us.push(u32::try_from(revoked.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    let mut phase = Phase { latencies_us: delays_us, ..Default::default() };
    let (p50, p99) = (phase.pct(0.50), phase.pct(0.99));
    let max = phase.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0;
    println!("- revoked on A, refused by B after: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms");
    println!("\n| measurement | p50 | p99 | max | bound |\n|---|---|---|---|---|");
    println!("| revocation on A → 401 on B | {p50:.1} ms | {p99:.1} ms | {max:.1} ms | 1000 ms poll + one feed read |");
    drop(a);
    Ok(())
}
