//! The storage conformance suite on PostgreSQL (one fresh database per check), plus
//! PostgreSQL-specific checks. Needs the test PostgreSQL server (see `edgeward_store::testing`);
//! without it these tests fail rather than pass vacuously.

use std::sync::Arc;

use edgeward_core::store::Store;
use edgeward_store::{conformance, testing, PostgresOptions, PostgresStore};

async fn fresh() -> Arc<dyn Store> {
    let url = testing::fresh_postgres_database().await;
    Arc::new(PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap()) as Arc<dyn Store>
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    conformance::run_all(fresh).await;
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
