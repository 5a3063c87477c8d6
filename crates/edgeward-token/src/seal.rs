//! Encryption at rest for token values and client secrets: XChaCha20-Poly1305 with a random
//! 192-bit nonce per message and the record's identity as associated data, so a sealed value
//! cannot be moved to another row.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

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

/// The data-encryption key.
#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
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
        XChaCha20Poly1305::new_from_slice(bytes).map(Self).map_err(|_| SealError::KeyLength)
    }

    /// Encrypt `plaintext`, binding it to `context` (e.g. the token uuid).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context })
            .expect("encryption of in-memory data cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypt what [`DataKey::seal`] produced with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SealError::Open);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.0.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context }).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_refusals() {
        let k = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
        let s = k.seal(b"secret value", b"uuid-1");
        assert!(!s.windows(6).any(|w| w == b"secret"));
        assert_eq!(k.open(&s, b"uuid-1").unwrap(), b"secret value");
        assert_eq!(k.open(&s, b"uuid-2"), Err(SealError::Open));
        let other = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
        assert_eq!(other.open(&s, b"uuid-1"), Err(SealError::Open));
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(&t, b"uuid-1"), Err(SealError::Open));
    }
}
