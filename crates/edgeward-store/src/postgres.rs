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
//! distributed engines accept (no advisory locks; one trigger, one `NOTIFY`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use edgeward_core::capability::Grants;
use edgeward_core::names::{AccessGroupId, ClientName, NamespaceName, TokenName};
use edgeward_core::network::Network;
use edgeward_core::store::{
    AccessGroup, Account, AccountStore, ApiClient, ApiClientStore, Change, Created, ItemKey, ItemStore, Namespace,
    NamespaceStore, NewToken, SigningKeyUse, StoredApiClient, StoredItem, StoredSigningKey, StoredToken, TokenStore,
    TokenUsage,
};
use edgeward_core::token::Token;
use edgeward_core::Error;

use crate::codec::{self, from_ms, ms, TokenColumns};
use crate::refs::{RefKeys, RefSlot, INDEX_KEY_NAME, REF_COLUMNS};
use edgeward_token::DataKey;

mod audit;
mod changes;
mod migrate;
mod notify;
mod sealed;

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
    /// Woken by the `LISTEN` task when another server notifies a change.
    changed: std::sync::Arc<tokio::sync::Notify>,
    /// Nonces older than this (epoch ms) were last deleted by this store.
    nonces_purged_before: std::sync::Arc<std::sync::atomic::AtomicI64>,
    refs: std::sync::Arc<RefSlot>,
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

