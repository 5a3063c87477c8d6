//! Token uuids at rest. An auto-refreshing token's uuid is its reference, a bearer credential
//! (the edge sends it as `X-Akamai-EdgeDB-Auth-Ref`), so no table stores a uuid in clear: every
//! row that names a token (tokens, token usage, expiry notices, the change feed,
//! `replaced_by`) names it by its *token ref*, the hex HMAC-SHA256 of the uuid under the
//! *index key*, and the uuid itself is kept only sealed with the data key
//! (`tokens.sealed_uuid`), for the answers that show it. A copied database without
//! `keys/data.key` reveals no reference.
//!
//! Opened uuids are kept in memory, in a bounded map by token ref ([`OpenedUuids`]), so a read
//! that names a token (retrieval by name, above all) opens its sealed uuid once, not at every
//! request. The map is process memory, like the data key itself; nothing of it is written
//! anywhere.
//!
//! The index key is 32 random bytes made once per database and stored in `sealed_keys`
//! sealed with the data key. It is not derived from the data key, so a rotation of the data key
//! only re-seals it (it is one of the sealed columns of [`SEALED_COLUMNS`]); every token ref
//! stays.
//!
//! [`SEALED_COLUMNS`]: crate::sealed::SEALED_COLUMNS

use std::sync::{Arc, OnceLock, RwLock};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use edgeward_core::Error;
use edgeward_token::DataKey;

/// The `sealed_keys` row of the index key; also its sealing context.
pub const INDEX_KEY_NAME: &str = "token-ref-index";

/// The data key a store's token refs seal and open uuids with, shared: a server that reads its
/// key files again during a data-key rotation hands the store the key it now holds, and a uuid
/// sealed with a key the store does not hold yet makes it ask the server to read them again
/// (through the reloader the server installs, at most once per [`RELOAD_EVERY`]).
#[derive(Clone)]
pub struct DataKeyCell(Arc<CellInner>);

struct CellInner {
    key: RwLock<DataKey>,
    /// Uuids opened with the keys held now (emptied when they change).
    opened: OpenedUuids,
    reload: RwLock<Option<Reloader>>,
    last_reload: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Reads the key files again and gives the key now held.
pub type Reloader = Arc<dyn Fn() -> Option<DataKey> + Send + Sync>;

/// How often at most an unknown data key makes the store ask for its key files to be read again.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl DataKeyCell {
    fn new(key: DataKey) -> Self {
        Self(Arc::new(CellInner {
            key: RwLock::new(key),
            opened: Default::default(),
            reload: RwLock::new(None),
            last_reload: Default::default(),
        }))
    }

    /// Seal and open with `key` from now on.
    pub fn set(&self, key: DataKey) {
        let mut held = self.0.key.write().unwrap_or_else(|e| e.into_inner());
        *held = key;
        // No uuid opened with the keys before is remembered after.
        self.0.opened.keys_change();
    }

    /// What reads the key files again when a sealed uuid names a key not held.
    pub fn set_reloader(&self, reload: Reloader) {
        *self.0.reload.write().unwrap_or_else(|e| e.into_inner()) = Some(reload);
    }

