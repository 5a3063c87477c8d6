//! The keys at run time: the token-signing keys and the data key, each swappable while the
//! server runs, and the operations on them (rotate, retire, report, retire what no live token
//! needs) that the `edgeward keys` commands and maintenance use.
//!
//! **Signing keys.** The database holds every key (sealed with the data key); the newest key not
//! retired signs, every key not retired verifies and is published in the JWKS. A server learns a
//! key added or retired elsewhere from the change feed ([`Change::SigningKeys`]); a value whose
//! `kid` it does not know also makes it read the keys again, at most once per
//! [`UNKNOWN_KID_RELOAD_EVERY`], so forged kids cannot turn into a database read per request.
//! Verification reads the current set through one `ArcSwap` load.
//!
//! **Data key.** [`SharedDataKey`] holds the data directory's key files (`keys/data.key`, and
//! `keys/data.key.next` while a rotation runs, which then seals): a [`DataKey`] opens what any of
//! its keys sealed, by the key id in each blob. The server reads the files again when the feed
//! says a rotation began or ended ([`Change::DataKey`]), and never forgets a key it held while it
//! runs.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use edgeward_core::store::{Store, StoredSigningKey};
use edgeward_core::Error;
use edgeward_token::{DataKey, KeySet, SealError, SigningKeyPair};

/// How often at most a value with an unknown `kid` makes a server read the keys again.
pub const UNKNOWN_KID_RELOAD_EVERY: Duration = Duration::from_secs(5);

/// How long after a key stopped signing maintenance waits before it may retire it, even when no
/// live token it signed is known: a server that had not yet heard of the newer key may still have
/// been signing with it.
pub const RETIRE_GRACE: chrono::Duration = chrono::Duration::hours(1);

/// Something that seals secrets with the data key.
pub trait Sealer: Send + Sync {
    /// Seal `plaintext` bound to `context`.
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8>;
}

impl Sealer for DataKey {
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        DataKey::seal(self, plaintext, context)
    }
}

/// The keys that verify, and the kids known to be retired (refused without a reload).
#[derive(Debug, Clone)]
pub struct KeySnapshot {
    /// Signing and verifying keys.
    pub set: KeySet,
    /// Retired kids.
    pub retired: HashSet<String>,
}

/// The token-signing keys of a running server.
pub struct SigningKeys {
    current: ArcSwap<KeySnapshot>,
    last_unknown_reload: Mutex<Option<Instant>>,
    reloads: AtomicU64,
}

impl SigningKeys {
    /// Start with `snapshot`.
    pub fn new(snapshot: KeySnapshot) -> Self {
        Self { current: ArcSwap::from_pointee(snapshot), last_unknown_reload: Mutex::new(None), reloads: 0.into() }
    }

    /// The current keys (one atomic load).
    pub fn current(&self) -> arc_swap::Guard<Arc<KeySnapshot>> {
        self.current.load()
    }

    /// Read the keys from the store again and swap them in.
    pub async fn reload(&self, store: &dyn Store, data_key: &DataKey) -> Result<(), Error> {
        self.reloads.fetch_add(1, Ordering::Relaxed);
        let stored = store.signing_keys().await?;
        match snapshot_from(&stored, data_key).map_err(Error::Internal)? {
            Some(s) => {
                let before: Vec<String> = self.current().set.kids().map(str::to_owned).collect();
                let after: Vec<String> = s.set.kids().map(str::to_owned).collect();
                if before != after {
                    tracing::info!(active = s.set.active().kid(), verifying = ?after, "token-signing keys changed");
                }
                self.current.store(Arc::new(s));
                Ok(())
            }
            None => Err(Error::Internal("every token-signing key is retired; keeping the keys held".into())),
        }
    }

