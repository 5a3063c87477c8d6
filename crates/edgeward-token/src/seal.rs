//! Encryption at rest for token values, client secrets and signing keys: XChaCha20-Poly1305
//! with a random 192-bit nonce per message and the record's identity as associated data, so a
//! sealed value cannot be moved to another row.
//!
//! A sealed blob names the key that sealed it: `0x02 ‖ key id (8 bytes) ‖ nonce ‖ ciphertext`,
//! where the key id is a SHA-256 of the key under a fixed label (it reveals nothing of the key).
//! So a [`DataKey`] may hold older keys beside the one it seals with, and opens each blob with the
//! key it names, without trying keys: that is what lets a data-key rotation re-seal values in
//! batches while servers keep reading both. Blobs written before key ids (`0x01 ‖ nonce ‖
//! ciphertext`) are opened by trying each key held.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const VERSION_1: u8 = 1;
const VERSION_2: u8 = 2;
const NONCE_LEN: usize = 24;
/// Bytes of a key id.
pub const KEY_ID_LEN: usize = 8;

/// Why a sealed blob did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Wrong key, wrong associated data, or tampered bytes.
    #[error("sealed data does not open with this key")]
    Open,
    /// The key file does not hold 32 bytes.
    #[error("a data key is 32 bytes")]
    KeyLength,
}

#[derive(Clone)]
struct OneKey {
    id: [u8; KEY_ID_LEN],
    aead: XChaCha20Poly1305,
}

impl OneKey {
    fn open(&self, nonce: &[u8], ct: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        self.aead.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context }).map_err(|_| SealError::Open)
    }
}

/// The data-encryption key: the one that seals, and any older ones still accepted for opening.
#[derive(Clone)]
pub struct DataKey {
    primary: OneKey,
    older: Vec<OneKey>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// The key id of 32 key bytes.
fn key_id(bytes: &[u8]) -> [u8; KEY_ID_LEN] {
    let mut h = Sha256::new();
    h.update(b"edgeward data key id v1\0");
    h.update(bytes);
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&h.finalize()[..KEY_ID_LEN]);
    id
}

impl DataKey {
    /// Fresh random key bytes.
    pub fn generate_bytes() -> [u8; 32] {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        k
    }

    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let aead = XChaCha20Poly1305::new_from_slice(bytes).map_err(|_| SealError::KeyLength)?;
        Ok(Self { primary: OneKey { id: key_id(bytes), aead }, older: Vec::new() })
    }

    /// This key, still opening what `other` (and the keys it holds) sealed. Sealing stays with
    /// `self`'s primary key.
    pub fn also_opening(mut self, other: &DataKey) -> Self {
        for k in std::iter::once(&other.primary).chain(&other.older) {
            if k.id != self.primary.id && !self.older.iter().any(|o| o.id == k.id) {
                self.older.push(k.clone());
            }
        }
        self
    }

    /// The id of the key that seals (hex in messages and file names).
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.primary.id
    }

    /// The ids of every key held, the sealing one first.
    pub fn ids(&self) -> Vec<[u8; KEY_ID_LEN]> {
        std::iter::once(&self.primary).chain(&self.older).map(|k| k.id).collect()
    }

    /// The first bytes of every blob this key seals now (version and key id): a store can find
    /// the values not sealed with it by their prefix.
    pub fn sealed_prefix(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(1 + KEY_ID_LEN);
        p.push(VERSION_2);
        p.extend_from_slice(&self.primary.id);
        p
    }

    /// Encrypt `plaintext` with the sealing key, binding it to `context` (e.g. the token uuid).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .primary
            .aead
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context })
            .expect("encryption of in-memory data cannot fail");
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(&self.sealed_prefix());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypt what [`DataKey::seal`] produced with the same `context`, with whichever key held
    /// sealed it.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        match sealed.first() {
            Some(&VERSION_2) if sealed.len() >= 1 + KEY_ID_LEN + NONCE_LEN => {
                let (id, rest) = sealed[1..].split_at(KEY_ID_LEN);
                let (nonce, ct) = rest.split_at(NONCE_LEN);
                let key =
                    std::iter::once(&self.primary).chain(&self.older).find(|k| k.id == id).ok_or(SealError::Open)?;
                key.open(nonce, ct, context)
            }
            Some(&VERSION_1) if sealed.len() > NONCE_LEN => {
                let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
                std::iter::once(&self.primary)
                    .chain(&self.older)
                    .find_map(|k| k.open(nonce, ct, context).ok())
                    .ok_or(SealError::Open)
            }
            _ => Err(SealError::Open),
        }
    }

    /// Whether `sealed` names a key this does not hold (a newer key, say).
    pub fn names_unknown_key(&self, sealed: &[u8]) -> bool {
        sealed.first() == Some(&VERSION_2)
            && sealed.len() > KEY_ID_LEN
            && !std::iter::once(&self.primary).chain(&self.older).any(|k| k.id == sealed[1..=KEY_ID_LEN])
    }

    /// Whether `sealed` was sealed with the sealing key (what a rotation leaves behind).
    pub fn sealed_with_this(&self, sealed: &[u8]) -> bool {
        sealed.starts_with(&self.sealed_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> DataKey {
        DataKey::from_bytes(&DataKey::generate_bytes()).unwrap()
    }

    #[test]
    fn seal_open_and_refusals() {
        let k = fresh();
        let s = k.seal(b"secret value", b"uuid-1");
        assert!(!s.windows(6).any(|w| w == b"secret"));
        assert_eq!(k.open(&s, b"uuid-1").unwrap(), b"secret value");
        assert_eq!(k.open(&s, b"uuid-2"), Err(SealError::Open));
        let other = fresh();
        assert_eq!(other.open(&s, b"uuid-1"), Err(SealError::Open));
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(&t, b"uuid-1"), Err(SealError::Open));
    }

    #[test]
    fn a_new_key_seals_and_still_opens_what_the_old_one_sealed() {
        let (old, new) = (fresh(), fresh());
        let by_old = old.seal(b"v", b"ctx");
        let both = new.clone().also_opening(&old);
        assert_eq!(both.id(), new.id());
        assert_eq!(both.open(&by_old, b"ctx").unwrap(), b"v");
        let by_both = both.seal(b"w", b"ctx");
        assert!(both.sealed_with_this(&by_both) && !both.sealed_with_this(&by_old));
        assert_eq!(new.open(&by_both, b"ctx").unwrap(), b"w", "sealed with the new key");
        assert_eq!(old.open(&by_both, b"ctx"), Err(SealError::Open));
        assert_eq!(new.open(&by_old, b"ctx"), Err(SealError::Open), "without the old key it does not open");
    }

    #[test]
    fn blobs_without_a_key_id_still_open() {
        let bytes = DataKey::generate_bytes();
        let k = DataKey::from_bytes(&bytes).unwrap();
        // A version-1 blob, as written before key ids.
        let aead = XChaCha20Poly1305::new_from_slice(&bytes).unwrap();
        let nonce = [7u8; NONCE_LEN];
        let ct = aead.encrypt(XNonce::from_slice(&nonce), Payload { msg: b"old", aad: b"c" }).unwrap();
        let v1 = [&[VERSION_1][..], &nonce, &ct].concat();
        assert_eq!(k.open(&v1, b"c").unwrap(), b"old");
        assert_eq!(fresh().also_opening(&k).open(&v1, b"c").unwrap(), b"old", "tried with every key held");
        assert!(!k.sealed_with_this(&v1), "a rotation re-seals it");
    }
}
