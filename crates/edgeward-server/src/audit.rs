//! The audit trail of the admin API and the administration commands.
//!
//! [`record_changes`] (called by EdgeGrid authentication once the caller is known) gives
//! every request to a changing operation an audit record, named from the one table
//! [`audited_operation`]: the store writes it in the change's own transaction (see
//! `edgeward_store::audit`). When no write committed it, [`record_changes`] appends it on its own:
//! as a failure, with the status and problem code, when the answer is an error; as a success
//! otherwise (a repeat that changed nothing). [`Trail::auth_denied`] records failed
//! authentication, at most one record per source address and reason per
//! [`DENIED_RECORD_INTERVAL`] and [`DENIED_RECORDS_PER_SECOND`] in all, so a flood of bad requests
//! cannot flood the trail. [`command`] does the same for administration commands, and
//! [`console`] for the changes people make in the web console.
//!
//! [`console_change`] does the same for a change a person makes in the console, and
//! [`records`] is the listing the API and the console's audit page share.
//!
//! Records name the things changed (from the path, and for creations the body's name field);
//! they never carry a request body, a secret, a token value or a token reference.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use chrono::{DateTime, Utc};
use edgeward_core::audit::{actions, AuditFilter, AuditOutcome, AuditRecord, MAX_PAGE};
use edgeward_core::network::Networks;
use edgeward_core::store::Store;
use edgeward_core::Error;
use edgeward_wire::{AuditPage, AuditRecordObject};

use crate::auth::Actor;
use edgeward_store::audit::{scope, AuditSlot};

use crate::permit::{self, cap};
use crate::problem::Problem;
use crate::state::AppState;

/// The request id `observe` gives each request (also sent as `X-Trace-Id`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An audited operation: its action and where the target's name comes from.
struct Operation {
    action: &'static str,
    /// The target: a prefix, then path parameters and (for creations) a body field, joined by `/`.
    target: &'static str,
    path: &'static [&'static str],
    body_field: Option<&'static str>,
}

const fn op(
    action: &'static str,
    target: &'static str,
    path: &'static [&'static str],
    body_field: Option<&'static str>,
) -> Operation {
    Operation { action, target, path, body_field }
}

/// The admin API's changing operations, by method and route template: the one table of what the
/// trail records.
fn audited_operation(method: &Method, route: &str) -> Option<Operation> {
    const NS: &[&str] = &["network", "ns"];
    const ITEM: &[&str] = &["network", "ns", "group", "item"];
    Some(match (method.as_str(), route) {
        ("POST", "/edgekv/v1/tokens") => op(actions::TOKEN_CREATE, "token", &[], Some("name")),
        ("DELETE", "/edgekv/v1/tokens/{name}") => op(actions::TOKEN_REVOKE, "token", &["name"], None),
        ("POST", "/edgekv/v1/tokens/{name}/refresh") => op(actions::TOKEN_REFRESH, "token", &["name"], None),
        ("POST", "/edgeward/v1/tokens/{name}/replaced-by") => op(actions::TOKEN_REPLACED, "token", &["name"], None),
        ("PUT", "/edgeward/v1/tokens/{name}/scheduled-revocation") => {
            op(actions::TOKEN_SCHEDULE_REVOKE, "token", &["name"], None)
        }
        ("DELETE", "/edgeward/v1/tokens/{name}/scheduled-revocation") => {
            op(actions::TOKEN_CANCEL_REVOKE, "token", &["name"], None)
        }
        ("PUT", "/edgekv/v1/initialize") => op(actions::ACCOUNT_INITIALIZE, "account", &[], None),
        ("POST", "/edgekv/v1/networks/{network}/namespaces") => {
            op(actions::NAMESPACE_CREATE, "namespace", &["network"], Some("namespace"))
        }
        ("PUT", "/edgekv/v1/networks/{network}/namespaces/{ns}") => {
            op(actions::NAMESPACE_UPDATE, "namespace", NS, None)
        }
        ("DELETE", "/edgekv/v1/networks/{network}/namespaces/{ns}") => {
            op(actions::NAMESPACE_DELETE, "namespace", NS, None)
        }
        ("PUT", "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete") => {
            op(actions::NAMESPACE_RESCHEDULE_DELETE, "namespace", NS, None)
        }
        ("DELETE", "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete") => {
            op(actions::NAMESPACE_CANCEL_DELETE, "namespace", NS, None)
        }
        ("PUT", "/edgekv/v1/auth/namespaces/{ns}") => op(actions::NAMESPACE_REAUTHORIZE, "namespace", &["ns"], None),
        ("PUT", "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}") => {
            op(actions::ITEM_WRITE, "item", ITEM, None)
        }
        ("DELETE", "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}") => {
            op(actions::ITEM_DELETE, "item", ITEM, None)
        }
        ("POST", "/edgeward/v1/notify/run") => op(actions::NOTIFY_RUN, "notify", &[], None),
        ("POST", "/edgeward/v1/users") => op(actions::USER_CREATE, "user", &[], Some("name")),
        ("PATCH", "/edgeward/v1/users/{name}") => op(actions::USER_UPDATE, "user", &["name"], None),
        ("POST", "/edgeward/v1/roles") => op(actions::ROLE_CREATE, "role", &[], Some("name")),
        ("PUT", "/edgeward/v1/roles/{name}") => op(actions::ROLE_UPDATE, "role", &["name"], None),
        ("DELETE", "/edgeward/v1/roles/{name}") => op(actions::ROLE_DELETE, "role", &["name"], None),
        ("POST", "/edgeward/v1/contacts") => op(actions::CONTACT_PUT, "contact", &[], Some("email")),
        ("DELETE", "/edgeward/v1/contacts/{email}") => op(actions::CONTACT_REMOVE, "contact", &["email"], None),
        _ => return None,
    })
}

