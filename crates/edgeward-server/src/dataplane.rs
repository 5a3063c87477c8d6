//! The data plane: what `edgekv.js` calls from edge code.
//!
//! `GET|PUT|DELETE /api/v1/namespaces/{ns}/groups/{group}/items/{item}`, every request
//! authorized from `X-Akamai-EdgeDB-Auth` (a token value) or `X-Akamai-EdgeDB-Auth-Ref` (the uuid
//! of an auto-refreshing token). 401 when the token is missing, malformed, badly signed,
//! expired, revoked or unknown; 403 when it is valid but not for this namespace, right, network
//! or EdgeWorker. Each listener serves one network and stands for the edge.
//!
//! Verified token values are cached by a SHA-256 of the value, and auto-refreshing tokens by
//! uuid; expiry is checked against the clock and revocation against the in-memory revocation
//! list on every request, so revoking a token takes effect on the very next request. A value
//! seen for the first time is also looked up in the store by its `jti` (once, then cached): a
//! correctly signed value whose token the store does not know is refused, and a revoked one
//! joins the revocation list, so a revocation holds on a node that started after it. A cached
//! grant is refused once the key that signed its value is retired. Each allowed
//! request is counted in memory per (token, network) and written to the store every few seconds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, Method};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use edgeward_core::names::{GroupName, ItemName, NamespaceName};
use edgeward_core::network::{Network, Networks};
use edgeward_core::permission::{Permissions, Right};
use edgeward_core::store::{ItemKey, TokenUsage};
use edgeward_core::token::{EdgeWorkerScope, Token};

use edgeward_token::KeySet;

use crate::items;
use crate::problem::{ApiError, ServerError};
use crate::state::AppState;

const MAX_CACHED: usize = 100_000;

/// What a verified token allows.
#[derive(Debug)]
pub struct Grant {
    uuid: Uuid,
    /// The key that signed the value (empty for a reference, which no key signs).
    kid: String,
    expires_at: Option<DateTime<Utc>>,
    networks: Networks,
    ewids: EdgeWorkerScope,
    namespaces: BTreeMap<String, Permissions>,
}

/// Caches of verified tokens, the revocation list, and usage not yet written to the store.
///
/// What every request reads is kept where two threads serving requests do not write the same
/// memory: the revocation list is an immutable set swapped whole on a revocation (rare), read
/// without a lock; usage is counted in one shard per thread.
#[derive(Default)]
pub struct TokenGate {
    by_value: Mutex<HashMap<[u8; 32], Arc<Grant>>>,
    by_ref: Mutex<HashMap<Uuid, Arc<Grant>>>,
    revoked: ArcSwap<HashSet<Uuid>>,
    usage: [Mutex<HashMap<(Uuid, Network), Counted>>; USAGE_SHARDS],
}

/// Requests counted for a (token, network) since the last flush, and the latest of them.
type Counted = (u64, DateTime<Utc>);

/// Shards of the usage counts: each thread counts in one (threads beyond this share them).
const USAGE_SHARDS: usize = 8;

/// This thread's usage shard.
fn usage_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % USAGE_SHARDS;
    }
    SHARD.with(|s| *s)
}

impl TokenGate {
    /// Mark revoked (and forget any cached grant of the reference).
    pub fn revoke(&self, uuid: Uuid) {
        self.load_revoked([uuid]);
        self.by_ref.lock().unwrap_or_else(|e| e.into_inner()).remove(&uuid);
    }

    /// Add revoked tokens to the list (at start, and from the change feed).
    pub fn load_revoked(&self, uuids: impl IntoIterator<Item = Uuid>) {
        let uuids: Vec<Uuid> = uuids.into_iter().collect();
        if uuids.is_empty() {
            return;
        }
        self.revoked.rcu(|set| {
            let mut set = HashSet::clone(set);
            set.extend(uuids.iter().copied());
            set
        });
    }

    fn record_use(&self, uuid: Uuid, network: Network, now: DateTime<Utc>) {
        let mut g = self.usage[usage_shard()].lock().unwrap_or_else(|e| e.into_inner());
        let e = g.entry((uuid, network)).or_insert((0, now));
        e.0 += 1;
        e.1 = e.1.max(now);
    }

