//! Fresh databases for tests, on either backend.
//!
//! The integration suite runs once per backend: `EDGEWARD_TEST_BACKEND=postgres` makes every
//! test server use a new, empty PostgreSQL database (created here, named `edgeward_test_…`),
//! otherwise tests use SQLite in their temporary directory. `EDGEWARD_TEST_POSTGRES_URL` names
//! the PostgreSQL server to create them on (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! the local server with trust authentication). Nothing here is used outside tests and benchmarks.

use edgeward_core::clock::{Clock, SystemClock};
use sqlx::Connection;

/// The backend the integration suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the test's own directory.
    Sqlite,
    /// A fresh PostgreSQL database per test server.
    Postgres,
}

/// The backend chosen by `EDGEWARD_TEST_BACKEND` (`sqlite`, the default, or `postgres`).
/// Any other value is a mistake in the test setup and panics rather than silently testing SQLite.
pub fn backend() -> Backend {
    match std::env::var("EDGEWARD_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("EDGEWARD_TEST_BACKEND={other:?}: expected sqlite or postgres"),
    }
}

/// The PostgreSQL server tests create databases on.
pub fn admin_url() -> String {
    std::env::var("EDGEWARD_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Create a new, empty database on the test PostgreSQL server and return its URL. Panics with
/// the reason when PostgreSQL cannot be reached: a test that needs it must not pass without it.
pub async fn fresh_postgres_database() -> String {
    let admin = admin_url();
    let name = format!("edgeward_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {admin}: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name} on {admin}: {e}"));
    let _ = conn.close().await;
    with_database(&admin, &name)
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("a valid PostgreSQL URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// The database of a test's data directory on the chosen backend: `None` for SQLite (in the
/// directory), or a PostgreSQL database created the first time `dir` is asked about and the same
/// one afterwards (a restarted server, a CLI command on the same data directory). Callable from
/// synchronous code and from inside a runtime alike.
pub fn database_for_dir(dir: &std::path::Path) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DATABASES: OnceLock<Mutex<HashMap<std::path::PathBuf, String>>> = OnceLock::new();
    if backend() == Backend::Sqlite {
        return None;
    }
    let mut known = DATABASES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(url) = known.get(dir) {
        return Some(url.clone());
    }
    // On a thread of its own, so that this works inside a runtime as well as outside one.
    let url = std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(fresh_postgres_database())
    })
    .join()
    .expect("database creation");
    known.insert(dir.to_owned(), url.clone());
    Some(url)
}

/// The store of a test's data directory on the chosen backend (see [`database_for_dir`]), its
/// token refs opened with the directory's data key (`keys/data.key`, made if absent, as a server
/// would) so that it reads what the directory's servers wrote.
#[allow(
    clippy::disallowed_methods,
    reason = "test support: a test's data directory gets its data key file as a server's would"
)]
pub async fn open_store_for_dir(dir: &std::path::Path) -> std::sync::Arc<dyn edgeward_core::store::Store> {
    let key_file = dir.join("keys").join("data.key");
    let data_key = match std::fs::read_to_string(&key_file) {
        Ok(hex_key) => edgeward_token::DataKey::from_bytes(&hex::decode(hex_key.trim()).expect("a hex data key"))
            .expect("a data key"),
        Err(_) => {
            let bytes = edgeward_token::DataKey::generate_bytes();
            std::fs::create_dir_all(dir.join("keys")).expect("keys directory");
            std::fs::write(&key_file, format!("{}\n", hex::encode(bytes))).expect("data key written");
            edgeward_token::DataKey::from_bytes(&bytes).expect("a data key")
        }
    };
    match database_for_dir(dir) {
        None => {
            let s = crate::SqliteStore::open(&dir.join("edgeward.db"), crate::SqliteOptions::default())
                .expect("SQLite opens");
            s.open_references(&data_key, SystemClock.now()).await.expect("token refs open");
            std::sync::Arc::new(s)
        }
        Some(url) => {
            let s =
                crate::PostgresStore::connect(&url, crate::PostgresOptions::default()).await.expect("PostgreSQL opens");
            s.open_references(&data_key, SystemClock.now()).await.expect("token refs open");
            std::sync::Arc::new(s)
        }
    }
}

/// A fresh random data key (tests and benchmarks that make their own stores).
pub fn random_data_key() -> edgeward_token::DataKey {
    edgeward_token::DataKey::from_bytes(&edgeward_token::DataKey::generate_bytes()).expect("32 bytes")
}
