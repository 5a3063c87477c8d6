//! Following the store's change feed, so that writes made by another server on the same
//! database reach this server's caches: a revoked token is refused, an item written or deleted
//! is read afresh, a namespace change empties the item cache.
//!
//! The bound: a change made elsewhere is honoured here within one poll interval
//! (`change_poll_ms`, 1 s by default) plus the time of one feed read. Changes made by this server
//! were applied when they were made; reading them back again is harmless.

use std::time::Duration;

use edgeward_core::store::Change;

use crate::state::AppState;

/// Changes read per feed query.
const PAGE: usize = 1_000;

fn apply(state: &AppState, change: &Change) {
    match change {
        Change::TokenRevoked(uuid) => state.gate.revoke(*uuid),
        Change::Item(key) => state.item_cache.invalidate(key),
        Change::Namespace(..) => state.item_cache.clear(),
    }
}

/// Apply every change after `*last`; returns how many were applied.
pub async fn follow_once(state: &AppState, last: &mut i64) -> usize {
    let mut applied = 0;
    loop {
        match state.store.changes_since(*last, PAGE).await {
            Ok(changes) => {
                let n = changes.len();
                for (seq, change) in &changes {
                    apply(state, change);
                    *last = *seq;
                }
                applied += n;
                if n < PAGE {
                    return applied;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.log_detail(), "cannot read the change feed; will retry");
                return applied;
            }
        }
    }
}

/// Follow the feed from `start` every `every` until shutdown.
pub async fn run_follower(
    state: AppState,
    start: i64,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = start;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        follow_once(&state, &mut last).await;
    }
}
