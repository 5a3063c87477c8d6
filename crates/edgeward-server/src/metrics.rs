//! Prometheus metrics, served at `/metrics` (on the admin listener, or on `metrics.addr`).
//! Every metric, its labels and example alerts: `docs/metrics.md`.
//!
//! **Invariant:** label values are chosen by the server, never by a client: route templates (not
//! paths), method names (any other method is `other`), status classes, refusal reasons, token
//! kinds and expiry buckets. No namespace, group, item, token name, value or reference is a label,
//! so the number of series does not grow with what clients send.
//!
//! Recording a request is on the data plane's hot path, so it allocates nothing and takes no
//! lock once a route has been seen: each listener resolves a route template to its series once
//! ([`ListenerMetrics`]), a series' histogram per method and status class is a handle kept after
//! its first use, and [`LatencyHistogram`] counts with atomics. What costs a query or a scan
//! (tokens by expiry, connection pools) is read when `/metrics` is scraped ([`Metrics::refresh`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use edgeward_core::store::{LiveTokenCounts, PoolStats};

use crate::dataplane::Refusal;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `admin`, `data` or `metrics`.
    pub listener: &'static str,
    /// The matched route template, or `unmatched`.
    pub route: &'static str,
    /// HTTP method: one of the standard ones, or `other` (see [`method_label`]).
    pub method: &'static str,
    /// Status code.
    pub status: u16,
}

/// Labels of the request-duration histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    /// `admin`, `data` or `metrics`.
    pub listener: &'static str,
    /// The matched route template, or `unmatched`.
    pub route: &'static str,
    /// HTTP method: one of the standard ones, or `other`.
    pub method: &'static str,
    /// `1xx` … `5xx`.
    pub status_class: &'static str,
}

/// The methods that are their own label value; any other is `other` (the last index).
const METHODS: [&str; 10] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other"];

fn method_index(m: &http::Method) -> usize {
    METHODS.iter().position(|&name| name == m.as_str()).unwrap_or(METHODS.len() - 1)
}

/// A method as a label value: the standard methods by name, any other as `other`, so that
/// clients cannot add series by making up methods.
pub fn method_label(m: &http::Method) -> &'static str {
    METHODS[method_index(m)]
}

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// A status's class as an index of `CLASSES` (the server sends no status outside 100–599;
/// anything else would count as `5xx`).
fn class_index(status: u16) -> usize {
    usize::from(status / 100).saturating_sub(1).min(CLASSES.len() - 1)
}

/// The upper bounds of the latency buckets, in nanoseconds: 100 µs to 10 s. The data plane
/// answers from memory in well under a millisecond, the admin API in milliseconds.
const BOUNDS_NANOS: [u64; 16] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

#[derive(Debug)]
struct LatencyCounts {
    /// Per bucket (not cumulative), the last one above every bound (`+Inf`).
    buckets: [AtomicU64; BOUNDS_NANOS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A histogram of durations in seconds, with fixed buckets ([`BOUNDS_NANOS`]), counted with
/// atomics (prometheus-client's `Histogram` takes a write lock per observation). Clones share
/// their counts.
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Arc<LatencyCounts>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self(Arc::new(LatencyCounts {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }))
    }
}

