//! Ed25519 signing keys with key ids, the set of keys that verify, and its JWKS form.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// A signing key and its id (`kid`): the first 16 hex digits of SHA-256 of the public key.
#[derive(Clone)]
pub struct SigningKeyPair {
    kid: String,
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyPair").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn kid_of(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

impl SigningKeyPair {
    /// A new random key.
    pub fn generate() -> Self {
        Self::from_key(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    fn from_key(key: SigningKey) -> Self {
        Self { kid: kid_of(&key.verifying_key()), key }
    }

    /// Load from a PKCS#8 PEM document.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
        SigningKey::from_pkcs8_pem(pem).map(Self::from_key).map_err(|e| format!("not an Ed25519 PKCS#8 key: {e}"))
    }

    /// Export as a PKCS#8 PEM document (secret: store owner-readable only).
    pub fn to_pkcs8_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .expect("an Ed25519 key always encodes")
            .to_string()
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

/// The keys that verify token values, by `kid`, and the one that signs new ones.
#[derive(Debug, Clone)]
pub struct KeySet {
    active: SigningKeyPair,
    verifying: BTreeMap<String, VerifyingKey>,
}

impl KeySet {
    /// A set whose active signing key is `active`.
    pub fn new(active: SigningKeyPair) -> Self {
        let mut verifying = BTreeMap::new();
        verifying.insert(active.kid.clone(), active.verifying_key());
        Self { active, verifying }
    }

    /// Also accept values signed by an older key.
    pub fn add_verifying(&mut self, pair: &SigningKeyPair) {
        self.verifying.insert(pair.kid.clone(), pair.verifying_key());
    }

    /// The signing key.
    pub fn active(&self) -> &SigningKeyPair {
        &self.active
    }

    /// The kids of every key that verifies.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.verifying.keys().map(String::as_str)
    }

    /// The public key for `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.get(kid)
    }

    /// The JWKS document (RFC 7517, OKP keys per RFC 8037).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .verifying
            .iter()
            .map(|(kid, k)| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                    "kid": kid, "x": B64URL.encode(k.as_bytes()),
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}