/// The longest name segment a record keeps (names are bounded by their own rules; this bounds
/// what a refused request with an invalid name can write).
const MAX_SEGMENT: usize = 256;

fn segment(s: &str) -> String {
    let mut s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.len() > MAX_SEGMENT {
        let mut end = MAX_SEGMENT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Path parameters by name, read from the route template and the path.
fn path_params<'a>(template: &'a str, path: &'a str) -> HashMap<&'a str, String> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(t, p)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let decoded = percent_decode(p);
            Some((name, decoded))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The source address of a request, when the listener recorded it.
fn source_of(req: &Request) -> String {
    peer_ip(req).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Run an authenticated request, auditing it when its operation changes anything (see the
/// module doc). EdgeGrid authentication calls this once the caller is known, so the signed
/// routes carry one middleware layer, not two.
///
/// Reads (most requests) pass straight through: the audited path is a future of its own, boxed,
/// so a read neither allocates here nor carries that larger future through every poll.
pub async fn record_changes(state: &AppState, actor: &Arc<Actor>, req: Request, next: Next) -> Response {
    match req.extensions().get::<MatchedPath>().and_then(|r| audited_operation(req.method(), r.as_str())) {
        Some(operation) => Box::pin(audited(state.clone(), operation, actor.clone(), req, next)).await,
        None => next.run(req).await,
    }
}

/// An audited operation's request: its record, written with the change or on its own.
async fn audited(state: AppState, operation: Operation, actor: Arc<Actor>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let params = path_params(route.as_deref().unwrap_or(""), req.uri().path());
    let mut target = vec![operation.target.to_owned()];
    target.extend(operation.path.iter().map(|p| segment(params.get(p).map_or("", String::as_str))));
    let (parts, body) = req.into_parts();
    // The body was read (bounded) by authentication already; this only takes it back.
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    if let Some(field) = operation.body_field {
        let name = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get(field).and_then(|n| n.as_str()).map(segment))
            .unwrap_or_default();
        target.push(name);
    }
    let req = Request::from_parts(parts, Body::from(body));
    let record = AuditRecord {
        at: state.clock.now(),
        actor: actor.label(),
        owner: actor.user.map(|o| o.to_string()),
        action: operation.action.to_owned(),
        target: target.join("/"),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        source: source_of(&req),
        outcome: AuditOutcome::Success,
        detail: None,
    };
    let slot = AuditSlot::new(record);
    let resp = scope(slot.clone(), next.run(req)).await;
    if let Some(mut record) = slot.take_pending() {
        let status = resp.status();
        if !status.is_success() {
            record.outcome = AuditOutcome::Failure;
            record.detail = Some(failure_detail(status, resp.extensions().get::<Problem>()));
        }
        if let Err(e) = state.store.append_audit(record).await {
            tracing::error!(error = %e.log_detail(), "an audit record could not be written");
        }
    }
    resp
}

/// Query parameters a listing takes (each at most once).
const PARAMS: [&str; 8] = ["actor", "action", "target", "outcome", "since", "until", "before", "limit"];

fn instant(q: &HashMap<String, String>, key: &'static str) -> Result<Option<DateTime<Utc>>, Error> {
    q.get(key)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Error::invalid(key, format!("{key} must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z.")))
        })
        .transpose()
}

