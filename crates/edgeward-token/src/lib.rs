//! Token values and the keys behind them. Pure: callers load and store key material.
//!
//! A token value is a compact JWS (`header.payload.signature`, base64url without padding) signed
//! with Ed25519 (`alg: EdDSA`), whose header names the key by `kid`. The claims follow EdgeKV's
//! (`namespace-<ns>`, `env`, `ewids`, `cpc`, `iat`, `exp`, `jti`, `iss`), so Akamai's CLI can
//! decode and display our values, and any JOSE library can verify them against our JWKS.
//!
//! One algorithm and one key type make the JWS small enough to write here (about 60 lines)
//! rather than pull in a general JOSE stack whose algorithm negotiation we would have to fence;
//! interoperability is proven by a test that verifies our values with a standard JOSE library.

pub mod jws;
pub mod keys;
pub mod seal;

pub use jws::{header_kid, sign, verify, verify_with_kid, Claims, VerifyError};
pub use keys::{KeySet, SigningKeyPair};
pub use seal::{DataKey, SealError};
