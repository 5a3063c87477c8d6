//! Routers, middleware and listeners: the running server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post, put};
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use edgeward_core::clock::Clock;
use edgeward_core::network::Network;

use crate::bootstrap::{self, Prepared};
use crate::config::ServeConfig;
use crate::metrics::HttpLabels;
use crate::problem::{finish_response, RequestFacts};
use crate::routes::{access, initialize, namespaces, notifications, ops, people, tokens};
use crate::state::{AppState, Inner, NonceCache};
use crate::{auth, dataplane, jobs, tls};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Preparing the data directory failed.
    #[error(transparent)]
    Boot(#[from] bootstrap::BootError),
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A started server.
pub struct RunningServer {
    /// Where the admin API listens (HTTPS).
    pub admin_addr: SocketAddr,
    /// Where the data plane listens (the configured network).
    pub data_addr: SocketAddr,
    /// Where the staging data plane listens, when configured.
    pub staging_addr: Option<SocketAddr>,
    /// Where `/metrics` listens on its own, when configured (`metrics.addr`).
    pub metrics_addr: Option<SocketAddr>,
    /// Handler state (for tests and jobs).
    pub state: AppState,
    /// What bootstrap prepared (paths of the edgerc and certificate).
    pub prepared: Prepared,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Stop accepting, finish in-flight requests, stop the jobs.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Run until `signal` completes, then shut down.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

async fn observe(State((state, listener)): State<(AppState, &'static str)>, mut req: Request, next: Next) -> Response {
    let request_id = format!("{:016x}", rand::random::<u64>());
    let peer = crate::audit::peer_ip(&req);
    if listener == "admin" {
        req.extensions_mut().insert(crate::audit::RequestId(request_id.clone()));
    }
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    // Cheap handles (reference-counted), read only when the answer is a problem.
    let host = req.headers().get(http::header::HOST).cloned();
    let uri = req.uri().clone();
    // The data plane is the hot path: its request span is at DEBUG, so that at the default
    // level no span is built or formatted per edge call. The admin API's is at INFO.
    let span = if listener == "admin" {
        tracing::info_span!("request", %method, %route, request_id = %request_id, listener)
    } else {
        tracing::debug_span!("request", %method, %route, request_id = %request_id, listener)
    };
    let started = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    if let Some(crate::audit::AuthDenied(reason)) = resp.extensions().get::<crate::audit::AuthDenied>().copied() {
        let refused = crate::audit::Refused {
            source: peer,
            method: method.as_str(),
            path: uri.path(),
            request_id: &request_id,
            reason,
        };
        state.trail.auth_denied(&state, refused);
    }
    let facts = RequestFacts {
        request_id: &request_id,
        method: method.as_str(),
        host: host.as_ref().and_then(|h| h.to_str().ok()).unwrap_or(""),
        target: uri.path_and_query().map_or("/", |p| p.as_str()),
        now: state.clock.now(),
    };
    let resp = finish_response(resp, &facts);
    let status = resp.status().as_u16();
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels { listener, route, method: crate::metrics::method_label(&method), status })
        .inc();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::debug!(status, micros, "served"));
    resp
}

/// The admin API router (EdgeGrid-protected routes plus the open operational ones); `/metrics`
/// with `metrics`, unless it has a listener of its own.
pub fn admin_router(state: AppState, metrics: Option<ops::MetricsAccess>) -> Router {
    let signed = Router::new()
        .route("/edgekv/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/edgekv/v1/tokens/{name}", get(tokens::get).delete(tokens::revoke))
        .route("/edgekv/v1/tokens/{name}/refresh", post(tokens::refresh))
        .route("/edgekv/v1/initialize", get(initialize::status).put(initialize::initialize))
        .route("/edgekv/v1/networks/{network}/namespaces", get(namespaces::list).post(namespaces::create))
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}",
            get(namespaces::get).put(namespaces::update).delete(namespaces::delete),
        )
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete",
            get(namespaces::scheduled_delete).put(namespaces::reschedule_delete).delete(namespaces::cancel_delete),
        )
        .route("/edgekv/v1/auth/groups", get(access::list_groups))
        .route("/edgekv/v1/auth/groups/{group_id}", get(access::get_group))
        .route("/edgekv/v1/auth/namespaces/{ns}", put(access::reauthorize))
        .route("/edgeward/v1/notifications", get(notifications::list))
        .route("/edgeward/v1/notifications/read", post(notifications::mark_read))
        .route("/edgeward/v1/notify/run", post(notifications::run))
        .route("/edgeward/v1/notify/status", get(notifications::status))
        .route("/edgeward/v1/audit", get(crate::routes::audit::list))
        .route("/edgeward/v1/tokens/{name}/replaced-by", post(notifications::replaced_by))
        .route("/edgeward/v1/users", get(people::list_users).post(people::create_user))
        .route("/edgeward/v1/users/{name}", axum::routing::patch(people::update_user))
        .route("/edgeward/v1/contacts", get(people::list_contacts).post(people::put_contact))
        .route("/edgeward/v1/contacts/{email}", axum::routing::delete(people::remove_contact))
        .route("/edgekv/v1/networks/{network}/namespaces/{ns}/groups", get(namespaces::groups))
        .route("/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}", get(namespaces::item_keys))
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}",
            get(namespaces::item).put(namespaces::put_item).delete(namespaces::delete_item),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_edgegrid));
    let mut open = Router::new().merge(signed);
    if let Some(access) = metrics {
        open = open.merge(Router::new().route("/metrics", get(ops::metrics)).with_state(access));
    }
    open.route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/openapi.json", get(ops::openapi))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state((state.clone(), "admin"), observe))
        .with_state(state)
}