impl LatencyHistogram {
    /// Count one duration: two atomic additions, no allocation, no lock.
    pub fn observe(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        self.0.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.0.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let counts: Vec<u64> = self.0.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let bounds = BOUNDS_NANOS.iter().map(|&n| seconds(n)).chain(std::iter::once(f64::MAX));
        let buckets: Vec<(f64, u64)> = bounds.zip(counts.iter().copied()).collect();
        let sum = seconds(self.0.sum_nanos.load(Ordering::Relaxed));
        encoder.encode_histogram::<()>(sum, counts.iter().sum(), &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[allow(clippy::cast_precision_loss, reason = "a duration in seconds, for display")]
fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

type LatencyFamily = Family<LatencyLabels, LatencyHistogram>;

/// One route's series on one listener for one method and status class: the histogram, and the
/// request counter of the first exact status seen (nearly always the only one: a data-plane GET
/// answers 200); another status's counter is looked up in its family.
struct Slot {
    latency: LatencyHistogram,
    first_status: (u16, Counter),
}

/// One route's series on one listener, each resolved at its first use.
struct RouteSeries {
    route: &'static str,
    slots: [[OnceLock<Slot>; CLASSES.len()]; METHODS.len()],
}

impl RouteSeries {
    fn new(route: &'static str) -> Self {
        Self { route, slots: Default::default() }
    }
}

/// What one listener records its requests into: the route templates it knows from the start
/// (resolved without a lock), and those seen later, each resolved once.
pub struct ListenerMetrics {
    listener: &'static str,
    known: Vec<RouteSeries>,
    unmatched: RouteSeries,
    later: RwLock<HashMap<&'static str, Arc<RouteSeries>>>,
    latency: LatencyFamily,
    requests: Family<HttpLabels, Counter>,
}

/// The most route templates interned (see [`intern_route`]); templates come from the code, so
/// this is never reached unless something puts raw paths here by mistake.
const MAX_ROUTES: usize = 1024;

/// A route template as a `&'static str` label value. Templates are the routers' own (a fixed
/// set in the code), so each is leaked once per process and reused by every router built after.
fn intern_route(template: &str) -> &'static str {
    static TEMPLATES: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut set = TEMPLATES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = set.get(template) {
        return known;
    }
    if set.len() >= MAX_ROUTES {
        return "other";
    }
    let leaked: &'static str = Box::leak(template.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

impl ListenerMetrics {
    /// The listener's label value.
    pub fn listener(&self) -> &'static str {
        self.listener
    }

    fn series(&self, route: Option<&str>) -> SeriesRef<'_> {
        let Some(route) = route else { return SeriesRef::Known(&self.unmatched) };
        if let Some(s) = self.known.iter().find(|s| s.route == route) {
            return SeriesRef::Known(s);
        }
        if let Some(s) = self.later.read().unwrap_or_else(|e| e.into_inner()).get(route) {
            return SeriesRef::Later(s.clone());
        }
        let interned = intern_route(route);
        let mut later = self.later.write().unwrap_or_else(|e| e.into_inner());
        SeriesRef::Later(later.entry(interned).or_insert_with(|| Arc::new(RouteSeries::new(interned))).clone())
    }

    /// Record one request: its matched route template (`None`: no route matched), method,
    /// final status and how long it took.
    pub fn record(&self, route: Option<&str>, method: &http::Method, status: u16, elapsed: Duration) {
        let series = self.series(route);
        let series = series.get();
        let (m, c) = (method_index(method), class_index(status));
        let counter_labels = HttpLabels { listener: self.listener, route: series.route, method: METHODS[m], status };
        let slot = series.slots[m][c].get_or_init(|| {
            let labels = LatencyLabels {
                listener: self.listener,
                route: series.route,
                method: METHODS[m],
                status_class: CLASSES[c],
            };
            Slot {
                latency: self.latency.get_or_create(&labels).clone(),
                first_status: (status, self.requests.get_or_create(&counter_labels).clone()),
            }
        });
        slot.latency.observe(elapsed);
        if slot.first_status.0 == status {
            slot.first_status.1.inc();
        } else {
            self.requests.get_or_create(&counter_labels).inc();
        }
    }
}

enum SeriesRef<'a> {
    Known(&'a RouteSeries),
    Later(Arc<RouteSeries>),
}

impl SeriesRef<'_> {
    fn get(&self) -> &RouteSeries {
        match self {
            SeriesRef::Known(s) => s,
            SeriesRef::Later(s) => s,
        }
    }
}

/// Labels of the authentication-failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// Why: `malformed`, `inactive`, `timestamp`, `signature`, `replay`.
    pub reason: &'static str,
}

/// Labels of the data plane's refusal counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// [`Refusal::label`].
    pub reason: &'static str,
}

/// Labels of per-account gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    /// The account's CP code.
    pub cpcode: String,
}

/// Labels of the live-token gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LiveTokenLabels {
    /// `expiring` or `auto_refreshing`.
    pub kind: &'static str,
    /// `0-1`, `1-7`, `7-30`, `30+` (days, not overlapping), or `never` (auto-refreshing).
    pub days_to_expiry: &'static str,
}

/// Labels of the connection gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `read`, `write` (SQLite) or `main` (PostgreSQL).
    pub pool: &'static str,
    /// `in_use` or `idle`.
    pub state: &'static str,
}

/// Labels of the pool-size gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolMaxLabels {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `read`, `write` (SQLite) or `main` (PostgreSQL).
    pub pool: &'static str,
}

/// Labels of the writer-queue gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendLabels {
    /// `sqlite`.
    pub backend: &'static str,
}

