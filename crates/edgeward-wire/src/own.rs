//! The JSON shapes of Edgeward's own endpoints (`/edgeward/v1/…`, not part of EdgeKV's API): the
//! notification panel, the expiry check and its status, users, roles, escalation contacts and
//! the audit trail. The server renders them, Edgeward's client decodes them and the CLI prints them.
//!
//! Field order is the order on the wire: keep it when adding a field. Optional fields are sent
//! as `null` unless a field says it is left out.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use edgeward_core::audit::{AuditEntry, AuditOutcome};
use edgeward_core::notify::{CheckRun, ExpiringToken, FailedEmail, User};
use edgeward_core::role::Role;

/// An instant as these endpoints write it: RFC 3339, whole seconds, `Z`.
fn seconds(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A token as a notice (and a webhook event) lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeToken {
    /// Name.
    pub name: String,
    /// Uuid.
    pub uuid: String,
    /// Its last valid day, `YYYY-MM-DD`.
    pub expiry: String,
    /// Valid on staging.
    pub allow_on_staging: bool,
    /// Valid on production.
    pub allow_on_production: bool,
    /// Namespace → rights, e.g. `rw`.
    pub namespaces: BTreeMap<String, String>,
    /// When the data plane last saw it (RFC 3339), or `null`.
    pub last_used: Option<String>,
}

impl From<&ExpiringToken> for NoticeToken {
    fn from(t: &ExpiringToken) -> Self {
        let namespaces = t.namespaces.iter().map(|(ns, p)| (ns.to_string(), p.compact())).collect();
        Self {
            name: t.name.clone(),
            uuid: t.uuid.to_string(),
            expiry: t.expiry.to_string(),
            allow_on_staging: t.networks.staging,
            allow_on_production: t.networks.production,
            namespaces,
            last_used: t.last_used.map(seconds),
        }
    }
}

/// One notice of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeObject {
    /// Identity; page with `before`.
    pub id: i64,
    /// The threshold its tokens reached.
    pub threshold_days: u32,
    /// When the check made it (RFC 3339).
    pub created_at: String,
    /// Whether it was marked read.
    pub read: bool,
    /// One line.
    pub subject: String,
    /// The tokens: name, uuid, expiry, networks, namespaces and rights, last use.
    pub tokens: Vec<NoticeToken>,
}

impl NoticeObject {
    /// When the check made it, as the panel shows it.
    pub fn created_at(t: DateTime<Utc>) -> String {
        seconds(t)
    }
}

/// The caller's panel (`GET /edgeward/v1/notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeList {
    /// Newest first.
    pub notifications: Vec<NoticeObject>,
    /// Unread notices in all.
    pub unread: u64,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// Which notices to mark read (none listed: all) (`POST /edgeward/v1/notifications/read`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notice ids (at most 1,000 per request: `edgeward_core::limits::MAX_LIST_ENTRIES`).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub ids: Vec<i64>,
}

/// The answer to `POST /edgeward/v1/notifications/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    /// Notices that were unread and now are read.
    pub marked: u64,
}

/// Body of `POST /edgeward/v1/tokens/{name}/replaced-by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacedBy {
    /// The successor's name.
    pub name: String,
}

/// Body of `PUT /edgeward/v1/tokens/{name}/scheduled-revocation`: when to revoke the token,
/// either at a time or after a delay from the server's clock (exactly one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleRevocation {
    /// An RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_at: Option<String>,
    /// Seconds from now, on the server's clock (0: revoke now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_after_seconds: Option<u64>,
}

/// Answer of `PUT /edgeward/v1/tokens/{name}/scheduled-revocation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledRevocation {
    /// The token's name.
    pub name: String,
    /// When it is (or, when `revoked`, was) revoked: RFC 3339.
    pub revoke_at: String,
    /// Whether the time had come already, so that the token is revoked now.
    pub revoked: bool,
}

/// A stored token's lifecycle, as `GET /edgeward/v1/tokens` lists it: every token still stored
/// (revoked and expired ones too, until purged) that the caller may view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenState {
    /// The token's name.
    pub name: String,
    /// The token's uuid.
    pub uuid: String,
    /// `live`, `expired` or `revoked`.
    pub state: String,
    /// When it was revoked (RFC 3339).
    pub revoked_at: Option<String>,
    /// Its successor's name, once a rotation named one.
    pub replaced_by: Option<String>,
    /// When its revocation is scheduled (or, once revoked, was planned), RFC 3339.
    pub revoke_at: Option<String>,
    /// Its latest data-plane use (RFC 3339).
    pub last_used: Option<String>,
    /// Whether the caller may revoke it, and so schedule or cancel its revocation (its
    /// grants against the token's networks, as the server checks them).
    #[serde(default)]
    pub may_revoke: bool,
}