    fn get(&self) -> DataKey {
        self.0.key.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Open `sealed`; when it names a key not held, read the key files again (bounded) and retry.
    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, edgeward_token::SealError> {
        // The common case opens under the read lock, without copying the key.
        let opened = {
            let key = self.0.key.read().unwrap_or_else(|e| e.into_inner());
            key.open(sealed, context).map_err(|e| (e, key.names_unknown_key(sealed)))
        };
        match opened {
            Ok(v) => Ok(v),
            Err((e, true)) => {
                let key = self.get();
                let reload = self.0.reload.read().unwrap_or_else(|e| e.into_inner()).clone();
                let Some(reload) = reload else { return Err(e) };
                {
                    let mut last = self.0.last_reload.lock().unwrap_or_else(|e| e.into_inner());
                    let now = std::time::Instant::now();
                    if last.is_some_and(|t| now.duration_since(t) < RELOAD_EVERY) {
                        return Err(e);
                    }
                    *last = Some(now);
                }
                match reload() {
                    Some(k) => {
                        let k = k.also_opening(&key);
                        self.set(k.clone());
                        k.open(sealed, context)
                    }
                    None => Err(e),
                }
            }
            Err((e, false)) => Err(e),
        }
    }
}

/// The keys that turn uuids into token refs and seal them.
#[derive(Clone)]
pub struct RefKeys {
    index: [u8; 32],
    data: DataKeyCell,
}

/// Uuids already opened, by token ref, each with the sealed bytes it was opened from: a hit
/// needs the same bytes, so it answers exactly what opening them would (a value re-sealed by a
/// data-key rotation is opened again), and the map is emptied whenever the keys held change.
/// Bounded: at [`OpenedUuids::CAPACITY`] entries the map starts again empty (each entry is
/// re-learned by one open).
#[derive(Default)]
struct OpenedUuids {
    /// Token refs are HMAC outputs nobody can choose: a light hasher.
    map: RwLock<rustc_hash::FxHashMap<Box<str>, Opened>>,
    /// Counts changes of the keys held: an open that began before one is not remembered.
    keys_changed: std::sync::atomic::AtomicU64,
}

/// A uuid and the sealed bytes it was opened from.
type Opened = (Box<[u8]>, Uuid);

impl OpenedUuids {
    /// Entries kept at most: about 6 MB with the table's own overhead.
    const CAPACITY: usize = 32_768;

    fn get(&self, token_ref: &str, sealed: &[u8]) -> Option<Uuid> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(token_ref).filter(|(s, _)| **s == *sealed).map(|(_, uuid)| *uuid)
    }

    /// The keys' change count, read before an open.
    fn keys_seen(&self) -> u64 {
        self.keys_changed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forget everything: the keys held have changed.
    fn keys_change(&self) {
        self.keys_changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Remember an open that began when the keys' change count was `seen`.
    fn insert(&self, token_ref: &str, sealed: &[u8], uuid: Uuid, seen: u64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if self.keys_seen() != seen {
            return;
        }
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(token_ref.into(), (sealed.into(), uuid));
    }
}

impl std::fmt::Debug for RefKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefKeys(<redacted>)")
    }
}

impl RefKeys {
    /// From the (opened) index key and the data key.
    pub fn new(index: [u8; 32], data: DataKey) -> Self {
        Self { index, data: DataKeyCell::new(data) }
    }

    /// Open the stored index key with the data key (`None`: make a new one, to be stored).
    pub fn open_or_new(stored: Option<&[u8]>, data: &DataKey) -> Result<(Self, Option<Vec<u8>>), Error> {
        match stored {
            Some(sealed) => {
                let bytes = data.open(sealed, INDEX_KEY_NAME.as_bytes()).map_err(|_| {
                    Error::Internal(
                        "the token-ref index key cannot be unsealed with this data key: every server on one \
                         database needs the same keys/data.key"
                            .into(),
                    )
                })?;
                let index: [u8; 32] =
                    bytes.try_into().map_err(|_| Error::Internal("the token-ref index key is not 32 bytes".into()))?;
                Ok((Self::new(index, data.clone()), None))
            }
            None => {
                let index = DataKey::generate_bytes();
                let sealed = data.seal(&index, INDEX_KEY_NAME.as_bytes());
                Ok((Self::new(index, data.clone()), Some(sealed)))
            }
        }
    }

    /// The data key these keys seal uuids with, to be changed at run time.
    pub fn data_key_cell(&self) -> DataKeyCell {
        self.data.clone()
    }