    /// Take the usage counted since the last call.
    pub fn take_usage(&self) -> Vec<TokenUsage> {
        let mut merged: HashMap<(Uuid, Network), Counted> = HashMap::new();
        for shard in &self.usage {
            let drained = std::mem::take(&mut *shard.lock().unwrap_or_else(|e| e.into_inner()));
            for (key, (requests, last_used)) in drained {
                let e = merged.entry(key).or_insert((0, last_used));
                e.0 += requests;
                e.1 = e.1.max(last_used);
            }
        }
        merged
            .into_iter()
            .map(|((uuid, network), (requests, last_used))| TokenUsage { uuid, network, requests, last_used })
            .collect()
    }

    /// Whether the token is known to be revoked (here, or elsewhere through the change feed).
    pub fn is_revoked(&self, uuid: &Uuid) -> bool {
        self.revoked.load().contains(uuid)
    }
}

fn insert_bounded<K: std::hash::Hash + Eq, V>(m: &Mutex<HashMap<K, V>>, k: K, v: V) {
    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
    if g.len() >= MAX_CACHED {
        g.clear();
    }
    g.insert(k, v);
}

/// One data-plane listener: the network it serves and how it learns the caller's EdgeWorker.
#[derive(Debug, Clone)]
pub struct Listener {
    /// The network.
    pub network: Network,
    /// A fixed EdgeWorker ID.
    pub edgeworker_id: Option<String>,
    /// A trusted header carrying the EdgeWorker ID.
    pub edgeworker_id_header: Option<String>,
}

/// Why the data plane refused a request's token: the `reason` label of
/// `edgeward_dataplane_refusals_total` (see `docs/metrics.md`). A fixed set, so that the
/// metric's series do not grow with what clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Neither token header was sent.
    Missing,
    /// A token header is repeated, both are sent, or one is not text (or not a uuid).
    Malformed,
    /// The value does not verify (signature, key id, claims).
    Invalid,
    /// The value was signed by a retired key.
    RetiredKey,
    /// Correctly signed, but the store does not know the token.
    Unknown,
    /// A token with an expiry date used by reference.
    NotAutoRefreshing,
    /// Expired.
    Expired,
    /// Revoked.
    Revoked,
    /// Not valid on this listener's network.
    WrongNetwork,
    /// Restricted to EdgeWorker IDs, and the caller's is not one of them (or none is sent).
    WrongEdgeWorker,
    /// Does not cover the namespace.
    WrongNamespace,
    /// Covers the namespace, without the right the method needs.
    WrongRight,
}

impl Refusal {
    /// Every reason, in declaration order (`ALL[r as usize] == r`).
    pub const ALL: [Refusal; 12] = [
        Refusal::Missing,
        Refusal::Malformed,
        Refusal::Invalid,
        Refusal::RetiredKey,
        Refusal::Unknown,
        Refusal::NotAutoRefreshing,
        Refusal::Expired,
        Refusal::Revoked,
        Refusal::WrongNetwork,
        Refusal::WrongEdgeWorker,
        Refusal::WrongNamespace,
        Refusal::WrongRight,
    ];

    /// The metric's label value.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::Invalid => "invalid",
            Refusal::RetiredKey => "retired_key",
            Refusal::Unknown => "unknown",
            Refusal::NotAutoRefreshing => "not_auto_refreshing",
            Refusal::Expired => "expired",
            Refusal::Revoked => "revoked",
            Refusal::WrongNetwork => "wrong_network",
            Refusal::WrongEdgeWorker => "wrong_edgeworker",
            Refusal::WrongNamespace => "wrong_namespace",
            Refusal::WrongRight => "wrong_right",
        }
    }
}

/// Why the gate refuses a request: the token itself (401) or a use outside its scope (403);
/// `problem` holds the status and code of each. `Display` is the client-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// Missing, malformed, badly signed, expired, revoked or unknown.
    #[error("{1}")]
    Unauthorized(Refusal, &'static str),
    /// Valid, but not for this network, EdgeWorker, namespace or right.
    #[error("{1}")]
    Forbidden(Refusal, String),
}

impl Denial {
    /// Why, as the refusal metric counts it.
    pub fn refusal(&self) -> Refusal {
        match self {
            Denial::Unauthorized(r, _) | Denial::Forbidden(r, _) => *r,
        }
    }
}

