//! Audit records written in the same transaction as the change they describe.
//!
//! A caller that makes an audited change (an admin-API request, an administration command) runs
//! it inside [`scope`] with an [`AuditSlot`] holding the record. The first write that a backend
//! commits inside the scope inserts the record in its own transaction and marks the slot
//! written; later writes in the same scope add nothing, so one change leaves one record. A write
//! that fails leaves the slot pending. After the scope the caller asks the slot: a record still
//! pending is appended on its own ([`AuditSlot::take_pending`]), as a failure when the change was
//! refused, or as a success for a change that wrote nothing (an idempotent repeat).
//!
//! Writes outside any scope (maintenance, usage counts, the data plane) are not audited.

use std::future::Future;
use std::sync::{Arc, Mutex};

use edgeward_core::audit::AuditRecord;

tokio::task_local! {
    static SLOT: Arc<AuditSlot>;
}

/// The record of one audited change, and whether a write has committed it.
#[derive(Debug)]
pub struct AuditSlot {
    state: Mutex<SlotState>,
}

#[derive(Debug)]
enum SlotState {
    Pending(AuditRecord),
    /// A write is running with it.
    Claimed,
    Written,
    Taken,
}

impl AuditSlot {
    /// A slot holding `record`, not yet written.
    pub fn new(record: AuditRecord) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(SlotState::Pending(record)) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a committed write carried the record.
    pub fn written(&self) -> bool {
        matches!(*self.lock(), SlotState::Written)
    }

    /// Change the pending record (e.g. name the target once the request body is parsed).
    pub fn update(&self, f: impl FnOnce(&mut AuditRecord)) {
        if let SlotState::Pending(r) = &mut *self.lock() {
            f(r);
        }
    }

    /// The record, when no write committed it: the caller appends it on its own.
    pub fn take_pending(&self) -> Option<AuditRecord> {
        let mut g = self.lock();
        match std::mem::replace(&mut *g, SlotState::Taken) {
            SlotState::Pending(r) => Some(r),
            other => {
                *g = other;
                None
            }
        }
    }
}

/// Run `f` with `slot` as the pending audit record of the writes it makes.
pub async fn scope<F: Future>(slot: Arc<AuditSlot>, f: F) -> F::Output {
    SLOT.scope(slot, f).await
}

/// A write's hold on the pending record: inserted by the backend in the write's transaction,
/// then [`Claim::finish`]ed with whether that transaction committed. Dropped unfinished (the
/// write was cancelled), the record is pending again.
pub(crate) struct Claim {
    slot: Arc<AuditSlot>,
    record: Option<AuditRecord>,
}

impl Claim {
    pub(crate) fn record(&self) -> &AuditRecord {
        self.record.as_ref().expect("a claim holds its record until finished")
    }

    pub(crate) fn finish(mut self, committed: bool) {
        let record = self.record.take();
        let mut g = self.slot.lock();
        *g = match (committed, record) {
            (true, _) => SlotState::Written,
            (false, Some(r)) => SlotState::Pending(r),
            (false, None) => SlotState::Taken,
        };
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(r) = self.record.take() {
            *self.slot.lock() = SlotState::Pending(r);
        }
    }
}

/// Claim the pending record of the current scope for a write about to run (none outside a
/// scope, or when another write already holds or wrote it).
pub(crate) fn claim() -> Option<Claim> {
    SLOT.try_with(|slot| {
        let mut g = slot.lock();
        match std::mem::replace(&mut *g, SlotState::Claimed) {
            SlotState::Pending(r) => Some(Claim { slot: slot.clone(), record: Some(r) }),
            other => {
                *g = other;
                None
            }
        }
    })
    .ok()
    .flatten()
}

/// The most records one listing reads.
pub(crate) fn page_limit(limit: usize) -> i64 {
    crate::codec::saturating(limit.clamp(1, edgeward_core::audit::MAX_PAGE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward_core::audit::AuditOutcome;

    fn record() -> AuditRecord {
        AuditRecord {
            at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            actor: "client:admin".into(),
            owner: None,
            action: "token.create".into(),
            target: "token/a".into(),
            request_id: None,
            source: "local".into(),
            outcome: AuditOutcome::Success,
            detail: None,
        }
    }

    #[tokio::test]
    async fn the_first_committed_write_takes_the_record_and_a_failed_one_gives_it_back() {
        let slot = AuditSlot::new(record());
        scope(slot.clone(), async {
            let first = claim().expect("pending");
            assert!(claim().is_none(), "one write at a time holds it");
            first.finish(false);
            let second = claim().expect("pending again after a failed write");
            second.finish(true);
            assert!(claim().is_none(), "written once");
        })
        .await;
        assert!(slot.written());
        assert!(slot.take_pending().is_none());
        assert!(claim().is_none(), "no scope, no record");
    }

    #[tokio::test]
    async fn a_cancelled_write_leaves_the_record_pending() {
        let slot = AuditSlot::new(record());
        scope(slot.clone(), async {
            drop(claim());
        })
        .await;
        assert!(!slot.written());
        assert_eq!(slot.take_pending().map(|r| r.action), Some("token.create".into()));
    }
}
