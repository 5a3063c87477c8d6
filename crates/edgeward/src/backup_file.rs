//! The backup file of `edgeward backup` and `edgeward restore`, without I/O: its manifest, and
//! the sealed key bundle that `--include-keys` adds.
//!
//! A backup is a tar archive (ustar) of, in this order:
//!
//! ```text
//! edgeward-backup.json   the manifest (Manifest): format and version, Edgeward version, time,
//!                        the database's schema version, size and SHA-256, the key files
//! edgeward.db            the SQLite database, one consistent snapshot (rollback-journal mode)
//! keys.sealed            only with --include-keys: the key files, sealed to a passphrase
//! ```
//!
//! `keys.sealed` is binary:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "EWKEYS\r\n"
//!      8     1  format version, 1
//!      9     1  key derivation, 1 = Argon2id (version 0x13)
//!     10     4  Argon2 memory in KiB (u32, little-endian)
//!     14     4  Argon2 passes (u32 LE)
//!     18     4  Argon2 lanes (u32 LE)
//!     22    16  salt (random)
//!     38    24  nonce (random)
//!     62     …  XChaCha20-Poly1305 ciphertext and 16-byte tag of the key files (JSON: path, mode,
//!               hex contents); associated data: bytes 0..62 and the database's SHA-256, so the
//!               parameters cannot be changed and the keys open only beside their own database
//! ```
//!
//! The 32-byte key is Argon2id(passphrase, salt) with the parameters of the header.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The manifest's member name (the archive's first member).
pub const MANIFEST: &str = "edgeward-backup.json";
/// The database's member name.
pub const DATABASE: &str = "edgeward.db";
/// The sealed key bundle's member name.
pub const KEYS: &str = "keys.sealed";
/// The manifest's `format`.
pub const FORMAT: &str = "edgeward-backup";
/// The manifest's `formatVersion` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The shortest passphrase accepted for a new backup.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

const MAGIC: &[u8; 8] = b"EWKEYS\r\n";
const KEYS_VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const HEADER_LEN: usize = 62;
/// Argon2id with 64 MiB and 3 passes: about a quarter of a second, once per backup or restore.
const MEMORY_KIB: u32 = 64 * 1024;
const PASSES: u32 = 3;
const LANES: u32 = 1;
/// What a file may ask for at most, so that a crafted header cannot exhaust the machine.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;

/// What `edgeward-backup.json` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The Edgeward version that wrote it.
    pub edgeward_version: String,
    /// When the snapshot was taken (RFC 3339).
    pub created_at: String,
    /// The database's schema version.
    pub schema_version: u32,
    /// The database member.
    pub database: DatabaseEntry,
    /// The key files: which the database needs, and whether they are in the archive.
    pub keys: KeysEntry,
}

/// The database member of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseEntry {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The key files of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeysEntry {
    /// The files of the data directory without which the database's sealed values cannot be
    /// opened (`keys/data.key`, and `keys/data.key.next` while a data-key rotation runs).
    pub needed: Vec<String>,
    /// Whether `keys.sealed` is in the archive.
    pub included: bool,
    /// The files sealed in `keys.sealed` (none when not included).
    pub sealed_files: Vec<String>,
}

/// One file of the data directory in the key bundle.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyFile {
    /// Its path relative to the data directory (`keys/data.key`).
    pub path: String,
    /// Its Unix mode bits.
    pub mode: u32,
    /// Its contents, hex.
    pub hex: String,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile").field("path", &self.path).field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// Why a key bundle does not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// Not a key bundle of a version this build reads.
    #[error("{KEYS} is not a key bundle this Edgeward reads ({0})")]
    Format(String),
    /// The passphrase is wrong, or the bundle or its database was altered.
    #[error("the passphrase does not open the backup's keys (a wrong passphrase, or a damaged or altered backup)")]
    WrongPassphrase,
}

fn derive(passphrase: &str, salt: &[u8], memory: u32, passes: u32, lanes: u32) -> Result<[u8; 32], String> {
    let params = Params::new(memory, passes, lanes, Some(32)).map_err(|e| e.to_string())?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| e.to_string())?;
    Ok(key)
}

fn associated(header: &[u8], database_sha256: &[u8]) -> Vec<u8> {
    [header, database_sha256].concat()
}

