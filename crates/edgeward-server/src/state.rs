//! Shared state of the handlers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use edgeward_core::clock::Clock;
use edgeward_core::limits::Limits;
use edgeward_core::store::Store;
use edgeward_token::{DataKey, KeySet};

use crate::metrics::Metrics;

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Token signing and verifying keys.
    pub keys: KeySet,
    /// Encrypts token values and client secrets at rest.
    pub data_key: DataKey,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Product limits.
    pub limits: Limits,
    /// EdgeGrid signing parameters.
    pub edgegrid: edgeward_edgegrid::Settings,
    /// Accepted clock distance of signed requests.
    pub timestamp_window: chrono::Duration,
    /// Nonces seen within the window.
    pub nonces: NonceCache,
    /// Metrics.
    pub metrics: Metrics,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Remembers `(client, nonce)` pairs until their timestamp leaves the window, so a captured
/// request cannot be replayed. Entries are swept lazily.
#[derive(Default)]
pub struct NonceCache(Mutex<NonceInner>);

#[derive(Default)]
struct NonceInner {
    seen: HashMap<String, i64>,
    next_sweep: i64,
}

impl NonceCache {
    /// Record the nonce; `false` if it was already seen and has not yet expired.
    pub fn first_use(&self, client_token: &str, nonce: &str, now: i64, forget_at: i64) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if now >= g.next_sweep {
            g.seen.retain(|_, exp| *exp > now);
            g.next_sweep = now + 10;
        }
        let key = format!("{client_token}\u{0}{nonce}");
        match g.seen.get(&key) {
            Some(exp) if *exp > now => false,
            _ => {
                g.seen.insert(key, forget_at);
                true
            }
        }
    }

    /// Entries held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).seen.len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
