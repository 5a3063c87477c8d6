//! Tokens by name, kept for `GET /tokens/{name}` (the retrieval clients repeat most), so that a
//! retrieval costs no store read.
//!
//! Only what cannot change is kept: an expiring token's record (auto-refreshing tokens change at
//! each refresh and are always read from the store). Such a record changes in one way only, its
//! revocation, and its name passes to another token only after it was revoked or has expired.
//! So a kept record is served while
//!
//! - it has not expired on the server's clock, and
//! - the data plane's gate does not hold it as revoked ([`crate::dataplane::TokenGate`]): the
//!   gate learns of a revocation made here when it is made, and of one made by another server
//!   through the change feed (`crate::follow`), the same way and within the same bound as the
//!   data plane refuses the token's value (`docs/scaling.md`). The gate never forgets a
//!   revocation while the process runs.
//!
//! Anything else is read from the store and, if it qualifies, kept. A data-key rotation empties
//! the cache, as kept records hold sealed values. The cache holds at most [`MAX_KEPT`] records
//! and starts over when full (bounded memory); values are kept sealed, as stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use edgeward_core::names::TokenName;
use edgeward_core::store::StoredToken;
use edgeward_core::Error;

use crate::state::AppState;

/// Most records kept.
pub const MAX_KEPT: usize = 16_384;

/// Expiring tokens' records by name (see the module documentation).
#[derive(Default)]
pub struct TokenNames(Mutex<HashMap<TokenName, Arc<StoredToken>>>);

impl TokenNames {
    /// The token holding `name`, as [`edgeward_core::store::TokenStore::token_by_name`] answers,
    /// from the cache when a kept record still holds.
    pub async fn token_by_name(&self, state: &AppState, name: &TokenName) -> Result<Option<StoredToken>, Error> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned();
        if let Some(kept) = kept {
            if !kept.token.is_expired(state.clock.now()) && !state.gate.is_revoked(&kept.token.uuid) {
                return Ok(Some(StoredToken::clone(&kept)));
            }
        }
        let stored = state.store.token_by_name(name).await?;
        match &stored {
            Some(s) if s.sealed_value.is_some() && s.token.expires_at().is_some() => {
                let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
                if g.len() >= MAX_KEPT {
                    g.clear();
                }
                g.insert(name.clone(), Arc::new(s.clone()));
            }
            _ => {
                self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
            }
        }
        Ok(stored)
    }

    /// Forget every record (a data-key rotation: kept values are sealed with the old key).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