/// Labels of `edgeward_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// The server's version (`CARGO_PKG_VERSION`).
    pub version: &'static str,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests served, by exact status.
    pub http_requests: Family<HttpLabels, Counter>,
    /// How long requests took, by status class (record through [`Metrics::listener`]).
    pub http_duration: Family<LatencyLabels, LatencyHistogram>,
    /// EdgeGrid authentication failures.
    pub auth_failures: Family<AuthLabels, Counter>,
    /// Data-plane refusals of a request's token, one counter per reason (index: `Refusal as usize`).
    refusals: Vec<Counter>,
    /// Tokens created.
    pub tokens_created: Counter,
    /// Tokens revoked.
    pub tokens_revoked: Counter,
    /// Seconds until the soonest-expiring live token expires (set when `/metrics` is read).
    pub soonest_token_expiry: Family<AccountLabels, Gauge>,
    /// Live tokens by kind and days to expiry (set when `/metrics` is read).
    pub live_tokens: Family<LiveTokenLabels, Gauge>,
    /// Database connections by pool and state (set when `/metrics` is read).
    pub db_connections: Family<PoolLabels, Gauge>,
    /// The most connections each pool keeps (set when `/metrics` is read).
    pub db_connections_max: Family<PoolMaxLabels, Gauge>,
    /// Writes waiting for SQLite's writer (set when `/metrics` is read).
    pub db_writer_queue: Family<BackendLabels, Gauge>,
    /// Seconds since this process's metrics began (set when `/metrics` is read).
    uptime: Gauge<f64, AtomicU64>,
    started: Instant,
    /// Panel notices delivered by expiry checks.
    pub notices_delivered: Counter,
    /// Expiry e-mails accepted by the SMTP server.
    pub emails_sent: Counter,
    /// Expiry e-mails given up on.
    pub emails_failed: Counter,
    /// Webhook events delivered.
    pub webhooks_sent: Counter,
    /// Webhook events given up on.
    pub webhooks_failed: Counter,
}

impl Metrics {
    /// The metrics of a server started at `started_at` (by the server's clock).
    pub fn new(started_at: chrono::DateTime<chrono::Utc>) -> Self {
        let mut registry = Registry::with_prefix("edgeward");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = LatencyFamily::default();
        let auth_failures = Family::<AuthLabels, Counter>::default();
        let tokens_created = Counter::default();
        let tokens_revoked = Counter::default();
        registry.register("http_requests", "HTTP requests served", http_requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival at the router to its response, by route template and status class",
            http_duration.clone(),
        );
        registry.register("auth_failures", "EdgeGrid authentication failures", auth_failures.clone());
        let refusal_family = Family::<RefusalLabels, Counter>::default();
        // Every reason exists from the start (at 0), so a rate over it is defined at once.
        let refusals = Refusal::ALL
            .iter()
            .map(|r| refusal_family.get_or_create(&RefusalLabels { reason: r.label() }).clone())
            .collect();
        registry.register(
            "dataplane_refusals",
            "Data-plane requests refused for their token (401) or its scope (403), by reason",
            refusal_family,
        );
        registry.register("tokens_created", "Access tokens created", tokens_created.clone());
        registry.register("tokens_revoked", "Access tokens revoked", tokens_revoked.clone());
        let soonest_token_expiry = Family::<AccountLabels, Gauge>::default();
        let (notices_delivered, emails_sent, emails_failed) =
            (Counter::default(), Counter::default(), Counter::default());
        registry.register(
            "soonest_token_expiry_seconds",
            "Seconds until the soonest-expiring live access token expires",
            soonest_token_expiry.clone(),
        );
        let live_tokens = Family::<LiveTokenLabels, Gauge>::default();
        registry.register(
            "live_tokens",
            "Live access tokens (not revoked, not expired, not replaced) by kind and days to expiry",
            live_tokens.clone(),
        );
        let db_connections = Family::<PoolLabels, Gauge>::default();
        let db_connections_max = Family::<PoolMaxLabels, Gauge>::default();
        let db_writer_queue = Family::<BackendLabels, Gauge>::default();
        registry.register("db_connections", "Database connections by pool and state", db_connections.clone());
        registry.register("db_connections_max", "The most connections each pool keeps", db_connections_max.clone());
        registry.register(
            "db_writer_queue",
            "Writes waiting for the SQLite writer (group commit)",
            db_writer_queue.clone(),
        );
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register("build_info", "The running server's version (always 1)", build_info);
        let start_time = Gauge::<f64, AtomicU64>::default();
        #[allow(clippy::cast_precision_loss, reason = "epoch milliseconds as seconds, for display")]
        start_time.set(started_at.timestamp_millis() as f64 / 1e3);
        registry.register("start_time_seconds", "When the server started, in seconds since the Unix epoch", start_time);
        let uptime = Gauge::<f64, AtomicU64>::default();
        registry.register("uptime_seconds", "Seconds since the server started (monotonic)", uptime.clone());
        registry.register(
            "notices_delivered",
            "Expiry notices delivered to notification panels",
            notices_delivered.clone(),
        );
        registry.register("expiry_emails_sent", "Expiry e-mails accepted by the SMTP server", emails_sent.clone());
        registry.register("expiry_emails_failed", "Expiry e-mails given up on", emails_failed.clone());
        let (webhooks_sent, webhooks_failed) = (Counter::default(), Counter::default());
        registry.register("webhook_events_sent", "Expiry webhook events delivered", webhooks_sent.clone());
        registry.register("webhook_events_failed", "Expiry webhook events given up on", webhooks_failed.clone());
        Self {
            registry,
            http_requests,
            http_duration,
            auth_failures,
            refusals,
            tokens_created,
            tokens_revoked,
            soonest_token_expiry,
            live_tokens,
            db_connections,
            db_connections_max,
            db_writer_queue,
            uptime,
            started: Instant::now(),
            notices_delivered,
            emails_sent,
            emails_failed,
            webhooks_sent,
            webhooks_failed,
        }
    }