impl TokenState {
    /// The token's lifecycle in words, as the CLI and the console show it: "replaced by X,
    /// revocation scheduled at T", "replaced by X, revoked at T", or nothing.
    pub fn lifecycle(&self) -> String {
        let mut parts = Vec::new();
        if let Some(by) = &self.replaced_by {
            parts.push(format!("replaced by {by}"));
        }
        match (&self.revoked_at, &self.revoke_at) {
            (Some(at), _) => parts.push(format!("revoked at {at}")),
            (None, Some(at)) => parts.push(format!("revocation scheduled at {at}")),
            (None, None) => {}
        }
        parts.join(", ")
    }

    /// The state of a listed token at `now`; `may_revoke` as the server's permission check found.
    pub fn new(t: &edgeward_core::store::ListedToken, now: DateTime<Utc>, may_revoke: bool) -> Self {
        let token = &t.stored.token;
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else if token.is_expired(now) {
            "expired"
        } else {
            "live"
        };
        Self {
            name: token.name.to_string(),
            uuid: token.uuid.to_string(),
            state: state.to_owned(),
            revoked_at: token.revoked_at.map(seconds),
            replaced_by: t.replaced_by.clone(),
            revoke_at: t.revoke_at.map(seconds),
            last_used: t.last_used.map(seconds),
            may_revoke,
        }
    }
}

/// `GET /edgeward/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenStates {
    /// By name, then age.
    pub tokens: Vec<TokenState>,
}

/// `GET /edgeward/v1/status`: the server, the account and the caller, as `edgeward status`
/// shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// Edgeward's version.
    pub version: String,
    /// The database's schema version.
    pub schema_version: u32,
    /// The server's time (RFC 3339): a development clock's when one runs.
    pub server_time: String,
    /// Whether the server's clock is a development clock (offset or frozen).
    pub development_clock: bool,
    /// The account's CP code (none before it is initialized).
    pub cpcode: Option<String>,
    /// Who the caller is.
    pub caller: CallerObject,
    /// Live tokens the caller may view (none when it may not view tokens on every network).
    pub tokens_used: Option<u64>,
    /// Tokens per account.
    pub tokens_limit: u64,
    /// The soonest-expiring live token the caller may view.
    pub soonest_expiry: Option<SoonestExpiry>,
}

/// The caller, in [`ServerStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerObject {
    /// The API client's (or user's) name.
    pub name: String,
    /// `client` or `user`.
    pub kind: String,
    /// Its grants, e.g. `["CREATE_TOKEN", "VIEW_TOKEN"]`.
    pub grants: Vec<String>,
    /// The user it acts for (an API client's owner).
    pub user: Option<String>,
}

/// The soonest-expiring token, in [`ServerStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SoonestExpiry {
    /// Its name.
    pub name: String,
    /// Its expiry date (YYYY-MM-DD).
    pub expiry: String,
}

/// A token due at a threshold, as a check reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueToken {
    /// The token's name.
    pub name: String,
    /// Its last valid day.
    pub expiry: String,
    /// The threshold reached.
    pub threshold_days: u32,
}

/// What one expiry check did (`POST /edgeward/v1/notify/run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// False when another server held the lease (this one did nothing).
    pub ran: bool,
    /// Nothing was recorded or delivered.
    pub dry_run: bool,
    /// Every token inside a threshold and not yet notified at it (in a dry run: would be).
    pub due: Vec<DueToken>,
    /// Panel notices delivered.
    pub notices: u64,
    /// Due tokens nobody would hear of (no user told about them, no contact, no webhook): not
    /// counted as told, so the first recipient to appear before they expire is told at a later
    /// check (in a dry run: would be left so).
    #[serde(default)]
    pub undelivered: Vec<DueToken>,
}

/// An e-mail given up on, as `GET /edgeward/v1/notify/status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedEmailObject {
    /// The address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Tries made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was queued (RFC 3339).
    pub queued_at: String,
}

