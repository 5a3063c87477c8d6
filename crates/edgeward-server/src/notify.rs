//! The daily expiry check: find tokens inside a threshold, record each (token, threshold) once
//! ever, and deliver one bundled notice per recipient and threshold to the notification panel.
//!
//! One server runs a check at a time: the check takes a lease row in the store (not an advisory
//! lock, not a timing assumption) and gives it back when done; a server that finds the lease
//! held skips. Pairs are recorded as due before anything is delivered and marked delivered in
//! the same transaction that adds the panel notices, so a failed delivery is retried by the next
//! check and a delivered one is never repeated. See `edgeward_core::notify` for the threshold
//! rule, and `edgeward_notice` for what is told to whom and in which words.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use edgeward_core::notify::{CheckRun, ExpiringToken, DEFAULT_THRESHOLDS};
use edgeward_core::store::Store;
use edgeward_core::Error;

/// The lease that makes one server run each check.
pub const CHECK_LEASE: &str = "expiry-check";
/// How long a check may hold the lease before another server may take it over.
const LEASE_SPAN: Duration = Duration::minutes(10);

/// When and how the check runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Days before the expiry day at which tokens are notified.
    pub thresholds: Vec<u32>,
    /// Time of day (UTC, `HH:MM`) of the daily check.
    pub check_time: String,
    /// The SMTP server for the 1-day e-mail; without it, notices go to the panel only.
    pub smtp: Option<crate::mail::SmtpConfig>,
    /// Seconds between passes of the e-mail and webhook senders over their queues.
    pub mail_interval_secs: u64,
    /// A receiver of signed webhook events, one per threshold reached at a check.
    pub webhook: Option<crate::webhook::WebhookConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            thresholds: DEFAULT_THRESHOLDS.to_vec(),
            check_time: "06:00".into(),
            smtp: None,
            mail_interval_secs: 15,
            webhook: None,
        }
    }
}

impl NotifyConfig {
    /// The check time, or an error naming the setting.
    pub fn check_time(&self) -> Result<NaiveTime, String> {
        NaiveTime::parse_from_str(&self.check_time, "%H:%M")
            .map_err(|_| format!("notify.check_time must be HH:MM (UTC), not {:?}", self.check_time))
    }

    /// The thresholds, or an error when there are none or one is 0 or above 365.
    pub fn checked_thresholds(&self) -> Result<Vec<u32>, String> {
        if self.thresholds.is_empty() || self.thresholds.iter().any(|t| !(1..=365).contains(t)) {
            return Err("notify.thresholds must be 1 to 365 days each, and at least one".into());
        }
        let mut t = self.thresholds.clone();
        t.sort_unstable_by(|a, b| b.cmp(a));
        t.dedup();
        Ok(t)
    }
}

/// The check's settings as the server runs them.
#[derive(Debug, Clone)]
pub struct NotifyRuntime {
    /// Thresholds, widest first.
    pub thresholds: Vec<u32>,
    /// Daily check time (UTC).
    pub check_time: NaiveTime,
    /// This server's identity in leases and run records.
    pub holder: String,
    /// Where checks send what they find besides the panel (what is configured).
    pub outputs: Outputs,
}

impl NotifyRuntime {
    /// The runtime of `config` for the server on `hostname` (as `bootstrap::hostname` read it),
    /// or an error naming the setting that is invalid.
    pub fn new(config: &NotifyConfig, hostname: &str) -> Result<Self, String> {
        Ok(Self {
            thresholds: config.checked_thresholds()?,
            check_time: config.check_time()?,
            holder: holder_id(hostname),
            outputs: Outputs { email: config.smtp.is_some(), webhook: config.webhook.is_some() },
        })
    }
}

/// Where a check sends what it finds, besides the panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outputs {
    /// Queue the 1-day e-mail.
    pub email: bool,
    /// Queue webhook events.
    pub webhook: bool,
}

/// What a check reports (the body of `POST /edgeward/v1/notify/run`).
pub use edgeward_wire::{CheckReport, DueToken};

/// One check at `now`, by the server `holder`.
pub async fn run_check(
    store: &dyn Store,
    now: DateTime<Utc>,
    holder: &str,
    thresholds: &[u32],
    outputs: Outputs,
    dry_run: bool,
) -> Result<CheckReport, Error> {
    with_lease(store, now, holder, None, thresholds, outputs, dry_run).await
}