    /// For a value whose `kid` is not held: read the keys again unless that was done less than
    /// [`UNKNOWN_KID_RELOAD_EVERY`] ago; true when they were read.
    pub async fn reload_for_unknown_kid(&self, store: &dyn Store, data_key: &DataKey) -> bool {
        {
            let mut last = self.last_unknown_reload.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if last.is_some_and(|t| now.duration_since(t) < UNKNOWN_KID_RELOAD_EVERY) {
                return false;
            }
            *last = Some(now);
        }
        match self.reload(store, data_key).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e.log_detail(), "cannot read the token-signing keys");
                false
            }
        }
    }

    /// How many times the keys were read again since start (for tests and diagnostics).
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }
}

/// The data key of a running server, read from its data directory's key files.
pub struct SharedDataKey {
    keys_dir: Option<PathBuf>,
    current: ArcSwap<DataKey>,
    last_unknown_reload: Mutex<Option<Instant>>,
    store_cell: Option<edgeward_store::DataKeyCell>,
}

/// How often at most a sealed value naming a data key not held makes a server read its key
/// files again (a rotation began and the change feed has not told this server yet).
pub const UNKNOWN_DATA_KEY_RELOAD_EVERY: Duration = Duration::from_secs(1);

impl SharedDataKey {
    /// Start with `key`, read from `keys_dir` (none: never read again).
    pub fn new(keys_dir: Option<PathBuf>, key: DataKey) -> Self {
        Self { keys_dir, current: ArcSwap::from_pointee(key), last_unknown_reload: Mutex::new(None), store_cell: None }
    }

    /// Keep the store's token-ref data key equal to this one (set whenever the files are read
    /// again).
    pub fn following(mut self, cell: Option<edgeward_store::DataKeyCell>) -> Self {
        if let (Some(cell), Some(dir)) = (&cell, &self.keys_dir) {
            // A uuid sealed with a key this server has not read yet: the store reads the files.
            let dir = dir.clone();
            cell.set_reloader(std::sync::Arc::new(move || match crate::bootstrap::load_data_keys(&dir) {
                Ok(k) => Some(k),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the data key files");
                    None
                }
            }));
        }
        self.store_cell = cell;
        self
    }

    /// The current key.
    pub fn current(&self) -> Arc<DataKey> {
        self.current.load_full()
    }

    /// Seal with the current sealing key.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        self.current.load().seal(plaintext, context)
    }

    /// Open with whichever key held sealed it. A value sealed with a key not held (a rotation
    /// began elsewhere a moment ago) makes the server read its key files again, at most once per
    /// [`UNKNOWN_DATA_KEY_RELOAD_EVERY`].
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let key = self.current.load();
        match key.open(sealed, context) {
            Err(e) if key.names_unknown_key(sealed) => {
                {
                    let mut last = self.last_unknown_reload.lock().unwrap_or_else(|e| e.into_inner());
                    let now = Instant::now();
                    if last.is_some_and(|t| now.duration_since(t) < UNKNOWN_DATA_KEY_RELOAD_EVERY) {
                        return Err(e);
                    }
                    *last = Some(now);
                }
                if let Err(e) = self.reload_files() {
                    tracing::warn!(error = %e, "cannot read the data key files");
                }
                self.current.load().open(sealed, context)
            }
            other => other,
        }
    }

    /// Read the key files again: the sealing key becomes the one they name; every key held
    /// before still opens.
    pub fn reload_files(&self) -> Result<(), crate::bootstrap::BootError> {
        let Some(dir) = &self.keys_dir else { return Ok(()) };
        let read = crate::bootstrap::load_data_keys(dir)?;
        let old = self.current();
        if read.id() != old.id() {
            tracing::info!(key_id = %hex::encode(read.id()), "sealing with a new data key");
        }
        let key = read.also_opening(&old);
        if let Some(cell) = &self.store_cell {
            cell.set(key.clone());
        }
        self.current.store(Arc::new(key));
        Ok(())
    }
}

impl Sealer for SharedDataKey {
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        SharedDataKey::seal(self, plaintext, context)
    }
}