impl From<&FailedEmail> for FailedEmailObject {
    fn from(f: &FailedEmail) -> Self {
        Self {
            recipient: f.recipient.clone(),
            subject: f.subject.clone(),
            attempts: f.attempts,
            error: f.error.clone(),
            queued_at: seconds(f.created_at),
        }
    }
}

/// One run of the expiry check, as `GET /edgeward/v1/notify/status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckRunObject {
    /// The day checked, `YYYY-MM-DD`.
    pub check_day: String,
    /// Which server ran it.
    pub server: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub finished_at: String,
    /// Nothing was recorded or delivered.
    pub dry_run: bool,
    /// (token, threshold) pairs due.
    pub due: u64,
    /// Panel notices delivered.
    pub notices: u64,
}

impl From<&CheckRun> for CheckRunObject {
    fn from(r: &CheckRun) -> Self {
        Self {
            check_day: r.check_day.to_string(),
            server: r.holder.clone(),
            started_at: seconds(r.started_at),
            finished_at: seconds(r.finished_at),
            dry_run: r.dry_run,
            due: r.due,
            notices: r.notices,
        }
    }
}

/// The expiry check's settings, queues and latest runs (`GET /edgeward/v1/notify/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotifyStatus {
    /// Thresholds in days, widest first.
    pub thresholds: Vec<u32>,
    /// Time of day of the daily check (UTC, `HH:MM`).
    pub check_time: String,
    /// `smtp` when the 1-day e-mail is sent, else `off`.
    pub email: String,
    /// E-mails still queued.
    pub emails_pending: u64,
    /// `on` when webhook events are sent, else `off`.
    pub webhook: String,
    /// Webhook events still queued.
    pub webhooks_pending: u64,
    /// Webhook events given up on.
    pub webhooks_failed: u64,
    /// The latest e-mails given up on, newest first.
    pub emails_failed: Vec<FailedEmailObject>,
    /// The latest runs, newest first.
    pub runs: Vec<CheckRunObject>,
    /// Tokens due now that nobody would hear of (no user told about them, no contact, no
    /// webhook): the first recipient added before they expire is told at the next check.
    #[serde(default)]
    pub undelivered: Vec<DueToken>,
}

/// A user as the API shows it; also the body that adds one (`POST /edgeward/v1/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserObject {
    /// Unique name.
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The address is confirmed (1-day notices may be e-mailed).
    #[serde(default)]
    pub email_registered: bool,
    /// Told about expiring tokens.
    #[serde(default = "yes")]
    pub active: bool,
    /// Capability grants given to them directly (none when left out). What they may do is
    /// these and the grants of their roles.
    #[serde(default)]
    pub grants: Vec<String>,
    /// The roles they hold, by name (none when left out).
    #[serde(default)]
    pub roles: Vec<String>,
}

fn yes() -> bool {
    true
}

impl From<&User> for UserObject {
    fn from(u: &User) -> Self {
        Self {
            name: u.name.clone(),
            email: u.email.clone(),
            email_registered: u.email_registered,
            active: u.active,
            grants: u.grants.iter().map(|c| c.as_str().to_owned()).collect(),
            roles: u.roles.iter().map(|r| r.to_string()).collect(),
        }
    }
}

/// Changes to a user (`PATCH /edgeward/v1/users/{name}`); a part left out is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserChange {
    /// Active or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// A new address (unconfirmed until `emailRegistered` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the address is confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_registered: Option<bool>,
    /// The roles they hold from now on, by name (replacing those they held; `[]` takes all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// A role as the API shows it (`GET /edgeward/v1/roles`, `GET /edgeward/v1/roles/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleObject {
    /// Unique name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The capability grants its holders get.
    pub grants: Vec<String>,
    /// Defined by Edgeward: neither changed nor deleted.
    pub built_in: bool,
}

impl From<&Role> for RoleObject {
    fn from(r: &Role) -> Self {
        Self {
            name: r.name.to_string(),
            description: r.description.clone(),
            grants: r.grants.iter().map(|c| c.as_str().to_owned()).collect(),
            built_in: r.built_in,
        }
    }
}

/// The body that adds a custom role (`POST /edgeward/v1/roles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRole {
    /// Unique name: 1 to 64 of `a-z`, `0-9`, `-` and `_`, starting with a letter.
    pub name: String,
    /// What it is for (empty when left out).
    #[serde(default)]
    pub description: String,
    /// The capability grants its holders get.
    pub grants: Vec<String>,
}

