//! Users' passwords: Argon2id hashes, the one place where a password is hashed or checked.
//!
//! A password is kept only as an Argon2id hash in a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which names the algorithm, its version and
//! parameters beside a random 16-byte salt, so a hash made with older parameters still verifies
//! after they change. Verification is the crate's, which compares the hashes in constant time.
//! No password or hash is ever logged. See `docs/security.md` ("Passwords").

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore as _;

// The Argon2id parameters: OWASP's Password Storage Cheat Sheet recommends Argon2id with at
// least 19 MiB of memory, 2 iterations and 1 degree of parallelism (its first listed
// configuration; the others trade memory for iterations at equal cost). Raising them later
// makes new hashes slower; existing hashes keep verifying with the parameters they name.
/// Argon2id memory cost, in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Argon2id iterations (time cost).
pub const ITERATIONS: u32 = 2;
/// Argon2id lanes (degree of parallelism).
pub const PARALLELISM: u32 = 1;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most characters a password may have (hashing a huge input is work an attacker chooses).
pub const MAX_CHARS: usize = 1024;
/// Random bytes of a password Edgeward makes (the first start's): 18 bytes, 24 characters of
/// base64url, 144 bits.
pub const INITIAL_PASSWORD_BYTES: usize = 18;

/// Why a password was refused or could not be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("a password must be at least {MIN_CHARS} characters long")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("a password must be at most {MAX_CHARS} characters long")]
    TooLong,
    /// The hasher failed (it does not, with these parameters).
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid Argon2id parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether a new password may be used: [`MIN_CHARS`] to [`MAX_CHARS`] characters.
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        Err(PasswordError::TooShort)
    } else if n > MAX_CHARS {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// The PHC string of a new password, with a fresh random salt. Checks the password first
/// ([`check_new`]).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_new(password)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` is the one `stored` was made from. A user without a hash (`None`), or a
/// stored value that is not a PHC string, never matches; the same hashing work is done
/// either way, so the time taken does not tell whether the user has a password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static UNMATCHABLE: OnceLock<String> = OnceLock::new();
    let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
    let real = parsed.is_some();
    let fallback;
    let phc = match parsed {
        Some(p) => p,
        None => {
            fallback = UNMATCHABLE.get_or_init(|| {
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                hasher().hash_password(&random_bytes(32), &salt).map(|h| h.to_string()).unwrap_or_default()
            });
            match PasswordHash::new(fallback) {
                Ok(p) => p,
                Err(_) => return false,
            }
        }
    };
    // The parameters are those the PHC string names; the crate compares in constant time.
    hasher().verify_password(password.as_bytes(), &phc).is_ok() && real
}

/// Argon2id runs at once, at most (each holds [`MEMORY_KIB`] of memory and a core): enough to
/// use every core, few enough that a flood of sign-in attempts cannot take the server's memory.
/// Beyond it, work waits up to [`HASHING_WAIT`], then is refused as [`Busy`].
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores.clamp(2, 8))
    })
}

/// How long hashing work waits for a slot before it is refused.
pub const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Hashing work was refused: every slot stayed busy for [`HASHING_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked at once; try again shortly")]
pub struct Busy;

/// Run `work` (a hash or a verification) on a blocking thread, in one of the bounded slots.
async fn in_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let permit =
        tokio::time::timeout(HASHING_WAIT, hashing_slots().acquire()).await.map_err(|_| Busy)?.map_err(|_| Busy)?;
    let out = tokio::task::spawn_blocking(work).await.map_err(|_| Busy)?;
    drop(permit);
    Ok(out)
}

/// [`verify`], off the async threads and within the bound on concurrent hashing.
pub async fn verify_bounded(password: String, stored: Option<String>) -> Result<bool, Busy> {
    in_slot(move || verify(&password, stored.as_deref())).await
}

/// [`hash`], off the async threads and within the bound on concurrent hashing.
pub async fn hash_bounded(password: String) -> Result<Result<String, PasswordError>, Busy> {
    in_slot(move || hash(&password)).await
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A new random password (the first start's initial password): [`INITIAL_PASSWORD_BYTES`]
/// from the operating system's CSPRNG, as base64url without padding.
pub fn random() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(INITIAL_PASSWORD_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_hash_names_argon2id_and_the_parameters() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (MEMORY_KIB, ITERATIONS, PARALLELISM));
        assert_eq!(parsed.salt.map(|s| s.len()), Some(22), "a 16-byte salt, base64");
        assert_ne!(hash("correct horse battery").unwrap(), phc, "each hash has its own salt");
        assert!(!phc.contains("correct horse"));
    }

    #[test]
    fn verify_accepts_the_right_password_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(verify("correct horse battery", Some(&phc)));
        assert!(!verify("correct horse batterY", Some(&phc)));
        assert!(!verify("", Some(&phc)));
        assert!(!verify("correct horse battery", None), "no hash, no sign-in");
        assert!(!verify("correct horse battery", Some("not a phc string")));
    }

    #[test]
    fn lengths_are_checked_in_characters() {
        assert_eq!(check_new("elevenchars"), Err(PasswordError::TooShort));
        assert_eq!(hash("elevenchars"), Err(PasswordError::TooShort));
        assert_eq!(check_new("twelve chars"), Ok(()));
        assert_eq!(check_new("éééééééééééé"), Ok(()), "12 characters, 24 bytes");
        assert_eq!(check_new(&"x".repeat(MAX_CHARS)), Ok(()));
        assert_eq!(check_new(&"x".repeat(MAX_CHARS + 1)), Err(PasswordError::TooLong));
        assert_eq!(PasswordError::TooShort.to_string(), "a password must be at least 12 characters long");
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let (a, b) = (random(), random());
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert_ne!(a, b);
        assert_eq!(check_new(&a), Ok(()));
    }
}