const INVALID: Denial = Denial::Unauthorized(Refusal::Invalid, "The access token is invalid.");
const RETIRED: Denial = Denial::Unauthorized(Refusal::RetiredKey, "The access token was signed by a retired key.");
const REVOKED: Denial = Denial::Unauthorized(Refusal::Revoked, "The access token has been revoked.");

impl Grant {
    /// Verify a token value (signature with a known key) and read what it allows. Expiry and
    /// revocation are not checked here: they change with time, and are checked per request.
    pub fn from_value(value: &str, keys: &KeySet) -> Result<Grant, Denial> {
        let (claims, kid) = edgeward_token::verify_with_kid(value, keys).map_err(|_| INVALID)?;
        let uuid = Uuid::parse_str(&claims.jti).map_err(|_| INVALID)?;
        let env = |l: &str| claims.env.iter().any(|e| e == l);
        let mut namespaces = BTreeMap::new();
        for (ns, letters) in claims.namespace_rights() {
            namespaces.insert(ns.to_owned(), Permissions::parse(&letters).map_err(|_| INVALID)?);
        }
        Ok(Grant {
            uuid,
            kid,
            expires_at: DateTime::from_timestamp(claims.exp, 0),
            networks: Networks { staging: env("s"), production: env("p") },
            // Signed by one of our keys: validated when the token was created.
            ewids: EdgeWorkerScope::from_claim(&claims.ewids).map_err(|_| INVALID)?,
            namespaces,
        })
    }

    /// What an auto-refreshing token, used by reference, allows (a reference is signed by no key).
    fn from_reference(t: Token) -> Result<Grant, Denial> {
        if t.expiry.is_some() {
            return Err(Denial::Unauthorized(
                Refusal::NotAutoRefreshing,
                "Only auto-refreshing tokens can be used by reference.",
            ));
        }
        let namespaces = t.namespaces.into_iter().map(|(n, p)| (n.to_string(), p)).collect();
        Ok(Grant {
            uuid: t.uuid,
            kid: String::new(),
            expires_at: None,
            networks: t.networks,
            ewids: t.ewids,
            namespaces,
        })
    }

    /// The token's uuid.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

/// A token value's grant as the by-value cache knows it.
pub enum ValueGrant {
    /// Seen before and confirmed by the store: ready for [`TokenGate::check`].
    Known(Arc<Grant>),
    /// Correctly signed, but not yet confirmed: the store must say whether it knows the token
    /// (see [`TokenGate::confirm`]).
    Unconfirmed(Unconfirmed),
}

/// A correctly signed token value whose `jti` the store has not been asked about yet.
pub struct Unconfirmed {
    digest: [u8; 32],
    grant: Grant,
}

impl Unconfirmed {
    /// The `jti` to look up.
    pub fn uuid(&self) -> Uuid {
        self.grant.uuid
    }
}

const UNKNOWN: Denial = Denial::Unauthorized(Refusal::Unknown, "The access token is unknown.");

impl TokenGate {
    /// The grant of a token value: from the cache (keyed by the value's SHA-256), or verified
    /// now and handed back to be confirmed against the store. A cached grant whose key `keys` no
    /// longer holds (retired since) is refused.
    pub fn grant_for_value(&self, value: &str, keys: &KeySet) -> Result<ValueGrant, Denial> {
        let digest: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        if let Some(g) = self.by_value.lock().unwrap_or_else(|e| e.into_inner()).get(&digest) {
            if keys.get(&g.kid).is_none() {
                return Err(RETIRED);
            }
            return Ok(ValueGrant::Known(g.clone()));
        }
        let grant = Grant::from_value(value, keys)?;
        Ok(ValueGrant::Unconfirmed(Unconfirmed { digest, grant }))
    }

