//! A per-node cache of item values in front of the store, for the data plane's reads.
//!
//! Exact on one node: every write and delete through this node invalidates its key, every
//! namespace change clears the cache, and entries keep the time their namespace's retention
//! ends them. A read that misses takes a ticket (the shard's epoch) before going to the store
//! and only fills the cache if no invalidation happened in that shard since, so a value read
//! before a concurrent write can never be cached after it.
//!
//! Bounded by bytes: when a shard is over its share of the budget, arbitrary entries (in hash
//! order, so unrelated to access patterns) are evicted. Values larger than 1/64 of a shard's
//! share are not cached.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use axum::body::Bytes;
use chrono::{DateTime, Utc};

use edgeward_core::store::ItemKey;

const SHARDS: usize = 16;
/// Memory per entry beyond the key's strings and the value: the key and entry structs, the
/// table slot, and allocator rounding of the five heap allocations (estimated).
const ENTRY_OVERHEAD: usize = 224;

#[derive(Default)]
struct Shard {
    map: HashMap<ItemKey, Cached>,
    bytes: usize,
    epoch: u64,
}

#[derive(Clone)]
struct Cached {
    value: Bytes,
    expires_at: Option<DateTime<Utc>>,
}

/// What a lookup found.
pub enum Lookup {
    /// The value, still inside its retention.
    Hit(Bytes),
    /// Not cached: read the store, then [`ItemCache::fill`] with this ticket.
    Miss(Ticket),
}

/// Proof of when a miss started (the shard's epoch then).
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

/// See the module documentation.
pub struct ItemCache {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    budget_per_shard: usize,
}

impl ItemCache {
    /// A cache of at most about `budget_bytes` (0 disables it).
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            budget_per_shard: budget_bytes / SHARDS,
        }
    }

    fn shard(&self, key: &ItemKey) -> std::sync::MutexGuard<'_, Shard> {
        // The remainder is below SHARDS, so it fits a usize.
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or_default();
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn size(key: &ItemKey, value: &Bytes) -> usize {
        ENTRY_OVERHEAD
            + key.namespace.as_str().len()
            + key.sandbox.len()
            + key.group.len()
            + key.item.len()
            + value.len()
    }

    /// The cached value of `key` at `now`, or a ticket for filling it.
    pub fn get(&self, key: &ItemKey, now: DateTime<Utc>) -> Lookup {
        let mut shard = self.shard(key);
        match shard.map.get(key) {
            Some(c) if c.expires_at.is_none_or(|e| now < e) => Lookup::Hit(c.value.clone()),
            Some(_) => {
                // Past its retention: the store no longer returns it either.
                if let Some(old) = shard.map.remove(key) {
                    shard.bytes -= Self::size(key, &old.value);
                }
                Lookup::Miss(Ticket(shard.epoch))
            }
            None => Lookup::Miss(Ticket(shard.epoch)),
        }
    }

    /// Cache what the store returned for a miss, unless the key's shard changed since `ticket`.
    pub fn fill(&self, key: &ItemKey, ticket: Ticket, value: Bytes, expires_at: Option<DateTime<Utc>>) {
        let size = Self::size(key, &value);
        if size > self.budget_per_shard / 64 {
            return;
        }
        let mut shard = self.shard(key);
        if shard.epoch != ticket.0 {
            return;
        }
        if let Some(old) = shard.map.insert(key.clone(), Cached { value, expires_at }) {
            shard.bytes -= Self::size(key, &old.value);
        }
        shard.bytes += size;
        while shard.bytes > self.budget_per_shard {
            let Some(victim) = shard.map.keys().next().cloned() else { break };
            if let Some(old) = shard.map.remove(&victim) {
                shard.bytes -= Self::size(&victim, &old.value);
            }
        }
    }

    /// Forget `key` (after a write or delete of it, whether or not that succeeded).
    pub fn invalidate(&self, key: &ItemKey) {
        let mut shard = self.shard(key);
        shard.epoch += 1;
        if let Some(old) = shard.map.remove(key) {
            shard.bytes -= Self::size(key, &old.value);
        }
    }

    /// Forget everything (after a namespace's retention changes or it is deleted).
    pub fn clear(&self) {
        for s in &self.shards {
            let mut shard = s.lock().unwrap_or_else(|e| e.into_inner());
            shard.epoch += 1;
            shard.map.clear();
            shard.bytes = 0;
        }
    }

    /// Bytes held (approximately).
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeward_core::names::NamespaceName;
    use edgeward_core::network::Network;

    fn key(item: &str) -> ItemKey {
        ItemKey {
            network: Network::Production,
            namespace: NamespaceName::parse("default").unwrap(),
            sandbox: String::new(),
            group: "g".into(),
            item: item.into(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn hit(c: &ItemCache, k: &ItemKey, at: DateTime<Utc>) -> Option<Bytes> {
        match c.get(k, at) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss(_) => None,
        }
    }

    fn ticket(c: &ItemCache, k: &ItemKey) -> Ticket {
        match c.get(k, now()) {
            Lookup::Miss(t) => t,
            Lookup::Hit(_) => panic!("expected a miss"),
        }
    }

    #[test]
    fn a_fill_after_a_concurrent_write_is_dropped() {
        let c = ItemCache::new(1 << 20);
        let k = key("a");
        let t = ticket(&c, &k); // a reader misses and goes to the store (reads the old value) …
        c.invalidate(&k); // … a writer commits the new value and invalidates …
        c.fill(&k, t, Bytes::from_static(b"old"), None); // … the reader's fill must not stick.
        assert!(hit(&c, &k, now()).is_none());
        let t = ticket(&c, &k);
        c.fill(&k, t, Bytes::from_static(b"new"), None);
        assert_eq!(hit(&c, &k, now()).as_deref(), Some(&b"new"[..]));
        c.clear();
        assert!(hit(&c, &k, now()).is_none());
    }

    #[test]
    fn retention_ends_a_cached_value_at_the_same_instant_as_the_store() {
        let c = ItemCache::new(1 << 20);
        let k = key("a");
        let end = now() + chrono::Duration::seconds(10);
        let t = ticket(&c, &k);
        c.fill(&k, t, Bytes::from_static(b"v"), Some(end));
        assert!(hit(&c, &k, end - chrono::Duration::milliseconds(1)).is_some());
        assert!(hit(&c, &k, end).is_none());
        assert_eq!(c.bytes(), 0, "an expired entry is dropped when seen");
    }

    #[test]
    fn memory_stays_within_the_budget() {
        let c = ItemCache::new(1024 * 1024);
        for i in 0..10_000 {
            let k = key(&format!("k{i}"));
            let t = ticket(&c, &k);
            c.fill(&k, t, Bytes::from(vec![b'x'; 50]), None);
        }
        assert!(c.bytes() <= 1024 * 1024, "{}", c.bytes());
        assert!(c.bytes() > 512 * 1024, "the budget is used: {}", c.bytes());
        let big = key("big");
        let t = ticket(&c, &big);
        c.fill(&big, t, Bytes::from(vec![b'x'; 4096]), None);
        assert!(hit(&c, &big, now()).is_none(), "values above 1/64 of a shard are not cached");
        let off = ItemCache::new(0);
        let t = ticket(&off, &big);
        off.fill(&big, t, Bytes::from_static(b"v"), None);
        assert!(hit(&off, &big, now()).is_none(), "a zero budget disables the cache");
    }
}
