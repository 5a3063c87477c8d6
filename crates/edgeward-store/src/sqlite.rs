//! The SQLite implementation: one group-committing writer thread plus a pool of readers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crossbeam_queue::ArrayQueue;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use tokio::sync::{mpsc, oneshot};
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

use crate::codec::{self, encode_namespaces, from_ms, ms, TokenColumns};
use crate::migrate;
use crate::refs::{RefKeys, RefSlot, INDEX_KEY_NAME, REF_COLUMNS};
use edgeward_token::DataKey;

mod audit;
mod changes;
mod nonces;
mod notify;
mod sealed;

/// Tuning for the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read connections kept open.
    pub readers: usize,
    /// Most writes folded into one commit.
    pub max_batch: usize,
    /// The journal directory of EdgeGrid nonces; `None`: `nonces/` beside the database.
    pub nonce_dir: Option<PathBuf>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { readers: 4, max_batch: 512, nonce_dir: None }
    }
}

type Reply = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// The store on one SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    writer: mpsc::UnboundedSender<Job>,
    readers: Arc<ReadPool>,
    nonces: Arc<nonces::NonceJournal>,
    refs: Arc<RefSlot>,
}

/// Read-only connections, reused. The idle ones wait in a lock-free queue: every point read
/// takes one and gives it back, so a mutex here would be contended by every worker thread.
struct ReadPool {
    path: PathBuf,
    /// At most `readers` idle connections; one opened beyond them is closed after its read.
    idle: ArrayQueue<Connection>,
}

fn db_err(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            Error::Unavailable(format!("sqlite: {e}"))
        }
        other => Error::Internal(format!("sqlite: {other}")),
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL: readers never block the writer. synchronous=FULL: the WAL is fsynced at every commit,
    // so an acknowledged write is durable. secure_delete=FAST: content deleted or replaced (a
    // re-keyed uuid, a wiped value) is zeroed in its page rather than left in free space. busy_timeout: other processes (the `apiclient`
    // commands) may hold the write lock briefly.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA secure_delete=FAST;",
    )
}

/// Create the database file readable by its owner only before SQLite opens it: SQLite gives
/// the `-wal` and `-shm` files it makes the main file's mode.
pub(crate) fn create_private(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Internal(format!("cannot create {}: {e}", path.display()))),
    }
}

/// Make the database file and its `-wal` and `-shm` companions 0600 where an earlier version
/// left them readable by others.
pub(crate) fn tighten_modes(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::Internal(format!("cannot restrict {}: {e}", file.display())))?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and apply migrations.
    pub fn open(path: &Path, opts: SqliteOptions) -> Result<Self, Error> {
        create_private(path)?;
        tighten_modes(path)?;
        let mut conn = Connection::open(path).map_err(db_err)?;
        configure(&conn).map_err(db_err)?;
        tighten_modes(path)?;
        migrate::apply(&mut conn)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let max_batch = opts.max_batch.max(1);
        std::thread::Builder::new()
            .name("edgeward-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch))
            .map_err(|e| Error::Internal(format!("cannot start the writer thread: {e}")))?;
        let nonce_dir = opts.nonce_dir.clone().unwrap_or_else(|| path.with_file_name("nonces"));
        Ok(Self {
            writer: tx,
            nonces: Arc::new(nonces::NonceJournal::new(nonce_dir)),
            refs: Default::default(),
            readers: Arc::new(ReadPool { path: path.to_owned(), idle: ArrayQueue::new(opts.readers.max(1)) }),
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
        let data = data_key.clone();
        let keys = self
            .write(move |c| {
                let stored: Option<Vec<u8>> = c
                    .query_row("SELECT sealed FROM sealed_keys WHERE name = ?1", [INDEX_KEY_NAME], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                let (keys, new) = RefKeys::open_or_new(stored.as_deref(), &data)?;
                if let Some(sealed) = new {
                    c.execute(
                        "INSERT INTO sealed_keys (name, sealed, created_at) VALUES (?1, ?2, ?3)",
                        params![INDEX_KEY_NAME, sealed, ms(now)],
                    )
                    .map_err(db_err)?;
                }
                rekey_legacy_rows(c, &keys)?;
                Ok(keys)
            })
            .await?;
        self.refs.set(keys);
        Ok(self.refs.get()?.data_key_cell())
    }

    async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // An audited change (see `crate::audit`) carries its record into the same savepoint.
        let claim = crate::audit::claim();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, |c| {
                let out = f(c)?;
                if let Some(claim) = &claim {
                    audit::insert(c, claim.record())?;
                }
                Ok(out)
            });
            let ok = result.is_ok();
            Box::new(move |committed: bool| {
                if let Some(claim) = claim {
                    claim.finish(committed && ok);
                }
                let _ = tx.send(if committed {
                    result
                } else {
                    Err(Error::Unavailable("the write could not be committed".into()))
                });
            })
        });
        self.writer.send(job).map_err(|_| Error::Unavailable("the database writer has stopped".into()))?;
        rx.await.map_err(|_| Error::Unavailable("the database writer has stopped".into()))?
    }

    /// A read on a pooled read-only connection, on a blocking thread: for scans whose length
    /// depends on the data (listing).
    async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| Error::Internal(format!("read task failed: {e}")))?
    }

    /// A point read by primary or unique key, run in place. Such a read touches a handful of
    /// cached pages and never waits for the writer (WAL), so it costs less than the hand-off to
    /// a blocking thread would; this is what keeps authentication and retrieval cheap.
    fn point_read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.readers.with(f)
    }
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let conn = match self.idle.pop() {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(db_err)?;
                // A larger page cache keeps hot token and client rows in memory; pages load only as used.
                c.execute_batch("PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384; PRAGMA mmap_size=0;")
                    .map_err(db_err)?;
                c
            }
        };
        let out = f(&conn);
        // A full queue (more readers at once than are kept) closes the connection.
        let _ = self.idle.push(conn);
        out
    }
}

