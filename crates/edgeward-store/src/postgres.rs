//! The PostgreSQL implementation, for several servers on one database.
//!
//! Every trait method is one transaction on a pooled connection, committed before the method
//! returns: an acknowledged write is in PostgreSQL's WAL. Concurrency is PostgreSQL's:
//! uniqueness (a token's live name, an API client's name) is a unique index, so concurrent
//! creates of one name give exactly one success; counters (the account's token count) are one
//! row updated last in the transaction, so its lock is held only until the commit; queue claims
//! use `FOR UPDATE SKIP LOCKED`, so two servers never take the same e-mail.
//!
//! A lost connection, a server shutting down or a full pool is reported as
//! [`Error::Unavailable`] (503): the request was not acknowledged, and the pool reconnects on its
//! own once PostgreSQL answers again. The SQL stays within what PostgreSQL-compatible
//! distributed engines accept (one advisory lock, taken once at start to make the token-ref index key;
//! two triggers; one `NOTIFY`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use edgeward_core::Error;

use crate::codec::ms;
use crate::refs::{RefKeys, RefSlot, INDEX_KEY_NAME, REF_COLUMNS};
use edgeward_token::DataKey;

mod account;
mod api_clients;
mod audit;
mod changes;
mod items;
mod migrate;
mod namespaces;
mod nonces;
mod notify;
mod roles;
mod sealed;
mod sessions;
mod tokens;

pub use migrate::database_version as postgres_database_version;
pub(crate) use migrate::POSTGRES as POSTGRES_MIGRATIONS;

/// Tuning for the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a query waits for a free (or new) connection before it is refused as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// The store on one PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Connections whose commits do not wait for the WAL flush (`synchronous_commit = off`),
    /// for the one write that may be lost in a PostgreSQL crash: a signed request's nonce.
    nonces: PgPool,
    /// Writes the nonces of concurrent requests in groups, on `nonces`.
    nonce_writer: std::sync::Arc<nonces::NonceWriter>,
    /// Woken by the `LISTEN` task when another server notifies a change.
    changed: std::sync::Arc<tokio::sync::Notify>,
    /// Nonces older than this (epoch ms) were last deleted by this store.
    nonces_purged_before: std::sync::Arc<std::sync::atomic::AtomicI64>,
    refs: std::sync::Arc<RefSlot>,
    /// The API clients' version, kept while the `LISTEN` task is up.
    clients_version: std::sync::Arc<api_clients::VersionCache>,
    /// Stops the `LISTEN` task when the last clone is dropped.
    _listener: std::sync::Arc<changes::Listener>,
}

