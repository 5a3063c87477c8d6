//! Following the store's change feed, so that writes made by another server on the same
//! database reach this server's caches: a revoked token is refused, an item written or deleted
//! is read afresh, a namespace change empties the item cache, a token-signing key added or
//! retired makes the server read the keys again, and a data-key rotation makes it read its key
//! files again.
//!
//! The bound: a change made elsewhere is honoured here within one poll interval
//! (`change_poll_ms`, 1 s by default) plus the time of one feed read. On PostgreSQL, revocations
//! and namespace changes also wake the follower at once (`LISTEN/NOTIFY`), so they are usually
//! honoured within milliseconds; the poll remains the guarantee. Changes made by this server were
//! applied when they were made; reading them back again is harmless.
//!
//! Sequence numbers are handed out when a change is written, not when it commits, so a change
//! with a lower number can become visible after one with a higher number. The follower remembers
//! such holes and reads them again at every poll for [`GAP_WAIT`]; a hole still empty after that
//! belonged to a transaction that rolled back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use edgeward_core::store::Change;

use crate::state::AppState;

/// Changes read per feed query.
const PAGE: usize = 1_000;

/// How long a hole in the sequence is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(30);

/// Holes larger than this are not tracked one by one (a purge, or a restarted sequence).
const MAX_GAP: i64 = 10_000;

/// Keys to read again after a page of changes (a read of the store or of files, done once).
#[derive(Default)]
struct Reload {
    signing_keys: bool,
    data_key: bool,
}

fn apply(state: &AppState, change: &Change, reload: &mut Reload) {
    match change {
        Change::TokenRevoked(uuid) => state.gate.revoke(*uuid),
        Change::Item(key) => state.item_cache.invalidate(key),
        Change::Namespace(..) => state.item_cache.clear(),
        Change::SigningKeys(_) => reload.signing_keys = true,
        Change::DataKey(_) => {
            state.token_names.clear();
            reload.data_key = true;
        }
    }
}

async fn reload_keys(state: &AppState, reload: Reload) {
    // The data key first: signing keys may be sealed with the new one.
    if reload.data_key {
        if let Err(e) = state.data_key.reload_files() {
            tracing::error!(error = %e, "a data-key rotation was announced but this data directory's key files cannot be \
                read; copy keys/data.key.next (or the new keys/data.key) from the server that runs the rotation");
        }
    }
    if reload.signing_keys || reload.data_key {
        if let Err(e) = state.keys.reload(state.store.as_ref(), &state.data_key.current()).await {
            tracing::error!(error = %e.log_detail(), "cannot read the token-signing keys; will retry at the next change");
        }
    }
}

/// Where a follower is in the feed: the highest sequence number applied, and the holes below it
/// still waited for. Pure bookkeeping, apart from the feed reads of [`follow_once`].
#[derive(Debug)]
pub struct FeedPosition {
    /// The highest sequence number applied.
    pub last: i64,
    /// Sequence numbers below `last` not seen yet, with when they were noticed missing.
    gaps: BTreeMap<i64, Instant>,
}

impl FeedPosition {
    /// Start after `last`.
    pub fn at(last: i64) -> Self {
        Self { last, gaps: BTreeMap::new() }
    }

    /// Forget holes waited for longer than [`GAP_WAIT`]; the sequence number to read after: just
    /// before the oldest hole still open, else `last`.
    pub fn read_from(&mut self, now: Instant) -> i64 {
        self.gaps.retain(|_, noticed| now.duration_since(*noticed) < GAP_WAIT);
        self.gaps.keys().next().map_or(self.last, |first| first - 1)
    }

    /// Record that change `seq` was read at `now`; true when it is to be applied (new, or
    /// filling a hole), false when it was applied before.
    pub fn take(&mut self, seq: i64, now: Instant) -> bool {
        if seq > self.last {
            let missing = seq - self.last - 1;
            if missing > 0 && missing <= MAX_GAP {
                self.gaps.extend((self.last + 1..seq).map(|hole| (hole, now)));
            }
            self.last = seq;
            true
        } else {
            self.gaps.remove(&seq).is_some()
        }
    }
}

/// Apply every change after the position (and any that filled a hole); returns how many were
/// applied.
pub async fn follow_once(state: &AppState, pos: &mut FeedPosition) -> usize {
    let now = Instant::now();
    let mut from = pos.read_from(now);
    let mut applied = 0;
    let mut reload = Reload::default();
    loop {
        match state.store.changes_since(from, PAGE).await {
            Ok(changes) => {
                for (seq, change) in &changes {
                    if pos.take(*seq, now) {
                        apply(state, change, &mut reload);
                        applied += 1;
                    }
                }
                match changes.last() {
                    Some((seq, _)) if changes.len() == PAGE => from = *seq,
                    _ => break,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.log_detail(), "cannot read the change feed; will retry");
                break;
            }
        }
    }
    reload_keys(state, reload).await;
    applied
}

/// Follow the feed from `start` every `every` (or sooner, when the store signals a change)
/// until shutdown.
pub async fn run_follower(
    state: AppState,
    start: i64,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut pos = FeedPosition::at(start);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.store.wait_for_change() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        follow_once(&state, &mut pos).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_read_again_until_filled_or_given_up() {
        let t = Instant::now();
        let mut pos = FeedPosition::at(10);
        assert_eq!(pos.read_from(t), 10);
        // 11 and 12 are not committed yet when 13 is read.
        assert!(pos.take(13, t));
        assert_eq!(pos.last, 13);
        assert_eq!(pos.read_from(t), 10, "read again from just before the oldest hole");
        assert!(!pos.take(13, t), "13 was applied already");
        assert!(pos.take(12, t), "12 fills a hole");
        assert!(!pos.take(12, t), "once");
        assert_eq!(pos.read_from(t), 10, "11 is still open");
        // 11 never comes (its transaction rolled back): given up after GAP_WAIT.
        assert_eq!(pos.read_from(t + GAP_WAIT), 13);
        assert!(!pos.take(11, t + GAP_WAIT), "a hole given up on is not applied later");
    }

    #[test]
    fn a_huge_jump_is_not_tracked_hole_by_hole() {
        let t = Instant::now();
        let mut pos = FeedPosition::at(0);
        assert!(pos.take(MAX_GAP + 2, t));
        assert_eq!(pos.read_from(t), MAX_GAP + 2);
    }
}
