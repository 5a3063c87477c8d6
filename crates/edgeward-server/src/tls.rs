//! TLS for the admin listener: a self-signed certificate for 127.0.0.1 and localhost made on
//! first start (valid for a year, renewed at a start within 30 days of its end), or the
//! operator's own (never touched).

use std::path::Path;

use axum_server::tls_rustls::RustlsConfig;
use chrono::{DateTime, Utc};

/// Make rustls use the `ring` provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How long a generated certificate is valid.
pub const SELF_SIGNED_DAYS: i64 = 365;

/// A generated certificate this close to its end is replaced at start.
pub const RENEW_WITHIN_DAYS: i64 = 30;

/// The subject's common name of generated certificates.
pub const SELF_SIGNED_CN: &str = "Edgeward self-signed (localhost)";

/// A new self-signed certificate and key (PEM) valid for 127.0.0.1, ::1 and localhost, named for
/// Edgeward (`O=Edgeward`), from an hour before `now` (clocks differ a little) for
/// [`SELF_SIGNED_DAYS`] days.
pub fn self_signed(now: DateTime<Utc>) -> Result<(String, String), String> {
    let fail = |e: rcgen::Error| format!("cannot make a certificate: {e}");
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let mut params = rcgen::CertificateParams::new(names).map_err(fail)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, SELF_SIGNED_CN);
    dn.push(rcgen::DnType::OrganizationName, "Edgeward");
    params.distinguished_name = dn;
    let start = now - chrono::Duration::hours(1);
    let instant = |t: DateTime<Utc>| {
        time::OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(|e| format!("cannot make a certificate: {e}"))
    };
    params.not_before = instant(start)?;
    params.not_after = instant(start + chrono::Duration::days(SELF_SIGNED_DAYS))?;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&rand::random::<[u8; 16]>()[..]));
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = params.self_signed(&key).map_err(fail)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The validity of a PEM certificate: (not before, not after).
pub fn validity(cert_pem: &[u8]) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem).map_err(|e| format!("not a PEM certificate: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let at = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| "certificate time out of range".to_owned())
    };
    Ok((at(cert.validity().not_before)?, at(cert.validity().not_after)?))
}

/// Whether a generated certificate must be replaced at `now`: it ends within
/// [`RENEW_WITHIN_DAYS`], or it is valid for longer than a generated one may be (certificates
/// made by earlier versions were valid until 4096), or it cannot be read.
pub fn needs_renewal(cert_pem: &[u8], now: DateTime<Utc>) -> bool {
    match validity(cert_pem) {
        Ok((from, until)) => {
            until - now <= chrono::Duration::days(RENEW_WITHIN_DAYS)
                || until - from > chrono::Duration::days(SELF_SIGNED_DAYS + 1)
        }
        Err(_) => true,
    }
}

/// A certificate and its private key (PEM), as bootstrap read them at start.
#[derive(Clone)]
pub struct PemPair {
    /// The certificate (chain).
    pub cert: Vec<u8>,
    /// The private key.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemPair").field("cert", &self.cert.len()).field("key", &"<redacted>").finish()
    }
}

/// The message of a certificate and key that cannot be loaded, naming both files.
pub fn load_error(cert: &Path, key: &Path, cause: impl std::fmt::Display) -> String {
    format!("cannot load the TLS certificate {} / key {}: {cause}", cert.display(), key.display())
}

/// The rustls configuration from `pem`, read from the files `cert` and `key` (named in errors)
/// (HTTP/2 and HTTP/1.1 offered by ALPN).
pub async fn rustls_config(pem: &PemPair, cert: &Path, key: &Path) -> Result<RustlsConfig, String> {
    RustlsConfig::from_pem(pem.cert.clone(), pem.key.clone()).await.map_err(|e| load_error(cert, key, e))
}