/// Changes to a custom role (`PUT /edgeward/v1/roles/{name}`); a part left out is left as it is.
/// Every holder may do what the role grants from their next request on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleChange {
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The grants it gives from now on (replacing the old ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<String>>,
}

/// An escalation contact (listed, and the body that adds or renames one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactObject {
    /// The address.
    pub email: String,
    /// Who it is.
    pub name: String,
}

/// One record of the audit trail, as `GET /edgeward/v1/audit` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecordObject {
    /// Increasing with each record; page with `before`.
    pub id: i64,
    /// When it happened (the server's clock).
    pub at: DateTime<Utc>,
    /// Who did it: `client:NAME`, `command:USER` or `unauthenticated`.
    pub actor: String,
    /// The user who owns the API client, when it has one.
    pub owner: Option<String>,
    /// What was done, as `resource.verb` (e.g. `token.create`).
    pub action: String,
    /// What it was done to (e.g. `token/marketing_ro`).
    pub target: String,
    /// The request id the response carried (`X-Trace-Id`), for API requests.
    pub request_id: Option<String>,
    /// The peer address, or `local` for an administration command.
    pub source: String,
    /// `success` or `failure`.
    #[schema(value_type = String, pattern = "^(success|failure)$")]
    pub outcome: AuditOutcome,
    /// Why it failed (status and problem code), for failures.
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditRecordObject {
    fn from(e: AuditEntry) -> Self {
        let r = e.record;
        Self {
            id: e.id,
            at: r.at,
            actor: r.actor,
            owner: r.owner,
            action: r.action,
            target: r.target,
            request_id: r.request_id,
            source: r.source,
            outcome: r.outcome,
            detail: r.detail,
        }
    }
}

/// A page of the audit trail (`GET /edgeward/v1/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// Newest first.
    pub records: Vec<AuditRecordObject>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

#[cfg(test)]
mod tests {
    //! Each shape pinned to the exact JSON the server sends, so that a field renamed, reordered,
    //! retyped or newly skipped shows here; and each reads back what it writes, so the client
    //! decodes what the server renders.

