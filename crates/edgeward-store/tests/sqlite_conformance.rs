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
        async move { Arc::new(SqliteStore::open(&p, SqliteOptions::default()).unwrap()) as Arc<dyn Store> }
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