/// Open a stored key.
pub fn open_signing_key(k: &StoredSigningKey, data_key: &DataKey) -> Result<SigningKeyPair, String> {
    let pem = data_key.open(&k.sealed_pkcs8, k.kid.as_bytes()).map_err(|_| {
        format!(
            "the database's token-signing key {} cannot be unsealed with this data directory's data key: every \
             server (and every administration command) on one database needs the same keys/data.key",
            k.kid
        )
    })?;
    let pem = String::from_utf8(pem).map_err(|_| format!("token-signing key {} is not PEM", k.kid))?;
    SigningKeyPair::from_pkcs8_pem(&pem)
}

/// The keys not retired (the newest signs) and the retired kids; `None` when no key is usable.
pub fn snapshot_from(stored: &[StoredSigningKey], data_key: &DataKey) -> Result<Option<KeySnapshot>, String> {
    let retired = stored.iter().filter(|k| k.retired_at.is_some()).map(|k| k.kid.clone()).collect();
    let mut pairs = Vec::with_capacity(stored.len());
    for k in stored.iter().filter(|k| k.retired_at.is_none()) {
        pairs.push(open_signing_key(k, data_key)?);
    }
    let Some(active) = pairs.pop() else { return Ok(None) };
    let mut set = KeySet::new(active);
    for older in &pairs {
        set.add_verifying(older);
    }
    Ok(Some(KeySnapshot { set, retired }))
}

/// A new key, sealed, created at `now` (or just after the newest stored key, so it sorts last).
pub fn new_stored_key(
    stored: &[StoredSigningKey],
    data_key: &DataKey,
    now: DateTime<Utc>,
) -> (SigningKeyPair, StoredSigningKey) {
    let pair = SigningKeyPair::generate();
    let newest = stored.iter().map(|k| k.created_at).max();
    let created_at = match newest {
        Some(n) if n >= now => n + chrono::Duration::milliseconds(1),
        _ => now,
    };
    let sealed = data_key.seal(pair.to_pkcs8_pem().as_bytes(), pair.kid().as_bytes());
    let key = StoredSigningKey { kid: pair.kid().to_owned(), sealed_pkcs8: sealed, created_at, retired_at: None };
    (pair, key)
}

/// Add a new token-signing key, which signs every new token from then on (on every server,
/// through the change feed). Returns its kid.
pub async fn rotate(store: &dyn Store, data_key: &DataKey, now: DateTime<Utc>) -> Result<String, Error> {
    let stored = store.signing_keys().await?;
    let (pair, key) = new_stored_key(&stored, data_key, now);
    store.add_signing_key(key).await?;
    tracing::info!(kid = pair.kid(), "added a token-signing key");
    Ok(pair.kid().to_owned())
}

/// The state of a token-signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// It signs new tokens (and verifies).
    Active,
    /// It verifies the tokens it signed until they expire.
    Verifying,
    /// It verifies nothing.
    Retired,
}

impl KeyState {
    /// `active`, `verifying` or `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Verifying => "verifying",
            KeyState::Retired => "retired",
        }
    }
}

/// One line of `edgeward keys list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyReport {
    /// The key id.
    pub kid: String,
    /// Its state.
    pub state: KeyState,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// Live tokens it signed (not revoked, not expired).
    pub live_tokens: u64,
    /// When the last of them expires.
    pub last_expiry: Option<DateTime<Utc>>,
}

/// Every key with its state and live tokens at `now`, oldest first.
pub async fn report(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<KeyReport>, Error> {
    let stored = store.signing_keys().await?;
    let uses = store.signing_key_use(now).await?;
    let active = stored.iter().rev().find(|k| k.retired_at.is_none()).map(|k| k.kid.clone());
    Ok(stored
        .into_iter()
        .map(|k| {
            let used = uses.iter().find(|u| u.kid == k.kid);
            let state = if k.retired_at.is_some() {
                KeyState::Retired
            } else if Some(&k.kid) == active.as_ref() {
                KeyState::Active
            } else {
                KeyState::Verifying
            };
            KeyReport {
                state,
                created_at: k.created_at,
                retired_at: k.retired_at,
                live_tokens: used.map_or(0, |u| u.live_tokens),
                last_expiry: used.and_then(|u| u.last_expiry),
                kid: k.kid,
            }
        })
        .collect())
}

/// What [`retire`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    /// The kid of the key added first because the retired key was the one signing.
    pub replaced_by: Option<String>,
    /// Whether this call retired it (false: it was retired already).
    pub retired: bool,
}