/// The scheduled check: at `now`, if today's check is owed (its time has passed and no server
/// has run it today), run it. Whether it is owed is decided while holding the lease, so when
/// several servers try, exactly one runs it.
pub async fn run_if_owed(
    store: &dyn Store,
    now: DateTime<Utc>,
    holder: &str,
    at: NaiveTime,
    thresholds: &[u32],
    outputs: Outputs,
) -> Result<CheckReport, Error> {
    with_lease(store, now, holder, Some(at), thresholds, outputs, false).await
}

async fn with_lease(
    store: &dyn Store,
    now: DateTime<Utc>,
    holder: &str,
    only_if_owed_at: Option<NaiveTime>,
    thresholds: &[u32],
    outputs: Outputs,
    dry_run: bool,
) -> Result<CheckReport, Error> {
    // One lease per run (not per server), so that two runs in one server exclude each other too.
    let lease = format!("{holder}/{}", Uuid::new_v4().simple());
    if !store.try_lease(CHECK_LEASE, &lease, now, now + LEASE_SPAN).await? {
        tracing::debug!(holder, "expiry check skipped: another server holds the lease");
        return Ok(CheckReport::default());
    }
    let result = match only_if_owed_at {
        Some(at) => match owed(store, now, at).await {
            Ok(true) => check_holding_lease(store, now, holder, thresholds, outputs, dry_run).await,
            Ok(false) => Ok(CheckReport::default()),
            Err(e) => Err(e),
        },
        None => check_holding_lease(store, now, holder, thresholds, outputs, dry_run).await,
    };
    if let Err(e) = store.release_lease(CHECK_LEASE, &lease).await {
        tracing::warn!(error = %e.log_detail(), "expiry check lease not released; it lapses on its own");
    }
    result
}

async fn check_holding_lease(
    store: &dyn Store,
    now: DateTime<Utc>,
    holder: &str,
    thresholds: &[u32],
    outputs: Outputs,
    dry_run: bool,
) -> Result<CheckReport, Error> {
    let mut run = CheckRun {
        check_day: now.date_naive(),
        holder: holder.to_owned(),
        started_at: now,
        finished_at: now,
        dry_run,
        due: 0,
        notices: 0,
    };
    // A real run claims the pairs (recorded as due, at most once ever); a dry run only reads
    // which are undelivered, and so reports exactly what a real run would deliver.
    let (due, plan) = survey(store, now, thresholds, outputs, !dry_run).await?;
    let report = CheckReport {
        ran: true,
        dry_run,
        due: due_tokens(&due),
        notices: if dry_run { 0 } else { plan.notices.len() as u64 },
        undelivered: due_tokens(&plan.untold),
    };
    if !plan.untold.is_empty() {
        let tokens: Vec<&str> = plan.untold.iter().map(|(t, _)| t.name.as_str()).collect();
        tracing::warn!(
            count = plan.untold.len(),
            tokens = %tokens.join(", "),
            dry_run,
            "tokens are due with nobody to tell (no user whose roles grant CREATE_TOKEN for their networks, no \
             escalation contact for a 1-day notice, no webhook); the first such recipient added before they \
             expire is told at the next check"
        );
    }
    run.due = due.len() as u64;
    if dry_run {
        store.record_run(run).await?;
        return Ok(report);
    }
    run.notices = plan.notices.len() as u64;
    store.deliver_notices(plan.notices, plan.emails, plan.webhooks, plan.told, run, now).await?;
    tracing::info!(
        due = due.len(),
        notices = report.notices,
        undelivered = report.undelivered.len(),
        "expiry check done"
    );
    Ok(report)
}

/// The (token, threshold) pairs due at `now` and not delivered yet (claimed first when `claim`),
/// and what a check delivers for them.
async fn survey(
    store: &dyn Store,
    now: DateTime<Utc>,
    thresholds: &[u32],
    outputs: Outputs,
    claim: bool,
) -> Result<(Vec<(ExpiringToken, u32)>, edgeward_notice::Plan), Error> {
    let today = now.date_naive();
    let widest = thresholds.iter().copied().max().unwrap_or(0);
    let tokens = store.expiring_tokens(today, today + chrono::Days::new(u64::from(widest))).await?;
    let due = edgeward_notice::due(tokens, today, thresholds);
    let pairs: Vec<(Uuid, u32)> = due.iter().map(|(t, th)| (t.uuid, *th)).collect();
    let pending = if claim { store.claim_notices(pairs, now).await? } else { store.undelivered_notices(pairs).await? };
    let due: Vec<(ExpiringToken, u32)> = due.into_iter().filter(|(t, th)| pending.contains(&(t.uuid, *th))).collect();
    // What each user may do through their own grants and their roles' (`role::effective_grants`).
    let users = store.users_with_access().await?;
    let contacts = if outputs.email { Some(store.list_contacts().await?) } else { None };
    let channels = edgeward_notice::Channels { email_contacts: contacts.as_deref(), webhook: outputs.webhook };
    let plan = edgeward_notice::plan(&due, &users, channels, now);
    Ok((due, plan))
}

