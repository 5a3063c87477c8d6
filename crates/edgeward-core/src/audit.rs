//! The audit trail: who changed what, when, from where, and whether it worked.
//!
//! Every change made through the admin API or an administration command appends one
//! [`AuditRecord`], in the same transaction as the change itself (the store backends see to that;
//! see `edgeward_store::audit`). A refused change appends a record with
//! [`AuditOutcome::Failure`] instead. Records name things (token names, namespaces, client names)
//! and never carry a secret, a token value or a token reference.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether the change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// The change was made (committed with this record).
    Success,
    /// The change was refused or failed; nothing was changed.
    Failure,
}

impl AuditOutcome {
    /// `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// Parse `success` or `failure`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// When it happened (the server's clock).
    pub at: DateTime<Utc>,
    /// Who did it: `client:NAME` for an API client, `command:USER` for an administration command
    /// run on the server's host, `unauthenticated` for a request that failed authentication.
    pub actor: String,
    /// The user who owns the API client, when it has one.
    pub owner: Option<String>,
    /// What was done, as `resource.verb` (e.g. `token.create`); see [`actions`].
    pub action: String,
    /// What it was done to (e.g. `token/marketing_ro`, `namespace/production/default`).
    pub target: String,
    /// The request id the response carried (`X-Trace-Id`), for API requests.
    pub request_id: Option<String>,
    /// Where the request came from (the peer address), or `local` for a command.
    pub source: String,
    /// Whether it worked.
    pub outcome: AuditOutcome,
    /// Why it failed (status and problem code), for failures.
    pub detail: Option<String>,
}

/// A stored record with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Increasing with each record.
    pub id: i64,
    /// The record.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// Which records to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor (exact).
    pub actor: Option<String>,
    /// Only this action (exact), or every action of a resource when it ends in `.` (`token.`).
    pub action: Option<String>,
    /// Only this target (exact), or every target under it when it ends in `/`.
    pub target: Option<String>,
    /// Only this outcome.
    pub outcome: Option<AuditOutcome>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// Only records older than this id (paging).
    pub before_id: Option<i64>,
    /// At most this many (the caller bounds it).
    pub limit: usize,
}

impl AuditFilter {
    /// Whether `entry` passes the filter (the one rule both backends' queries must agree with;
    /// the conformance suite checks them against it).
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let r = &entry.record;
        let prefix_or_exact = |want: &Option<String>, have: &str, sep: char| match want {
            None => true,
            Some(w) if w.ends_with(sep) => have.starts_with(w.as_str()),
            Some(w) => w == have,
        };
        self.actor.as_ref().is_none_or(|a| a == &r.actor)
            && prefix_or_exact(&self.action, &r.action, '.')
            && prefix_or_exact(&self.target, &r.target, '/')
            && self.outcome.is_none_or(|o| o == r.outcome)
            && self.since.is_none_or(|s| r.at >= s)
            && self.until.is_none_or(|u| r.at < u)
            && self.before_id.is_none_or(|b| entry.id < b)
    }
}

/// Days records are kept by default.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

/// The largest page `audit list` answers.
pub const MAX_PAGE: usize = 1_000;