/// Retire `kid` at once: the tokens it signed fail verification on every server from the next
/// feed read on. When it is the key that signs, a new key is added first.
pub async fn retire(store: &dyn Store, data_key: &DataKey, kid: &str, now: DateTime<Utc>) -> Result<Retired, Error> {
    let keys = report(store, now).await?;
    let Some(key) = keys.iter().find(|k| k.kid == kid) else {
        return Err(Error::invalid("kid", format!("There is no token-signing key {kid}.")));
    };
    let replaced_by = match key.state {
        KeyState::Active => Some(rotate(store, data_key, now).await?),
        _ => None,
    };
    let retired = store.retire_signing_key(kid, now).await?;
    if retired {
        tracing::warn!(kid, live_tokens = key.live_tokens, "retired a token-signing key; its tokens are refused");
    }
    Ok(Retired { replaced_by, retired })
}

/// Maintenance: retire every key that no longer signs, once no live token it signed remains and
/// [`RETIRE_GRACE`] has passed since a newer key took over. Returns the kids retired.
pub async fn retire_unused(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<String>, Error> {
    let keys = report(store, now).await?;
    let mut done = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if k.state != KeyState::Verifying || k.live_tokens > 0 {
            continue;
        }
        // The key after it in creation order took over from it.
        let superseded_at = keys[i + 1..].iter().map(|n| n.created_at).min().unwrap_or(now);
        if now < superseded_at + RETIRE_GRACE {
            continue;
        }
        if store.retire_signing_key(&k.kid, now).await? {
            tracing::info!(kid = %k.kid, "retired a token-signing key: the last token it signed has expired");
            done.push(k.kid.clone());
        }
    }
    Ok(done)
}

/// What one batch of a data-key rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealBatch {
    /// The column (`table.column`).
    pub column: String,
    /// Values sealed again in this batch.
    pub resealed: u64,
    /// Values of the batch that no key held opens (left as they are).
    pub unopenable: Vec<String>,
}

/// One pass of a data-key rotation: every value of every sealed column not yet sealed with
/// `key`'s sealing key is opened (with whichever key held sealed it) and sealed again, `batch`
/// rows per transaction. `on_batch` hears of each batch and may stop the pass (false). Returns
/// the values sealed again and the rows that did not open (by `table.column` and row key).
/// Resumable: what a pass already sealed again is not read a second time.
pub async fn reseal_pass(
    store: &dyn Store,
    key: &DataKey,
    batch: usize,
    mut on_batch: impl FnMut(&ResealBatch) -> bool,
) -> Result<(u64, Vec<String>), Error> {
    let prefix = key.sealed_prefix();
    let (mut total, mut bad) = (0, Vec::new());
    for column in edgeward_store::SEALED_COLUMNS {
        let name = column.name();
        let mut after = None;
        loop {
            let rows = store.sealed_batch(&name, after.clone(), prefix.clone(), batch.max(1)).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.key.clone());
            let mut again = Vec::with_capacity(rows.len());
            let mut unopenable = Vec::new();
            for row in rows {
                let ctx = column.context_of(&row.key, row.via.as_deref(), |v, c| key.open(v, c).ok());
                let opened = ctx.and_then(|ctx| Some((key.open(&row.sealed, &ctx).ok()?, ctx)));
                match opened {
                    Some((plain, ctx)) => again.push(edgeward_core::store::Resealed {
                        new: key.seal(&plain, &ctx),
                        key: row.key,
                        old: row.sealed,
                    }),
                    None => unopenable.push(format!("{name} {}", row.key)),
                }
            }
            let resealed = store.reseal(&name, again).await?;
            total += resealed;
            let report = ResealBatch { column: name.clone(), resealed, unopenable };
            bad.extend(report.unopenable.iter().cloned());
            if !on_batch(&report) {
                return Ok((total, bad));
            }
        }
    }
    Ok((total, bad))
}