    /// The token ref of a uuid.
    pub fn token_ref(&self, uuid: &Uuid) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.index).expect("HMAC takes any key length");
        mac.update(uuid.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The uuid sealed for its row.
    pub fn seal_uuid(&self, uuid: &Uuid, token_ref: &str) -> Vec<u8> {
        self.data.get().seal(uuid.as_bytes(), token_ref.as_bytes())
    }

    /// The uuid of a row (`sealed` is bound to its ref): from memory when these bytes were
    /// opened for this ref before, else opened.
    pub fn open_uuid(&self, sealed: &[u8], token_ref: &str) -> Result<Uuid, String> {
        let opened = &self.data.0.opened;
        if let Some(uuid) = opened.get(token_ref, sealed) {
            return Ok(uuid);
        }
        let seen = opened.keys_seen();
        let bytes = self.data.open(sealed, token_ref.as_bytes()).map_err(|e| format!("token uuid: {e}"))?;
        let uuid = Uuid::from_slice(&bytes).map_err(|e| format!("token uuid: {e}"))?;
        opened.insert(token_ref, sealed, uuid, seen);
        Ok(uuid)
    }
}

/// The keys a store uses once they are known (see the backends' `open_references`).
#[derive(Default)]
pub(crate) struct RefSlot(OnceLock<RefKeys>);

impl RefSlot {
    pub(crate) fn set(&self, keys: RefKeys) {
        let _ = self.0.set(keys);
    }

    pub(crate) fn get(&self) -> Result<&RefKeys, Error> {
        self.0.get().ok_or_else(|| Error::Internal("token refs are not open: open_references was not called".into()))
    }
}

/// The columns besides `tokens.token_ref` that name a token by its ref: (table, column, extra
/// condition). Re-keyed from uuids once, at the first open after schema 11.
pub(crate) const REF_COLUMNS: &[(&str, &str, &str)] = &[
    ("tokens", "replaced_by", ""),
    ("token_usage", "token_ref", ""),
    ("expiry_notices", "token_ref", ""),
    ("changes", "subject", " AND kind = 'token_revoked'"),
];

/// Whether a stored subject is a uuid of an earlier schema (36 characters) rather than a
/// token ref (64): what the one-time re-keying at open looks for.
pub(crate) fn is_legacy(subject: &str) -> bool {
    subject.len() == 36
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_keyed_and_uuids_open_only_in_their_row() {
        let data = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
        let (a, sealed) = RefKeys::open_or_new(None, &data).unwrap();
        let (again, none) = RefKeys::open_or_new(sealed.as_deref(), &data).unwrap();
        assert!(none.is_none());
        let (b, _) = RefKeys::open_or_new(None, &data).unwrap();
        let u = Uuid::new_v4();
        assert_eq!(a.token_ref(&u), again.token_ref(&u));
        assert_ne!(a.token_ref(&u), b.token_ref(&u), "another index key, another ref");
        assert_eq!(a.token_ref(&u).len(), 64);
        let r = a.token_ref(&u);
        let s = a.seal_uuid(&u, &r);
        assert_eq!(a.open_uuid(&s, &r).unwrap(), u);
        assert!(a.open_uuid(&s, &a.token_ref(&Uuid::new_v4())).is_err(), "bound to its row");
        let other = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
        assert!(RefKeys::open_or_new(sealed.as_deref(), &other).is_err());
    }

    #[test]
    fn a_remembered_uuid_answers_exactly_what_opening_would() {
        let data = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
        let (keys, _) = RefKeys::open_or_new(None, &data).unwrap();
        let u = Uuid::new_v4();
        let r = keys.token_ref(&u);
        let s = keys.seal_uuid(&u, &r);
        assert_eq!(keys.open_uuid(&s, &r).unwrap(), u, "opened");
        assert_eq!(keys.open_uuid(&s, &r).unwrap(), u, "remembered");
        let mut tampered = s.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(keys.open_uuid(&tampered, &r).is_err(), "other bytes under a remembered ref are opened, and fail");
        assert!(keys.open_uuid(&s, &keys.token_ref(&Uuid::new_v4())).is_err(), "the bytes under another ref");
        let resealed = keys.seal_uuid(&u, &r);
        assert_eq!(keys.open_uuid(&resealed, &r).unwrap(), u, "a re-sealed uuid opens");
        assert_eq!(keys.open_uuid(&s, &r).unwrap(), u, "and the bytes before it still do");
        keys.data_key_cell().set(DataKey::from_bytes(&DataKey::generate_bytes()).unwrap());
        assert!(keys.open_uuid(&s, &r).is_err(), "nothing is remembered past a change of the keys held");
    }
}