    /// What the listener `listener` (`admin`, `data`, `metrics`) records its requests into,
    /// with its router's route templates `routes` resolved now (others are resolved at their
    /// first request).
    pub fn listener(&self, listener: &'static str, routes: &[&'static str]) -> Arc<ListenerMetrics> {
        Arc::new(ListenerMetrics {
            listener,
            known: routes.iter().map(|r| RouteSeries::new(r)).collect(),
            unmatched: RouteSeries::new("unmatched"),
            later: RwLock::default(),
            latency: self.http_duration.clone(),
            requests: self.http_requests.clone(),
        })
    }

    /// Count a data-plane refusal (an atomic addition).
    pub fn refused(&self, reason: Refusal) {
        if let Some(c) = self.refusals.get(reason as usize) {
            c.inc();
        }
    }

    /// Set what is read when `/metrics` is scraped: live tokens (`None`: unknown, the gauges
    /// are left out rather than stale), the store's pools, and the uptime.
    pub fn refresh(&self, tokens: Option<LiveTokenCounts>, pools: &PoolStats) {
        self.live_tokens.clear();
        if let Some(t) = tokens {
            let set = |kind, days_to_expiry, n: u64| {
                let labels = LiveTokenLabels { kind, days_to_expiry };
                self.live_tokens.get_or_create(&labels).set(i64::try_from(n).unwrap_or(i64::MAX));
            };
            set("auto_refreshing", "never", t.auto_refreshing);
            set("expiring", "0-1", t.within_1_day);
            set("expiring", "1-7", t.within_7_days);
            set("expiring", "7-30", t.within_30_days);
            set("expiring", "30+", t.later);
        }
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        for p in &pools.pools {
            let labels = |state| PoolLabels { backend: pools.backend, pool: p.pool, state };
            self.db_connections.get_or_create(&labels("in_use")).set(gauge(p.in_use));
            self.db_connections.get_or_create(&labels("idle")).set(gauge(p.idle));
            let labels = PoolMaxLabels { backend: pools.backend, pool: p.pool };
            self.db_connections_max.get_or_create(&labels).set(gauge(p.max));
        }
        if let Some(queued) = pools.writer_queue {
            self.db_writer_queue.get_or_create(&BackendLabels { backend: pools.backend }).set(gauge(queued));
        }
        self.uptime.set(self.started.elapsed().as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Metrics {
        Metrics::new(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap())
    }

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix} in:\n{text}"))
    }

    #[test]
    fn a_request_lands_in_its_bucket_under_its_route_template_and_status_class() {
        let m = metrics();
        let data = m.listener("data", &["/api/v1/namespaces/{ns}/groups/{group}/items/{item}"]);
        let route = Some("/api/v1/namespaces/{ns}/groups/{group}/items/{item}");
        data.record(route, &http::Method::GET, 200, Duration::from_micros(300));
        data.record(route, &http::Method::GET, 204, Duration::from_millis(20));
        data.record(route, &http::Method::from_bytes(b"BREW").unwrap(), 405, Duration::from_secs(30));
        data.record(None, &http::Method::GET, 404, Duration::from_micros(50));
        // A route not known up front is resolved at its first request.
        data.record(Some("/healthz"), &http::Method::GET, 200, Duration::from_micros(50));
        let text = m.render();
        let item = r#"listener="data",route="/api/v1/namespaces/{ns}/groups/{group}/items/{item}",method="GET",status_class="2xx""#;
        let bucket = |le: &str| {
            let prefix = format!(r#"edgeward_http_request_duration_seconds_bucket{{le="{le}",{item}}} "#);
            line(&text, &prefix).strip_prefix(&prefix).unwrap().to_owned()
        };
        assert_eq!([bucket("0.00025"), bucket("0.0005"), bucket("0.025"), bucket("+Inf")], ["0", "1", "2", "2"]);
        let count = line(
            &text,
            r#"edgeward_http_request_duration_seconds_count{listener="data",route="/api/v1/namespaces/{ns}/groups/{group}/items/{item}",method="other",status_class="4xx"}"#,
        );
        assert!(count.ends_with(" 1"), "{count}");
        assert!(text.contains(r#"edgeward_http_request_duration_seconds_count{listener="data",route="unmatched",method="GET",status_class="4xx"} 1"#), "{text}");
        assert!(text.contains(r#"edgeward_http_request_duration_seconds_count{listener="data",route="/healthz",method="GET",status_class="2xx"} 1"#), "{text}");
        assert!(text.contains(r#"edgeward_http_requests_total{listener="data",route="/api/v1/namespaces/{ns}/groups/{group}/items/{item}",method="GET",status="204"} 1"#), "{text}");
        let sum = line(
            &text,
            r#"edgeward_http_request_duration_seconds_sum{listener="data",route="/api/v1/namespaces/{ns}/groups/{group}/items/{item}",method="GET",status_class="2xx"}"#,
        );
        assert!(sum.ends_with(" 0.0203"), "{sum}");
    }

    #[test]
    fn every_refusal_reason_is_a_series_from_the_start() {
        let m = metrics();
        m.refused(Refusal::Expired);
        m.refused(Refusal::Expired);
        let text = m.render();
        for r in Refusal::ALL {
            let n = if r == Refusal::Expired { 2 } else { 0 };
            let want = format!(r#"edgeward_dataplane_refusals_total{{reason="{}"}} {n}"#, r.label());
            assert!(text.contains(&want), "{want} in:\n{text}");
        }
    }

    #[test]
    fn scrape_time_gauges_and_build_info() {
        let m = metrics();
        let tokens =
            LiveTokenCounts { auto_refreshing: 2, within_1_day: 1, within_7_days: 0, within_30_days: 3, later: 4 };
        let pools = PoolStats {
            backend: "sqlite",
            pools: vec![edgeward_core::store::PoolUsage { pool: "read", in_use: 1, idle: 3, max: 4 }],
            writer_queue: Some(5),
        };
        m.refresh(Some(tokens), &pools);
        let text = m.render();
        for want in [
            r#"edgeward_live_tokens{kind="auto_refreshing",days_to_expiry="never"} 2"#,
            r#"edgeward_live_tokens{kind="expiring",days_to_expiry="0-1"} 1"#,
            r#"edgeward_live_tokens{kind="expiring",days_to_expiry="1-7"} 0"#,
            r#"edgeward_live_tokens{kind="expiring",days_to_expiry="7-30"} 3"#,
            r#"edgeward_live_tokens{kind="expiring",days_to_expiry="30+"} 4"#,
            r#"edgeward_db_connections{backend="sqlite",pool="read",state="in_use"} 1"#,
            r#"edgeward_db_connections{backend="sqlite",pool="read",state="idle"} 3"#,
            r#"edgeward_db_connections_max{backend="sqlite",pool="read"} 4"#,
            r#"edgeward_db_writer_queue{backend="sqlite"} 5"#,
            &format!(r#"edgeward_build_info{{version="{}"}} 1"#, env!("CARGO_PKG_VERSION")),
            "edgeward_start_time_seconds 1800000000",
            "edgeward_uptime_seconds ",
        ] {
            assert!(text.contains(want), "{want} in:\n{text}");
        }
        // Unknown token counts leave the gauges out rather than stale.
        m.refresh(None, &pools);
        assert!(!m.render().contains("edgeward_live_tokens{"));
    }

    #[test]
    fn status_classes_and_methods_are_bounded() {
        assert_eq!([100, 204, 302, 499, 503, 999].map(class_index), [0, 1, 2, 3, 4, 4]);
        assert_eq!(method_label(&http::Method::from_bytes(b"MADEUP").unwrap()), "other");
        assert_eq!(method_label(&http::Method::DELETE), "DELETE");
    }
}
