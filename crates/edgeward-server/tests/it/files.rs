//! Files of the data directory: the SQLite files are owner-only; the generated TLS certificate
//! is named for Edgeward, valid for a year and renewed near its end (an operator's certificate
//! is never touched); a data key that does not open the database's signing keys is refused.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use crate::common::*;
use chrono::{Duration, Utc};
use edgeward_core::clock::SystemClock;
use edgeward_server::{bootstrap, tls};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn sqlite_files_are_owner_only_and_existing_ones_are_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["edgeward.db", "edgeward.db-wal", "edgeward.db-shm"];
    let server = edgeward_server::spawn(config_on_sqlite(dir.path()), Arc::new(SystemClock)).await.unwrap();
    for f in names {
        assert_eq!(mode(&dir.path().join(f)), 0o600, "{f}");
    }
    // An install made by an earlier version: the files are 0644. The next start tightens them.
    for f in names {
        std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    server.shutdown().await;
    let again = edgeward_server::spawn(config_on_sqlite(dir.path()), Arc::new(SystemClock)).await.unwrap();
    for f in names {
        let p = dir.path().join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f} tightened");
        }
    }
    assert_eq!(mode(&dir.path().join("edgeward.db")), 0o600);
    again.shutdown().await;
}

fn subject(pem: &[u8]) -> (String, String) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).unwrap();
    let cert = pem.parse_x509().unwrap();
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap().to_owned();
    let o = cert.subject().iter_organization().next().unwrap().as_str().unwrap().to_owned();
    (cn, o)
}

#[tokio::test]
async fn the_generated_certificate_is_named_for_edgeward_and_valid_for_a_year() {
    let app = spawn_app().await;
    let pem = std::fs::read(&app.server.prepared.tls_cert).unwrap();
    let (cn, o) = subject(&pem);
    assert!(cn.starts_with("Edgeward self-signed"), "{cn}");
    assert_eq!(o, "Edgeward");
    let (from, until) = tls::validity(&pem).unwrap();
    let now = Utc::now();
    assert!(from <= now && now < until, "valid now: {from} – {until}");
    assert!(until - from <= Duration::days(366), "at most a year: {from} – {until}");
    app.server.shutdown().await;
}

#[test]
fn the_generated_certificate_is_renewed_within_30_days_of_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let made = Utc::now();
    let (cert, key) = bootstrap::ensure_self_signed(&tls_dir, made).unwrap();
    let first = std::fs::read(&cert).unwrap();
    assert_eq!(mode(&key), 0o600);
    // Ten days on, and 30 days and a second before its end: kept.
    let (_, until) = tls::validity(&first).unwrap();
    for now in [made + Duration::days(10), until - Duration::days(30) - Duration::seconds(1)] {
        bootstrap::ensure_self_signed(&tls_dir, now).unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), first, "kept at {now}");
    }
    // Within 30 days of its end: made anew, valid a year from then.
    let near = until - Duration::days(29);
    bootstrap::ensure_self_signed(&tls_dir, near).unwrap();
    let renewed = std::fs::read(&cert).unwrap();
    assert_ne!(renewed, first);
    let (from, new_until) = tls::validity(&renewed).unwrap();
    assert!(from <= near && new_until > near + Duration::days(300), "{from} – {new_until}");
    assert_eq!(mode(&key), 0o600);

    // A certificate of an earlier version (valid until 4096) is replaced at once.
    let old = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(&cert, old.cert.pem()).unwrap();
    std::fs::write(&key, old.key_pair.serialize_pem()).unwrap();
    bootstrap::ensure_self_signed(&tls_dir, made).unwrap();
    assert!(subject(&std::fs::read(&cert).unwrap()).0.starts_with("Edgeward self-signed"));
}

#[tokio::test]
async fn an_operators_certificate_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let own = tempfile::tempdir().unwrap();
    // Ends in ten days: a generated one would be renewed, the operator's is left alone.
    let (c, k) = tls::self_signed(Utc::now() - Duration::days(355)).unwrap();
    let (cert, key) = (own.path().join("cert.pem"), own.path().join("key.pem"));
    std::fs::write(&cert, &c).unwrap();
    std::fs::write(&key, &k).unwrap();
    let mut cfg = config(dir.path());
    cfg.tls_cert = Some(cert.clone());
    cfg.tls_key = Some(key.clone());
    let server = edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.unwrap();
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), c);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), k);
    assert!(!dir.path().join("tls/cert.pem").exists(), "nothing generated");
    server.shutdown().await;
}