/// Parse a listing's query into a filter (shared by the API and its tests).
pub fn filter_from_query(q: &HashMap<String, String>) -> Result<AuditFilter, Error> {
    // `accountSwitchKey` is what EdgeGrid clients with an account key add to every request.
    if let Some(unknown) = q.keys().find(|k| !PARAMS.contains(&k.as_str()) && *k != "accountSwitchKey") {
        return Err(Error::invalid(
            "query",
            format!("Unknown query parameter {unknown:?}; the audit listing takes {}.", PARAMS.join(", ")),
        ));
    }
    let text = |key: &'static str| -> Result<Option<String>, Error> {
        match q.get(key) {
            Some(v) if v.is_empty() || v.len() > 512 => {
                Err(Error::invalid(key, format!("{key} must be 1 to 512 characters.")))
            }
            other => Ok(other.cloned()),
        }
    };
    let outcome = match q.get("outcome") {
        None => None,
        Some(v) => Some(
            AuditOutcome::parse(v).ok_or_else(|| Error::invalid("outcome", "outcome must be success or failure."))?,
        ),
    };
    let number = |key: &'static str, max: i64| -> Result<Option<i64>, Error> {
        q.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| Error::invalid(key, format!("{key} must be a whole number from 1 to {max}.")))
            })
            .transpose()
    };
    Ok(AuditFilter {
        actor: text("actor")?,
        action: text("action")?,
        target: text("target")?,
        outcome,
        since: instant(q, "since")?,
        until: instant(q, "until")?,
        before_id: number("before", i64::MAX)?,
        // 1 to MAX_PAGE when given, so it fits a usize.
        limit: number("limit", i64::try_from(MAX_PAGE).unwrap_or(i64::MAX))?
            .map_or(100, |n| usize::try_from(n).unwrap_or(MAX_PAGE)),
    })
}

/// A page of the trail for `actor` (`VIEW_AUDIT`): the records `query` selects, newest first,
/// and the `before` of the next page. The admin API's `GET /edgeward/v1/audit` and the
/// console's audit page both answer with it.
pub async fn records(state: &AppState, actor: &Actor, query: &HashMap<String, String>) -> Result<AuditPage, Error> {
    permit::check::<cap::ViewAudit>(&actor.grants, Networks::BOTH)?;
    let filter = filter_from_query(query)?;
    let records = state.store.audit_records(&filter).await?;
    let next = (records.len() == filter.limit).then(|| records.last().map(|r| r.id)).flatten();
    Ok(AuditPage { records: records.into_iter().map(AuditRecordObject::from).collect(), next })
}

/// A failure's detail: the status and the problem code (`400 EKV_1002`).
fn failure_detail(status: axum::http::StatusCode, problem: Option<&Problem>) -> String {
    let code = match problem {
        Some(Problem::EdgeKv { code, .. }) => code,
        Some(Problem::Gateway { .. }) => "gateway",
        None => "",
    };
    format!("{} {code}", status.as_u16()).trim_end().to_owned()
}

/// At most one failed-authentication record per source address and reason this often.
pub const DENIED_RECORD_INTERVAL: Duration = Duration::from_secs(10);
/// At most this many failed-authentication records per second, from all sources.
pub const DENIED_RECORDS_PER_SECOND: u32 = 10;
/// Sources remembered for the per-source limit (the map is cleared when it is full).
const DENIED_SOURCES: usize = 10_000;

/// The failed-authentication side of the trail: its rate limits.
#[derive(Default)]
pub struct Trail {
    denied: Mutex<DeniedLimits>,
}

