//! TLS for the admin listener: a self-signed certificate for 127.0.0.1 and localhost made on
//! first start, or the operator's own.

use std::path::Path;

use axum_server::tls_rustls::RustlsConfig;

/// Make rustls use the `ring` provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A new self-signed certificate and key (PEM) valid for 127.0.0.1, ::1 and localhost.
pub fn self_signed() -> Result<(String, String), String> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("cannot make a certificate: {e}"))?;
    Ok((ck.cert.pem(), ck.key_pair.serialize_pem()))
}

/// The rustls configuration from PEM files (HTTP/2 and HTTP/1.1 offered by ALPN).
pub async fn rustls_config(cert: &Path, key: &Path) -> Result<RustlsConfig, String> {
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| format!("cannot load the TLS certificate {} / key {}: {e}", cert.display(), key.display()))
}