impl PostgresStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`) and
    /// apply migrations. Fails at once when PostgreSQL does not answer; callers that should wait
    /// for it retry.
    pub async fn connect(url: &str, opts: PostgresOptions) -> Result<Self, Error> {
        let connect: PgConnectOptions = url.parse().map_err(|e| Error::Internal(format!("bad PostgreSQL URL: {e}")))?;
        let connect = connect.application_name("edgeward");
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(opts.acquire_timeout)
            // A connection that sat idle (as every one does while PostgreSQL is away) is pinged
            // before it is handed out, so one broken by a restart is replaced, not used; busy
            // connections are not, which would double every query's round trips.
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
            .connect_with(connect)
            .await
            .map_err(db_err)?;
        migrate::apply(&pool).await?;
        let changed = std::sync::Arc::new(tokio::sync::Notify::new());
        changes::spawn_listener(pool.clone(), changed.clone());
        Ok(Self { pool, changed, nonces_purged_before: Default::default(), refs: Default::default() })
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
        let stored: Option<Vec<u8>> = sqlx::query("SELECT sealed FROM sealed_keys WHERE name = $1")
            .bind(INDEX_KEY_NAME)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .map(|r| col(&r, 0))
            .transpose()?;
        let (keys, new) = RefKeys::open_or_new(stored.as_deref(), data_key)?;
        if let Some(sealed) = new {
            sqlx::query("INSERT INTO sealed_keys (name, sealed, created_at) VALUES ($1, $2, $3)")
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

    /// The connection pool (for benchmarks and the change listener).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Creations this close to the account limit lock every count shard and check the exact sum.
/// Farther away, the sum they read may miss creations still in flight on other shards; the limit
/// stays exact while fewer than this many creations are in flight at once, across all servers.
const NEAR_LIMIT: i64 = 1024;

/// One of the 16 token count shards.
fn rand_shard() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0] % 16
}

use audit::{commit, Write};

/// Replace the uuids that rows of schemas before 11 hold by token refs, and seal the uuids of
/// tokens. Idempotent: a token ref is 64 characters, a uuid 36.
async fn rekey_legacy_rows(tx: &mut Transaction<'static, Postgres>, refs: &RefKeys) -> Result<(), Error> {
    let parse = |u: &str| Uuid::parse_str(u).map_err(|e| Error::Internal(format!("re-keying token {u:?}: {e}")));
    let strings = |rows: Vec<PgRow>| rows.iter().map(|r| col::<String>(r, 0)).collect::<Result<Vec<_>, _>>();
    let tokens = strings(
        sqlx::query("SELECT token_ref FROM tokens WHERE sealed_uuid IS NULL")
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?,
    )?;
    for old in &tokens {
        let uuid = parse(old)?;
        let new = refs.token_ref(&uuid);
        sqlx::query("UPDATE tokens SET token_ref = $2, sealed_uuid = $3 WHERE token_ref = $1")
            .bind(old)
            .bind(&new)
            .bind(refs.seal_uuid(&uuid, &new))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    for (table, column, filter) in REF_COLUMNS {
        let olds = strings(
            sqlx::query(&format!("SELECT DISTINCT {column} FROM {table} WHERE length({column}) = 36{filter}"))
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?,
        )?;
        for old in olds.iter().filter(|o| crate::refs::is_legacy(o)) {
            sqlx::query(&format!("UPDATE {table} SET {column} = $2 WHERE {column} = $1{filter}"))
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

macro_rules! token_columns {
    () => {
        "token_ref, name, allow_staging, allow_production, ewids, namespaces, expiry, issued_at, \
         latest_refresh, next_refresh, generation, cpcode, revoked_at, sealed_value, sealed_uuid"
    };
}

fn token_from_row(r: &PgRow, refs: &RefKeys) -> Result<StoredToken, Error> {
    let token = TokenColumns {
        token_ref: col(r, 0)?,
        sealed_uuid: col(r, 14)?,
        name: col(r, 1)?,
        allow_staging: col(r, 2)?,
        allow_production: col(r, 3)?,
        ewids: col(r, 4)?,
        namespaces: col(r, 5)?,
        expiry: col(r, 6)?,
        issued_at: col(r, 7)?,
        latest_refresh: col(r, 8)?,
        next_refresh: col(r, 9)?,
        generation: col(r, 10)?,
        cpcode: col(r, 11)?,
        revoked_at: col(r, 12)?,
    }
    .into_token(refs)
    .map_err(bad_row)?;
    Ok(StoredToken { token, sealed_value: col(r, 13)? })
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert_token(&self, new: NewToken) -> Result<Token, Error> {
        // Four round trips (begin, two statements, commit): every one is paid while other
        // creations wait for the account row, so the checks are folded into as few as can be.
        let refs = self.refs.get()?;
        let spec = &new.spec;
        let now_ms = ms(new.now);
        let networks: Vec<&str> = spec.networks.iter().map(|n| n.as_str()).collect();
        let names: Vec<&str> = spec.namespaces.keys().map(|n| n.as_str()).collect();
        let mut tx = self.begin().await?;
        // Free the name if its holder has expired; read the CP code; count the namespaces found.
        let row = sqlx::query(
            "WITH freed AS (UPDATE tokens SET live_name = NULL \
                            WHERE live_name = $1 AND expires_at IS NOT NULL AND expires_at < $2 RETURNING 1) \
             SELECT a.cpcode, \
                    (SELECT COUNT(*) FROM namespaces n WHERE n.network = ANY($3) AND n.name = ANY($4)), \
                    (SELECT COUNT(*) FROM freed), \
                    (SELECT COALESCE(SUM(n), 0)::BIGINT FROM token_counts) \
             FROM account a WHERE a.id = 1",
        )
        .bind(spec.name.as_str())
        .bind(now_ms)
        .bind(&networks)
        .bind(&names)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(codec::not_initialized)?;
        let cpcode: String = col(&row, 0)?;
        let found: i64 = col(&row, 1)?;
        let counted: i64 = col(&row, 3)?;
        let max = i64::try_from(new.max_tokens).unwrap_or(i64::MAX);
        if found < (networks.len() * names.len()) as i64 {
            for net in spec.networks.iter() {
                for ns in spec.namespaces.keys() {
                    let there = sqlx::query("SELECT 1 FROM namespaces WHERE network = $1 AND name = $2")
                        .bind(net.as_str())
                        .bind(ns.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if there.is_none() {
                        return Err(codec::namespace_not_on(ns, net));
                    }
                }
            }
        }
        let token = codec::new_token_record(&new, cpcode);
        let token_ref = refs.token_ref(&token.uuid);
        // Far from the limit, count the token on one random shard (creations on other shards do
        // not wait for each other). Near it, lock every shard and check the exact sum first.
        let shard = if counted.saturating_add(NEAR_LIMIT) < max {
            i32::from(rand_shard())
        } else {
            let exact: i64 = sqlx::query("SELECT n FROM token_counts ORDER BY shard FOR UPDATE")
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| col::<i64>(r, 0))
                .sum::<Result<i64, Error>>()?;
            if exact >= max {
                return Err(codec::token_limit(new.max_tokens));
            }
            0
        };
        // Count and insert in one statement, last, so the shard is locked only until the commit.
        let inserted = sqlx::query(
            "WITH counted AS (UPDATE token_counts SET n = n + 1 WHERE shard = $13 RETURNING 1) \
             INSERT INTO tokens (token_ref, name, live_name, allow_staging, allow_production, ewids, namespaces, \
                                 expiry, expires_at, issued_at, next_refresh, generation, cpcode, sealed_value, sealed_uuid, \
                                 kid) \
             SELECT $1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $14, $15 FROM counted",
        )
        .bind(&token_ref)
        .bind(token.name.as_str())
        .bind(token.networks.staging)
        .bind(token.networks.production)
        .bind(token.ewids.to_claim())
        .bind(codec::encode_namespaces(&token.namespaces))
        .bind(token.expiry.map(|d| d.to_string()))
        .bind(token.expires_at().map(ms))
        .bind(now_ms)
        .bind(token.next_refresh.map(|d| d.to_string()))
        .bind(&token.cpcode)
        .bind(&new.sealed_value)
        .bind(shard)
        .bind(refs.seal_uuid(&token.uuid, &token_ref))
        .bind(&new.kid)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(r) if r.rows_affected() == 0 => return Err(Error::Internal("token count shard missing".into())),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(codec::token_name_taken(&token.name)),
            Err(e) => return Err(db_err(e)),
        }
        commit(tx).await?;
        Ok(token)
    }

    async fn token_by_name(&self, name: &TokenName) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(concat!("SELECT ", token_columns!(), " FROM tokens WHERE live_name = $1"))
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| token_from_row(&r, refs))
            .transpose()
    }

    async fn token_by_uuid(&self, uuid: Uuid) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(concat!("SELECT ", token_columns!(), " FROM tokens WHERE token_ref = $1"))
            .bind(refs.token_ref(&uuid))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| token_from_row(&r, refs))
            .transpose()
    }

    async fn list_tokens(&self, now: DateTime<Utc>, expired_after: Option<DateTime<Utc>>) -> Result<Vec<Token>, Error> {
        let floor = ms(expired_after.unwrap_or(now));
        let refs = self.refs.get()?;
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at >= $1) ORDER BY name, issued_at"
        ))
        .bind(floor)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| token_from_row(r, refs).map(|t| t.token))
        .collect()
    }

    async fn revoke_token(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?;
        let token_ref = refs.token_ref(&uuid);
        let mut tx = self.begin().await?;
        let t = sqlx::query(concat!(
            "UPDATE tokens SET live_name = NULL, revoked_at = $2, sealed_value = NULL \
             WHERE token_ref = $1 AND live_name IS NOT NULL RETURNING ",
            token_columns!()
        ))
        .bind(&token_ref)
        .bind(ms(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(codec::token_already_revoked)?;
        let t = token_from_row(&t, refs)?;
        changes::note_revoked(&mut tx, &token_ref, now).await?;
        sqlx::query("UPDATE token_counts SET n = n - 1 WHERE shard = $1")
            .bind(i32::from(rand_shard()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await?;
        Ok(t.token)
    }

    async fn refresh_token(&self, name: &TokenName, now: DateTime<Utc>, next: NaiveDate) -> Result<Token, Error> {
        let refs = self.refs.get()?;
        let mut tx = self.begin().await?;
        let held = sqlx::query("SELECT expiry FROM tokens WHERE live_name = $1 FOR UPDATE")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        match held {
            None => return Err(codec::token_not_found(name)),
            Some(r) if col::<Option<String>>(&r, 0)?.is_some() => return Err(codec::token_not_refreshable(name)),
            Some(_) => {}
        }
        let row = sqlx::query(concat!(
            "UPDATE tokens SET generation = generation + 1, latest_refresh = $2, next_refresh = $3 \
             WHERE live_name = $1 RETURNING ",
            token_columns!()
        ))
        .bind(name.as_str())
        .bind(ms(now))
        .bind(next.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let t = token_from_row(&row, refs)?;
        commit(tx).await?;
        Ok(t.token)
    }

    async fn refresh_due_tokens(&self, today: NaiveDate, now: DateTime<Utc>, next: NaiveDate) -> Result<u64, Error> {
        sqlx::query(
            "UPDATE tokens SET generation = generation + 1, latest_refresh = $2, next_refresh = $3 \
             WHERE revoked_at IS NULL AND expiry IS NULL AND next_refresh <= $1",
        )
        .bind(today.to_string())
        .bind(ms(now))
        .bind(next.to_string())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
    }

    async fn purge_tokens(&self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.begin().await?;
        let expired = sqlx::query("DELETE FROM tokens WHERE revoked_at IS NULL AND expires_at < $1")
            .bind(ms(cutoff))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        let revoked =
            sqlx::query("DELETE FROM tokens WHERE revoked_at < $1 AND (expires_at IS NULL OR expires_at < $2)")
                .bind(ms(cutoff))
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        if expired > 0 {
            sqlx::query("UPDATE token_counts SET n = n - $1 WHERE shard = $2")
                .bind(expired as i64)
                .bind(i32::from(rand_shard()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit(tx).await?;
        Ok(expired + revoked)
    }

    async fn record_usage(&self, usage: Vec<TokenUsage>) -> Result<(), Error> {
        let refs = self.refs.get()?;
        let mut usage: Vec<(String, TokenUsage)> = usage.into_iter().map(|u| (refs.token_ref(&u.uuid), u)).collect();
        // One order for every server, so two batches touching the same rows cannot deadlock.
        usage.sort_by(|a, b| (&a.0, a.1.network.as_str()).cmp(&(&b.0, b.1.network.as_str())));
        let mut tx = self.begin().await?;
        for (token_ref, u) in &usage {
            sqlx::query(
                "INSERT INTO token_usage (token_ref, network, requests, last_used) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_ref, network) DO UPDATE SET requests = token_usage.requests + excluded.requests, \
                 last_used = GREATEST(token_usage.last_used, excluded.last_used)",
            )
            .bind(token_ref)
            .bind(u.network.as_str())
            .bind(i64::try_from(u.requests).unwrap_or(i64::MAX))
            .bind(ms(u.last_used))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        commit(tx).await
    }

    async fn token_usage(&self, uuid: Uuid) -> Result<Vec<TokenUsage>, Error> {
        sqlx::query("SELECT network, requests, last_used FROM token_usage WHERE token_ref = $1 ORDER BY network")
            .bind(self.refs.get()?.token_ref(&uuid))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let n: String = col(r, 0)?;
                Ok(TokenUsage {
                    uuid,
                    network: Network::parse(&n).map_err(|e| bad_row(e.to_string()))?,
                    requests: col::<i64>(r, 1)?.max(0) as u64,
                    last_used: from_ms(col(r, 2)?),
                })
            })
            .collect()
    }

    async fn revoked_token_uuids(&self) -> Result<Vec<Uuid>, Error> {
        let refs = self.refs.get()?;
        sqlx::query("SELECT token_ref, sealed_uuid FROM tokens WHERE revoked_at IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| refs.open_uuid(&col::<Vec<u8>>(r, 1)?, &col::<String>(r, 0)?).map_err(bad_row))
            .collect()
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Bind an item's key as `$1`…`$5` (network, namespace, sandbox, group, item).
fn bind_key<'q>(q: PgQuery<'q>, key: &'q ItemKey) -> PgQuery<'q> {
    q.bind(key.network.as_str()).bind(key.namespace.as_str()).bind(&key.sandbox).bind(&key.group).bind(&key.item)
}

#[async_trait]
impl ItemStore for PostgresStore {
    async fn get_item(&self, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<StoredItem>, Error> {
        let row = bind_key(
            sqlx::query(
                "SELECT i.value, i.updated_at, n.retention_seconds FROM items i \
                 JOIN namespaces n ON n.network = i.network AND n.name = i.namespace \
                 WHERE i.network = $1 AND i.namespace = $2 AND i.sandbox = $3 AND i.grp = $4 AND i.item = $5 \
                 AND (n.retention_seconds = 0 OR i.updated_at > $6 - n.retention_seconds * 1000)",
            ),
            key,
        )
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            let updated_at = from_ms(col(&r, 1)?);
            let retention: i64 = col(&r, 2)?;
            Ok(StoredItem {
                value: col(&r, 0)?,
                updated_at,
                expires_at: (retention > 0).then(|| updated_at + chrono::Duration::seconds(retention)),
            })
        })
        .transpose()
    }

    async fn put_item(&self, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<(), Error> {
        // One statement (one round trip, its own transaction): lock the namespace row FOR SHARE
        // (a concurrent namespace delete waits for this write, then deletes the item with the
        // namespace; or this write finds the namespace gone), write the item, append the change.
        let subject = codec::item_subject(&key);
        let mut w = Write::start(self).await?;
        let row = bind_key(
            sqlx::query(
                "WITH ns AS (SELECT 1 FROM namespaces WHERE network = $1 AND name = $2 FOR SHARE), \
                  written AS (INSERT INTO items (network, namespace, sandbox, grp, item, value, updated_at) \
                              SELECT $1, $2, $3, $4, $5, $6, $7 FROM ns \
                              ON CONFLICT (network, namespace, sandbox, grp, item) \
                              DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
                              RETURNING 1), \
                  noted AS (INSERT INTO changes (kind, subject, at) SELECT $8, $9, $7 FROM written RETURNING 1) \
                 SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM noted)",
            ),
            &key,
        )
        .bind(&value)
        .bind(ms(now))
        .bind("item")
        .bind(subject)
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        if col::<i64>(&row, 0)? == 0 {
            return Err(codec::namespace_missing());
        }
        w.done().await
    }

    async fn delete_item(&self, key: ItemKey, now: DateTime<Utc>) -> Result<bool, Error> {
        // One statement: delete, and append the change only if there was something to delete.
        let subject = codec::item_subject(&key);
        let mut w = Write::start(self).await?;
        let row = bind_key(
            sqlx::query(
                "WITH gone AS (DELETE FROM items \
                           WHERE network = $1 AND namespace = $2 AND sandbox = $3 AND grp = $4 AND item = $5 \
                           RETURNING 1), \
                  noted AS (INSERT INTO changes (kind, subject, at) SELECT $6, $7, $8 FROM gone RETURNING 1) \
                 SELECT (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM noted)",
            ),
            &key,
        )
        .bind("item")
        .bind(subject)
        .bind(ms(now))
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        let deleted = col::<i64>(&row, 0)? > 0;
        if deleted {
            w.done().await?;
        }
        Ok(deleted)
    }

    async fn purge_expired_items(&self, now: DateTime<Utc>, batch: usize) -> Result<u64, Error> {
        sqlx::query(
            "DELETE FROM items WHERE (network, namespace, sandbox, grp, item) IN ( \
               SELECT i.network, i.namespace, i.sandbox, i.grp, i.item FROM items i \
               JOIN namespaces n ON n.network = i.network AND n.name = i.namespace \
               WHERE n.retention_seconds > 0 AND i.updated_at <= $1 - n.retention_seconds * 1000 LIMIT $2)",
        )
        .bind(ms(now))
        .bind(batch as i64)
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err)
    }
}

macro_rules! client_columns {
    () => {
        "name, client_token, access_token, sealed_secret, grants, enabled, created_at, owner"
    };
}

fn client_from_row(r: &PgRow) -> Result<StoredApiClient, Error> {
    let name: String = col(r, 0)?;
    let grants: String = col(r, 4)?;
    let owner: Option<String> = col(r, 7)?;
    Ok(StoredApiClient {
        client: ApiClient {
            name: ClientName::parse(&name).map_err(|e| bad_row(e.to_string()))?,
            client_token: col(r, 1)?,
            access_token: col(r, 2)?,
            grants: Grants::parse_list(&grants).map_err(bad_row)?,
            enabled: col(r, 5)?,
            created_at: from_ms(col(r, 6)?),
            owner: owner.as_deref().map(codec::parse_uuid).transpose().map_err(bad_row)?,
        },
        sealed_secret: col(r, 3)?,
    })
}

#[async_trait]
impl ApiClientStore for PostgresStore {
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        sqlx::query(concat!(
            "INSERT INTO api_clients (",
            client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(client.name.as_str())
        .bind(&client.client_token)
        .bind(&client.access_token)
        .bind(&sealed_secret)
        .bind(client.grants.to_list())
        .bind(client.enabled)
        .bind(ms(client.created_at))
        .bind(client.owner.map(|o| o.to_string()))
        .execute(w.conn())
        .await
        .map_err(|e| if is_unique_violation(&e) { codec::client_name_taken(&client.name) } else { db_err(e) })?;
        w.done().await
    }

    async fn api_client_by_token(&self, client_token: &str) -> Result<Option<StoredApiClient>, Error> {
        sqlx::query(concat!("SELECT ", client_columns!(), " FROM api_clients WHERE client_token = $1"))
            .bind(client_token)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| client_from_row(&r))
            .transpose()
    }

    async fn list_api_clients(&self) -> Result<Vec<ApiClient>, Error> {
        sqlx::query(concat!("SELECT ", client_columns!(), " FROM api_clients ORDER BY name"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| client_from_row(r).map(|c| c.client))
            .collect()
    }

    async fn set_api_client_enabled(&self, name: &ClientName, enabled: bool) -> Result<ApiClient, Error> {
        let mut w = Write::start(self).await?;
        let client =
            sqlx::query(concat!("UPDATE api_clients SET enabled = $2 WHERE name = $1 RETURNING ", client_columns!()))
                .bind(name.as_str())
                .bind(enabled)
                .fetch_optional(w.conn())
                .await
                .map_err(db_err)?
                .map(|r| client_from_row(&r).map(|c| c.client))
                .transpose()?
                .ok_or_else(|| codec::client_not_found(name))?;
        w.done().await?;
        Ok(client)
    }

    async fn delete_api_client(&self, name: &ClientName) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        let n = sqlx::query("DELETE FROM api_clients WHERE name = $1")
            .bind(name.as_str())
            .execute(w.conn())
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(codec::client_not_found(name));
        }
        w.done().await
    }

    async fn api_clients_version(&self) -> Result<u64, Error> {
        let row = sqlx::query("SELECT version FROM api_clients_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(col::<i64>(&row, 0)?.max(0) as u64)
    }
}

macro_rules! account_columns {
    () => {
        "cpcode, initialized_at, restrict_data_access, allow_namespace_policy_override"
    };
}

fn account_from_row(r: &PgRow) -> Result<Account, Error> {
    Ok(Account {
        cpcode: col(r, 0)?,
        initialized_at: from_ms(col(r, 1)?),
        restrict_data_access: col(r, 2)?,
        allow_namespace_policy_override: col(r, 3)?,
    })
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn account(&self) -> Result<Option<Account>, Error> {
        sqlx::query(concat!("SELECT ", account_columns!(), " FROM account WHERE id = 1"))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| account_from_row(&r))
            .transpose()
    }

    async fn initialize_account(&self, account: Account) -> Result<(Account, bool), Error> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(concat!(
            "INSERT INTO account (id, ",
            account_columns!(),
            ") VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&account.cpcode)
        .bind(ms(account.initialized_at))
        .bind(account.restrict_data_access)
        .bind(account.allow_namespace_policy_override)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if inserted == 0 {
            // Initialized already (perhaps by another server a moment ago).
            let row = sqlx::query(concat!("SELECT ", account_columns!(), " FROM account WHERE id = 1"))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            return Ok((account_from_row(&row)?, false));
        }
        for net in Network::ALL {
            sqlx::query(
                "INSERT INTO namespaces (network, name, retention_seconds, group_id, geo_location, created_at) \
                 VALUES ($1, 'default', $2, 0, 'US', $3) ON CONFLICT DO NOTHING",
            )
            .bind(net.as_str())
            .bind(codec::DEFAULT_NAMESPACE_RETENTION)
            .bind(ms(account.initialized_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        commit(tx).await?;
        Ok((account, true))
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, Error> {
        sqlx::query("SELECT kid, sealed_pkcs8, created_at, retired_at FROM signing_keys ORDER BY created_at, kid")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(StoredSigningKey {
                    kid: col(r, 0)?,
                    sealed_pkcs8: col(r, 1)?,
                    created_at: from_ms(col(r, 2)?),
                    retired_at: col::<Option<i64>>(r, 3)?.map(from_ms),
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, key: StoredSigningKey) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        let added = sqlx::query(
            "INSERT INTO signing_keys (kid, sealed_pkcs8, created_at, retired_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.sealed_pkcs8)
        .bind(ms(key.created_at))
        .bind(key.retired_at.map(ms))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if added == 1 {
            changes::note(&mut tx, &Change::SigningKeys(key.kid.clone()), key.created_at).await?;
        }
        commit(tx).await
    }

    async fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let mut tx = self.begin().await?;
        let retired = sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL")
            .bind(kid)
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if retired == 0 {
            let known = sqlx::query("SELECT 1 FROM signing_keys WHERE kid = $1")
                .bind(kid)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            return match known {
                Some(_) => Ok(false),
                None => Err(codec::unknown_signing_key(kid)),
            };
        }
        changes::note(&mut tx, &Change::SigningKeys(kid.to_owned()), now).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn signing_key_use(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyUse>, Error> {
        sqlx::query(
            "SELECT kid, COUNT(*), MAX(expires_at) FROM tokens \
             WHERE kid IS NOT NULL AND revoked_at IS NULL AND expires_at >= $1 GROUP BY kid ORDER BY kid",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(SigningKeyUse {
                kid: col(r, 0)?,
                live_tokens: col::<i64>(r, 1)?.max(0) as u64,
                last_expiry: col::<Option<i64>>(r, 2)?.map(from_ms),
            })
        })
        .collect()
    }

    async fn namespace_names(&self, network: Network) -> Result<Vec<NamespaceName>, Error> {
        sqlx::query("SELECT name FROM namespaces WHERE network = $1 ORDER BY name")
            .bind(network.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| NamespaceName::parse(&col::<String>(r, 0)?).map_err(|e| bad_row(e.to_string())))
            .collect()
    }
}

macro_rules! namespace_columns {
    () => {
        "network, name, retention_seconds, group_id, geo_location, created_at, delete_at"
    };
}

fn namespace_from_row(r: &PgRow) -> Result<Namespace, Error> {
    let network: String = col(r, 0)?;
    let name: String = col(r, 1)?;
    Ok(Namespace {
        network: Network::parse(&network).map_err(|e| bad_row(e.to_string()))?,
        name: NamespaceName::parse(&name).map_err(|e| bad_row(e.to_string()))?,
        retention_seconds: col::<i64>(r, 2)?.max(0) as u64,
        group_id: codec::group_id(col::<i64>(r, 3)?),
        geo_location: col(r, 4)?,
        created_at: from_ms(col(r, 5)?),
        delete_at: col::<Option<i64>>(r, 6)?.map(from_ms),
    })
}

async fn group_exists(tx: &mut Transaction<'static, Postgres>, group_id: AccessGroupId) -> Result<bool, Error> {
    Ok(sqlx::query("SELECT 1 FROM access_groups WHERE group_id = $1 FOR SHARE")
        .bind(group_id.as_i64())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .is_some())
}

async fn delete_namespace_rows(
    tx: &mut Transaction<'static, Postgres>,
    network: &str,
    name: &str,
) -> Result<u64, Error> {
    let n = sqlx::query("DELETE FROM namespaces WHERE network = $1 AND name = $2")
        .bind(network)
        .bind(name)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n > 0 {
        sqlx::query("DELETE FROM items WHERE network = $1 AND namespace = $2")
            .bind(network)
            .bind(name)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(n)
}

#[async_trait]
impl NamespaceStore for PostgresStore {
    async fn list_namespaces(&self, network: Network) -> Result<Vec<Namespace>, Error> {
        sqlx::query(concat!("SELECT ", namespace_columns!(), " FROM namespaces WHERE network = $1 ORDER BY name"))
            .bind(network.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(namespace_from_row)
            .collect()
    }

    async fn get_namespace(&self, network: Network, name: &NamespaceName) -> Result<Option<Namespace>, Error> {
        sqlx::query(concat!("SELECT ", namespace_columns!(), " FROM namespaces WHERE network = $1 AND name = $2"))
            .bind(network.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| namespace_from_row(&r))
            .transpose()
    }

    async fn create_namespace(&self, ns: Namespace, max: usize) -> Result<(Namespace, Created), Error> {
        let mut tx = self.begin().await?;
        let existing =
            sqlx::query(concat!("SELECT ", namespace_columns!(), " FROM namespaces WHERE network = $1 AND name = $2"))
                .bind(ns.network.as_str())
                .bind(ns.name.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .map(|r| namespace_from_row(&r))
                .transpose()?;
        let same = |e: &Namespace| {
            e.retention_seconds == ns.retention_seconds
                && e.group_id == ns.group_id
                && e.geo_location == ns.geo_location
        };
        if let Some(e) = existing {
            return if same(&e) { Ok((e, Created::AlreadyThere)) } else { Err(codec::namespace_conflict(&ns.name)) };
        }
        let count: i64 = col(
            &sqlx::query("SELECT COUNT(*) FROM namespaces WHERE network = $1")
                .bind(ns.network.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
            0,
        )?;
        if count as usize >= max {
            return Err(codec::namespace_limit(max));
        }
        if !group_exists(&mut tx, ns.group_id).await? {
            return Err(codec::access_group_missing(ns.group_id));
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO namespaces (",
            namespace_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
        ))
        .bind(ns.network.as_str())
        .bind(ns.name.as_str())
        .bind(ns.retention_seconds as i64)
        .bind(ns.group_id.as_i64())
        .bind(&ns.geo_location)
        .bind(ms(ns.created_at))
        .bind(ns.delete_at.map(ms))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        commit(tx).await?;
        if inserted == 0 {
            // Created a moment ago by a concurrent request: answer as if it had come first.
            return match self.get_namespace(ns.network, &ns.name).await? {
                Some(e) if same(&e) => Ok((e, Created::AlreadyThere)),
                _ => Err(codec::namespace_conflict(&ns.name)),
            };
        }
        Ok((ns, Created::New))
    }

    async fn set_namespace_retention(
        &self,
        network: Network,
        name: &NamespaceName,
        retention_seconds: u64,
        now: DateTime<Utc>,
    ) -> Result<Namespace, Error> {
        let mut tx = self.begin().await?;
        let ns = sqlx::query(concat!(
            "UPDATE namespaces SET retention_seconds = $3 WHERE network = $1 AND name = $2 RETURNING ",
            namespace_columns!()
        ))
        .bind(network.as_str())
        .bind(name.as_str())
        .bind(retention_seconds as i64)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(codec::namespace_missing)?;
        let ns = namespace_from_row(&ns)?;
        changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
        commit(tx).await?;
        Ok(ns)
    }

    async fn delete_namespace(&self, network: Network, name: &NamespaceName, now: DateTime<Utc>) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        if delete_namespace_rows(&mut tx, network.as_str(), name.as_str()).await? == 0 {
            return Err(codec::namespace_missing());
        }
        changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
        commit(tx).await
    }

    async fn schedule_namespace_delete(
        &self,
        network: Network,
        name: &NamespaceName,
        at: Option<DateTime<Utc>>,
    ) -> Result<Namespace, Error> {
        sqlx::query(concat!(
            "UPDATE namespaces SET delete_at = $3 WHERE network = $1 AND name = $2 RETURNING ",
            namespace_columns!()
        ))
        .bind(network.as_str())
        .bind(name.as_str())
        .bind(at.map(ms))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| namespace_from_row(&r))
        .transpose()?
        .ok_or_else(codec::namespace_missing)
    }

    async fn delete_due_namespaces(&self, now: DateTime<Utc>) -> Result<Vec<(Network, NamespaceName)>, Error> {
        let mut tx = self.begin().await?;
        let due = sqlx::query(
            "SELECT network, name FROM namespaces WHERE delete_at IS NOT NULL AND delete_at <= $1 \
             ORDER BY network, name FOR UPDATE SKIP LOCKED",
        )
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut deleted = Vec::with_capacity(due.len());
        for r in &due {
            let (network, name): (String, String) = (col(r, 0)?, col(r, 1)?);
            delete_namespace_rows(&mut tx, &network, &name).await?;
            let network = Network::parse(&network).map_err(|e| bad_row(e.to_string()))?;
            let name = NamespaceName::parse(&name).map_err(|e| bad_row(e.to_string()))?;
            changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
            deleted.push((network, name));
        }
        commit(tx).await?;
        Ok(deleted)
    }

    async fn set_namespace_group(
        &self,
        name: &NamespaceName,
        group_id: AccessGroupId,
    ) -> Result<Vec<Namespace>, Error> {
        let mut tx = self.begin().await?;
        if !group_exists(&mut tx, group_id).await? {
            return Err(codec::access_group_missing(group_id));
        }
        let mut changed = sqlx::query(concat!(
            "UPDATE namespaces SET group_id = $2 WHERE name = $1 RETURNING ",
            namespace_columns!()
        ))
        .bind(name.as_str())
        .bind(group_id.as_i64())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(namespace_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        commit(tx).await?;
        changed.sort_by_key(|n| n.network.as_str());
        Ok(changed)
    }

    async fn list_access_groups(&self) -> Result<Vec<AccessGroup>, Error> {
        sqlx::query("SELECT group_id, name FROM access_groups ORDER BY group_id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok(AccessGroup { group_id: codec::group_id(col::<i64>(r, 0)?), name: col(r, 1)? }))
            .collect()
    }

    async fn create_access_group(&self, group: AccessGroup, now: DateTime<Utc>) -> Result<AccessGroup, Error> {
        let mut w = Write::start(self).await?;
        let n = sqlx::query(
            "INSERT INTO access_groups (group_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(group.group_id.as_i64())
        .bind(&group.name)
        .bind(now.timestamp_millis())
        .execute(w.conn())
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(codec::access_group_taken(group.group_id));
        }
        w.done().await?;
        Ok(group)
    }

    async fn delete_access_group(&self, group_id: AccessGroupId) -> Result<(), Error> {
        if group_id == AccessGroupId::ACCOUNT {
            return Err(codec::account_group_kept());
        }
        let mut tx = self.begin().await?;
        // Lock the group first: a namespace moved into it meanwhile waits (FOR SHARE) or fails.
        let locked = sqlx::query("SELECT 1 FROM access_groups WHERE group_id = $1 FOR UPDATE")
            .bind(group_id.as_i64())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if locked.is_none() {
            return Err(codec::access_group_missing(group_id));
        }
        let used: i64 = col(
            &sqlx::query("SELECT COUNT(*) FROM namespaces WHERE group_id = $1")
                .bind(group_id.as_i64())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
            0,
        )?;
        if used > 0 {
            return Err(codec::access_group_in_use(group_id, used));
        }
        sqlx::query("DELETE FROM access_groups WHERE group_id = $1")
            .bind(group_id.as_i64())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await
    }

    async fn list_groups(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        sqlx::query(
            "SELECT DISTINCT grp FROM items WHERE network = $1 AND namespace = $2 AND sandbox = $3 ORDER BY grp LIMIT $4",
        )
        .bind(network.as_str())
        .bind(name.as_str())
        .bind(sandbox)
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }

    async fn list_item_keys(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        group: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        sqlx::query(
            "SELECT item FROM items WHERE network = $1 AND namespace = $2 AND sandbox = $3 AND grp = $4 \
             ORDER BY item LIMIT $5",
        )
        .bind(network.as_str())
        .bind(name.as_str())
        .bind(sandbox)
        .bind(group)
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }
}
