//! Shared state of the handlers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use edgeward_core::clock::Clock;
use edgeward_core::limits::Limits;
use edgeward_core::store::{ApiClient, Store};

use crate::metrics::Metrics;

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The account's CP code (never changes once initialized).
    pub cpcode: String,
    /// Token signing and verifying keys (swapped when a key is added or retired).
    pub keys: crate::keys::SigningKeys,
    /// Seals token values, client secrets and signing keys at rest (swapped by a data-key
    /// rotation).
    pub data_key: crate::keys::SharedDataKey,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Product limits.
    pub limits: Limits,
    /// EdgeGrid signing parameters.
    pub edgegrid: edgeward_edgegrid::Settings,
    /// Time between a scheduled namespace delete request and the deletion.
    pub namespace_delete_delay: chrono::Duration,
    /// The clock signed requests' timestamps are checked against: `clock` itself, except under
    /// a development clock, when it stays the system clock (clients sign with real time).
    pub request_clock: Arc<dyn Clock>,
    /// Accepted clock distance of signed requests.
    pub timestamp_window: chrono::Duration,
    /// Nonces seen within the window.
    pub nonces: NonceCache,
    /// Verified API clients, valid for one clients version.
    pub clients: ClientCache,
    /// The expiry check's settings and this server's identity in leases.
    pub notify: crate::notify::NotifyRuntime,
    /// Item values cached in front of the store.
    pub item_cache: crate::item_cache::ItemCache,
    /// Data-plane token caches and the revocation list.
    pub gate: crate::dataplane::TokenGate,
    /// Expiring tokens' records by name, for retrieval (kept exact through `gate`).
    pub token_names: crate::token_names::TokenNames,
    /// Metrics.
    pub metrics: Metrics,
    /// The audit trail's rate limits for failed authentication.
    pub trail: crate::audit::Trail,
    /// How long audit records are kept.
    pub audit_retention: chrono::Duration,
    /// The console's session lifetimes and sign-in limits.
    pub console: ConsoleRuntime,
    /// The data directory (the console removes the initial password's file from it, through
    /// bootstrap).
    pub data_dir: std::path::PathBuf,
}

/// The console's settings and this server's sign-in limits.
pub struct ConsoleRuntime {
    /// A session unused this long ends.
    pub idle: chrono::Duration,
    /// A session ends this long after it began.
    pub absolute: chrono::Duration,
    /// Sign-in attempts per user name and per address.
    pub limits: crate::console::session::SignInLimits,
}

impl AppState {
    /// The handlers' state over what bootstrap prepared and the configuration's settings.
    ///
    /// It only builds values: no file, socket or database is touched and nothing is spawned, so
    /// a test builds the very state the server runs with and drives the routers in-process.
    /// `request_clock` checks signed requests' timestamps (the system clock under a development
    /// clock); `notify` is the expiry check's runtime ([`crate::notify::NotifyRuntime::new`]).
    pub fn new(
        prepared: &crate::bootstrap::Prepared,
        config: &crate::config::ServeConfig,
        clock: Arc<dyn Clock>,
        request_clock: Arc<dyn Clock>,
        notify: crate::notify::NotifyRuntime,
    ) -> Self {
        let data_key = crate::keys::SharedDataKey::new(Some(config.data_dir.join("keys")), prepared.data_key.clone())
            .following(prepared.data_key_cell.clone());
        let started_at = clock.now();
        Self(Arc::new(Inner {
            store: prepared.store.clone(),
            cpcode: prepared.cpcode.clone(),
            keys: crate::keys::SigningKeys::new(prepared.keys.clone()),
            data_key,
            clock,
            request_clock,
            limits: config.limits.clone(),
            edgegrid: edgeward_edgegrid::Settings {
                max_body: config.edgegrid.max_body,
                headers_to_sign: config.edgegrid.headers_to_sign.clone(),
            },
            timestamp_window: setting_seconds(config.edgegrid.timestamp_window_secs),
            namespace_delete_delay: setting_seconds(config.namespace_delete_delay_secs),
            nonces: NonceCache::default(),
            clients: ClientCache::default(),
            notify,
            item_cache: crate::item_cache::ItemCache::new(
                usize::try_from(config.data_plane.item_cache_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
            ),
            gate: crate::dataplane::TokenGate::default(),
            token_names: crate::token_names::TokenNames::default(),
            metrics: Metrics::new(started_at),
            trail: crate::audit::Trail::default(),
            audit_retention: chrono::Duration::days(i64::from(config.audit.retention_days.max(1))),
            console: ConsoleRuntime {
                // Checked at start (`ConsoleConfig::lifetimes`); kept in range here all the same.
                idle: chrono::Duration::minutes(i64::from(
                    config.console.idle_minutes.clamp(1, crate::config::MAX_IDLE_MINUTES),
                )),
                absolute: chrono::Duration::hours(i64::from(
                    config.console.absolute_hours.clamp(1, crate::config::MAX_ABSOLUTE_HOURS),
                )),
                limits: Default::default(),
            },
            data_dir: config.data_dir.clone(),
        }))
    }
}

/// A setting in seconds as a duration, at most the longest one chrono holds (`i64::MAX / 1000`
/// seconds, some 292 million years): a longer setting means "no limit" all the same.
fn setting_seconds(secs: u64) -> chrono::Duration {
    let longest = i64::MAX / 1000;
    chrono::Duration::seconds(i64::try_from(secs).map_or(longest, |s| s.min(longest)))
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// An API client ready for signature checks: its record and its opened secret.
pub struct VerifiedClient {
    /// The record (enabled when cached).
    pub client: Arc<ApiClient>,
    /// The client as the handlers see it.
    pub actor: Arc<crate::auth::Actor>,
    /// The `client_secret`.
    pub secret: String,
}

/// API clients whose secrets have been opened, valid for one value of the store's
/// `api_clients_version`. Any change to any client, by this server or by the `apiclient`
/// commands of another process, changes that version, and the next request finds the cache
/// empty: a disabled client is refused from its next request on, while an unchanged client
/// costs one tiny read instead of a row read and a decryption.
#[derive(Default)]
pub struct ClientCache(Mutex<ClientCacheInner>);

#[derive(Default)]
struct ClientCacheInner {
    version: u64,
    clients: HashMap<String, Arc<VerifiedClient>>,
}

/// Most clients kept; beyond it the cache starts over (bounded memory).
const MAX_CACHED_CLIENTS: usize = 10_000;

impl ClientCache {
    /// The cached client for `client_token` at `version`.
    pub fn get(&self, version: u64, client_token: &str) -> Option<Arc<VerifiedClient>> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if g.version != version {
            g.clients.clear();
            g.version = version;
            return None;
        }
        g.clients.get(client_token).cloned()
    }

    /// Remember a client read at `version` (or later).
    pub fn put(&self, version: u64, client: Arc<VerifiedClient>) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if g.version == version {
            if g.clients.len() >= MAX_CACHED_CLIENTS {
                g.clients.clear();
            }
            g.clients.insert(client.client.client_token.clone(), client);
        }
    }
}