    /// Finish a by-value cache miss with what the store holds for its `jti`, and cache the
    /// grant. A value signed by one of our keys whose token the store does not know is refused
    /// (and reported: either the store lost a row or someone holds a signing key); a revoked
    /// one joins the revocation list.
    pub fn confirm(&self, pending: Unconfirmed, stored: Option<&Token>) -> Result<Arc<Grant>, Denial> {
        let Some(token) = stored else {
            // Neither the value nor its uuid is logged: the kid says which key signed it.
            tracing::warn!(
                kid = %pending.grant.kid,
                "refused a token value signed by one of our keys whose token is unknown to the store \
                 (purged, or signed outside Edgeward: check who holds the signing keys)"
            );
            return Err(UNKNOWN);
        };
        if token.revoked_at.is_some() {
            self.revoke(token.uuid);
        }
        let g = Arc::new(pending.grant);
        insert_bounded(&self.by_value, pending.digest, g.clone());
        Ok(g)
    }

    /// Whether `grant` allows `right` in `namespace` on `network` for the calling EdgeWorker
    /// at `now`: expiry and revocation first (401), then scope (403).
    pub fn check(
        &self,
        grant: &Grant,
        now: DateTime<Utc>,
        network: Network,
        caller: Option<&str>,
        namespace: &str,
        right: Right,
    ) -> Result<(), Denial> {
        if grant.expires_at.is_some_and(|e| now > e) {
            return Err(Denial::Unauthorized(Refusal::Expired, "The access token has expired."));
        }
        if self.is_revoked(&grant.uuid) {
            return Err(REVOKED);
        }
        if !grant.networks.allows(network) {
            return Err(Denial::Forbidden(
                Refusal::WrongNetwork,
                format!("The access token is not valid on the {network} network."),
            ));
        }
        if let EdgeWorkerScope::Only(_) = &grant.ewids {
            match caller {
                Some(id) if grant.ewids.allows(id) => {}
                Some(id) => {
                    return Err(Denial::Forbidden(
                        Refusal::WrongEdgeWorker,
                        format!("The access token is not valid for EdgeWorker {id}."),
                    ))
                }
                None => {
                    return Err(Denial::Forbidden(
                        Refusal::WrongEdgeWorker,
                        "The access token is restricted to EdgeWorker IDs, and this request carries none.".into(),
                    ))
                }
            }
        }
        match grant.namespaces.get(namespace) {
            Some(p) if p.allows(right) => Ok(()),
            Some(_) => Err(Denial::Forbidden(
                Refusal::WrongRight,
                format!(
                    "The access token does not allow {} in namespace {namespace}.",
                    match right {
                        Right::Read => "reads",
                        Right::Write => "writes",
                        Right::Delete => "deletes",
                    }
                ),
            )),
            None => Err(Denial::Forbidden(
                Refusal::WrongNamespace,
                format!("The access token does not cover namespace {namespace}."),
            )),
        }
    }
}

/// The token value's header.
const AUTH: HeaderName = HeaderName::from_static("x-akamai-edgedb-auth");
/// The auto-refreshing token reference's header.
const AUTH_REF: HeaderName = HeaderName::from_static("x-akamai-edgedb-auth-ref");

/// The one value of header `name`: `Ok(None)` when absent, `Err(())` when it is sent more than
/// once (a proxy that appends instead of replacing must not let the first copy decide).
fn single<K: header::AsHeaderName>(headers: &HeaderMap, name: K) -> Result<Option<&header::HeaderValue>, ()> {
    let mut all = headers.get_all(name).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(());
    }
    Ok(first)
}

