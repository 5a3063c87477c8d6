//! The SQLite implementation: one group-committing writer thread plus a pool of readers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use crossbeam_queue::ArrayQueue;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use edgeward_core::Error;

use crate::codec::{self, ms};
use crate::migrate;
use crate::refs::{RefKeys, RefSlot, INDEX_KEY_NAME, REF_COLUMNS};
use crate::sql::sqlite as sql;
use edgeward_token::DataKey;

mod account;
mod api_clients;
mod audit;
mod changes;
mod items;
mod namespaces;
mod nonces;
mod notify;
mod roles;
mod sealed;
mod sessions;
mod tokens;

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
    /// Writes sent to the writer and not yet taken up by it.
    queued: Arc<AtomicU64>,
    /// Whether the writer is in a transaction now.
    writing: Arc<AtomicBool>,
}

/// Read-only connections, reused. The idle ones wait in a lock-free queue: every point read
/// takes one and gives it back, so a mutex here would be contended by every worker thread.
struct ReadPool {
    path: PathBuf,
    /// At most `readers` idle connections; one opened beyond them is closed after its read.
    idle: ArrayQueue<Connection>,
    /// Connections serving a read now (for metrics).
    in_use: AtomicU64,
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
#[allow(
    clippy::disallowed_methods,
    reason = "the database file is the store's storage: made owner-only before SQLite opens it"
)]
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
#[allow(
    clippy::disallowed_methods,
    reason = "the database files are the store's storage: their modes are tightened when it opens"
)]
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
        let (queued, writing) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let gauges = WriterGauges { queued: queued.clone(), writing: writing.clone() };
        std::thread::Builder::new()
            .name("edgeward-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch, gauges))
            .map_err(|e| Error::Internal(format!("cannot start the writer thread: {e}")))?;
        let nonce_dir = opts.nonce_dir.clone().unwrap_or_else(|| path.with_file_name("nonces"));
        Ok(Self {
            writer: tx,
            nonces: Arc::new(nonces::NonceJournal::new(nonce_dir)),
            refs: Default::default(),
            readers: Arc::new(ReadPool {
                path: path.to_owned(),
                idle: ArrayQueue::new(opts.readers.max(1)),
                in_use: AtomicU64::new(0),
            }),
            queued,
            writing,
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
                let stored: Option<Vec<u8>> =
                    c.query_row(sql::SEALED_KEY, [INDEX_KEY_NAME], |r| r.get(0)).optional().map_err(db_err)?;
                let (keys, new) = RefKeys::open_or_new(stored.as_deref(), &data)?;
                if let Some(sealed) = new {
                    c.execute(sql::INSERT_SEALED_KEY, params![INDEX_KEY_NAME, sealed, ms(now)]).map_err(db_err)?;
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
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.writer.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::Unavailable("the database writer has stopped".into()));
        }
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

impl edgeward_core::store::PoolStatus for SqliteStore {
    fn pool_stats(&self) -> edgeward_core::store::PoolStats {
        use edgeward_core::store::{PoolStats, PoolUsage};
        let size = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let writing = u64::from(self.writing.load(Ordering::Relaxed));
        PoolStats {
            backend: "sqlite",
            pools: vec![
                PoolUsage {
                    pool: "read",
                    in_use: self.readers.in_use.load(Ordering::Relaxed),
                    idle: size(self.readers.idle.len()),
                    max: size(self.readers.idle.capacity()),
                },
                PoolUsage { pool: "write", in_use: writing, idle: 1 - writing, max: 1 },
            ],
            writer_queue: Some(self.queued.load(Ordering::Relaxed)),
        }
    }
}

/// What the writer thread reports: writes waiting for it, and whether it is in a transaction.
struct WriterGauges {
    queued: Arc<AtomicU64>,
    writing: Arc<AtomicBool>,
}

impl WriterGauges {
    fn took(&self, jobs: u64) {
        self.queued.fetch_sub(jobs, Ordering::Relaxed);
    }
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.in_use.fetch_add(1, Ordering::Relaxed);
        let out = self.with_connection(f);
        self.in_use.fetch_sub(1, Ordering::Relaxed);
        out
    }

    fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
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
    let tokens = strings(sql::TOKENS_WITHOUT_SEALED_UUID)?;
    for old in &tokens {
        let uuid = parse(old)?;
        let new = refs.token_ref(&uuid);
        c.execute(sql::REKEY_TOKEN_ROW, params![old, new, refs.seal_uuid(&uuid, &new)]).map_err(db_err)?;
    }
    for (table, column, filter) in REF_COLUMNS {
        let olds = strings(&crate::sql::legacy_uuids(table, column, filter))?;
        for old in olds.iter().filter(|o| crate::refs::is_legacy(o)) {
            let new = refs.token_ref(&parse(old)?);
            c.execute(&crate::sql::rekey_legacy(table, column, filter, crate::sql::Dialect::Sqlite), params![old, new])
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

fn writer_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>, max_batch: usize, gauges: WriterGauges) {
    let mut replies: Vec<Reply> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        gauges.took(1);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction");
            first(&conn)(false);
            continue;
        }
        gauges.writing.store(true, Ordering::Relaxed);
        replies.push(first(&conn));
        while replies.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    gauges.took(1);
                    replies.push(job(&conn));
                }
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
        gauges.writing.store(false, Ordering::Relaxed);
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