#[derive(Default)]
struct DeniedLimits {
    last: HashMap<(Option<IpAddr>, &'static str), Instant>,
    second: Option<Instant>,
    in_second: u32,
    suppressed: u64,
}

impl Trail {
    /// Whether a failed-authentication record from `source` for `reason` may be written now,
    /// and how many were left out since the last one written.
    fn admit_denied(&self, source: Option<IpAddr>, reason: &'static str, now: Instant) -> Option<u64> {
        let mut g = self.denied.lock().unwrap_or_else(|e| e.into_inner());
        if g.second.is_none_or(|s| now.duration_since(s) >= Duration::from_secs(1)) {
            g.second = Some(now);
            g.in_second = 0;
        }
        let recent = g.last.get(&(source, reason)).is_some_and(|t| now.duration_since(*t) < DENIED_RECORD_INTERVAL);
        if recent || g.in_second >= DENIED_RECORDS_PER_SECOND {
            g.suppressed += 1;
            return None;
        }
        if g.last.len() >= DENIED_SOURCES {
            g.last.clear();
        }
        g.last.insert((source, reason), now);
        g.in_second += 1;
        Some(std::mem::take(&mut g.suppressed))
    }

    /// Record a request refused by authentication (rate-limited; written in the background so
    /// the refusal is not slowed by the store).
    pub fn auth_denied(&self, state: &AppState, refused: Refused<'_>) {
        let Some(suppressed) = self.admit_denied(refused.source, refused.reason, Instant::now()) else {
            return;
        };
        let reason = refused.reason;
        let detail = if suppressed > 0 {
            format!("{reason} ({suppressed} similar refusals not recorded before this one)")
        } else {
            reason.to_owned()
        };
        let record = AuditRecord {
            at: state.clock.now(),
            actor: "unauthenticated".into(),
            owner: None,
            action: actions::AUTH_DENIED.into(),
            target: format!("{} {}", segment(refused.method), segment(refused.path)),
            request_id: Some(refused.request_id.to_owned()),
            source: refused.source.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
            outcome: AuditOutcome::Failure,
            detail: Some(detail),
        };
        let store = state.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.append_audit(record).await {
                tracing::error!(error = %e.log_detail(), "an audit record could not be written");
            }
        });
    }
}

/// Put on a response by EdgeGrid authentication when it refuses a request: the reason, for
/// the trail (`observe` records it).
#[derive(Debug, Clone, Copy)]
pub struct AuthDenied(pub &'static str);

/// A request refused by authentication, as the trail records it.
pub struct Refused<'a> {
    /// The peer address, when known.
    pub source: Option<IpAddr>,
    /// The request method.
    pub method: &'a str,
    /// The request path (no query).
    pub path: &'a str,
    /// The request id.
    pub request_id: &'a str,
    /// Why it was refused (the `auth_failures` metric's reason).
    pub reason: &'static str,
}

/// The peer address a listener recorded on the request.
pub fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// Run an administration command's change `f` as audited: `actor` is the operating-system user
/// who ran it; the record is written with the change, or on its own as a failure.
pub async fn command<T, E: std::fmt::Display>(
    store: &dyn Store,
    actor: &str,
    action: &'static str,
    target: String,
    at: chrono::DateTime<chrono::Utc>,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let record = AuditRecord {
        at,
        actor: format!("command:{}", segment(actor)),
        owner: None,
        action: action.to_owned(),
        target: segment(&target),
        request_id: None,
        source: "local".into(),
        outcome: AuditOutcome::Success,
        detail: None,
    };
    run_audited(store, record, f, |e: &E| segment(&e.to_string())).await
}

/// Run a change the server makes on its own schedule (a scheduled revocation) as audited, by
/// the `maintenance` actor: the record is written in the change's transaction, and not at all
/// when the change does not happen (`f` fails: not due any more, or done by another server).
pub async fn maintenance<T>(
    action: &'static str,
    target: String,
    at: DateTime<Utc>,
    f: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let record = AuditRecord {
        at,
        actor: "maintenance".into(),
        owner: None,
        action: action.to_owned(),
        target: segment(&target),
        request_id: None,
        source: "local".into(),
        outcome: AuditOutcome::Success,
        detail: Some("scheduled".into()),
    };
    scope(AuditSlot::new(record), f).await
}

/// Where a console request came from, for its audit records: the peer address and the request
/// id `observe` gave it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The peer address, when the listener recorded it.
    pub address: Option<IpAddr>,
    /// The peer address as records show it, or `unknown`.
    pub source: String,
    /// The request id (also the answer's `X-Trace-Id`).
    pub request_id: Option<String>,
}