/// The due tokens nobody would hear of at `now` (see [`edgeward_notice::plan`]): what
/// `notify status` reports between checks. Reads only; takes no lease.
pub async fn undelivered_now(
    store: &dyn Store,
    now: DateTime<Utc>,
    runtime: &NotifyRuntime,
) -> Result<Vec<DueToken>, Error> {
    let (_, plan) = survey(store, now, &runtime.thresholds, runtime.outputs, false).await?;
    Ok(due_tokens(&plan.untold))
}

/// Due pairs as a report lists them.
fn due_tokens<'a>(pairs: impl IntoIterator<Item = &'a (ExpiringToken, u32)>) -> Vec<DueToken> {
    pairs
        .into_iter()
        .map(|(t, th)| DueToken { name: t.name.clone(), expiry: t.expiry.to_string(), threshold_days: *th })
        .collect()
}

/// Whether today's check is still owed at `now`: the check time has passed and no run (not a dry
/// run) has been recorded for today. This is how a server catches up after downtime.
async fn owed(store: &dyn Store, now: DateTime<Utc>, at: NaiveTime) -> Result<bool, Error> {
    if now.time() < at {
        return Ok(false);
    }
    // A run counts only if it started at or after today's check time: a check run by hand
    // earlier in the day does not stand in for the scheduled one.
    let due_at = now.date_naive().and_time(at).and_utc();
    let runs = store.check_runs(20).await?;
    Ok(!runs.iter().any(|r| r.started_at >= due_at && !r.dry_run))
}

/// Try the scheduled check every `every` until shutdown (and at start, which is how a server
/// catches up after downtime).
pub async fn run_scheduler(
    state: crate::state::AppState,
    every: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let n = &state.notify;
    crate::jobs::repeat(every, shutdown, || async {
        let now = state.clock.now();
        match run_if_owed(state.store.as_ref(), now, &n.holder, n.check_time, &n.thresholds, n.outputs).await {
            Ok(report) => {
                state.metrics.notices_delivered.inc_by(report.notices);
            }
            Err(e) => tracing::error!(error = %e.log_detail(), "expiry check failed; will retry"),
        }
    })
    .await
}

/// A stable id for this server process, for leases and run records: `hostname` (as
/// `bootstrap::hostname` read it at start) and a random part.
pub fn holder_id(hostname: &str) -> String {
    format!("{hostname}-{}", Uuid::new_v4().simple())
}

/// The expiry check's state, as `GET /edgeward/v1/notify/status` and the console's health area
/// show it: the settings, the latest runs, the outboxes, and what is due now that nobody would
/// hear of. For a caller holding `MANAGE_NOTIFICATIONS` (the permit).
pub async fn status(
    state: &crate::state::AppState,
    _permit: crate::permit::Permit<crate::permit::cap::ManageNotifications>,
) -> Result<edgeward_wire::NotifyStatus, edgeward_core::Error> {
    use edgeward_wire::{CheckRunObject, FailedEmailObject};
    let runs = state.store.check_runs(20).await?;
    let failed = state.store.failed_emails(20).await?;
    let pending = state.store.pending_email_count().await?;
    let (hooks_pending, hooks_failed) = state.store.webhook_counts().await?;
    let n = &state.notify;
    let undelivered = undelivered_now(state.store.as_ref(), state.clock.now(), n).await?;
    Ok(edgeward_wire::NotifyStatus {
        thresholds: n.thresholds.clone(),
        check_time: n.check_time.format("%H:%M").to_string(),
        email: if n.outputs.email { "smtp" } else { "off" }.to_owned(),
        emails_pending: pending,
        webhook: if n.outputs.webhook { "on" } else { "off" }.to_owned(),
        webhooks_pending: hooks_pending,
        webhooks_failed: hooks_failed,
        emails_failed: failed.iter().map(FailedEmailObject::from).collect(),
        runs: runs.iter().map(CheckRunObject::from).collect(),
        undelivered,
    })
}
