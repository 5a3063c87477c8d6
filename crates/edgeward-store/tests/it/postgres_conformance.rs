//! The storage conformance suite on PostgreSQL (one fresh database per check), plus
//! PostgreSQL-specific checks. Needs the test PostgreSQL server (see `edgeward_store::testing`);
//! without it these tests fail rather than pass vacuously.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]

use std::sync::Arc;

use edgeward_core::store::Store;
use edgeward_store::{testing, PostgresOptions, PostgresStore};

/// A new empty store on a database of its own.
async fn fresh() -> (Arc<dyn Store>, ()) {
    let url = testing::fresh_postgres_database().await;
    let s = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    s.open_references(&testing::random_data_key(), chrono::Utc::now()).await.unwrap();
    (Arc::new(s) as Arc<dyn Store>, ())
}

/// The conformance suite, check by check.
mod conformance_suite {
    edgeward_store::conformance_tests!(super::fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_match_sqlite_and_a_newer_schema_is_refused() {
    let url = testing::fresh_postgres_database().await;
    assert_eq!(edgeward_store::postgres_database_version(&url).await.unwrap(), 0);
    let store = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    assert_eq!(
        edgeward_store::postgres_database_version(&url).await.unwrap(),
        edgeward_store::migrate::newest_version()
    );
    // Two servers starting on one database apply each migration once.
    let again = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    drop(again);
    let names = |m: &[(u32, &str, &str)]| m.iter().map(|(v, n, _)| (*v, n.to_string())).collect::<Vec<_>>();
    assert_eq!(
        names(edgeward_store::postgres_migrations()),
        names(edgeward_store::sqlite_migrations()),
        "both backends number and name their migrations alike"
    );
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    let err = PostgresStore::connect(&url, PostgresOptions::default()).await.err().expect("refused");
    assert!(err.log_detail().contains("newer"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_on_two_servers_at_once_apply_once() {
    let url = testing::fresh_postgres_database().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, PostgresOptions::default()),
        PostgresStore::connect(&url, PostgresOptions::default())
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(
        edgeward_store::postgres_database_version(&url).await.unwrap(),
        edgeward_store::migrate::newest_version()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable_not_internal() {
    // Nothing listens on port 1.
    let err = PostgresStore::connect(
        "postgres://postgres@127.0.0.1:1/none",
        PostgresOptions { acquire_timeout: std::time::Duration::from_secs(2), ..Default::default() },
    )
    .await
    .err()
    .expect("refused");
    assert!(matches!(err, edgeward_core::Error::Unavailable(_)), "{err:?}");
}

/// Compiles only if opening a store can be spawned onto another task (servers start on any thread).
#[allow(dead_code)]
fn opening_is_send() {
    fn is_send<T: Send>(_: T) {}
    is_send(PostgresStore::connect("postgres://x", PostgresOptions::default()));
    is_send(edgeward_store::postgres_database_version("postgres://x"));
}

/// A schema-10 database's rows name tokens by uuid; the first open with the data key re-keys
/// them (once), after which nothing in the database holds the uuid in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_earlier_schemas_are_rekeyed_by_token_ref() {
    let url = testing::fresh_postgres_database().await;
    let key = testing::random_data_key();
    let raw = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    let uuid = uuid::Uuid::new_v4();
    let successor = uuid::Uuid::new_v4();
    let u = uuid.to_string();
    for sql in [
        format!(
            "INSERT INTO tokens (token_ref, name, live_name, allow_staging, allow_production, ewids, namespaces, \
                issued_at, next_refresh, generation, cpcode, replaced_by) \
             VALUES ('{u}', 'legacy', 'legacy', true, true, 'all', 'default:rw', 0, '2027-01-01', 1, '1234567', '{successor}')"
        ),
        format!("INSERT INTO token_usage (token_ref, network, requests, last_used) VALUES ('{u}', 'staging', 3, 1000)"),
        format!("INSERT INTO expiry_notices (token_ref, threshold_days, created_at, status) VALUES ('{u}', 7, 0, 'pending')"),
        format!("INSERT INTO changes (kind, subject, at) VALUES ('token_revoked', '{u}', 0)"),
    ] {
        sqlx::query(&sql).execute(raw.pool()).await.unwrap();
    }
    for _ in 0..2 {
        let s = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
        s.open_references(&key, chrono::Utc::now()).await.unwrap();
        edgeward_store::conformance::legacy_rows_read_back(&s, uuid).await;
    }
    for (table, column) in [
        ("tokens", "token_ref"),
        ("tokens", "replaced_by"),
        ("token_usage", "token_ref"),
        ("expiry_notices", "token_ref"),
        ("changes", "subject"),
    ] {
        let rows: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT {column} FROM {table}")).fetch_all(raw.pool()).await.unwrap();
        assert_eq!(rows.len(), 1, "{table}.{column}");
        assert_eq!(rows[0].0.len(), 64, "{table}.{column} holds a token ref");
    }
    let s = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    assert!(s.open_references(&testing::random_data_key(), chrono::Utc::now()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listen_connection_ends_with_the_store() {
    let url = testing::fresh_postgres_database().await;
    let db = url::Url::parse(&url).unwrap().path().trim_start_matches('/').to_owned();
    // Another database's connection watches this one's (pg_stat_activity spans the server).
    let watcher = sqlx::PgPool::connect(&testing::with_database(&url, "postgres")).await.unwrap();
    let listening = |db: String| {
        let pool = watcher.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'")
                    .bind(db)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            n
        }
    };
    // Waits on PostgreSQL's view of its connections, not on time: each poll asks again.
    let until = |want: i64| {
        let listening = &listening;
        let db = db.clone();
        async move {
            for _ in 0..600 {
                if listening(db.clone()).await == want {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        }
    };
    let store = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    let clone = store.clone();
    assert!(until(1).await, "the store listens for changes");
    drop(store);
    assert!(until(1).await, "a clone keeps it");
    drop(clone);
    assert!(until(0).await, "the LISTEN connection is closed once the last clone is gone");
}