impl edgeward_core::store::PoolStatus for PostgresStore {
    fn pool_stats(&self) -> edgeward_core::store::PoolStats {
        use edgeward_core::store::{PoolStats, PoolUsage};
        PoolStats {
            backend: "postgres",
            pools: [("main", &self.pool), ("nonces", &self.nonces)]
                .into_iter()
                .map(|(name, pool)| {
                    let open = u64::from(pool.size());
                    let idle = u64::try_from(pool.num_idle()).unwrap_or(u64::MAX).min(open);
                    PoolUsage {
                        pool: name,
                        in_use: open - idle,
                        idle,
                        max: u64::from(pool.options().get_max_connections()),
                    }
                })
                .collect(),
            writer_queue: None,
        }
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> Error {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // Connection exceptions, shutdown, resource limits, serialization failures and deadlocks:
        // nothing was committed and a retry may succeed.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") || c.starts_with("40")),
        _ => false,
    };
    if unavailable {
        Error::Unavailable(format!("postgres: {e}"))
    } else {
        Error::Internal(format!("postgres: {e}"))
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

pub(crate) fn bad_row(msg: String) -> Error {
    Error::Internal(format!("postgres: unreadable row: {msg}"))
}

pub(crate) fn col<'r, T>(r: &'r PgRow, i: usize) -> Result<T, Error>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    r.try_get(i).map_err(db_err)
}

/// The options of the store's pools: at most `max` connections (at least one), none kept open
/// when idle. A connection that sat idle (as every one does while PostgreSQL is away) is pinged
/// before it is handed out, so one broken by a restart is replaced, not used; busy connections
/// are not, which would double every query's round trips.
fn pool_options(max: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(1) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .idle_timeout(Duration::from_secs(300))
}

impl PostgresStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`) and
    /// apply migrations. Fails at once when PostgreSQL does not answer; callers that should wait
    /// for it retry.
    pub async fn connect(url: &str, opts: PostgresOptions) -> Result<Self, Error> {
        let connect: PgConnectOptions = url.parse().map_err(|e| Error::Internal(format!("bad PostgreSQL URL: {e}")))?;
        let connect = connect.application_name("edgeward");
        let pool = pool_options(opts.max_connections, opts.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(db_err)?;
        // A quarter of the main pool's size: a nonce is one short statement per request.
        let nonces = pool_options(opts.max_connections / 4, opts.acquire_timeout)
            .connect_lazy_with(connect.options([("synchronous_commit", "off")]));
        migrate::apply(&pool).await?;
        let changed = std::sync::Arc::new(tokio::sync::Notify::new());
        let clients_version = std::sync::Arc::new(api_clients::VersionCache::default());
        let listener =
            std::sync::Arc::new(changes::spawn_listener(pool.clone(), changed.clone(), clients_version.clone()));
        let nonce_writer = std::sync::Arc::new(nonces::NonceWriter::start(nonces.clone()));
        Ok(Self {
            pool,
            nonces,
            nonce_writer,
            changed,
            clients_version,
            nonces_purged_before: Default::default(),
            refs: Default::default(),
            _listener: listener,
        })
    }

    /// Open the token refs with the data key (see [`crate::refs`]): read the index key, or make
    /// it (once per database), and re-key the rows an earlier schema wrote with uuids (a no-op
    /// once done). Every method that names a token fails until this has been called.
    pub async fn open_references(
        &self,
        data_key: &DataKey,
        now: DateTime<Utc>,
    ) -> Result<crate::refs::DataKeyCell, Error> {
        let mut tx = self.begin().await?;
        // Servers starting together: one makes the key and re-keys, the others then find it done.
        sqlx::query("SELECT pg_advisory_xact_lock(7243)").execute(&mut *tx).await.map_err(db_err)?;
        let stored: Option<Vec<u8>> = sqlx::query(sql::SEALED_KEY)
            .bind(INDEX_KEY_NAME)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .map(|r| col(&r, 0))
            .transpose()?;
        let (keys, new) = RefKeys::open_or_new(stored.as_deref(), data_key)?;
        if let Some(sealed) = new {
            sqlx::query(sql::INSERT_SEALED_KEY)
                .bind(INDEX_KEY_NAME)
                .bind(sealed)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        rekey_legacy_rows(&mut tx, &keys).await?;
        commit(tx).await?;
        self.refs.set(keys);
        Ok(self.refs.get()?.data_key_cell())
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, Error> {
        self.pool.begin().await.map_err(db_err)
    }

    /// Whether the store's `LISTEN` connection is up, so that it keeps the API clients' version
    /// between notifications (for tests and diagnostics).
    pub fn listening(&self) -> bool {
        self.clients_version.is_listening()
    }

    /// The connection pool (for benchmarks and the change listener).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

use crate::sql::pg as sql;
use audit::{commit, Write};

/// Replace the uuids that rows of schemas before 11 hold by token refs, and seal the uuids of
/// tokens. Idempotent: a token ref is 64 characters, a uuid 36.
async fn rekey_legacy_rows(tx: &mut Transaction<'static, Postgres>, refs: &RefKeys) -> Result<(), Error> {
    let parse = |u: &str| Uuid::parse_str(u).map_err(|e| Error::Internal(format!("re-keying token {u:?}: {e}")));
    let strings = |rows: Vec<PgRow>| rows.iter().map(|r| col::<String>(r, 0)).collect::<Result<Vec<_>, _>>();
    let tokens = strings(sqlx::query(sql::TOKENS_WITHOUT_SEALED_UUID).fetch_all(&mut **tx).await.map_err(db_err)?)?;
    for old in &tokens {
        let uuid = parse(old)?;
        let new = refs.token_ref(&uuid);
        sqlx::query(sql::REKEY_TOKEN_ROW)
            .bind(old)
            .bind(&new)
            .bind(refs.seal_uuid(&uuid, &new))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    for (table, column, filter) in REF_COLUMNS {
        let olds = strings(
            sqlx::query(&crate::sql::legacy_uuids(table, column, filter)).fetch_all(&mut **tx).await.map_err(db_err)?,
        )?;
        for old in olds.iter().filter(|o| crate::refs::is_legacy(o)) {
            sqlx::query(&crate::sql::rekey_legacy(table, column, filter, crate::sql::Dialect::Postgres))
                .bind(old)
                .bind(refs.token_ref(&parse(old)?))
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
    }
    if !tokens.is_empty() {
        tracing::info!(tokens = tokens.len(), "token uuids replaced by token refs (schema 11)");
    }
    Ok(())
}