/// Replace the uuids that rows of schemas before 11 hold by token refs, and seal the uuids of
/// tokens. Idempotent: a token ref is 64 characters, a uuid 36.
fn rekey_legacy_rows(c: &Connection, refs: &RefKeys) -> Result<(), Error> {
    let strings = |sql: &str| -> Result<Vec<String>, Error> {
        let mut s = c.prepare(sql).map_err(db_err)?;
        let rows = s.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
        rows.map(|r| r.map_err(db_err)).collect()
    };
    let parse = |u: &str| Uuid::parse_str(u).map_err(|e| Error::Internal(format!("re-keying token {u:?}: {e}")));
    let tokens = strings("SELECT token_ref FROM tokens WHERE sealed_uuid IS NULL")?;
    for old in &tokens {
        let uuid = parse(old)?;
        let new = refs.token_ref(&uuid);
        c.execute(
            "UPDATE tokens SET token_ref = ?2, sealed_uuid = ?3 WHERE token_ref = ?1",
            params![old, new, refs.seal_uuid(&uuid, &new)],
        )
        .map_err(db_err)?;
    }
    for (table, column, filter) in REF_COLUMNS {
        let olds = strings(&format!("SELECT DISTINCT {column} FROM {table} WHERE length({column}) = 36{filter}"))?;
        for old in olds.iter().filter(|o| crate::refs::is_legacy(o)) {
            let new = refs.token_ref(&parse(old)?);
            c.execute(&format!("UPDATE {table} SET {column} = ?2 WHERE {column} = ?1{filter}"), params![old, new])
                .map_err(db_err)?;
        }
    }
    if !tokens.is_empty() {
        tracing::info!(tokens = tokens.len(), "token uuids replaced by token refs (schema 11)");
    }
    Ok(())
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
    conn.execute_batch("SAVEPOINT job").map_err(db_err)?;
    let out = f(conn);
    let end = if out.is_ok() { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
    conn.execute_batch(end).map_err(db_err)?;
    out
}

fn writer_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>, max_batch: usize) {
    let mut replies: Vec<Reply> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction");
            first(&conn)(false);
            continue;
        }
        replies.push(first(&conn));
        while replies.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => replies.push(job(&conn)),
                Err(_) => break,
            }
        }
        let committed = match conn.execute_batch("COMMIT") {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, writes = replies.len(), "commit failed; the writes are rolled back");
                let _ = conn.execute_batch("ROLLBACK");
                false
            }
        };
        for reply in replies.drain(..) {
            reply(committed);
        }
    }
}

fn parse_date(s: &str) -> rusqlite::Result<NaiveDate> {
    codec::parse_date(s).map_err(conversion)
}

fn conversion(msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, msg.into())
}

fn decode_namespaces(s: &str) -> rusqlite::Result<edgeward_core::token::NamespacePermissions> {
    codec::decode_namespaces(s).map_err(conversion)
}

macro_rules! token_columns {
    () => {
        "token_ref, name, allow_staging, allow_production, ewids, namespaces, expiry, issued_at, \
         latest_refresh, next_refresh, generation, cpcode, revoked_at, sealed_value, sealed_uuid"
    };
}
const TOKEN_COLUMNS: &str = token_columns!();

