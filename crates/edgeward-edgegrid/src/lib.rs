//! EG1-HMAC-SHA256, the request signature Akamai's EdgeGrid clients put on every admin-API call.
//!
//! The same code signs (used by Edgeward's own client) and verifies (used by the server), so the
//! two can never disagree on the string to sign. Pure: no I/O, no clock; callers pass timestamps.
//!
//! Algorithm (spec §7): `signing_key = b64(HMAC(secret_as_text, timestamp))`,
//! `signature = b64(HMAC(signing_key_as_text, data_to_sign))` where `data_to_sign` joins with TABs
//! the method, `https`, the host, the raw request target, the canonical signed headers, the body
//! hash (POST with a non-empty body only) and the authorization prefix up to `signature=`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The scheme word that opens every EdgeGrid `Authorization` header.
pub const SCHEME: &str = "EG1-HMAC-SHA256";
/// Default number of POST body bytes covered by the content hash.
pub const DEFAULT_MAX_BODY: usize = 131_072;
/// Format of the `timestamp` field: `20140321T19:34:21+0000`.
pub const TIMESTAMP_FORMAT: &str = "%Y%m%dT%H:%M:%S+0000";

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The header does not start with `EG1-HMAC-SHA256 `.
    #[error("authorization scheme is not EG1-HMAC-SHA256")]
    Scheme,
    /// A required field is absent or empty.
    #[error("authorization header lacks {0}")]
    Missing(&'static str),
    /// A field appears twice.
    #[error("authorization header repeats {0}")]
    Repeated(&'static str),
    /// The timestamp is not `yyyyMMddTHH:mm:ss+0000`.
    #[error("timestamp is not in the EdgeGrid format")]
    Timestamp,
}

/// The fields of a received `Authorization: EG1-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader<'a> {
    /// `client_token=`: identifies the API client.
    pub client_token: &'a str,
    /// `access_token=`: must belong to the client.
    pub access_token: &'a str,
    /// `timestamp=` as sent.
    pub timestamp: &'a str,
    /// `timestamp=` parsed as UTC.
    pub time: DateTime<Utc>,
    /// `nonce=`: unique per request.
    pub nonce: &'a str,
    /// `signature=`: base64 HMAC.
    pub signature: &'a str,
    /// The header value up to and including the `;` before `signature=`; it is signed itself.
    pub auth_prefix: &'a str,
}

/// Parse an `Authorization` header value strictly (every field once, signature last).
pub fn parse_authorization(value: &str) -> Result<AuthHeader<'_>, ParseError> {
    let rest = value.strip_prefix(SCHEME).and_then(|r| r.strip_prefix(' ')).ok_or(ParseError::Scheme)?;
    let sig_at = rest.rfind("signature=").ok_or(ParseError::Missing("signature"))?;
    if sig_at == 0 || !rest[..sig_at].ends_with(';') {
        return Err(ParseError::Missing("signature"));
    }
    let prefix_len = SCHEME.len() + 1 + sig_at;
    let signature = &rest[sig_at + "signature=".len()..];
    if signature.is_empty() || signature.contains(';') {
        return Err(ParseError::Missing("signature"));
    }
    let (mut ct, mut at, mut ts, mut nonce) = (None, None, None, None);
    for pair in rest[..sig_at].split(';').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k.trim() {
            "client_token" => (&mut ct, "client_token"),
            "access_token" => (&mut at, "access_token"),
            "timestamp" => (&mut ts, "timestamp"),
            "nonce" => (&mut nonce, "nonce"),
            "signature" => return Err(ParseError::Repeated("signature")),
            _ => continue,
        };
        if slot.0.replace(v).is_some() {
            return Err(ParseError::Repeated(slot.1));
        }
    }
    let timestamp = nonempty(ts, "timestamp")?;
    Ok(AuthHeader {
        client_token: nonempty(ct, "client_token")?,
        access_token: nonempty(at, "access_token")?,
        time: parse_timestamp(timestamp)?,
        timestamp,
        nonce: nonempty(nonce, "nonce")?,
        signature,
        auth_prefix: &value[..prefix_len],
    })
}

fn nonempty<'a>(v: Option<&'a str>, name: &'static str) -> Result<&'a str, ParseError> {
    v.filter(|s| !s.is_empty()).ok_or(ParseError::Missing(name))
}

