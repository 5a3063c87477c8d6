//! How values are laid out in columns, shared by both backends so that a row means the same on
//! SQLite and PostgreSQL: instants as epoch milliseconds, dates as `YYYY-MM-DD`, namespace grants
//! as `ns:rwd,…`, change-feed subjects as `/`-joined segments, integers checked into and out of
//! their columns. What the store refuses, and in which words, is core's (`edgeward_core::refusal`).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use edgeward_core::names::{AccessGroupId, NamespaceName, TokenName};
use edgeward_core::network::{Network, Networks};
use edgeward_core::permission::Permissions;
use edgeward_core::store::{Change, ItemKey};
use edgeward_core::token::{EdgeWorkerScope, NamespacePermissions, Token};
use edgeward_core::Error;

/// An instant as stored.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored instant.
pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

/// A stored calendar date.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    s.parse().map_err(|e| format!("bad date {s:?}: {e}"))
}

/// A stored uuid.
pub(crate) fn parse_uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|e| format!("bad uuid {s:?}: {e}"))
}

/// Namespace grants as one column.
pub(crate) fn encode_namespaces(t: &NamespacePermissions) -> String {
    t.iter().map(|(ns, p)| format!("{ns}:{}", p.compact())).collect::<Vec<_>>().join(",")
}

/// The namespaces column read back.
pub(crate) fn decode_namespaces(s: &str) -> Result<NamespacePermissions, String> {
    s.split(',')
        .map(|part| {
            let (ns, letters) = part.split_once(':').ok_or_else(|| format!("bad namespaces column: {part}"))?;
            let ns = NamespaceName::parse(ns).map_err(|e| e.to_string())?;
            let p = Permissions::parse_compact(letters).map_err(|e| e.to_string())?;
            Ok((ns, p))
        })
        .collect()
}

/// The columns of a token row, as read.
pub(crate) struct TokenColumns {
    pub token_ref: String,
    pub sealed_uuid: Option<Vec<u8>>,
    pub name: String,
    pub allow_staging: bool,
    pub allow_production: bool,
    pub ewids: String,
    pub namespaces: String,
    pub expiry: Option<String>,
    pub issued_at: i64,
    pub latest_refresh: Option<i64>,
    pub next_refresh: Option<String>,
    pub generation: i64,
    pub cpcode: String,
    pub revoked_at: Option<i64>,
}

impl TokenColumns {
    /// The token these columns describe (its uuid opened with `refs`).
    pub(crate) fn into_token(self, refs: &crate::refs::RefKeys) -> Result<Token, String> {
        let sealed = self.sealed_uuid.as_deref().ok_or("a token row without its sealed uuid")?;
        Ok(Token {
            uuid: refs.open_uuid(sealed, &self.token_ref)?,
            name: TokenName::parse(&self.name).map_err(|e| e.to_string())?,
            networks: Networks { staging: self.allow_staging, production: self.allow_production },
            ewids: EdgeWorkerScope::from_claim(&self.ewids).map_err(|e| e.to_string())?,
            namespaces: decode_namespaces(&self.namespaces)?,
            expiry: self.expiry.as_deref().map(parse_date).transpose()?,
            issued_at: from_ms(self.issued_at),
            latest_refresh: self.latest_refresh.map(from_ms),
            next_refresh: self.next_refresh.as_deref().map(parse_date).transpose()?,
            generation: u32::try_from(self.generation).map_err(|e| e.to_string())?,
            cpcode: self.cpcode,
            revoked_at: self.revoked_at.map(from_ms),
        })
    }
}

/// The kind of a revocation change; its subject is the revoked token's token ref.
pub(crate) const TOKEN_REVOKED: &str = "token_revoked";

/// A change as (kind, subject) columns. A revocation is noted with its token ref, never its
/// uuid: `None` here.
pub(crate) fn encode_change(change: &Change) -> Option<(&'static str, String)> {
    Some(match change {
        Change::TokenRevoked(_) => return None,
        Change::Item(k) => ("item", item_subject(k)),
        Change::Namespace(network, name) => ("namespace", format!("{}/{}", network.as_str(), name.as_str())),
        Change::SigningKeys(kid) => ("signing_keys", kid.clone()),
        Change::DataKey(id) => ("data_key", id.clone()),
    })
}

/// The subject of an `item` change. Segments are [A-Za-z0-9_-]: '/' cannot occur inside one.
pub(crate) fn item_subject(k: &ItemKey) -> String {
    format!("{}/{}/{}/{}/{}", k.network.as_str(), k.namespace.as_str(), k.sandbox, k.group, k.item)
}

/// The change that (kind, subject) columns describe; for a revocation, `sealed_uuid` is the
/// revoked token's (absent once the token is purged: nothing left to refuse).
pub(crate) fn decode_change(
    kind: &str,
    subject: &str,
    sealed_uuid: Option<&[u8]>,
    refs: &crate::refs::RefKeys,
) -> Option<Change> {
    match kind {
        TOKEN_REVOKED => refs.open_uuid(sealed_uuid?, subject).ok().map(Change::TokenRevoked),
        "item" => {
            let mut p = subject.splitn(5, '/');
            let (network, ns, sandbox, group, item) = (p.next()?, p.next()?, p.next()?, p.next()?, p.next()?);
            Some(Change::Item(ItemKey {
                network: Network::parse(network).ok()?,
                namespace: NamespaceName::parse(ns).ok()?,
                sandbox: sandbox.to_owned(),
                group: group.to_owned(),
                item: item.to_owned(),
            }))
        }
        "namespace" => {
            let (network, ns) = subject.split_once('/')?;
            Some(Change::Namespace(Network::parse(network).ok()?, NamespaceName::parse(ns).ok()?))
        }
        "signing_keys" => Some(Change::SigningKeys(subject.to_owned())),
        "data_key" => Some(Change::DataKey(subject.to_owned())),
        _ => None,
    }
}