#[tokio::test]
async fn a_data_key_that_does_not_open_the_signing_keys_is_refused_by_serve_and_by_commands() {
    let dir = tempfile::tempdir().unwrap();
    let server = edgeward_server::spawn(config_on_sqlite(dir.path()), Arc::new(SystemClock)).await.unwrap();
    server.shutdown().await;
    let key = dir.path().join("keys").join(bootstrap::DATA_KEY_FILE);
    let database = config_on_sqlite(dir.path()).database;
    // No data key at all: the commands refuse to make one (only `serve` makes an installation).
    std::fs::remove_file(&key).unwrap();
    let refused = bootstrap::open_store(dir.path(), &database, Utc::now()).await.err().expect("refused");
    assert!(matches!(refused, bootstrap::BootError::NoInstallation { .. }), "{refused}");
    assert!(!key.exists(), "nothing was created");
    // Another installation's data key in this data directory.
    let other = tempfile::tempdir().unwrap();
    let second = edgeward_server::spawn(config_on_sqlite(other.path()), Arc::new(SystemClock)).await.unwrap();
    second.shutdown().await;
    std::fs::copy(other.path().join("keys").join(bootstrap::DATA_KEY_FILE), &key).unwrap();
    // What every administration command opens the data directory with.
    let refused = bootstrap::open_store(dir.path(), &database, Utc::now()).await.err().expect("refused");
    assert!(matches!(refused, bootstrap::BootError::Key(_)), "{refused}");
    assert!(refused.to_string().contains("cannot be unsealed with this data directory's data key"), "{refused}");
    // And `serve`.
    let refused =
        edgeward_server::spawn(config_on_sqlite(dir.path()), Arc::new(SystemClock)).await.err().expect("refused");
    assert!(refused.to_string().contains("cannot be unsealed with this data directory's data key"), "{refused}");
}

#[tokio::test]
async fn a_file_a_setting_names_that_cannot_be_read_refuses_start_naming_the_setting_and_the_file() {
    use edgeward_server::mail::{Security, SmtpConfig};
    use edgeward_server::webhook::WebhookConfig;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let refused = |cfg: edgeward_server::ServeConfig| async move {
        edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.err().expect("refused").to_string()
    };
    let smtp = SmtpConfig {
        host: "127.0.0.1".into(),
        port: 25,
        security: Security::Starttls,
        username: None,
        password_file: None,
        from: "Edgeward <edgeward@example.com>".into(),
        ca_cert: None,
        timeout_secs: 5,
    };
    let not_found = format!("{}: No such file or directory (os error 2)", missing.display());

    let mut cfg = config(dir.path());
    cfg.metrics.bearer_token_file = Some(missing.clone());
    assert_eq!(refused(cfg).await, format!("invalid configuration: metrics.bearer_token_file {not_found}"));

    let mut cfg = config(dir.path());
    let url = "https://hooks.example.com/edgeward".into();
    cfg.notify.webhook = Some(WebhookConfig { url, secret_file: missing.clone(), timeout_secs: 5 });
    assert_eq!(refused(cfg).await, format!("invalid configuration: notify.webhook.secret_file {not_found}"));

    let mut cfg = config(dir.path());
    cfg.notify.smtp =
        Some(SmtpConfig { username: Some("edgeward".into()), password_file: Some(missing.clone()), ..smtp.clone() });
    assert_eq!(refused(cfg).await, format!("invalid configuration: notify.smtp.password_file {not_found}"));

    let mut cfg = config(dir.path());
    cfg.notify.smtp = Some(SmtpConfig { ca_cert: Some(missing.clone()), ..smtp.clone() });
    assert_eq!(refused(cfg).await, format!("invalid configuration: notify.smtp.ca_cert {not_found}"));

    // The operator's certificate and key, read after the data directory is prepared.
    let (cert, key) = (dir.path().join("own-cert.pem"), dir.path().join("own-key.pem"));
    let mut cfg = config(dir.path());
    cfg.tls_cert = Some(cert.clone());
    cfg.tls_key = Some(key.clone());
    assert_eq!(
        refused(cfg).await,
        format!(
            "cannot load the TLS certificate {} / key {}: failed to read from file `{}`: No such file or directory (os \
             error 2)",
            cert.display(),
            key.display(),
            cert.display()
        )
    );

    // A file read only when it is used: no password without a user name, no CA certificate on an
    // unsecured connection.
    let mut cfg = config(dir.path());
    cfg.notify.smtp = Some(SmtpConfig {
        password_file: Some(missing.clone()),
        security: Security::None,
        ca_cert: Some(missing.clone()),
        ..smtp
    });
    edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.unwrap().shutdown().await;
}
