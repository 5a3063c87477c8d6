//! The storage conformance suite on SQLite, plus SQLite-specific checks.

use std::sync::Arc;

use edgeward_core::store::Store;
use edgeward_store::{conformance, SqliteOptions, SqliteStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let path = dir.path().to_owned();
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = path.join(format!("db{n}.sqlite"));
        let opts = SqliteOptions { nonce_db: Some(path.join(format!("nonces{n}.db"))), ..SqliteOptions::default() };
        async move { Arc::new(SqliteStore::open(&p, opts).unwrap()) as Arc<dyn Store> }
    })
    .await;
}

#[test]
fn a_schema_newer_than_the_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db.sqlite");
    drop(SqliteStore::open(&p, SqliteOptions::default()).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)", []).unwrap();
    drop(c);
    let err = SqliteStore::open(&p, SqliteOptions::default()).err().expect("refused");
    assert!(err.log_detail().contains("newer"), "{err:?}");
}

#[tokio::test]
async fn nonces_outlive_the_store_and_are_shared_by_stores_on_one_file() {
    use chrono::{Duration, Utc};
    use edgeward_core::store::ChangeStore;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("edgeward.db");
    let now = Utc::now();
    let a = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(!dir.path().join("nonces.db").exists(), "made at its first use");
    assert!(a.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap());
    let b = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(!b.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap(), "another store on the file");
    drop((a, b));
    let again = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(!again.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap(), "after a reopen");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("nonces.db")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
