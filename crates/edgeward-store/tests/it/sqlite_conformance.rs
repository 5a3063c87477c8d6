//! The storage conformance suite on SQLite, plus SQLite-specific checks.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::sync::Arc;

use edgeward_core::store::Store;
use edgeward_store::{SqliteOptions, SqliteStore};

/// A new empty store in a directory of its own, kept while the check runs.
async fn fresh() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let opts = SqliteOptions { nonce_dir: Some(dir.path().join("nonces")), ..SqliteOptions::default() };
    let s = SqliteStore::open(&dir.path().join("edgeward.db"), opts).unwrap();
    s.open_references(&edgeward_store::testing::random_data_key(), chrono::Utc::now()).await.unwrap();
    (Arc::new(s) as Arc<dyn Store>, dir)
}

/// The conformance suite, check by check.
mod conformance_suite {
    edgeward_store::conformance_tests!(super::fresh);
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
    assert!(!dir.path().join("nonces").exists(), "made at its first use");
    assert!(a.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap());
    let b = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(!b.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap(), "another store on the file");
    drop((a, b));
    let again = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(!again.record_nonce("ct", "n1", now, now - Duration::seconds(240)).await.unwrap(), "after a reopen");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("nonces")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    for file in std::fs::read_dir(dir.path().join("nonces")).unwrap() {
        assert_eq!(file.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// A schema-10 database's rows name tokens by uuid; the first open with the data key re-keys
/// them (once), after which nothing in the database holds the uuid in clear.
#[tokio::test]
async fn rows_of_earlier_schemas_are_rekeyed_by_token_ref() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("edgeward.db");
    let key = edgeward_store::testing::random_data_key();
    drop(SqliteStore::open(&p, SqliteOptions::default()).unwrap());
    let uuid = uuid::Uuid::new_v4();
    let successor = uuid::Uuid::new_v4();
    let u = uuid.to_string();
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(&format!(
        "INSERT INTO tokens (token_ref, name, live_name, allow_staging, allow_production, ewids, namespaces, \
            issued_at, next_refresh, generation, cpcode, replaced_by) \
         VALUES ('{u}', 'legacy', 'legacy', 1, 1, 'all', 'default:rw', 0, '2027-01-01', 1, '1234567', '{successor}'); \
         INSERT INTO token_usage (token_ref, network, requests, last_used) VALUES ('{u}', 'staging', 3, 1000); \
         INSERT INTO expiry_notices (token_ref, threshold_days, created_at, status) VALUES ('{u}', 7, 0, 'pending'); \
         INSERT INTO changes (kind, subject, at) VALUES ('token_revoked', '{u}', 0);"
    ))
    .unwrap();
    drop(c);
    for _ in 0..2 {
        let s = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
        s.open_references(&key, chrono::Utc::now()).await.unwrap();
        edgeward_store::conformance::legacy_rows_read_back(&s, uuid).await;
    }
    let c = rusqlite::Connection::open(&p).unwrap();
    let mut dump = String::new();
    for (table, column) in [
        ("tokens", "token_ref"),
        ("tokens", "replaced_by"),
        ("token_usage", "token_ref"),
        ("expiry_notices", "token_ref"),
        ("changes", "subject"),
    ] {
        let mut st = c.prepare(&format!("SELECT {column} FROM {table}")).unwrap();
        let rows: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "{table}.{column}");
        assert_eq!(rows[0].len(), 64, "{table}.{column} holds a token ref");
        dump.push_str(&rows[0]);
    }
    assert!(!dump.contains(&u) && !dump.contains(&successor.to_string()));
    // A wrong data key cannot open the refs.
    let s = SqliteStore::open(&p, SqliteOptions::default()).unwrap();
    assert!(s.open_references(&edgeward_store::testing::random_data_key(), chrono::Utc::now()).await.is_err());
}