impl Origin {
    /// The origin of a request, from what the listener and `observe` put in its extensions.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        let address = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Self {
            address,
            source: address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
            request_id: extensions.get::<RequestId>().map(|r| r.0.clone()),
        }
    }
}

/// Run a change `f` that a person makes in the console as audited, like the admin API's
/// request for the same operation: the same action, a target of the same shape (`resource`, then
/// `target`'s segments: `token` and its name, `item` and network, namespace, group, item),
/// `user:NAME`. The record is written with the change, or on its own: a failure with the status
/// and problem code the API would answer, or a success that changed nothing.
pub async fn console<T>(
    state: &AppState,
    actor: &Actor,
    origin: &Origin,
    action: &'static str,
    (resource, target): (&'static str, &[&str]),
    f: impl Future<Output = Result<T, edgeward_core::Error>>,
) -> Result<T, edgeward_core::Error> {
    let mut segments = vec![resource.to_owned()];
    segments.extend(target.iter().map(|t| segment(t)));
    let record = AuditRecord {
        at: state.clock.now(),
        actor: actor.label(),
        owner: actor.user.map(|o| o.to_string()),
        action: action.to_owned(),
        target: segments.join("/"),
        request_id: origin.request_id.clone(),
        source: origin.source.clone(),
        outcome: AuditOutcome::Success,
        detail: None,
    };
    run_audited(state.store.as_ref(), record, f, |e: &edgeward_core::Error| {
        let problem = crate::problem::ApiError::from(e.clone()).problem();
        failure_detail(problem.status(), Some(&problem))
    })
    .await
}

/// Run `f` with `record` pending: the store writes it in the change's own transaction; when no
/// write took it, it is appended on its own (a failure, with `detail` of the error, when `f`
/// failed).
async fn run_audited<T, E>(
    store: &dyn Store,
    record: AuditRecord,
    f: impl Future<Output = Result<T, E>>,
    detail: impl FnOnce(&E) -> String,
) -> Result<T, E> {
    let slot = AuditSlot::new(record);
    let out = scope(slot.clone(), f).await;
    if let Some(mut record) = slot.take_pending() {
        if let Err(e) = &out {
            record.outcome = AuditOutcome::Failure;
            record.detail = Some(detail(e));
        }
        if let Err(e) = store.append_audit(record).await {
            tracing::error!(error = %e.log_detail(), "an audit record could not be written");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_route_template_and_the_path() {
        let p = path_params(
            "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}",
            "/edgekv/v1/networks/staging/namespaces/default/groups/g%2F1/items/a%20b",
        );
        assert_eq!(p["network"], "staging");
        assert_eq!(p["group"], "g/1");
        assert_eq!(p["item"], "a b");
        assert_eq!(segment(&"x".repeat(1000)).len(), MAX_SEGMENT);
        assert_eq!(segment("a\nb"), "ab", "no line breaks in a record");
    }

    #[test]
    fn every_changing_route_is_audited_and_reads_are_not() {
        assert!(audited_operation(&Method::POST, "/edgekv/v1/tokens").is_some());
        assert!(audited_operation(&Method::GET, "/edgekv/v1/tokens").is_none());
        assert!(audited_operation(&Method::GET, "/edgekv/v1/tokens/{name}").is_none());
        assert!(audited_operation(&Method::POST, "/edgeward/v1/notifications/read").is_none());
    }

    #[test]
    fn failed_authentication_records_are_rate_limited_per_source_and_in_all() {
        let t = Trail::default();
        let now = Instant::now();
        let a: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        assert_eq!(t.admit_denied(a, "signature", now), Some(0));
        assert_eq!(t.admit_denied(a, "signature", now), None, "same source and reason: left out");
        assert_eq!(t.admit_denied(a, "replay", now), Some(1), "another reason is recorded, counting what was left out");
        assert_eq!(t.admit_denied(a, "signature", now + DENIED_RECORD_INTERVAL), Some(0));
        let later = now + Duration::from_secs(100);
        let admitted = (0..50u8)
            .filter(|i| t.admit_denied(Some(IpAddr::from([198, 51, 100, *i])), "signature", later).is_some())
            .count();
        assert_eq!(admitted, DENIED_RECORDS_PER_SECOND as usize, "a flood from many sources is capped per second");
    }
}
