//! The one sender of both outboxes, e-mail and webhook events: claim what is due (so two
//! servers never send the same message), deliver each, record the outcome, and retry a
//! transient failure with growing delays until it is sent or given up on.
//!
//! A channel ([`Channel`]) says only how its messages are claimed, delivered and recorded;
//! `mail` and `webhook` each implement one.

use chrono::{DateTime, Duration, Utc};

use edgeward_core::store::Store;
use edgeward_core::Error;

/// Tries before an e-mail or webhook event is given up on.
pub const MAX_ATTEMPTS: u32 = 8;

/// How long a sender holds the messages it claimed.
const CLAIM: Duration = Duration::minutes(5);

/// Messages claimed in one pass.
const CLAIM_BATCH: usize = 100;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Retrying will not help (an SMTP 5xx, a malformed address, a webhook 4xx other than 408
    /// and 429).
    pub permanent: bool,
    /// What happened (no secrets).
    pub message: String,
}

/// A message taken from an outbox.
#[derive(Debug, Clone)]
pub struct Claimed<M> {
    /// Its row.
    pub id: i64,
    /// Tries so far, before this one.
    pub attempts: u32,
    /// The message.
    pub message: M,
}

/// A delivery channel and its outbox in the store.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// What it delivers.
    type Message: Send + Sync;
    /// What the logs call one message ("expiry e-mail", "webhook event").
    const WHAT: &'static str;
    /// Claim up to `limit` messages due at `now` until `until`.
    async fn claim(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Claimed<Self::Message>>, Error>;
    /// Deliver one message now.
    async fn deliver(&self, message: &Self::Message, now: DateTime<Utc>) -> Result<(), Failure>;
    /// Record a delivery.
    async fn sent(&self, store: &dyn Store, id: i64, now: DateTime<Utc>) -> Result<(), Error>;
    /// Record a failure: try again at `retry_at`, or give up (`None`).
    async fn failed(
        &self,
        store: &dyn Store,
        id: i64,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), Error>;
}

/// When to try again after failed try number `tries`, or `None` to give up: a permanent failure
/// or the last allowed try.
pub fn next_try(permanent: bool, tries: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (!permanent && tries < MAX_ATTEMPTS).then(|| now + backoff(tries))
}

/// Delay before try number `attempts + 1`: 1 min, 4 min, 16 min, … at most 6 h.
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 4i64.saturating_pow(attempts.saturating_sub(1).min(8));
    Duration::minutes(minutes.min(360))
}

/// What one pass of the sender did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    /// Delivered.
    pub sent: u64,
    /// Failed for now; tried again later.
    pub retrying: u64,
    /// Given up on.
    pub failed: u64,
}

/// Deliver every message of `channel` due at `now`.
pub async fn send_due<C: Channel>(store: &dyn Store, channel: &C, now: DateTime<Utc>) -> SendReport {
    let mut report = SendReport::default();
    let claimed = match channel.claim(store, now, now + CLAIM, CLAIM_BATCH).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e.log_detail(), what = C::WHAT, "cannot read the outbox; will retry");
            return report;
        }
    };
    for item in claimed {
        let recorded = match channel.deliver(&item.message, now).await {
            Ok(()) => {
                report.sent += 1;
                tracing::info!(id = item.id, what = C::WHAT, "delivered");
                channel.sent(store, item.id, now).await
            }
            Err(f) => {
                let tries = item.attempts + 1;
                let retry_at = next_try(f.permanent, tries, now);
                if retry_at.is_some() {
                    report.retrying += 1;
                    tracing::warn!(id = item.id, what = C::WHAT, tries, error = %f.message, "not delivered; will retry");
                } else {
                    report.failed += 1;
                    tracing::error!(id = item.id, what = C::WHAT, tries, error = %f.message, "given up");
                }
                channel.failed(store, item.id, f.message, retry_at).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e.log_detail(), what = C::WHAT, "cannot record a delivery's outcome");
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let m = |a| backoff(a).num_minutes();
        assert_eq!((m(1), m(2), m(3), m(4), m(5), m(6), m(20)), (1, 4, 16, 64, 256, 360, 360));
    }

    #[test]
    fn a_permanent_failure_or_the_last_try_gives_up() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(next_try(false, 1, now), Some(now + Duration::minutes(1)));
        assert_eq!(next_try(true, 1, now), None);
        assert_eq!(next_try(false, MAX_ATTEMPTS, now), None);
    }
}