async fn grant_for(state: &AppState, headers: &HeaderMap) -> Result<Arc<Grant>, ApiError> {
    let repeated = Denial::Unauthorized(
        Refusal::Malformed,
        "Send X-Akamai-EdgeDB-Auth or X-Akamai-EdgeDB-Auth-Ref once, not repeated.",
    );
    let value = single(headers, AUTH).map_err(|_| repeated.clone())?;
    let reference = single(headers, AUTH_REF).map_err(|_| repeated)?;
    match (value, reference) {
        (Some(v), None) => {
            let v =
                v.to_str().map_err(|_| Denial::Unauthorized(Refusal::Malformed, "The access token is malformed."))?;
            let keys = state.keys.current();
            let found = match state.gate.grant_for_value(v, &keys.set) {
                Ok(found) => found,
                Err(denial) => {
                    // Only on failure: is the value signed by a key this server has not heard of
                    // yet (added on another server a moment ago)? Read the keys again, bounded.
                    let Some(kid) = edgeward_token::header_kid(v) else { return Err(denial.into()) };
                    if keys.retired.contains(&kid) {
                        return Err(RETIRED.into());
                    }
                    if keys.set.get(&kid).is_some()
                        || !state.keys.reload_for_unknown_kid(state.store.as_ref(), &state.data_key.current()).await
                    {
                        return Err(denial.into());
                    }
                    state.gate.grant_for_value(v, &state.keys.current().set)?
                }
            };
            match found {
                ValueGrant::Known(g) => Ok(g),
                ValueGrant::Unconfirmed(pending) => {
                    if state.gate.is_revoked(&pending.uuid()) {
                        return Err(REVOKED.into());
                    }
                    let stored = state.store.token_by_uuid(pending.uuid()).await?;
                    Ok(state.gate.confirm(pending, stored.as_ref().map(|s| &s.token))?)
                }
            }
        }
        (None, Some(r)) => {
            let uuid = r
                .to_str()
                .ok()
                .and_then(|s| Uuid::parse_str(s.trim()).ok())
                .ok_or(Denial::Unauthorized(Refusal::Malformed, "The access token reference is malformed."))?;
            if state.gate.is_revoked(&uuid) {
                // Known revoked: refused without a store read.
                return Err(REVOKED.into());
            }
            let cached = state.gate.by_ref.lock().unwrap_or_else(|e| e.into_inner()).get(&uuid).cloned();
            match cached {
                Some(g) => Ok(g),
                None => {
                    let stored = state.store.token_by_uuid(uuid).await?.ok_or(UNKNOWN)?;
                    let revoked = stored.token.revoked_at.is_some();
                    let g = Arc::new(Grant::from_reference(stored.token)?);
                    if !revoked {
                        insert_bounded(&state.gate.by_ref, uuid, g.clone());
                    } else {
                        state.gate.revoke(uuid);
                    }
                    Ok(g)
                }
            }
        }
        (None, None) => Err(Denial::Unauthorized(
            Refusal::Missing,
            "An access token is required: X-Akamai-EdgeDB-Auth or X-Akamai-EdgeDB-Auth-Ref.",
        )
        .into()),
        (Some(_), Some(_)) => Err(Denial::Unauthorized(
            Refusal::Malformed,
            "Send exactly one of X-Akamai-EdgeDB-Auth and X-Akamai-EdgeDB-Auth-Ref.",
        )
        .into()),
    }
}

/// The names an item path carries (`/api/v1/namespaces/{ns}/groups/{group}/items/{item}`),
/// percent-decoded and not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPath {
    /// The namespace.
    pub namespace: String,
    /// The group.
    pub group: String,
    /// The item.
    pub item: String,
}

/// Serve `GET|PUT|DELETE` of the item at `path`, for the request `parts` (and its `body`, read
/// only for a PUT). A refusal of the request's token is counted by reason
/// (`edgeward_dataplane_refusals_total`).
pub async fn item(
    state: &AppState,
    listener: &Listener,
    parts: &Parts,
    path: ItemPath,
    body: Body,
) -> Result<Response, ApiError> {
    let answer = serve_item(state, listener, parts, path, body).await;
    if let Err(ApiError::Server(ServerError::Token(denial))) = &answer {
        state.metrics.refused(denial.refusal());
    }
    answer
}