fn token_from_row(r: &Row<'_>, refs: &RefKeys) -> rusqlite::Result<StoredToken> {
    let token = TokenColumns {
        token_ref: r.get(0)?,
        sealed_uuid: r.get(14)?,
        name: r.get(1)?,
        allow_staging: r.get(2)?,
        allow_production: r.get(3)?,
        ewids: r.get(4)?,
        namespaces: r.get(5)?,
        expiry: r.get(6)?,
        issued_at: r.get(7)?,
        latest_refresh: r.get(8)?,
        next_refresh: r.get(9)?,
        generation: r.get(10)?,
        cpcode: r.get(11)?,
        revoked_at: r.get(12)?,
    }
    .into_token(refs)
    .map_err(conversion)?;
    Ok(StoredToken { token, sealed_value: r.get(13)? })
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, new: NewToken) -> Result<Token, Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let spec = &new.spec;
            let now_ms = ms(new.now);
            c.execute(
                "UPDATE tokens SET live_name = NULL WHERE live_name = ?1 AND expires_at IS NOT NULL AND expires_at < ?2",
                params![spec.name.as_str(), now_ms],
            )
            .map_err(db_err)?;
            let (count, cpcode): (i64, String) = c
                .query_row("SELECT token_count, cpcode FROM account WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(db_err)?
                .ok_or_else(codec::not_initialized)?;
            if u64::try_from(count).unwrap_or(0) >= new.max_tokens {
                return Err(codec::token_limit(new.max_tokens));
            }
            let mut exists = c.prepare_cached("SELECT 1 FROM namespaces WHERE network = ?1 AND name = ?2").map_err(db_err)?;
            for net in spec.networks.iter() {
                for ns in spec.namespaces.keys() {
                    if !exists.exists(params![net.as_str(), ns.as_str()]).map_err(db_err)? {
                        return Err(codec::namespace_not_on(ns, net));
                    }
                }
            }
            let token = codec::new_token_record(&new, cpcode);
            let inserted = c
                .prepare_cached(
                    "INSERT INTO tokens (token_ref, name, live_name, allow_staging, allow_production, ewids, namespaces, \
                     expiry, expires_at, issued_at, next_refresh, generation, cpcode, sealed_value, sealed_uuid, kid) \
                     VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, ?14)",
                )
                .and_then(|mut s| {
                    let token_ref = refs.token_ref(&token.uuid);
                    s.execute(params![
                        token_ref,
                        token.name.as_str(),
                        token.networks.staging,
                        token.networks.production,
                        token.ewids.to_claim(),
                        encode_namespaces(&token.namespaces),
                        token.expiry.map(|d| d.to_string()),
                        token.expires_at().map(ms),
                        now_ms,
                        token.next_refresh.map(|d| d.to_string()),
                        token.cpcode,
                        new.sealed_value,
                        refs.seal_uuid(&token.uuid, &token_ref),
                        new.kid,
                    ])
                });
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(codec::token_name_taken(&token.name))
                }
                Err(e) => return Err(db_err(e)),
            }
            c.execute("UPDATE account SET token_count = token_count + 1 WHERE id = 1", []).map_err(db_err)?;
            Ok(token)
        })
        .await
    }

    async fn token_by_name(&self, name: &TokenName) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        self.point_read(|c| {
            c.prepare_cached(concat!("SELECT ", token_columns!(), " FROM tokens WHERE live_name = ?1"))
                .and_then(|mut s| s.query_row([name.as_str()], |r| token_from_row(r, refs)).optional())
                .map_err(db_err)
        })
    }

    async fn token_by_uuid(&self, uuid: Uuid) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        self.point_read(|c| {
            c.prepare_cached(concat!("SELECT ", token_columns!(), " FROM tokens WHERE token_ref = ?1"))
                .and_then(|mut s| s.query_row([refs.token_ref(&uuid)], |r| token_from_row(r, refs)).optional())
                .map_err(db_err)
        })
    }

    async fn list_tokens(&self, now: DateTime<Utc>, expired_after: Option<DateTime<Utc>>) -> Result<Vec<Token>, Error> {
        let floor = ms(expired_after.unwrap_or(now));
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at >= ?1) ORDER BY name, issued_at"
                ))
                .map_err(db_err)?;
            let rows = s.query_map([floor], |r| token_from_row(r, &refs)).map_err(db_err)?;
            rows.map(|r| r.map(|t| t.token).map_err(db_err)).collect()
        })
        .await
    }

    async fn revoke_token(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let token_ref = refs.token_ref(&uuid);
            let t = c
                .prepare_cached(&format!(
                    "UPDATE tokens SET live_name = NULL, revoked_at = ?2, sealed_value = NULL \
                     WHERE token_ref = ?1 AND live_name IS NOT NULL RETURNING {TOKEN_COLUMNS}"
                ))
                .and_then(|mut s| s.query_row(params![token_ref, ms(now)], |r| token_from_row(r, &refs)).optional())
                .map_err(db_err)?
                .ok_or_else(codec::token_already_revoked)?;
            c.execute("UPDATE account SET token_count = token_count - 1 WHERE id = 1", []).map_err(db_err)?;
            changes::note_revoked(c, &token_ref, now)?;
            Ok(t.token)
        })
        .await
    }

    async fn refresh_token(&self, name: &TokenName, now: DateTime<Utc>, next: NaiveDate) -> Result<Token, Error> {
        let name = name.clone();
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let held: Option<Option<String>> = c
                .query_row("SELECT expiry FROM tokens WHERE live_name = ?1", [name.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            match held {
                None => return Err(codec::token_not_found(&name)),
                Some(Some(_)) => return Err(codec::token_not_refreshable(&name)),
                Some(None) => {}
            }
            c.prepare_cached(&format!(
                "UPDATE tokens SET generation = generation + 1, latest_refresh = ?2, next_refresh = ?3 \
                 WHERE live_name = ?1 RETURNING {TOKEN_COLUMNS}"
            ))
            .and_then(|mut s| {
                s.query_row(params![name.as_str(), ms(now), next.to_string()], |r| token_from_row(r, &refs))
            })
            .map(|t| t.token)
            .map_err(db_err)
        })
        .await
    }

    async fn refresh_due_tokens(&self, today: NaiveDate, now: DateTime<Utc>, next: NaiveDate) -> Result<u64, Error> {
        self.write(move |c| {
            c.execute(
                "UPDATE tokens SET generation = generation + 1, latest_refresh = ?2, next_refresh = ?3 \
                 WHERE revoked_at IS NULL AND expiry IS NULL AND next_refresh <= ?1",
                params![today.to_string(), ms(now), next.to_string()],
            )
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }

    async fn record_usage(&self, usage: Vec<TokenUsage>) -> Result<(), Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let mut s = c
                .prepare_cached(
                    "INSERT INTO token_usage (token_ref, network, requests, last_used) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (token_ref, network) DO UPDATE SET requests = requests + excluded.requests, \
                     last_used = MAX(last_used, excluded.last_used)",
                )
                .map_err(db_err)?;
            for u in &usage {
                s.execute(params![refs.token_ref(&u.uuid), u.network.as_str(), u.requests as i64, ms(u.last_used)])
                    .map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn token_usage(&self, uuid: Uuid) -> Result<Vec<TokenUsage>, Error> {
        let token_ref = self.refs.get()?.token_ref(&uuid);
        self.point_read(|c| {
            let mut s = c
                .prepare_cached(
                    "SELECT network, requests, last_used FROM token_usage WHERE token_ref = ?1 ORDER BY network",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map([token_ref], |r| {
                    let n: String = r.get(0)?;
                    Ok(TokenUsage {
                        uuid,
                        network: Network::parse(&n).map_err(|e| conversion(e.to_string()))?,
                        requests: r.get::<_, i64>(1)?.max(0) as u64,
                        last_used: from_ms(r.get(2)?),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn revoked_token_uuids(&self) -> Result<Vec<Uuid>, Error> {
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            let mut s = c
                .prepare_cached("SELECT token_ref, sealed_uuid FROM tokens WHERE revoked_at IS NOT NULL")
                .map_err(db_err)?;
            let rows = s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).map_err(db_err)?;
            rows.map(|r| {
                let (token_ref, sealed) = r.map_err(db_err)?;
                refs.open_uuid(&sealed, &token_ref).map_err(Error::Internal)
            })
            .collect()
        })
        .await
    }

    async fn purge_tokens(&self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        self.write(move |c| {
            let expired = c
                .execute("DELETE FROM tokens WHERE revoked_at IS NULL AND expires_at < ?1", [ms(cutoff)])
                .map_err(db_err)?;
            c.execute("UPDATE account SET token_count = token_count - ?1 WHERE id = 1", [expired as i64])
                .map_err(db_err)?;
            let revoked = c
                .execute(
                    "DELETE FROM tokens WHERE revoked_at < ?1 AND (expires_at IS NULL OR expires_at < ?2)",
                    [ms(cutoff), ms(now)],
                )
                .map_err(db_err)?;
            Ok((expired + revoked) as u64)
        })
        .await
    }
}

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get_item(&self, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<StoredItem>, Error> {
        self.point_read(|c| {
            c.prepare_cached(
                "SELECT i.value, i.updated_at, n.retention_seconds FROM items i JOIN namespaces n ON n.network = i.network AND n.name = i.namespace \
                 WHERE i.network = ?1 AND i.namespace = ?2 AND i.sandbox = ?3 AND i.grp = ?4 AND i.item = ?5 \
                 AND (n.retention_seconds = 0 OR i.updated_at > ?6 - n.retention_seconds * 1000)",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![key.network.as_str(), key.namespace.as_str(), key.sandbox, key.group, key.item, ms(now)],
                    |r| {
                        let updated_at = from_ms(r.get(1)?);
                        let retention: i64 = r.get(2)?;
                        Ok(StoredItem {
                            value: r.get(0)?,
                            updated_at,
                            expires_at: (retention > 0).then(|| updated_at + chrono::Duration::seconds(retention)),
                        })
                    },
                )
                .optional()
            })
            .map_err(db_err)
        })
    }

    async fn put_item(&self, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| {
            let exists = c
                .prepare_cached("SELECT 1 FROM namespaces WHERE network = ?1 AND name = ?2")
                .and_then(|mut s| s.exists(params![key.network.as_str(), key.namespace.as_str()]))
                .map_err(db_err)?;
            if !exists {
                return Err(codec::namespace_missing());
            }
            c.prepare_cached(
                "INSERT INTO items (network, namespace, sandbox, grp, item, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (network, namespace, sandbox, grp, item) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![key.network.as_str(), key.namespace.as_str(), key.sandbox, key.group, key.item, value, ms(now)])
            })
            .map_err(db_err)?;
            changes::note(c, &Change::Item(key), now)?;
            Ok(())
        })
        .await
    }

    async fn purge_expired_items(&self, now: DateTime<Utc>, batch: usize) -> Result<u64, Error> {
        self.write(move |c| {
            c.prepare_cached(
                "DELETE FROM items WHERE (network, namespace, sandbox, grp, item) IN ( \
                   SELECT i.network, i.namespace, i.sandbox, i.grp, i.item FROM items i \
                   JOIN namespaces n ON n.network = i.network AND n.name = i.namespace \
                   WHERE n.retention_seconds > 0 AND i.updated_at <= ?1 - n.retention_seconds * 1000 LIMIT ?2)",
            )
            .and_then(|mut s| s.execute(params![ms(now), batch as i64]))
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }

    async fn delete_item(&self, key: ItemKey, now: DateTime<Utc>) -> Result<bool, Error> {
        self.write(move |c| {
            let n = c.prepare_cached(
                "DELETE FROM items WHERE network = ?1 AND namespace = ?2 AND sandbox = ?3 AND grp = ?4 AND item = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![key.network.as_str(), key.namespace.as_str(), key.sandbox, key.group, key.item])
            })
            .map_err(db_err)?;
            if n > 0 {
                changes::note(c, &Change::Item(key), now)?;
            }
            Ok(n > 0)
        })
        .await
    }
}

fn client_from_row(r: &Row<'_>) -> rusqlite::Result<StoredApiClient> {
    let name: String = r.get(0)?;
    let grants: String = r.get(4)?;
    Ok(StoredApiClient {
        client: ApiClient {
            name: ClientName::parse(&name).map_err(|e| conversion(e.to_string()))?,
            client_token: r.get(1)?,
            access_token: r.get(2)?,
            grants: Grants::parse_list(&grants).map_err(conversion)?,
            enabled: r.get(5)?,
            created_at: from_ms(r.get(6)?),
            owner: r
                .get::<_, Option<String>>(7)?
                .map(|o| Uuid::parse_str(&o).map_err(|e| conversion(e.to_string())))
                .transpose()?,
        },
        sealed_secret: r.get(3)?,
    })
}

macro_rules! client_columns {
    () => {
        "name, client_token, access_token, sealed_secret, grants, enabled, created_at, owner"
    };
}

#[async_trait]
impl ApiClientStore for SqliteStore {
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<(), Error> {
        self.write(move |c| {
            c.execute(
                concat!("INSERT INTO api_clients (", client_columns!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    client.name.as_str(),
                    client.client_token,
                    client.access_token,
                    sealed_secret,
                    client.grants.to_list(),
                    client.enabled,
                    ms(client.created_at),
                    client.owner.map(|o| o.to_string())
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    codec::client_name_taken(&client.name)
                } else {
                    db_err(e)
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn api_client_by_token(&self, client_token: &str) -> Result<Option<StoredApiClient>, Error> {
        self.point_read(|c| {
            c.prepare_cached(concat!("SELECT ", client_columns!(), " FROM api_clients WHERE client_token = ?1"))
                .and_then(|mut s| s.query_row([client_token], client_from_row).optional())
                .map_err(db_err)
        })
    }

    async fn list_api_clients(&self) -> Result<Vec<ApiClient>, Error> {
        self.read(|c| {
            let mut s = c
                .prepare_cached(concat!("SELECT ", client_columns!(), " FROM api_clients ORDER BY name"))
                .map_err(db_err)?;
            let rows = s.query_map([], client_from_row).map_err(db_err)?;
            rows.map(|r| r.map(|s| s.client).map_err(db_err)).collect()
        })
        .await
    }

    async fn set_api_client_enabled(&self, name: &ClientName, enabled: bool) -> Result<ApiClient, Error> {
        let name = name.clone();
        self.write(move |c| {
            c.prepare_cached(concat!(
                "UPDATE api_clients SET enabled = ?2 WHERE name = ?1 RETURNING ",
                client_columns!()
            ))
            .and_then(|mut s| s.query_row(params![name.as_str(), enabled], client_from_row).optional())
            .map_err(db_err)?
            .map(|s| s.client)
            .ok_or_else(|| codec::client_not_found(&name))
        })
        .await
    }

    async fn api_clients_version(&self) -> Result<u64, Error> {
        self.point_read(|c| {
            c.prepare_cached("SELECT version FROM api_clients_version WHERE id = 1")
                .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
                .map(|v| v as u64)
                .map_err(db_err)
        })
    }

    async fn delete_api_client(&self, name: &ClientName) -> Result<(), Error> {
        let name = name.clone();
        self.write(move |c| {
            match c.execute("DELETE FROM api_clients WHERE name = ?1", [name.as_str()]).map_err(db_err)? {
                0 => Err(codec::client_not_found(&name)),
                _ => Ok(()),
            }
        })
        .await
    }
}

fn account_from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        cpcode: r.get(0)?,
        initialized_at: from_ms(r.get(1)?),
        restrict_data_access: r.get(2)?,
        allow_namespace_policy_override: r.get(3)?,
    })
}

macro_rules! account_columns {
    () => {
        "cpcode, initialized_at, restrict_data_access, allow_namespace_policy_override"
    };
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn account(&self) -> Result<Option<Account>, Error> {
        self.point_read(|c| {
            c.prepare_cached(concat!("SELECT ", account_columns!(), " FROM account WHERE id = 1"))
                .and_then(|mut s| s.query_row([], account_from_row).optional())
                .map_err(db_err)
        })
    }

    async fn initialize_account(&self, account: Account) -> Result<(Account, bool), Error> {
        self.write(move |c| {
            if let Some(existing) = c
                .query_row(concat!("SELECT ", account_columns!(), " FROM account WHERE id = 1"), [], account_from_row)
                .optional()
                .map_err(db_err)?
            {
                return Ok((existing, false));
            }
            c.execute(
                concat!("INSERT INTO account (id, ", account_columns!(), ") VALUES (1, ?1, ?2, ?3, ?4)"),
                params![
                    account.cpcode,
                    ms(account.initialized_at),
                    account.restrict_data_access,
                    account.allow_namespace_policy_override
                ],
            )
            .map_err(db_err)?;
            for net in Network::ALL {
                c.execute(
                    "INSERT OR IGNORE INTO namespaces (network, name, retention_seconds, group_id, geo_location, created_at) \
                     VALUES (?1, 'default', ?2, 0, 'US', ?3)",
                    params![net.as_str(), codec::DEFAULT_NAMESPACE_RETENTION, ms(account.initialized_at)],
                )
                .map_err(db_err)?;
            }
            Ok((account, true))
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, Error> {
        self.point_read(|c| {
            let mut s = c
                .prepare_cached(
                    "SELECT kid, sealed_pkcs8, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map([], |r| {
                    Ok(StoredSigningKey {
                        kid: r.get(0)?,
                        sealed_pkcs8: r.get(1)?,
                        created_at: from_ms(r.get(2)?),
                        retired_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn add_signing_key(&self, key: StoredSigningKey) -> Result<(), Error> {
        self.write(move |c| {
            let added = c
                .execute(
                    "INSERT INTO signing_keys (kid, sealed_pkcs8, created_at, retired_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT DO NOTHING",
                    params![key.kid, key.sealed_pkcs8, ms(key.created_at), key.retired_at.map(ms)],
                )
                .map_err(db_err)?;
            if added == 1 {
                changes::note(c, &Change::SigningKeys(key.kid.clone()), key.created_at)?;
            }
            Ok(())
        })
        .await
    }

    async fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let kid = kid.to_owned();
        self.write(move |c| {
            let retired = c
                .execute(
                    "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL",
                    params![kid, ms(now)],
                )
                .map_err(db_err)?;
            if retired == 0 {
                let known = c.query_row("SELECT 1 FROM signing_keys WHERE kid = ?1", [&kid], |_| Ok(())).optional();
                return match known.map_err(db_err)? {
                    Some(()) => Ok(false),
                    None => Err(codec::unknown_signing_key(&kid)),
                };
            }
            changes::note(c, &Change::SigningKeys(kid), now)?;
            Ok(true)
        })
        .await
    }

    async fn signing_key_use(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyUse>, Error> {
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT kid, COUNT(*), MAX(expires_at) FROM tokens \
                     WHERE kid IS NOT NULL AND revoked_at IS NULL AND expires_at >= ?1 GROUP BY kid ORDER BY kid",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map([ms(now)], |r| {
                    Ok(SigningKeyUse {
                        kid: r.get(0)?,
                        live_tokens: r.get::<_, i64>(1)?.max(0) as u64,
                        last_expiry: r.get::<_, Option<i64>>(2)?.map(from_ms),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn namespace_names(&self, network: Network) -> Result<Vec<NamespaceName>, Error> {
        self.read(move |c| {
            let mut s =
                c.prepare_cached("SELECT name FROM namespaces WHERE network = ?1 ORDER BY name").map_err(db_err)?;
            let rows = s.query_map([network.as_str()], |r| r.get::<_, String>(0)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|n| NamespaceName::parse(&n))).collect()
        })
        .await
    }
}

fn namespace_from_row(r: &Row<'_>) -> rusqlite::Result<Namespace> {
    let network: String = r.get(0)?;
    let name: String = r.get(1)?;
    Ok(Namespace {
        network: Network::parse(&network).map_err(|e| conversion(e.to_string()))?,
        name: NamespaceName::parse(&name).map_err(|e| conversion(e.to_string()))?,
        retention_seconds: r.get::<_, i64>(2)?.max(0) as u64,
        group_id: codec::group_id(r.get::<_, i64>(3)?),
        geo_location: r.get(4)?,
        created_at: from_ms(r.get(5)?),
        delete_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
    })
}

macro_rules! namespace_columns {
    () => {
        "network, name, retention_seconds, group_id, geo_location, created_at, delete_at"
    };
}

#[async_trait]
impl NamespaceStore for SqliteStore {
    async fn list_namespaces(&self, network: Network) -> Result<Vec<Namespace>, Error> {
        self.point_read(|c| {
            let mut s = c
                .prepare_cached(concat!(
                    "SELECT ",
                    namespace_columns!(),
                    " FROM namespaces WHERE network = ?1 ORDER BY name"
                ))
                .map_err(db_err)?;
            let rows = s.query_map([network.as_str()], namespace_from_row).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn get_namespace(&self, network: Network, name: &NamespaceName) -> Result<Option<Namespace>, Error> {
        self.point_read(|c| {
            c.prepare_cached(concat!(
                "SELECT ",
                namespace_columns!(),
                " FROM namespaces WHERE network = ?1 AND name = ?2"
            ))
            .and_then(|mut s| s.query_row(params![network.as_str(), name.as_str()], namespace_from_row).optional())
            .map_err(db_err)
        })
    }

    async fn create_namespace(&self, ns: Namespace, max: usize) -> Result<(Namespace, Created), Error> {
        self.write(move |c| {
            let existing = c
                .prepare_cached(concat!(
                    "SELECT ",
                    namespace_columns!(),
                    " FROM namespaces WHERE network = ?1 AND name = ?2"
                ))
                .and_then(|mut s| {
                    s.query_row(params![ns.network.as_str(), ns.name.as_str()], namespace_from_row).optional()
                })
                .map_err(db_err)?;
            if let Some(e) = existing {
                let same = e.retention_seconds == ns.retention_seconds
                    && e.group_id == ns.group_id
                    && e.geo_location == ns.geo_location;
                if same {
                    return Ok((e, Created::AlreadyThere));
                }
                return Err(codec::namespace_conflict(&ns.name));
            }
            let count: i64 = c
                .query_row("SELECT COUNT(*) FROM namespaces WHERE network = ?1", [ns.network.as_str()], |r| r.get(0))
                .map_err(db_err)?;
            if count as usize >= max {
                return Err(codec::namespace_limit(max));
            }
            let group_known = c
                .prepare_cached("SELECT 1 FROM access_groups WHERE group_id = ?1")
                .and_then(|mut s| s.exists([ns.group_id.as_i64()]))
                .map_err(db_err)?;
            if !group_known {
                return Err(codec::access_group_missing(ns.group_id));
            }
            c.execute(
                concat!("INSERT INTO namespaces (", namespace_columns!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    ns.network.as_str(),
                    ns.name.as_str(),
                    ns.retention_seconds as i64,
                    ns.group_id.as_i64(),
                    ns.geo_location,
                    ms(ns.created_at),
                    ns.delete_at.map(ms)
                ],
            )
            .map_err(db_err)?;
            Ok((ns, Created::New))
        })
        .await
    }

    async fn set_namespace_retention(
        &self,
        network: Network,
        name: &NamespaceName,
        retention_seconds: u64,
        now: DateTime<Utc>,
    ) -> Result<Namespace, Error> {
        let name = name.clone();
        self.write(move |c| {
            c.prepare_cached(concat!(
                "UPDATE namespaces SET retention_seconds = ?3 WHERE network = ?1 AND name = ?2 RETURNING ",
                namespace_columns!()
            ))
            .and_then(|mut s| {
                s.query_row(params![network.as_str(), name.as_str(), retention_seconds as i64], namespace_from_row)
                    .optional()
            })
            .map_err(db_err)?
            .ok_or_else(codec::namespace_missing)
            .and_then(|ns| {
                changes::note(c, &Change::Namespace(network, name.clone()), now)?;
                Ok(ns)
            })
        })
        .await
    }

    async fn delete_namespace(&self, network: Network, name: &NamespaceName, now: DateTime<Utc>) -> Result<(), Error> {
        let name = name.clone();
        self.write(move |c| {
            let n = c
                .execute(
                    "DELETE FROM namespaces WHERE network = ?1 AND name = ?2",
                    params![network.as_str(), name.as_str()],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(codec::namespace_missing());
            }
            c.execute(
                "DELETE FROM items WHERE network = ?1 AND namespace = ?2",
                params![network.as_str(), name.as_str()],
            )
            .map_err(db_err)?;
            changes::note(c, &Change::Namespace(network, name.clone()), now)?;
            Ok(())
        })
        .await
    }

    async fn schedule_namespace_delete(
        &self,
        network: Network,
        name: &NamespaceName,
        at: Option<DateTime<Utc>>,
    ) -> Result<Namespace, Error> {
        let name = name.clone();
        self.write(move |c| {
            c.prepare_cached(concat!(
                "UPDATE namespaces SET delete_at = ?3 WHERE network = ?1 AND name = ?2 RETURNING ",
                namespace_columns!()
            ))
            .and_then(|mut s| {
                s.query_row(params![network.as_str(), name.as_str(), at.map(ms)], namespace_from_row).optional()
            })
            .map_err(db_err)?
            .ok_or_else(codec::namespace_missing)
        })
        .await
    }

    async fn delete_due_namespaces(&self, now: DateTime<Utc>) -> Result<Vec<(Network, NamespaceName)>, Error> {
        self.write(move |c| {
            let due: Vec<(String, String)> = {
                let mut s = c
                    .prepare_cached(
                        "SELECT network, name FROM namespaces WHERE delete_at IS NOT NULL AND delete_at <= ?1",
                    )
                    .map_err(db_err)?;
                let rows = s.query_map([ms(now)], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
            };
            let mut deleted = Vec::with_capacity(due.len());
            for (network, name) in due {
                c.execute("DELETE FROM items WHERE network = ?1 AND namespace = ?2", params![network, name])
                    .map_err(db_err)?;
                c.execute("DELETE FROM namespaces WHERE network = ?1 AND name = ?2", params![network, name])
                    .map_err(db_err)?;
                let network = Network::parse(&network).map_err(|e| Error::Internal(e.to_string()))?;
                let name = NamespaceName::parse(&name).map_err(|e| Error::Internal(e.to_string()))?;
                changes::note(c, &Change::Namespace(network, name.clone()), now)?;
                deleted.push((network, name));
            }
            Ok(deleted)
        })
        .await
    }

    async fn set_namespace_group(
        &self,
        name: &NamespaceName,
        group_id: AccessGroupId,
    ) -> Result<Vec<Namespace>, Error> {
        let name = name.clone();
        self.write(move |c| {
            let group_known = c
                .prepare_cached("SELECT 1 FROM access_groups WHERE group_id = ?1")
                .and_then(|mut s| s.exists([group_id.as_i64()]))
                .map_err(db_err)?;
            if !group_known {
                return Err(codec::access_group_missing(group_id));
            }
            let mut s = c
                .prepare_cached(concat!(
                    "UPDATE namespaces SET group_id = ?2 WHERE name = ?1 RETURNING ",
                    namespace_columns!()
                ))
                .map_err(db_err)?;
            let rows = s.query_map(params![name.as_str(), group_id.as_i64()], namespace_from_row).map_err(db_err)?;
            let mut changed: Vec<Namespace> = rows.collect::<rusqlite::Result<_>>().map_err(db_err)?;
            changed.sort_by_key(|n| n.network.as_str());
            Ok(changed)
        })
        .await
    }

    async fn list_access_groups(&self) -> Result<Vec<AccessGroup>, Error> {
        self.point_read(|c| {
            let mut s =
                c.prepare_cached("SELECT group_id, name FROM access_groups ORDER BY group_id").map_err(db_err)?;
            let rows = s
                .query_map([], |r| Ok(AccessGroup { group_id: codec::group_id(r.get::<_, i64>(0)?), name: r.get(1)? }))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn create_access_group(&self, group: AccessGroup, now: DateTime<Utc>) -> Result<AccessGroup, Error> {
        self.write(move |c| {
            let inserted = c
                .execute(
                    "INSERT INTO access_groups (group_id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![group.group_id.as_i64(), group.name, now.timestamp_millis()],
                )
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(codec::access_group_taken(group.group_id));
            }
            Ok(group)
        })
        .await
    }

    async fn delete_access_group(&self, group_id: AccessGroupId) -> Result<(), Error> {
        self.write(move |c| {
            if group_id == AccessGroupId::ACCOUNT {
                return Err(codec::account_group_kept());
            }
            let used: i64 = c
                .query_row("SELECT COUNT(*) FROM namespaces WHERE group_id = ?1", [group_id.as_i64()], |r| r.get(0))
                .map_err(db_err)?;
            if used > 0 {
                return Err(codec::access_group_in_use(group_id, used));
            }
            if c.execute("DELETE FROM access_groups WHERE group_id = ?1", [group_id.as_i64()]).map_err(db_err)? == 0 {
                return Err(codec::access_group_missing(group_id));
            }
            Ok(())
        })
        .await
    }

    async fn list_groups(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        let (name, sandbox) = (name.clone(), sandbox.to_owned());
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT DISTINCT grp FROM items WHERE network = ?1 AND namespace = ?2 AND sandbox = ?3 ORDER BY grp LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map(params![network.as_str(), name.as_str(), sandbox, max as i64], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn list_item_keys(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        group: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        let (name, sandbox, group) = (name.clone(), sandbox.to_owned(), group.to_owned());
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT item FROM items WHERE network = ?1 AND namespace = ?2 AND sandbox = ?3 AND grp = ?4 ORDER BY item LIMIT ?5",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map(params![network.as_str(), name.as_str(), sandbox, group, max as i64], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }
}