    use chrono::{NaiveDate, TimeZone};
    use edgeward_core::audit::AuditRecord;
    use edgeward_core::capability::{Capability, Grants};
    use edgeward_core::names::NamespaceName;
    use edgeward_core::network::Networks;
    use edgeward_core::permission::Permissions;
    use serde::de::DeserializeOwned;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }

    /// `value` serializes to exactly `json` and reads back as itself.
    fn pinned<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, json: &str) {
        let text = serde_json::to_string(value).unwrap();
        assert_eq!(text, json);
        assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), value, "{json}");
    }

    fn expiring(last_used: Option<DateTime<Utc>>) -> ExpiringToken {
        let uuid = "4b0f2d6e-8a6f-4e55-9a36-1d8c1b8e6f10".parse().unwrap();
        let mut namespaces = BTreeMap::new();
        namespaces.insert(NamespaceName::parse("shop").unwrap(), Permissions::parse(&["r", "d"]).unwrap());
        namespaces.insert(NamespaceName::parse("default").unwrap(), Permissions::parse(&["w", "r"]).unwrap());
        ExpiringToken {
            uuid,
            name: "soon".into(),
            expiry: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            networks: Networks::STAGING,
            namespaces,
            last_used,
        }
    }

    #[test]
    fn a_notice_and_the_panel() {
        let used = NoticeToken::from(&expiring(Some(at(5))));
        pinned(
            &used,
            r#"{"name":"soon","uuid":"4b0f2d6e-8a6f-4e55-9a36-1d8c1b8e6f10","expiry":"2026-12-08","allowOnStaging":true,"allowOnProduction":false,"namespaces":{"default":"rw","shop":"rd"},"lastUsed":"2026-12-01T05:00:00Z"}"#,
        );
        let never = NoticeToken::from(&expiring(None));
        assert!(serde_json::to_string(&never).unwrap().ends_with(r#""lastUsed":null}"#));
        let notice = NoticeObject {
            id: 3,
            threshold_days: 7,
            created_at: NoticeObject::created_at(at(6)),
            read: true,
            subject: "Access token soon expires on 2026-12-08 (7-day notice)".into(),
            tokens: vec![never],
        };
        let mut list = NoticeList { notifications: vec![notice], unread: 0, next: Some(3) };
        pinned(
            &list,
            r#"{"notifications":[{"id":3,"thresholdDays":7,"createdAt":"2026-12-01T06:00:00Z","read":true,"subject":"Access token soon expires on 2026-12-08 (7-day notice)","tokens":[{"name":"soon","uuid":"4b0f2d6e-8a6f-4e55-9a36-1d8c1b8e6f10","expiry":"2026-12-08","allowOnStaging":true,"allowOnProduction":false,"namespaces":{"default":"rw","shop":"rd"},"lastUsed":null}]}],"unread":0,"next":3}"#,
        );
        list.notifications.clear();
        list.next = None;
        pinned(&list, r#"{"notifications":[],"unread":0}"#);
        pinned(&MarkedRead { marked: 2 }, r#"{"marked":2}"#);
    }

    #[test]
    fn request_bodies_of_the_panel_and_replaced_by() {
        pinned(&MarkRead { ids: vec![1, 2] }, r#"{"ids":[1,2]}"#);
        assert_eq!(serde_json::from_str::<MarkRead>("{}").unwrap(), MarkRead::default());
        assert!(serde_json::from_str::<MarkRead>(r#"{"ids":[],"all":true}"#).is_err());
        pinned(&ReplacedBy { name: "new".into() }, r#"{"name":"new"}"#);
        assert!(serde_json::from_str::<ReplacedBy>(r#"{"nom":"new"}"#).is_err());
    }

    #[test]
    fn a_check_report_and_the_status() {
        pinned(
            &CheckReport {
                ran: true,
                dry_run: true,
                due: vec![DueToken { name: "soon".into(), expiry: "2026-12-08".into(), threshold_days: 7 }],
                notices: 0,
                undelivered: vec![DueToken { name: "soon".into(), expiry: "2026-12-08".into(), threshold_days: 7 }],
            },
            r#"{"ran":true,"dryRun":true,"due":[{"name":"soon","expiry":"2026-12-08","thresholdDays":7}],"notices":0,"undelivered":[{"name":"soon","expiry":"2026-12-08","thresholdDays":7}]}"#,
        );
        let failed = FailedEmail {
            recipient: "ana@example.com".into(),
            subject: "Edgeward: soon expires".into(),
            attempts: 5,
            error: "550 no such user".into(),
            created_at: at(6),
        };
        let run = CheckRun {
            check_day: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            holder: "node-a".into(),
            started_at: at(6),
            finished_at: at(7),
            dry_run: false,
            due: 2,
            notices: 1,
        };
        let status = NotifyStatus {
            thresholds: vec![30, 7, 1],
            check_time: "06:00".into(),
            email: "smtp".into(),
            emails_pending: 1,
            webhook: "off".into(),
            webhooks_pending: 0,
            webhooks_failed: 3,
            emails_failed: vec![FailedEmailObject::from(&failed)],
            runs: vec![CheckRunObject::from(&run)],
            undelivered: vec![DueToken { name: "soon".into(), expiry: "2026-12-02".into(), threshold_days: 1 }],
        };
        pinned(
            &status,
            r#"{"thresholds":[30,7,1],"checkTime":"06:00","email":"smtp","emailsPending":1,"webhook":"off","webhooksPending":0,"webhooksFailed":3,"emailsFailed":[{"recipient":"ana@example.com","subject":"Edgeward: soon expires","attempts":5,"error":"550 no such user","queuedAt":"2026-12-01T06:00:00Z"}],"runs":[{"checkDay":"2026-12-01","server":"node-a","startedAt":"2026-12-01T06:00:00Z","finishedAt":"2026-12-01T07:00:00Z","dryRun":false,"due":2,"notices":1}],"undelivered":[{"name":"soon","expiry":"2026-12-02","thresholdDays":1}]}"#,
        );
    }

    #[test]
    fn users_and_contacts() {
        let user = User {
            id: "4b0f2d6e-8a6f-4e55-9a36-1d8c1b8e6f10".parse().unwrap(),
            name: "ana".into(),
            email: None,
            email_registered: false,
            active: true,
            grants: Grants::new([Capability::ViewToken, Capability::CreateToken]),
            roles: vec![
                edgeward_core::names::RoleName::parse("token-manager").unwrap(),
                edgeward_core::names::RoleName::parse("viewer").unwrap(),
            ],
            created_at: at(0),
        };
        let shown = UserObject::from(&user);
        pinned(
            &shown,
            r#"{"name":"ana","email":null,"emailRegistered":false,"active":true,"grants":["CREATE_TOKEN","VIEW_TOKEN"],"roles":["token-manager","viewer"]}"#,
        );
        // As a request body: only the name is needed; an address is not confirmed, the user is
        // active, and holds no grant and no role unless said otherwise; nothing else is taken.
        let minimal: UserObject = serde_json::from_str(r#"{"name":"bo"}"#).unwrap();
        assert_eq!((minimal.email, minimal.email_registered, minimal.active), (None, false, true));
        assert!(minimal.grants.is_empty() && minimal.roles.is_empty());
        assert!(serde_json::from_str::<UserObject>(r#"{"name":"bo","grants":[],"role":"x"}"#).is_err());
        // A change sends only what it changes.
        pinned(
            &UserChange { email: Some("a@b.example".into()), ..UserChange::default() },
            r#"{"email":"a@b.example"}"#,
        );
        pinned(
            &UserChange { active: Some(false), email: None, email_registered: Some(true), roles: None },
            r#"{"active":false,"emailRegistered":true}"#,
        );
        pinned(&UserChange { roles: Some(vec!["viewer".into()]), ..UserChange::default() }, r#"{"roles":["viewer"]}"#);
        assert!(serde_json::from_str::<UserChange>(r#"{"name":"x"}"#).is_err());
        pinned(
            &ContactObject { email: "oncall@example.com".into(), name: "On call".into() },
            r#"{"email":"oncall@example.com","name":"On call"}"#,
        );
    }

    #[test]
    fn roles_and_their_request_bodies() {
        let built_in = edgeward_core::role::built_in("token-manager").unwrap();
        pinned(
            &RoleObject::from(&built_in),
            r#"{"name":"token-manager","description":"Create, view and revoke access tokens.","grants":["CREATE_TOKEN","VIEW_TOKEN","REVOKE_TOKEN"],"builtIn":true}"#,
        );
        pinned(
            &NewRole {
                name: "releasers".into(),
                description: "Release team.".into(),
                grants: vec!["CREATE_TOKEN".into()],
            },
            r#"{"name":"releasers","description":"Release team.","grants":["CREATE_TOKEN"]}"#,
        );
        let bare: NewRole = serde_json::from_str(r#"{"name":"releasers","grants":[]}"#).unwrap();
        assert_eq!(bare.description, "");
        assert!(serde_json::from_str::<NewRole>(r#"{"name":"r","grants":[],"builtIn":true}"#).is_err());
        assert!(serde_json::from_str::<NewRole>(r#"{"name":"r"}"#).is_err(), "grants are said");
        pinned(&RoleChange::default(), "{}");
        pinned(
            &RoleChange { description: Some("d".into()), grants: Some(vec!["VIEW_TOKEN".into()]) },
            r#"{"description":"d","grants":["VIEW_TOKEN"]}"#,
        );
        assert!(serde_json::from_str::<RoleChange>(r#"{"name":"other"}"#).is_err());
    }

    #[test]
    fn an_audit_record_is_written_as_the_store_entry_was() {
        let entry = AuditEntry {
            id: 9,
            record: AuditRecord {
                at: at(6) + chrono::Duration::milliseconds(250),
                actor: "client:admin".into(),
                owner: None,
                action: "token.create".into(),
                target: "token/ro".into(),
                request_id: Some("0123456789abcdef".into()),
                source: "127.0.0.1".into(),
                outcome: AuditOutcome::Failure,
                detail: Some("400 EKV_1002".into()),
            },
        };
        let object = AuditRecordObject::from(entry.clone());
        // Byte for byte what the endpoint sent when it rendered the store's entry directly.
        assert_eq!(serde_json::to_string(&object).unwrap(), serde_json::to_string(&entry).unwrap());
        let page = AuditPage { records: vec![object], next: None };
        pinned(
            &page,
            r#"{"records":[{"id":9,"at":"2026-12-01T06:00:00.250Z","actor":"client:admin","owner":null,"action":"token.create","target":"token/ro","requestId":"0123456789abcdef","source":"127.0.0.1","outcome":"failure","detail":"400 EKV_1002"}]}"#,
        );
    }
}
