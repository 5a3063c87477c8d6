//! The composition root: how a configuration becomes a running server.
//!
//! [`spawn`] goes in this order, so that nothing is changed before every check that can be made
//! first has passed:
//!
//! 1. [`CheckedSettings::read`]: the settings are checked and the files they name (secrets, the host
//!    name) are read, through [`bootstrap`]; the outbound senders are built.
//! 2. [`Listeners::bind`]: every socket is bound; the data-plane and metrics ports answer
//!    "starting" while the next step runs.
//! 3. [`bootstrap::prepare`]: the data directory and the database.
//! 4. [`AppState::new`]: the handlers' state, built without I/O.
//! 5. [`catch_up`]: the reads that must precede serving (change-feed position, revocations,
//!    signing keys).
//! 6. [`DataPlaneWorkers::start`]: the data plane's threads (`data_plane.threads`).
//! 7. [`serve`]: the listeners and [`background_tasks`] run until the shutdown future completes;
//!    then the data plane's threads are stopped and joined.
//!
//! Tests drive the routers without any of this: [`AppState::new`] and [`crate::app`]'s routers
//! are enough for `tower::ServiceExt::oneshot`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use edgeward_core::clock::Clock;
use edgeward_core::network::Network;

use crate::app::{admin_router, data_plane, metrics_router};
use crate::bootstrap::{self, Prepared};
use crate::config::{DataPlaneConfig, ServeConfig};
use crate::listen::{self, Limits};
use crate::notify::NotifyRuntime;
use crate::routes::ops;
use crate::state::AppState;
use crate::workers::{DataPlaneWorkers, WorkerHandles};
use crate::{dataplane, tls};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Preparing the data directory failed.
    #[error(transparent)]
    Boot(#[from] bootstrap::BootError),
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data plane's threads could not be started.
    #[error("cannot start the data-plane threads (data_plane.threads): {0}")]
    Threads(std::io::Error),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {cause}{}", if cause.kind() == std::io::ErrorKind::AddrInUse { " (another server listens there: stop it, or choose another address with --admin-addr or --data-addr)" } else { "" })]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause, said in the message (not a `source`: it would be said twice).
        cause: std::io::Error,
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
    /// The runtimes of the threads serving the data plane (`data_plane.threads`), none when the
    /// main runtime serves it; they end with [`RunningServer::shutdown`].
    pub data_plane_workers: Option<WorkerHandles>,
    /// What bootstrap prepared (paths of the edgerc and certificate).
    pub prepared: Prepared,
    stop: oneshot::Sender<()>,
    /// The one task running [`serve`]; dropping the server aborts it, and with it every
    /// listener and background task.
    serving: JoinSet<()>,
}

impl RunningServer {
    /// Stop accepting, finish in-flight requests, stop the background tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(());
        while self.serving.join_next().await.is_some() {}
    }

    /// Run until `signal` completes, then shut down.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// The outbound senders the configuration asks for (`notify.webhook`, `notify.smtp`).
#[derive(Default)]
pub struct Senders {
    /// The webhook receiver.
    pub webhook: Option<Arc<crate::webhook::Webhook>>,
    /// The SMTP transport of the 1-day e-mail.
    pub mailer: Option<Arc<dyn crate::mail::MailTransport>>,
}

/// What the configuration yields once checked and once the files it names are read: everything
/// [`spawn`] needs that can fail before a socket is bound or the data directory is touched.
pub struct CheckedSettings {
    /// The expiry check's runtime.
    pub notify: NotifyRuntime,
    /// Every listener's connection limits and timeouts.
    pub limits: Limits,
    /// The token `/metrics` asks for.
    pub metrics_bearer: Option<Arc<str>>,
    /// The outbound senders.
    pub senders: Senders,
    /// How many threads serve the data plane (0: the main runtime does).
    pub data_plane_threads: usize,
}

