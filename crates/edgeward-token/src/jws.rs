//! Compact JWS with Ed25519: sign and verify token values.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};

use crate::keys::{KeySet, SigningKeyPair};

/// The claims of a token value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: `edgeward`.
    pub iss: String,
    /// The token's uuid.
    pub jti: String,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Expires at, epoch seconds (23:59:59 UTC of the expiry date).
    pub exp: i64,
    /// CP code.
    pub cpc: String,
    /// Networks: `s`, `p`.
    pub env: Vec<String>,
    /// `all` or comma-separated EdgeWorker IDs.
    pub ewids: String,
    /// The token's name (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `namespace-<ns>` → rights letters; other unknown claims land here too and are ignored.
    #[serde(flatten)]
    pub namespaces: BTreeMap<String, serde_json::Value>,
}

impl Claims {
    /// The namespace claims as (namespace, letters).
    pub fn namespace_rights(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.namespaces.iter().filter_map(|(k, v)| {
            let ns = k.strip_prefix("namespace-")?;
            let letters = v.as_array()?.iter().filter_map(|l| l.as_str()).collect();
            Some((ns, letters))
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// Why a value did not verify. Callers treat every variant as "invalid token".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts, or not JSON where JSON belongs.
    #[error("malformed token value")]
    Malformed,
    /// A header algorithm other than EdDSA.
    #[error("unsupported algorithm")]
    Algorithm,
    /// The `kid` is not in the key set.
    #[error("unknown key id")]
    UnknownKey,
    /// The signature does not match.
    #[error("bad signature")]
    Signature,
}

/// Sign claims into a compact JWS.
pub fn sign(claims: &Claims, key: &SigningKeyPair) -> String {
    let header = serde_json::to_vec(&Header { alg: "EdDSA", typ: "JWT", kid: key.kid() }).expect("header serializes");
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let mut out = String::with_capacity(64 + payload.len() * 4 / 3 + 90);
    B64URL.encode_string(header, &mut out);
    out.push('.');
    B64URL.encode_string(payload, &mut out);
    let sig = key.signing_key().sign(out.as_bytes());
    out.push('.');
    B64URL.encode_string(sig.to_bytes(), &mut out);
    out
}

/// The `kid` a value's header names, without verifying anything (to tell an unknown key from a
/// bad value). `None` when the header does not parse.
pub fn header_kid(value: &str) -> Option<String> {
    let h = value.split('.').next()?;
    if h.len() > 1024 {
        return None;
    }
    let bytes = B64URL.decode(h).ok()?;
    let header: Header<'_> = serde_json::from_slice(&bytes).ok()?;
    Some(header.kid.to_owned())
}

/// Verify a compact JWS against the key set and return its claims. Expiry is the caller's
/// business (it owns the clock).
pub fn verify(value: &str, keys: &KeySet) -> Result<Claims, VerifyError> {
    verify_with_kid(value, keys).map(|(claims, _)| claims)
}

/// [`verify`], also returning the `kid` of the key that signed the value.
pub fn verify_with_kid(value: &str, keys: &KeySet) -> Result<(Claims, String), VerifyError> {
    let mut parts = value.splitn(3, '.');
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VerifyError::Malformed);
    };
    if s.contains('.') {
        return Err(VerifyError::Malformed);
    }
    let header_bytes = B64URL.decode(h).map_err(|_| VerifyError::Malformed)?;
    let header: Header<'_> = serde_json::from_slice(&header_bytes).map_err(|_| VerifyError::Malformed)?;
    if header.alg != "EdDSA" {
        return Err(VerifyError::Algorithm);
    }
    let key = keys.get(header.kid).ok_or(VerifyError::UnknownKey)?;
    let mut sig = [0u8; 64];
    let n = B64URL.decode_slice(s, &mut sig).map_err(|_| VerifyError::Malformed)?;
    if n != 64 {
        return Err(VerifyError::Malformed);
    }
    let signing_input = &value[..h.len() + 1 + p.len()];
    key.verify(signing_input.as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| VerifyError::Signature)?;
    let payload = B64URL.decode(p).map_err(|_| VerifyError::Malformed)?;
    let claims = serde_json::from_slice(&payload).map_err(|_| VerifyError::Malformed)?;
    Ok((claims, header.kid.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claims(ns: &str) -> Claims {
        let mut namespaces = BTreeMap::new();
        namespaces.insert(format!("namespace-{ns}"), serde_json::json!(["r", "w"]));
        Claims {
            iss: "edgeward".into(),
            jti: "1ab0e94b-c47e-568e-ab3e-1921ffcefe0c".into(),
            iat: 1_700_000_000,
            exp: 1_700_086_399,
            cpc: "1234567".into(),
            env: vec!["s".into(), "p".into()],
            ewids: "all".into(),
            name: "tok".into(),
            namespaces,
        }
    }

    #[test]
    fn unknown_key_and_wrong_alg_are_refused() {
        let k = SigningKeyPair::generate();
        let v = sign(&claims("default"), &k);
        let other = KeySet::new(SigningKeyPair::generate());
        assert_eq!(verify(&v, &other), Err(VerifyError::UnknownKey));
        let forged_header = B64URL.encode(br#"{"alg":"none","typ":"JWT","kid":"x"}"#);
        let rest = v.split_once('.').unwrap().1;
        assert_eq!(verify(&format!("{forged_header}.{rest}"), &KeySet::new(k)), Err(VerifyError::Algorithm));
    }

    #[test]
    fn the_header_kid_is_read_without_verifying() {
        let k = SigningKeyPair::generate();
        let v = sign(&claims("default"), &k);
        assert_eq!(header_kid(&v).as_deref(), Some(k.kid()));
        assert_eq!(header_kid("not a token"), None);
    }

    #[test]
    fn pem_round_trip_keeps_the_kid() {
        let k = SigningKeyPair::generate();
        let back = SigningKeyPair::from_pkcs8_pem(&k.to_pkcs8_pem()).unwrap();
        assert_eq!(back.kid(), k.kid());
    }

    proptest! {
        #[test]
        fn sign_verify_round_trip(ns in "[a-z0-9_]{1,32}", iat in 0i64..4_000_000_000) {
            let k = SigningKeyPair::generate();
            let mut c = claims(&ns);
            c.iat = iat;
            let v = sign(&c, &k);
            let keys = KeySet::new(k);
            let back = verify(&v, &keys).unwrap();
            prop_assert_eq!(back.namespace_rights().collect::<Vec<_>>(), vec![(ns.as_str(), vec!["r", "w"])]);
            prop_assert_eq!(back, c);
        }

        #[test]
        fn any_flipped_character_fails(pos in 0usize..10_000, replacement in "[A-Za-z0-9_.-]") {
            let k = SigningKeyPair::generate();
            let v = sign(&claims("default"), &k);
            let pos = pos % v.len();
            let mut bytes = v.clone().into_bytes();
            let r = replacement.as_bytes()[0];
            prop_assume!(bytes[pos] != r);
            bytes[pos] = r;
            let tampered = String::from_utf8(bytes).unwrap();
            // Base64url's last character can carry unused bits; a change there that decodes to
            // the same bytes is not a change of the token.
            let same = tampered.split('.').map(|p| B64URL.decode(p).ok()).collect::<Vec<_>>()
                == v.split('.').map(|p| B64URL.decode(p).ok()).collect::<Vec<_>>();
            prop_assume!(!same);
            prop_assert!(verify(&tampered, &KeySet::new(k)).is_err());
        }
    }
}