/// Remembers the `(client, nonce)` pairs of accepted requests for as long as their timestamp
/// could still pass the window check, so a captured request cannot be replayed.
///
/// A replay carries the very same timestamp (changing it breaks the signature), so pairs are
/// kept in one bucket per timestamp second: a lookup touches one bucket, and expiry drops whole
/// buckets once `timestamp + window` has passed, never scanning entries. Pairs are stored as a
/// 64-bit keyed hash (a per-process random SipHash key), 8 bytes each.
pub struct NonceCache(Mutex<NonceInner>);

struct NonceInner {
    keys: std::collections::hash_map::RandomState,
    by_second: BTreeMap<i64, HashSet<u64>>,
    len: usize,
}

impl Default for NonceCache {
    fn default() -> Self {
        Self(Mutex::new(NonceInner { keys: Default::default(), by_second: BTreeMap::new(), len: 0 }))
    }
}

impl NonceCache {
    /// Record the pair for a request signed at `timestamp` (epoch seconds); `false` if it was
    /// already recorded. `window` is the accepted distance from `now`, in seconds.
    pub fn first_use(&self, client_token: &str, nonce: &str, timestamp: i64, now: i64, window: i64) -> bool {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(entry) = g.by_second.first_entry() {
            if *entry.key() + window >= now {
                break;
            }
            let dropped = entry.remove().len();
            g.len -= dropped;
        }
        let mut h = g.keys.build_hasher();
        client_token.hash(&mut h);
        nonce.hash(&mut h);
        let key = h.finish();
        let fresh = g.by_second.entry(timestamp).or_default().insert(key);
        if fresh {
            g.len += 1;
        }
        fresh
    }

    /// Pairs held.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len
    }

    /// Whether no pairs are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::NonceCache;

    #[test]
    fn a_pair_is_refused_until_its_timestamp_leaves_the_window() {
        let c = NonceCache::default();
        assert!(c.first_use("ct", "n1", 1000, 1000, 120));
        assert!(!c.first_use("ct", "n1", 1000, 1100, 120), "replay inside the window");
        assert!(c.first_use("other", "n1", 1000, 1100, 120), "nonces are per client");
        assert!(c.first_use("ct", "n2", 1000, 1100, 120));
        assert_eq!(c.len(), 3);
        // At 1121 the timestamp 1000 can no longer pass the window check: the bucket goes.
        assert!(c.first_use("ct", "n3", 1121, 1121, 120));
        assert_eq!(c.len(), 1);
    }
}