impl CheckedSettings {
    /// Check `config` and read the files it names (through [`bootstrap`], the one module that
    /// reads files).
    pub fn read(config: &ServeConfig) -> Result<Self, StartError> {
        let notify = NotifyRuntime::new(&config.notify, &bootstrap::hostname()).map_err(StartError::Config)?;
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
        let limits = config.listeners.limits().map_err(StartError::Config)?;
        config.console.lifetimes().map_err(StartError::Config)?;
        let data_plane_threads = config.data_plane.threads().map_err(StartError::Config)?;
        let metrics_bearer = bootstrap::metrics_bearer(&config.metrics).map_err(StartError::Config)?;
        Ok(Self { notify, limits, metrics_bearer, senders: Senders { webhook, mailer }, data_plane_threads })
    }
}

/// The sockets a server serves, already bound.
pub struct Listeners {
    /// The admin API (served over TLS).
    pub admin: TcpListener,
    /// The data plane, one listener per network it serves: the configured one first.
    pub data: Vec<(TcpListener, Network)>,
    /// `/metrics` on a port of its own; without it, `/metrics` is on the admin port.
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    /// Bind every listener `config` names.
    pub async fn bind(config: &ServeConfig) -> Result<Self, StartError> {
        let admin = bind(config.admin_addr).await?;
        let mut data = vec![(bind(config.data_addr).await?, config.data_plane.network)];
        if let Some(addr) = config.data_plane.staging_addr {
            data.push((bind(addr).await?, Network::Staging));
        }
        let metrics = match config.metrics.addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(Self { admin, data, metrics })
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|cause| StartError::Bind { addr, cause })
}

/// The address `listener`, bound to `configured`, took.
fn local_addr(listener: &TcpListener, configured: SocketAddr) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|cause| StartError::Bind { addr: configured, cause })
}

