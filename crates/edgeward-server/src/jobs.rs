//! Scheduled work: revoke tokens whose scheduled revocation has come (every few seconds, on
//! every server: [`run_revocations`]), refresh auto-refreshing tokens that are due, purge tokens past their
//! retention, carry out namespace deletions whose time has come, delete items older than their
//! namespace's retention, retire token-signing keys whose last token has expired, remove console sessions that can no
//! longer be live. One unit of work ([`run_once`]) is separate from the loop ([`run`]) so tests drive
//! it with any clock. A failure is logged and the next run tries again; nothing here panics.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use edgeward_core::token::{next_refresh_after, EXPIRED_RETENTION_DAYS};

use crate::state::AppState;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Tokens refreshed on schedule.
    pub refreshed: u64,
    /// Tokens purged.
    pub purged: u64,
    /// Items deleted because they outlived their namespace's retention.
    pub items_purged: u64,
    /// Namespaces deleted because their scheduled deletion came.
    pub namespaces_deleted: u64,
    /// Token-signing keys retired because no live token they signed remains.
    pub keys_retired: u64,
    /// Audit records deleted because they outlived `audit.retention_days`.
    pub audit_purged: u64,
    /// Console sessions removed because they can no longer be live (idle or past their end).
    pub sessions_purged: u64,
    /// Tokens revoked because their scheduled revocation came.
    pub revoked: u64,
}

/// Revoke the tokens whose scheduled revocation has come; how many.
async fn revoke_due(state: &AppState, now: DateTime<Utc>) -> u64 {
    match crate::service::revoke_due(state, now).await {
        Ok(revoked) => revoked.len() as u64,
        Err(e) => {
            tracing::error!(error = %e.log_detail(), "scheduled token revocation failed; will retry");
            0
        }
    }
}

/// How often every server looks for scheduled revocations that have come, whatever the period
/// of the rest of maintenance: a revocation runs at most this late.
pub const REVOCATION_CHECK: Duration = Duration::from_secs(5);

/// Carry out scheduled revocations every [`REVOCATION_CHECK`], until shutdown. Every server runs
/// this; each due token is revoked (and audited) by exactly one of them, as the store's
/// `revoke_due_tokens` promises, so a server that stops leaves nothing undone.
pub async fn run_revocations(state: AppState, every: Duration, shutdown: watch::Receiver<bool>) {
    repeat(every, shutdown, || async {
        revoke_due(&state, state.clock.now()).await;
    })
    .await
}

/// Items deleted per transaction by the retention purge (keeps each write short).
const ITEM_PURGE_BATCH: usize = 5_000;

/// One run at `now`.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> JobReport {
    let mut report = JobReport { revoked: revoke_due(state, now).await, ..JobReport::default() };
    let today = now.date_naive();
    match state.store.refresh_due_tokens(today, now, next_refresh_after(today)).await {
        Ok(n) => report.refreshed = n,
        Err(e) => tracing::error!(error = %e.log_detail(), "scheduled refresh failed; will retry"),
    }
    let cutoff = now - chrono::Days::new(EXPIRED_RETENTION_DAYS);
    match state.store.purge_tokens(now, cutoff).await {
        Ok(n) => report.purged = n,
        Err(e) => tracing::error!(error = %e.log_detail(), "token purge failed; will retry"),
    }
    match state.store.purge_audit(now - state.audit_retention).await {
        Ok(n) => report.audit_purged = n,
        Err(e) => tracing::error!(error = %e.log_detail(), "audit trail purge failed; will retry"),
    }
    match state.store.purge_sessions(now, state.console.idle).await {
        Ok(n) => report.sessions_purged = n,
        Err(e) => tracing::error!(error = %e.log_detail(), "console session purge failed; will retry"),
    }
    // Servers read the feed every second or so; a day of history is plenty.
    if let Err(e) = state.store.purge_changes(now - chrono::Duration::days(1)).await {
        tracing::error!(error = %e.log_detail(), "change feed purge failed; will retry");
    }
    match state.store.delete_due_namespaces(now).await {
        Ok(deleted) => {
            if !deleted.is_empty() {
                state.item_cache.clear();
            }
            for (network, name) in &deleted {
                tracing::info!(network = network.as_str(), namespace = %name, "scheduled namespace deletion done");
            }
            report.namespaces_deleted = deleted.len() as u64;
        }
        Err(e) => tracing::error!(error = %e.log_detail(), "scheduled namespace deletion failed; will retry"),
    }
    loop {
        match state.store.purge_expired_items(now, ITEM_PURGE_BATCH).await {
            Ok(n) => {
                report.items_purged += n;
                if n < ITEM_PURGE_BATCH as u64 {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e.log_detail(), "item retention purge failed; will retry");
                break;
            }
        }
    }
    match crate::keys::retire_unused(state.store.as_ref(), now).await {
        Ok(retired) => {
            report.keys_retired = retired.len() as u64;
            if !retired.is_empty() {
                // This server stops verifying them now; the others on their next feed read.
                if let Err(e) = state.keys.reload(state.store.as_ref(), &state.data_key.current()).await {
                    tracing::error!(error = %e.log_detail(), "cannot read the token-signing keys after retiring some");
                }
            }
        }
        Err(e) => tracing::error!(error = %e.log_detail(), "retiring unused token-signing keys failed; will retry"),
    }
    if report != JobReport::default() {
        tracing::info!(
            refreshed = report.refreshed,
            purged = report.purged,
            items_purged = report.items_purged,
            namespaces_deleted = report.namespaces_deleted,
            keys_retired = report.keys_retired,
            revoked = report.revoked,
            audit_purged = report.audit_purged,
            "scheduled maintenance"
        );
    }
    report
}

/// The lease that makes one server run maintenance per period.
pub const MAINTENANCE_LEASE: &str = "maintenance";

/// Whether `holder` runs this period's maintenance: it takes the maintenance lease for the
/// period (slightly less, so its own next turn is not blocked by clock jitter). Another server
/// gets the lease only once it has lapsed, so each period's work runs on one server; if that
/// server stops, another takes over after at most one period.
pub async fn take_turn(
    store: &dyn edgeward_core::store::Store,
    holder: &str,
    now: DateTime<Utc>,
    period: chrono::Duration,
) -> Result<bool, edgeward_core::Error> {
    let span = period - period / 20;
    store.try_lease(MAINTENANCE_LEASE, holder, now, now + span).await
}

/// Run at start and then every `every` (when this server has the turn), until shutdown.
pub async fn run(state: AppState, every: Duration, shutdown: watch::Receiver<bool>) {
    let period = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1));
    repeat(every, shutdown, || async {
        let now = state.clock.now();
        match take_turn(state.store.as_ref(), &state.notify.holder, now, period).await {
            Ok(true) => {
                run_once(&state, now).await;
            }
            Ok(false) => tracing::debug!("maintenance skipped: another server ran it this period"),
            Err(e) => tracing::error!(error = %e.log_detail(), "maintenance lease unavailable; will retry"),
        }
    })
    .await
}

/// Run `pass` now and then every `every`, until shutdown: the loop of every background task.
pub async fn repeat<F, Fut>(every: Duration, mut shutdown: watch::Receiver<bool>, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        pass().await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
