//! Product limits. Every number is configurable; the defaults follow EdgeKV's.

use chrono::Months;

/// The most entries a list in one request body may hold where no product limit says less
/// (e.g. the notice ids of `POST /edgeward/v1/notifications/read`): a request's writes stay one
/// short statement.
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// The furthest ahead a token's revocation may be scheduled, in days.
pub const MAX_REVOCATION_DELAY_DAYS: i64 = 400;

/// How far in the past a scheduled revocation's time may lie and still mean "now" (clocks that
/// differ a little), in seconds; further back it is refused as a mistake.
pub const REVOKE_AT_SKEW_SECONDS: i64 = 60;

/// Account- and token-level limits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Tokens per account; expired tokens that are still listed count.
    pub max_tokens_per_account: u64,
    /// Namespaces one token may name.
    pub max_namespaces_per_token: usize,
    /// EdgeWorker IDs one token may be restricted to.
    pub max_ewids_per_token: usize,
    /// The longest lifetime of an expiring token, in months from today.
    pub max_token_lifetime_months: u32,
    /// Namespaces per network, `default` included.
    pub max_namespaces_per_network: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tokens_per_account: 100_000,
            max_namespaces_per_token: 20,
            max_ewids_per_token: 8,
            max_token_lifetime_months: 6,
            max_namespaces_per_network: 20,
        }
    }
}

impl Limits {
    /// The maximum lifetime as a chrono span.
    pub fn max_lifetime(&self) -> Months {
        Months::new(self.max_token_lifetime_months)
    }
}