/// An access group id as its column holds it. A negative one (which no `AccessGroupId` can
/// write) reads as the account group.
pub(crate) fn group_id(column: i64) -> AccessGroupId {
    AccessGroupId::try_from(column).unwrap_or(AccessGroupId::ACCOUNT)
}

/// The range of `expires_at` (the last second of each expiry day) for expiry days `first..=last`.
pub(crate) fn expiry_range(first: NaiveDate, last: NaiveDate) -> (i64, i64) {
    (ms(first.and_hms_opt(0, 0, 0).expect("valid time").and_utc()), ms(edgeward_core::token::expiry_instant(last)))
}

/// The parameters of `LIVE_TOKEN_COUNTS`: `now`, then the ends of the 1-, 7- and 30-day buckets.
pub(crate) fn live_token_bounds(now: DateTime<Utc>) -> [i64; 4] {
    let after = |days: i64| ms(now + chrono::Duration::days(days));
    [ms(now), after(1), after(7), after(30)]
}

/// `LIVE_TOKEN_COUNTS`'s rows, (bucket, count), added up.
pub(crate) fn live_token_counts(
    rows: impl IntoIterator<Item = (i64, i64)>,
) -> Result<edgeward_core::store::LiveTokenCounts, Error> {
    let mut counts = edgeward_core::store::LiveTokenCounts::default();
    for (bucket, count) in rows {
        let count = u64::try_from(count).map_err(|_| Error::Internal(format!("a negative count: {count}")))?;
        counts.add(bucket, count);
    }
    Ok(counts)
}

/// An audit row as read by either driver.
pub(crate) struct AuditColumns {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub owner: Option<String>,
    pub action: String,
    pub target: String,
    pub request_id: Option<String>,
    pub source: String,
    pub outcome: String,
    pub detail: Option<String>,
}

impl AuditColumns {
    pub(crate) fn into_entry(self) -> Result<edgeward_core::audit::AuditEntry, String> {
        let outcome = edgeward_core::audit::AuditOutcome::parse(&self.outcome)
            .ok_or_else(|| format!("bad audit outcome {:?}", self.outcome))?;
        Ok(edgeward_core::audit::AuditEntry {
            id: self.id,
            record: edgeward_core::audit::AuditRecord {
                at: from_ms(self.at),
                actor: self.actor,
                owner: self.owner,
                action: self.action,
                target: self.target,
                request_id: self.request_id,
                source: self.source,
                outcome,
                detail: self.detail,
            },
        })
    }
}

/// A filter value as (exact, prefix): a value ending in `sep` matches as a prefix
/// (`AuditFilter::matches` is the rule).
pub(crate) fn exact_or_prefix(v: Option<&str>, sep: char) -> (Option<String>, Option<String>) {
    match v {
        Some(v) if v.ends_with(sep) => (None, Some(v.to_owned())),
        Some(v) => (Some(v.to_owned()), None),
        None => (None, None),
    }
}

/// Usage counts as the rows `sql::RECORD_USAGE` writes: (token ref, network, requests, last
/// used), in one order for every server (token ref, then network), so two batches touching the
/// same rows cannot deadlock; a count beyond the column's range is stored as its largest value.
pub(crate) fn usage_rows(
    refs: &crate::refs::RefKeys,
    usage: Vec<edgeward_core::store::TokenUsage>,
) -> Vec<(String, &'static str, i64, i64)> {
    let mut rows: Vec<_> = usage
        .into_iter()
        .map(|u| {
            (
                refs.token_ref(&u.uuid),
                u.network.as_str(),
                i64::try_from(u.requests).unwrap_or(i64::MAX),
                ms(u.last_used),
            )
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows
}

/// A namespace's retention as its signed column; refused beyond its range, never wrapped.
pub(crate) fn retention_column(seconds: u64) -> Result<i64, Error> {
    i64::try_from(seconds)
        .map_err(|_| Error::invalid("retentionInSeconds", format!("Retention {seconds} is out of range.")))
}

/// A row limit or a count as its signed column: beyond the range stands for "no limit" or the
/// largest count, never for a negative one.
pub(crate) fn saturating<T: TryInto<i64>>(v: T) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

/// A small number (notice thresholds in days, schema versions) as a 32-bit column.
pub(crate) fn int32<T: TryInto<i32> + Copy + std::fmt::Display>(v: T) -> Result<i32, Error> {
    v.try_into().map_err(|_| Error::Internal(format!("{v} does not fit a 32-bit column")))
}

/// A stored count or id read back: never negative (a negative one reads as 0).
pub(crate) fn unsigned<T: TryInto<u64>>(v: T) -> u64 {
    v.try_into().unwrap_or(0)
}

/// A small stored number (a threshold in days, a schema version) read back: never negative.
pub(crate) fn unsigned32<T: TryInto<u32>>(v: T) -> u32 {
    v.try_into().unwrap_or(0)
}