/// The router of the metrics listener (`metrics.addr`): `/metrics` only.
pub fn metrics_router(access: ops::MetricsAccess) -> Router {
    let state = access.state.clone();
    Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(access)
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state((state, "metrics"), observe))
}

/// The data-plane router of one listener.
pub fn data_router(state: AppState, listener: dataplane::Listener) -> Router {
    let items = Router::new()
        .route("/api/v1/namespaces/{ns}/groups/{group}/items/{item}", any(dataplane::item))
        .with_state((state.clone(), Arc::new(listener)));
    Router::new()
        .merge(items)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state((state.clone(), "data"), observe))
        .with_state(state)
}

/// The data-plane port's answers while the server starts.
struct Starting {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Starting {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Serve "not ready yet" on a second handle of `listener` until [`Starting::stop`]; returns the
/// listener for the real router, which takes over the same socket.
fn answer_while_starting(
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    limits: crate::listen::Limits,
) -> Result<(tokio::net::TcpListener, Starting), StartError> {
    let bind_err = |source| StartError::Bind { addr, source };
    let std_listener = listener.into_std().map_err(bind_err)?;
    let second = std_listener.try_clone().map_err(bind_err)?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(bind_err)?;
    let second = tokio::net::TcpListener::from_std(second).map_err(bind_err)?;
    let app = Router::new().route("/healthz", get(ops::healthz)).fallback(|| async {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready: starting (waiting for the database)")
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crate::listen::serve(second, None, app, limits, "starting", async move {
        let _ = stopped.await;
    }));
    Ok((listener, Starting { stop, task }))
}

/// A setting in seconds as a duration, at most the longest one chrono holds (`i64::MAX / 1000`
/// seconds, some 292 million years): a longer setting means "no limit" all the same.
fn setting_seconds(secs: u64) -> chrono::Duration {
    let longest = i64::MAX / 1000;
    chrono::Duration::seconds(i64::try_from(secs).map_or(longest, |s| s.min(longest)))
}

/// Prepare the data directory, bind both listeners and start serving.
pub async fn spawn(config: ServeConfig, clock: Arc<dyn Clock>) -> Result<RunningServer, StartError> {
    spawn_with_request_clock(config, clock.clone(), clock).await
}

/// [`spawn`] with a separate clock for checking signed requests' timestamps: the system clock
/// when `clock` is a development clock.
pub async fn spawn_with_request_clock(
    config: ServeConfig,
    clock: Arc<dyn Clock>,
    request_clock: Arc<dyn Clock>,
) -> Result<RunningServer, StartError> {
    tls::install_crypto_provider();
    let admin_std = std::net::TcpListener::bind(config.admin_addr)
        .map_err(|source| StartError::Bind { addr: config.admin_addr, source })?;
    let admin_addr = admin_std.local_addr().map_err(|source| StartError::Bind { addr: config.admin_addr, source })?;
    let data_listener = tokio::net::TcpListener::bind(config.data_addr)
        .await
        .map_err(|source| StartError::Bind { addr: config.data_addr, source })?;
    let data_addr = data_listener.local_addr().map_err(|source| StartError::Bind { addr: config.data_addr, source })?;

    let notify = crate::notify::NotifyRuntime {
        thresholds: config.notify.checked_thresholds().map_err(StartError::Config)?,
        check_time: config.notify.check_time().map_err(StartError::Config)?,
        holder: crate::notify::holder_id(&bootstrap::hostname()),
        outputs: crate::notify::Outputs {
            email: config.notify.smtp.is_some(),
            webhook: config.notify.webhook.is_some(),
        },
    };
    let webhook = match &config.notify.webhook {
        Some(w) => {
            let secret = bootstrap::webhook_secret(w).map_err(StartError::Config)?;
            Some(Arc::new(crate::webhook::Webhook::new(w, &secret).map_err(StartError::Config)?))
        }
        None => None,
    };
    let mailer: Option<Arc<dyn crate::mail::MailTransport>> = match &config.notify.smtp {
        Some(smtp) => {
            let files = bootstrap::smtp_files(smtp).map_err(StartError::Config)?;
            Some(Arc::new(crate::mail::Smtp::new(smtp, &files).map_err(StartError::Config)?))
        }
        None => None,
    };
    // Until the database is reached and prepared (PostgreSQL may take a while to answer), the
    // data-plane port already answers: /healthz ok, everything else 503 "starting", so that load
    // balancers see a live but not-ready server rather than a hanging one.
    let limits = config.listeners.limits().map_err(StartError::Config)?;
    let metrics_bearer = bootstrap::metrics_bearer(&config.metrics).map_err(StartError::Config)?;
    let (data_listener, starting) = answer_while_starting(data_listener, data_addr, limits)?;
    let prepared = bootstrap::prepare(&config, clock.as_ref(), admin_addr).await;
    starting.stop().await;
    let prepared = prepared?;
    let state = AppState(Arc::new(Inner {
        store: prepared.store.clone(),
        cpcode: prepared.cpcode.clone(),
        keys: crate::keys::SigningKeys::new(prepared.keys.clone()),
        data_key: crate::keys::SharedDataKey::new(Some(config.data_dir.join("keys")), prepared.data_key.clone())
            .following(prepared.data_key_cell.clone()),
        clock,
        request_clock,
        limits: config.limits.clone(),
        edgegrid: edgeward_edgegrid::Settings {
            max_body: config.edgegrid.max_body,
            headers_to_sign: config.edgegrid.headers_to_sign.clone(),
        },
        timestamp_window: setting_seconds(config.edgegrid.timestamp_window_secs),
        namespace_delete_delay: setting_seconds(config.namespace_delete_delay_secs),
        nonces: NonceCache::default(),
        clients: Default::default(),
        notify,
        item_cache: crate::item_cache::ItemCache::new(
            usize::try_from(config.data_plane.item_cache_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
        ),
        gate: Default::default(),
        metrics: Default::default(),
        trail: Default::default(),
        audit_retention: chrono::Duration::days(i64::from(config.audit.retention_days.max(1))),
    }));

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let tls_config = tls::rustls_config(&prepared.tls_pem, &prepared.tls_cert, &prepared.tls_key)
        .await
        .map_err(bootstrap::BootError::Tls)?;
    admin_std.set_nonblocking(true).map_err(|source| StartError::Bind { addr: admin_addr, source })?;
    let admin_listener =
        tokio::net::TcpListener::from_std(admin_std).map_err(|source| StartError::Bind { addr: admin_addr, source })?;
    let metrics_access = ops::MetricsAccess { state: state.clone(), bearer: metrics_bearer };
    let mut metrics_addr = None;
    let admin_metrics = match config.metrics.addr {
        None => Some(metrics_access),
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
            metrics_addr = Some(l.local_addr().map_err(|source| StartError::Bind { addr, source })?);
            let mut rx = shutdown_rx.clone();
            tasks.spawn(crate::listen::serve(l, None, metrics_router(metrics_access), limits, "metrics", async move {
                let _ = rx.wait_for(|s| *s).await;
            }));
            None
        }
    };
    let admin_app = admin_router(state.clone(), admin_metrics);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config.get_inner());
    let mut rx = shutdown_rx.clone();
    tasks.spawn(crate::listen::serve(admin_listener, Some(acceptor), admin_app, limits, "admin", async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    // Where this server starts following the change feed: read before the revocation list, so a
    // revocation made meanwhile by another server is in one or the other.
    let feed_start = state.store.last_change_seq().await.map_err(|e| bootstrap::BootError::Store(e.log_detail()))?;
    match state.store.revoked_token_uuids().await {
        Ok(uuids) => state.gate.load_revoked(uuids),
        Err(e) => return Err(bootstrap::BootError::Store(e.log_detail()).into()),
    }
    // Likewise the keys: one added or retired since bootstrap read them is in one or the other.
    state
        .keys
        .reload(state.store.as_ref(), &state.data_key.current())
        .await
        .map_err(|e| bootstrap::BootError::Store(e.log_detail()))?;
    let dp = &config.data_plane;
    let mut listeners = vec![(data_listener, dp.network)];
    let mut staging_addr = None;
    if let Some(addr) = dp.staging_addr {
        let l = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
        staging_addr = Some(l.local_addr().map_err(|source| StartError::Bind { addr, source })?);
        listeners.push((l, Network::Staging));
    }
    for (listener, network) in listeners {
        let app = data_router(
            state.clone(),
            dataplane::Listener {
                network,
                edgeworker_id: dp.edgeworker_id.clone(),
                edgeworker_id_header: dp.edgeworker_id_header.clone(),
            },
        );
        let mut rx = shutdown_rx.clone();
        tasks.spawn(crate::listen::serve(listener, None, app, limits, "data", async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
    }
    tasks.spawn(dataplane::run_usage_flusher(state.clone(), std::time::Duration::from_secs(5), shutdown_rx.clone()));
    tasks.spawn(crate::follow::run_follower(
        state.clone(),
        feed_start,
        std::time::Duration::from_millis(config.change_poll_ms.max(10)),
        shutdown.subscribe(),
    ));
    tasks.spawn(crate::notify::run_scheduler(state.clone(), std::time::Duration::from_secs(60), shutdown.subscribe()));
    if let Some(hook) = webhook {
        tasks.spawn(crate::webhook::run_sender(
            state.clone(),
            hook,
            std::time::Duration::from_secs(config.notify.mail_interval_secs.max(1)),
            shutdown.subscribe(),
        ));
    }
    if let Some(transport) = mailer {
        tasks.spawn(crate::mail::run_mailer(
            state.clone(),
            transport,
            std::time::Duration::from_secs(config.notify.mail_interval_secs.max(1)),
            shutdown.subscribe(),
        ));
    }
    tasks.spawn(jobs::run(state.clone(), std::time::Duration::from_secs(config.job_interval_secs.max(1)), shutdown_rx));
    tracing::info!(%admin_addr, "admin API listening (HTTPS, EdgeGrid)");
    tracing::info!(%data_addr, network = %dp.network, "data plane listening (HTTP)");
    if let Some(addr) = staging_addr {
        tracing::info!(%addr, network = "staging", "data plane listening (HTTP)");
    }
    if let Some(addr) = metrics_addr {
        tracing::info!(%addr, "metrics listening (HTTP)");
    }
    Ok(RunningServer { admin_addr, data_addr, staging_addr, metrics_addr, state, prepared, shutdown, tasks })
}