async fn serve_item(
    state: &AppState,
    listener: &Listener,
    parts: &Parts,
    path: ItemPath,
    body: Body,
) -> Result<Response, ApiError> {
    // The query first, then the names, then the method and the token: the order a client's
    // mistakes are reported in.
    let q = crate::routes::QueryParams::from_uri(&parts.uri)?;
    let headers = &parts.headers;
    let ItemPath { namespace: ns, group, item } = path;
    let namespace = NamespaceName::parse_requested(&ns)?;
    let group = GroupName::parse_owned(group)?;
    let item = ItemName::parse_owned(item)?;
    let right = match parts.method {
        Method::GET => Right::Read,
        Method::PUT => Right::Write,
        Method::DELETE => Right::Delete,
        _ => {
            let refused = ApiError::from(ServerError::ItemMethod);
            return Ok(([(header::ALLOW, "GET, PUT, DELETE")], refused).into_response());
        }
    };
    let grant = grant_for(state, headers).await?;
    let now = state.clock.now();
    let caller = match (&listener.edgeworker_id, &listener.edgeworker_id_header) {
        (Some(id), _) => Some(id.as_str()),
        (None, Some(h)) => match single(headers, h) {
            Ok(v) => v.and_then(|v| v.to_str().ok()),
            Err(()) => {
                return Err(Denial::Forbidden(
                    Refusal::WrongEdgeWorker,
                    format!("The {h} header is sent more than once."),
                )
                .into());
            }
        },
        (None, None) => None,
    };
    state.gate.check(&grant, now, listener.network, caller, &ns, right)?;

    let fallback = q.flag("sandboxFallback")?;
    let sandbox = items::sandbox(q.get("sandboxId").map(String::as_str), listener.network)?;
    state.gate.record_use(grant.uuid, listener.network, now);
    let key = ItemKey { network: listener.network, namespace, sandbox, group: group.into(), item: item.into() };
    let not_found = |key: &ItemKey| items::not_found(&key.group, &key.item);
    match right {
        Right::Read => {
            let mut found = items::read(state, &key, now).await?;
            if found.is_none() && !key.sandbox.is_empty() && fallback {
                let base = ItemKey { sandbox: String::new(), ..key.clone() };
                found = items::read(state, &base, now).await?;
            }
            let found = found.ok_or_else(|| not_found(&key))?;
            Ok(([(header::CONTENT_TYPE, "text/plain;charset=utf-8")], found).into_response())
        }
        Right::Write => {
            let body = items::read_value(headers, body).await?;
            let done =
                format!("Item was upserted in KV store, namespace {ns}, group {}, and key {}.", key.group, key.item);
            items::write(state, key, Vec::from(body), now).await?;
            Ok(done.into_response())
        }
        Right::Delete => {
            let done = format!(
                "Item was marked for deletion from database, namespace {ns}, group {}, and key {}.",
                key.group, key.item
            );
            let absent = not_found(&key);
            if !items::delete(state, key, now).await? {
                return Err(absent.into());
            }
            Ok(done.into_response())
        }
    }
}

/// Write the usage counted in memory to the store (a failed write puts nothing back: usage is
/// a statistic, and the next flush goes on).
pub async fn flush_usage(state: &AppState) {
    let usage = state.gate.take_usage();
    if usage.is_empty() {
        return;
    }
    if let Err(e) = state.store.record_usage(usage).await {
        tracing::warn!(error = %e.log_detail(), "token usage could not be recorded");
    }
}

/// Flush usage every `every` until shutdown, and once more at shutdown.
pub async fn run_usage_flusher(
    state: AppState,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = shutdown.wait_for(|s| *s) => true,
        };
        flush_usage(&state).await;
        if stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counted_on_several_threads_is_taken_once_summed() {
        let gate = Arc::new(TokenGate::default());
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let spawned = i64::try_from(USAGE_SHARDS).unwrap() + 3;
        let threads: Vec<_> = (0..spawned)
            .map(|i| {
                let gate = gate.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        gate.record_use(a, Network::Production, t0 + chrono::Duration::seconds(i));
                    }
                    gate.record_use(b, Network::Staging, t0);
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let mut usage = gate.take_usage();
        usage.sort_by_key(|u| u.uuid != a);
        assert_eq!(usage.len(), 2);
        assert_eq!(
            (usage[0].uuid, usage[0].network, usage[0].requests),
            (a, Network::Production, 10 * spawned.cast_unsigned())
        );
        assert_eq!(usage[0].last_used, t0 + chrono::Duration::seconds(spawned - 1));
        assert_eq!(
            (usage[1].uuid, usage[1].network, usage[1].requests),
            (b, Network::Staging, spawned.cast_unsigned())
        );
        assert!(gate.take_usage().is_empty());
    }

    #[test]
    fn a_revocation_is_seen_by_the_next_check_and_the_list_only_grows() {
        let gate = TokenGate::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(!gate.is_revoked(&a));
        gate.load_revoked([a]);
        gate.revoke(b);
        gate.load_revoked([]);
        assert!(gate.is_revoked(&a) && gate.is_revoked(&b));
    }

    #[test]
    fn every_refusal_is_listed_once_at_its_own_index_with_its_own_label() {
        let labels: HashSet<&str> = Refusal::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), Refusal::ALL.len());
        for (i, r) in Refusal::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?}");
        }
    }
}