/// Parse an EdgeGrid timestamp (`20140321T19:34:21+0000`): exactly the fixed-width form every
/// client sends ([`TIMESTAMP_FORMAT`], zero-padded, UTC), read field by field (this runs on
/// every signed request, where a format-string parser is needlessly slow).
pub fn parse_timestamp(ts: &str) -> Result<DateTime<Utc>, ParseError> {
    let b = ts.as_bytes();
    if b.len() != 22 || b[8] != b'T' || b[11] != b':' || b[14] != b':' || &b[17..] != b"+0000" {
        return Err(ParseError::Timestamp);
    }
    let field = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
            .ok_or(ParseError::Timestamp)
    };
    let (year, month, day) = (field(0, 4)?, field(4, 6)?, field(6, 8)?);
    let (hour, minute, second) = (field(9, 11)?, field(12, 14)?, field(15, 17)?);
    // Four digits: a year always fits an i32.
    i32::try_from(year)
        .ok()
        .and_then(|year| chrono::NaiveDate::from_ymd_opt(year, month, day))
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .map(|n| n.and_utc())
        .ok_or(ParseError::Timestamp)
}

/// Render a UTC time as an EdgeGrid timestamp.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    B64.encode(mac.finalize().into_bytes())
}

/// `Base64(HMAC-SHA256(key = client_secret as text, message = timestamp))`.
pub fn signing_key(client_secret: &str, timestamp: &str) -> String {
    hmac_b64(client_secret.as_bytes(), timestamp.as_bytes())
}

/// What of a request goes into the signature.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// HTTP method (any case; upper-cased when signed).
    pub method: &'a str,
    /// The `Host` header as sent, including `:port`.
    pub host: &'a str,
    /// The raw request target: path, `;params` and `?query` exactly as sent.
    pub target: &'a str,
    /// Headers present on the request, as (name, value); only those named in
    /// [`Settings::headers_to_sign`] are used.
    pub headers: &'a [(&'a str, &'a str)],
    /// The request body.
    pub body: &'a [u8],
}

/// Signature parameters both sides must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How many POST body bytes the content hash covers.
    pub max_body: usize,
    /// Header names to sign, in signing order.
    pub headers_to_sign: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { max_body: DEFAULT_MAX_BODY, headers_to_sign: Vec::new() }
    }
}

fn canonical_headers(req: &SignedRequest<'_>, settings: &Settings) -> String {
    let mut out = Vec::new();
    for wanted in &settings.headers_to_sign {
        if let Some((_, v)) = req.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted)) {
            let collapsed = v.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(format!("{}:{}", wanted.to_ascii_lowercase(), collapsed));
        }
    }
    out.join("\t")
}

fn content_hash(req: &SignedRequest<'_>, settings: &Settings) -> String {
    if !req.method.eq_ignore_ascii_case("POST") || req.body.is_empty() {
        return String::new();
    }
    let n = req.body.len().min(settings.max_body);
    B64.encode(Sha256::digest(&req.body[..n]))
}

/// The TAB-joined string that is signed.
pub fn data_to_sign(req: &SignedRequest<'_>, settings: &Settings, auth_prefix: &str) -> String {
    let headers = canonical_headers(req, settings);
    let mut s = String::with_capacity(128 + req.target.len() + headers.len() + auth_prefix.len());
    for part in [
        req.method.to_ascii_uppercase().as_str(),
        "https",
        req.host,
        req.target,
        &headers,
        &content_hash(req, settings),
    ] {
        s.push_str(part);
        s.push('\t');
    }
    s.push_str(auth_prefix);
    s
}

/// The `signature=` value for a request.
pub fn signature(
    client_secret: &str,
    timestamp: &str,
    req: &SignedRequest<'_>,
    settings: &Settings,
    auth_prefix: &str,
) -> String {
    let key = signing_key(client_secret, timestamp);
    hmac_b64(key.as_bytes(), data_to_sign(req, settings, auth_prefix).as_bytes())
}

/// Check a parsed header's signature against the request, in constant time.
/// Freshness of the timestamp and the nonce is the caller's business.
pub fn verify(client_secret: &str, header: &AuthHeader<'_>, req: &SignedRequest<'_>, settings: &Settings) -> bool {
    let expected = signature(client_secret, header.timestamp, req, settings, header.auth_prefix);
    expected.as_bytes().ct_eq(header.signature.as_bytes()).into()
}

/// The credentials of one API client, as found in an `.edgerc` section.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `client_token`.
    pub client_token: String,
    /// `access_token`.
    pub access_token: String,
    /// `client_secret`: never printed by `Debug`.
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_token", &self.client_token)
            .field("access_token", &self.access_token)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The full `Authorization` header value for a request.
    pub fn authorization(&self, req: &SignedRequest<'_>, settings: &Settings, timestamp: &str, nonce: &str) -> String {
        let prefix = format!(
            "{SCHEME} client_token={};access_token={};timestamp={timestamp};nonce={nonce};",
            self.client_token, self.access_token
        );
        let sig = signature(&self.client_secret, timestamp, req, settings, &prefix);
        format!("{prefix}signature={sig}")
    }
}

#[cfg(test)]
mod tests;