/// Seal `files` to `passphrase`, bound to the database whose SHA-256 is `database_sha256`.
pub fn seal_keys(files: &[KeyFile], passphrase: &str, database_sha256: &[u8]) -> Result<Vec<u8>, String> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut salt);
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(KEYS_VERSION);
    header.push(KDF_ARGON2ID);
    for v in [MEMORY_KIB, PASSES, LANES] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    header.extend_from_slice(&salt);
    header.extend_from_slice(&nonce);
    debug_assert_eq!(header.len(), HEADER_LEN);
    let key = derive(passphrase, &salt, MEMORY_KIB, PASSES, LANES)?;
    let plain = serde_json::to_vec(files).map_err(|e| e.to_string())?;
    let aad = associated(&header, database_sha256);
    let sealed = XChaCha20Poly1305::new(&key.into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: &aad })
        .map_err(|_| "cannot seal the key files".to_owned())?;
    header.extend_from_slice(&sealed);
    Ok(header)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Open a key bundle made by [`seal_keys`] for the database whose SHA-256 is `database_sha256`.
pub fn open_keys(bundle: &[u8], passphrase: &str, database_sha256: &[u8]) -> Result<Vec<KeyFile>, OpenError> {
    if bundle.len() < HEADER_LEN + 16 || &bundle[..8] != MAGIC {
        return Err(OpenError::Format("no EWKEYS header".into()));
    }
    if bundle[8] != KEYS_VERSION {
        return Err(OpenError::Format(format!(
            "version {}, this build reads {KEYS_VERSION}: restore with the Edgeward that made it",
            bundle[8]
        )));
    }
    if bundle[9] != KDF_ARGON2ID {
        return Err(OpenError::Format(format!("unknown key derivation {}", bundle[9])));
    }
    let (memory, passes, lanes) = (u32_at(bundle, 10), u32_at(bundle, 14), u32_at(bundle, 18));
    if memory > MAX_MEMORY_KIB || passes > MAX_PASSES || lanes > MAX_LANES {
        return Err(OpenError::Format("key derivation parameters out of range".into()));
    }
    let (header, sealed) = bundle.split_at(HEADER_LEN);
    let key = derive(passphrase, &header[22..38], memory, passes, lanes).map_err(OpenError::Format)?;
    let aad = associated(header, database_sha256);
    let plain = XChaCha20Poly1305::new(&key.into())
        .decrypt(XNonce::from_slice(&header[38..62]), Payload { msg: sealed, aad: &aad })
        .map_err(|_| OpenError::WrongPassphrase)?;
    serde_json::from_slice(&plain).map_err(|e| OpenError::Format(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<KeyFile> {
        vec![KeyFile { path: "keys/data.key".into(), mode: 0o600, hex: hex::encode(b"secret\n") }]
    }

    #[test]
    fn keys_open_with_their_passphrase_beside_their_database_only() {
        let db = [7u8; 32];
        let bundle = seal_keys(&files(), "correct horse battery", &db).unwrap();
        assert_eq!(&bundle[..8], MAGIC);
        assert_eq!(open_keys(&bundle, "correct horse battery", &db).unwrap(), files());
        assert_eq!(open_keys(&bundle, "wrong horse battery", &db), Err(OpenError::WrongPassphrase));
        assert_eq!(open_keys(&bundle, "correct horse battery", &[8u8; 32]), Err(OpenError::WrongPassphrase));
        // A changed parameter in the header is refused too (it is associated data).
        let mut tampered = bundle.clone();
        tampered[14] ^= 1;
        assert_eq!(open_keys(&tampered, "correct horse battery", &db), Err(OpenError::WrongPassphrase));
        let mut newer = bundle.clone();
        newer[8] = 2;
        assert!(matches!(open_keys(&newer, "correct horse battery", &db), Err(OpenError::Format(_))));
        assert!(matches!(open_keys(b"not a bundle", "x", &db), Err(OpenError::Format(_))));
        let mut greedy = bundle;
        greedy[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(open_keys(&greedy, "correct horse battery", &db), Err(OpenError::Format(_))));
    }

    #[test]
    fn a_key_file_debug_shows_no_contents() {
        let shown = format!("{:?}", files()[0]);
        assert!(!shown.contains(&hex::encode(b"secret\n")), "{shown}");
    }
}