/// The data-plane port's answers while the server starts.
struct Starting {
    stop: oneshot::Sender<()>,
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
    listener: TcpListener,
    addr: SocketAddr,
    limits: Limits,
) -> Result<(TcpListener, Starting), StartError> {
    let bind_err = |cause| StartError::Bind { addr, cause };
    let std_listener = listener.into_std().map_err(bind_err)?;
    let second = std_listener.try_clone().map_err(bind_err)?;
    let listener = TcpListener::from_std(std_listener).map_err(bind_err)?;
    let second = TcpListener::from_std(second).map_err(bind_err)?;
    let app = axum::Router::new().route("/healthz", axum::routing::get(ops::healthz)).fallback(|| async {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready: starting (waiting for the database)")
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(listen::serve(second, None, app, limits, "starting", None, async move {
        let _ = stopped.await;
    }));
    Ok((listener, Starting { stop, task }))
}

/// The reads that must happen before the first request is served, in this order: where the
/// change feed is followed from (read first, so that a revocation or key change made meanwhile
/// by another server is in one or the other), the revocation list, the signing keys.
pub async fn catch_up(state: &AppState) -> Result<i64, StartError> {
    let store_error = |e: edgeward_core::Error| StartError::from(bootstrap::BootError::Store(e.log_detail()));
    let feed_start = state.store.last_change_seq().await.map_err(store_error)?;
    state.gate.load_revoked(state.store.revoked_token_uuids().await.map_err(store_error)?);
    state.keys.reload(state.store.as_ref(), &state.data_key.current()).await.map_err(store_error)?;
    Ok(feed_start)
}

/// A background task's running future.
type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A job a server runs beside its listeners until shutdown.
pub struct BackgroundTask {
    /// What it does, for the log.
    pub name: &'static str,
    run: Box<dyn FnOnce(watch::Receiver<bool>) -> TaskFuture + Send>,
}

impl BackgroundTask {
    /// A task that `run` starts; the future it returns ends when the receiver turns `true`.
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self { name, run: Box::new(move |stop| Box::pin(run(stop))) }
    }
}

/// Every background task of a server, in one list: what runs beside the listeners, and how
/// often. `feed_start` is where [`catch_up`] found the change feed.
pub fn background_tasks(
    state: &AppState,
    config: &ServeConfig,
    feed_start: i64,
    senders: Senders,
) -> Vec<BackgroundTask> {
    let outbox_every = Duration::from_secs(config.notify.mail_interval_secs.max(1));
    let mut tasks = vec![
        BackgroundTask::new("data-plane usage flusher", {
            let state = state.clone();
            move |stop| dataplane::run_usage_flusher(state, Duration::from_secs(5), stop)
        }),
        BackgroundTask::new("change-feed follower", {
            let (state, every) = (state.clone(), Duration::from_millis(config.change_poll_ms.max(10)));
            move |stop| crate::follow::run_follower(state, feed_start, every, stop)
        }),
        BackgroundTask::new("expiry-check scheduler", {
            let state = state.clone();
            move |stop| crate::notify::run_scheduler(state, Duration::from_secs(60), stop)
        }),
        BackgroundTask::new("maintenance jobs", {
            let (state, every) = (state.clone(), Duration::from_secs(config.job_interval_secs.max(1)));
            move |stop| crate::jobs::run(state, every, stop)
        }),
        BackgroundTask::new("scheduled revocations", {
            let state = state.clone();
            move |stop| crate::jobs::run_revocations(state, crate::jobs::REVOCATION_CHECK, stop)
        }),
    ];
    if let Some(hook) = senders.webhook {
        let state = state.clone();
        tasks.push(BackgroundTask::new("webhook sender", move |stop| {
            crate::webhook::run_sender(state, hook, outbox_every, stop)
        }));
    }
    if let Some(transport) = senders.mailer {
        let state = state.clone();
        tasks.push(BackgroundTask::new("e-mail sender", move |stop| {
            crate::mail::run_mailer(state, transport, outbox_every, stop)
        }));
    }
    tasks
}

/// What [`serve`] needs besides the state, the listeners and the tasks.
pub struct ServeSettings {
    /// The admin listener's TLS.
    pub tls: tokio_rustls::TlsAcceptor,
    /// Every listener's connection limits and timeouts.
    pub limits: Limits,
    /// The token `/metrics` asks for.
    pub metrics_bearer: Option<Arc<str>>,
    /// How the data-plane listeners find the caller's EdgeWorker ID.
    pub data_plane: DataPlaneConfig,
    /// The threads that serve the data-plane listeners' connections; none: the runtime running
    /// [`serve`] serves them.
    pub data_plane_workers: Option<DataPlaneWorkers>,
}

/// Serve `state` on `listeners` and run `tasks` until `shutdown` completes; then stop accepting,
/// let in-flight requests finish, stop the tasks, and stop and join the data plane's threads.
pub async fn serve(
    state: AppState,
    listeners: Listeners,
    settings: ServeSettings,
    tasks: Vec<BackgroundTask>,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let until_stopped = || {
        let mut rx = stopped.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let limits = settings.limits;
    let mut running = JoinSet::new();
    let metrics = ops::MetricsAccess { state: state.clone(), bearer: settings.metrics_bearer };
    let admin_metrics = match listeners.metrics {
        Some(l) => {
            running.spawn(listen::serve(l, None, metrics_router(metrics), limits, "metrics", None, until_stopped()));
            None
        }
        None => Some(metrics),
    };
    let admin = admin_router(state.clone(), admin_metrics);
    running.spawn(listen::serve(listeners.admin, Some(settings.tls), admin, limits, "admin", None, until_stopped()));
    let workers = settings.data_plane_workers;
    let data_plane_handles = workers.as_ref().map(DataPlaneWorkers::handles);
    for (listener, network) in listeners.data {
        let dp = &settings.data_plane;
        let app = data_plane(
            state.clone(),
            dataplane::Listener {
                network,
                edgeworker_id: dp.edgeworker_id.clone(),
                edgeworker_id_header: dp.edgeworker_id_header.clone(),
            },
        );
        running.spawn(listen::serve(listener, None, app, limits, "data", data_plane_handles.clone(), until_stopped()));
    }
    for task in tasks {
        tracing::debug!(task = task.name, "background task started");
        running.spawn((task.run)(stopped.clone()));
    }
    shutdown.await;
    let _ = stop.send(true);
    while running.join_next().await.is_some() {}
    // The data-plane listeners have drained (or closed what was left): nothing runs on the
    // threads any more.
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
}

/// Prepare the data directory, bind the listeners and start serving.
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
    let checked = CheckedSettings::read(&config)?;
    let mut listeners = Listeners::bind(&config).await?;
    let admin_addr = local_addr(&listeners.admin, config.admin_addr)?;
    let data_addr = local_addr(&listeners.data[0].0, config.data_addr)?;
    let staging_addr = match (listeners.data.get(1), config.data_plane.staging_addr) {
        (Some((l, _)), Some(configured)) => Some(local_addr(l, configured)?),
        _ => None,
    };
    let metrics_addr = match (&listeners.metrics, config.metrics.addr) {
        (Some(l), Some(configured)) => Some(local_addr(l, configured)?),
        _ => None,
    };
    // Until the database is reached and prepared (PostgreSQL may take a while to answer), the
    // data-plane ports and the metrics port already answer: /healthz ok, everything else 503
    // "starting", so that load balancers see a live but not-ready server rather than a hanging one.
    let mut starting = Vec::new();
    let mut data = Vec::new();
    for ((listener, network), addr) in
        listeners.data.into_iter().zip([Some(data_addr), staging_addr].into_iter().flatten())
    {
        let (listener, answering) = answer_while_starting(listener, addr, checked.limits)?;
        starting.push(answering);
        data.push((listener, network));
    }
    listeners.data = data;
    if let (Some(listener), Some(addr)) = (listeners.metrics.take(), metrics_addr) {
        let (listener, answering) = answer_while_starting(listener, addr, checked.limits)?;
        starting.push(answering);
        listeners.metrics = Some(listener);
    }
    let prepared = bootstrap::prepare(&config, clock.as_ref(), admin_addr).await;
    for answering in starting {
        answering.stop().await;
    }
    let prepared = prepared?;

    let state = AppState::new(&prepared, &config, clock, request_clock, checked.notify);
    let tls = tls::rustls_config(&prepared.tls_pem, &prepared.tls_cert, &prepared.tls_key)
        .await
        .map_err(bootstrap::BootError::Tls)?;
    let feed_start = catch_up(&state).await?;
    let data_plane_workers = match checked.data_plane_threads {
        0 => None,
        n => Some(DataPlaneWorkers::start(n).await.map_err(StartError::Threads)?),
    };
    let data_plane_handles = data_plane_workers.as_ref().map(DataPlaneWorkers::handles);
    let tasks = background_tasks(&state, &config, feed_start, checked.senders);
    let settings = ServeSettings {
        tls: tokio_rustls::TlsAcceptor::from(tls.get_inner()),
        limits: checked.limits,
        metrics_bearer: checked.metrics_bearer,
        data_plane: config.data_plane.clone(),
        data_plane_workers,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let mut serving = JoinSet::new();
    serving.spawn(serve(state.clone(), listeners, settings, tasks, async move {
        let _ = stopped.await;
    }));

    tracing::info!(%admin_addr, console = %format!("https://{admin_addr}/"), "admin API listening (HTTPS, EdgeGrid), and the web console at the same address");
    let threads = checked.data_plane_threads;
    tracing::info!(%data_addr, network = %config.data_plane.network, threads, "data plane listening (HTTP)");
    if let Some(addr) = staging_addr {
        tracing::info!(%addr, network = "staging", threads, "data plane listening (HTTP)");
    }
    if let Some(addr) = metrics_addr {
        tracing::info!(%addr, "metrics listening (HTTP)");
    }
    Ok(RunningServer {
        admin_addr,
        data_addr,
        staging_addr,
        metrics_addr,
        state,
        data_plane_workers: data_plane_handles,
        prepared,
        stop,
        serving,
    })
}