/// The action names, in one place.
pub mod actions {
    /// A token was created.
    pub const TOKEN_CREATE: &str = "token.create";
    /// A token was refreshed.
    pub const TOKEN_REFRESH: &str = "token.refresh";
    /// A token was revoked.
    pub const TOKEN_REVOKE: &str = "token.revoke";
    /// A token was marked as replaced by another.
    pub const TOKEN_REPLACED: &str = "token.replaced";
    /// A token's revocation was scheduled (or rescheduled).
    pub const TOKEN_SCHEDULE_REVOKE: &str = "token.schedule_revoke";
    /// A token's scheduled revocation was cancelled.
    pub const TOKEN_CANCEL_REVOKE: &str = "token.cancel_revoke";
    /// The account was initialized.
    pub const ACCOUNT_INITIALIZE: &str = "account.initialize";
    /// A namespace was created.
    pub const NAMESPACE_CREATE: &str = "namespace.create";
    /// A namespace's settings changed.
    pub const NAMESPACE_UPDATE: &str = "namespace.update";
    /// A namespace was deleted or its deletion scheduled.
    pub const NAMESPACE_DELETE: &str = "namespace.delete";
    /// A namespace's scheduled deletion was moved.
    pub const NAMESPACE_RESCHEDULE_DELETE: &str = "namespace.reschedule_delete";
    /// A namespace's scheduled deletion was cancelled.
    pub const NAMESPACE_CANCEL_DELETE: &str = "namespace.cancel_delete";
    /// A namespace was moved to another access group.
    pub const NAMESPACE_REAUTHORIZE: &str = "namespace.reauthorize";
    /// An item was written through the admin API.
    pub const ITEM_WRITE: &str = "item.write";
    /// An item was deleted through the admin API.
    pub const ITEM_DELETE: &str = "item.delete";
    /// An access group was created.
    pub const ACCESS_GROUP_CREATE: &str = "accessgroup.create";
    /// An access group was deleted.
    pub const ACCESS_GROUP_DELETE: &str = "accessgroup.delete";
    /// An API client was created.
    pub const API_CLIENT_CREATE: &str = "apiclient.create";
    /// An API client was enabled or disabled.
    pub const API_CLIENT_UPDATE: &str = "apiclient.update";
    /// An API client was deleted.
    pub const API_CLIENT_DELETE: &str = "apiclient.delete";
    /// A user was created.
    pub const USER_CREATE: &str = "user.create";
    /// A user was changed.
    pub const USER_UPDATE: &str = "user.update";
    /// A user's password was set (never the password or its hash: only that it changed).
    pub const USER_SET_PASSWORD: &str = "user.set_password";
    /// A custom role was created.
    pub const ROLE_CREATE: &str = "role.create";
    /// A custom role's description or grants changed.
    pub const ROLE_UPDATE: &str = "role.update";
    /// A custom role was deleted.
    pub const ROLE_DELETE: &str = "role.delete";
    /// An escalation contact was added or changed.
    pub const CONTACT_PUT: &str = "contact.put";
    /// An escalation contact was removed.
    pub const CONTACT_REMOVE: &str = "contact.remove";
    /// An expiry check was run on demand.
    pub const NOTIFY_RUN: &str = "notify.run";
    /// A key was added, rotated or retired.
    pub const KEY_ROTATE: &str = "key.rotate";
    /// A request failed EdgeGrid authentication.
    pub const AUTH_DENIED: &str = "auth.denied";
    /// A person signed in to the console.
    pub const SESSION_SIGN_IN: &str = "session.sign_in";
    /// A person signed out of the console.
    pub const SESSION_SIGN_OUT: &str = "session.sign_out";
}

/// The audit trail's storage.
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Append a record on its own (a failure, or a change that wrote nothing else).
    async fn append_audit(&self, record: AuditRecord) -> crate::error::Result<()>;
    /// Records passing `filter`, newest first.
    async fn audit_records(&self, filter: &AuditFilter) -> crate::error::Result<Vec<AuditEntry>>;
    /// Delete records made before `before`; returns how many.
    async fn purge_audit(&self, before: DateTime<Utc>) -> crate::error::Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, action: &str, target: &str) -> AuditEntry {
        AuditEntry {
            id,
            record: AuditRecord {
                at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                actor: "client:admin".into(),
                owner: None,
                action: action.into(),
                target: target.into(),
                request_id: None,
                source: "local".into(),
                outcome: AuditOutcome::Success,
                detail: None,
            },
        }
    }

    #[test]
    fn filters_take_exact_names_or_prefixes_ending_in_their_separator() {
        let e = entry(5, "token.create", "token/ro");
        let f = |action: Option<&str>, target: Option<&str>| AuditFilter {
            action: action.map(Into::into),
            target: target.map(Into::into),
            ..Default::default()
        };
        assert!(f(Some("token.create"), None).matches(&e));
        assert!(f(Some("token."), None).matches(&e));
        assert!(!f(Some("token"), None).matches(&e));
        assert!(!f(Some("token.revoke"), None).matches(&e));
        assert!(f(None, Some("token/")).matches(&e));
        assert!(f(None, Some("token/ro")).matches(&e));
        assert!(!f(None, Some("token/r")).matches(&e));
        assert!(!AuditFilter { before_id: Some(5), ..Default::default() }.matches(&e));
        assert!(AuditFilter { before_id: Some(6), ..Default::default() }.matches(&e));
    }
}
