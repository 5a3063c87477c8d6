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

/// A client for the version tests, owned by nobody.
fn version_probe_client() -> edgeward_core::store::ApiClient {
    edgeward_core::store::ApiClient {
        name: edgeward_core::names::ClientName::parse("probe").unwrap(),
        client_token: "akab-probe-ct".into(),
        access_token: "akab-probe-at".into(),
        grants: edgeward_core::capability::Grants::all(),
        enabled: true,
        created_at: chrono::Utc::now(),
        owner: None,
    }
}

/// Wait (at most 10 s) until `store`'s `LISTEN` connection is up.
async fn until_listening(store: &PostgresStore) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !store.listening() {
        assert!(std::time::Instant::now() < deadline, "the store's LISTEN connection did not come up");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The version as stored, read past every cache.
async fn stored_version(store: &PostgresStore) -> u64 {
    let v: i64 = sqlx::query_scalar("SELECT version FROM api_clients_version").fetch_one(store.pool()).await.unwrap();
    u64::try_from(v).unwrap()
}

/// Poll `store`'s clients version until it is `want` (at most 10 s).
async fn until_version(store: &PostgresStore, want: u64, what: &str) {
    use edgeward_core::store::ApiClientStore;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = store.api_clients_version().await.unwrap();
        if v == want {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: the version stayed {v}, the database holds {want}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Two servers on one database: B keeps the clients version between notifications (shown by a
/// bump that notifies nobody, which B does not see), and a client disabled on A moves B's version
/// on through `NOTIFY`, with no request of B's own reading it. Fails if B's listener stops
/// invalidating what it keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_change_on_one_server_reaches_the_version_another_keeps() {
    use edgeward_core::store::ApiClientStore;
    let url = testing::fresh_postgres_database().await;
    let a = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    let b = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    until_listening(&b).await;
    let client = version_probe_client();
    a.insert_api_client(client.clone(), vec![7; 40]).await.unwrap();
    let inserted = stored_version(&a).await;
    until_version(&b, inserted, "after an insert on A").await;
    // A bump behind the trigger's back notifies nobody: B answers from what it keeps.
    sqlx::query("UPDATE api_clients_version SET version = version + 100").execute(a.pool()).await.unwrap();
    assert_eq!(b.api_clients_version().await.unwrap(), inserted, "B reads the version on every call");
    // A's own write is seen by A at once.
    a.set_api_client_enabled(&client.name, false).await.unwrap();
    let disabled = stored_version(&a).await;
    assert_eq!(a.api_clients_version().await.unwrap(), disabled, "A's own write");
    until_version(&b, disabled, "after A disabled the client").await;
    a.delete_api_client(&client.name).await.unwrap();
    until_version(&b, stored_version(&a).await, "after A deleted the client").await;
}

/// B's `LISTEN` connection is killed: notifications sent while it is down are lost, so B trusts
/// nothing it read before and reads the version again once it listens anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_does_not_leave_a_stale_clients_version() {
    use edgeward_core::store::ApiClientStore;
    let url = testing::fresh_postgres_database().await;
    let b = PostgresStore::connect(&url, PostgresOptions::default()).await.unwrap();
    until_listening(&b).await;
    let kept = b.api_clients_version().await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(b.pool())
    .await
    .unwrap();
    assert_eq!(killed, vec![true], "one LISTEN connection");
    sqlx::query("UPDATE api_clients_version SET version = version + 100").execute(b.pool()).await.unwrap();
    until_version(&b, kept + 100, "after the listener was lost").await;
}
