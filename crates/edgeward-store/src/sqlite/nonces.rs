//! EdgeGrid nonces on SQLite, in a side database (`nonces.db` beside `edgeward.db`).
//!
//! Every signed admin request records its nonce, so a request is accepted once across restarts
//! and across the processes sharing a data directory. The main database's group-commit writer
//! fsyncs every commit; a nonce per admin request there would cost each request an fsync. The
//! side database runs in WAL mode with `synchronous=NORMAL`: a commit reaches the operating
//! system before the request is answered, so it survives a crash of the process, but not
//! necessarily a power loss. A power loss means a reboot, which takes longer than the timestamp
//! window; a request captured before it has expired by the time any server answers again, so no
//! replayable nonce is lost. One connection per store, with a cached prepared statement; several
//! processes share the file through SQLite's locking (`busy_timeout`). Expired nonces are
//! deleted at most every [`PURGE_EVERY_MS`].
//!
//! The file has no migrations: it holds nothing that outlives the timestamp window, and its one
//! table is created if absent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use edgeward_core::Error;

use super::{create_private, db_err, tighten_modes};
use crate::codec::ms;

/// Least time between two purges of expired nonces.
pub(super) const PURGE_EVERY_MS: i64 = 10_000;

/// The side database, opened at its first use (administration commands never create it).
pub(super) struct NonceDb {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
    purged_before: AtomicI64,
}

impl NonceDb {
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, conn: Mutex::new(None), purged_before: AtomicI64::new(0) }
    }

    fn open(path: &Path) -> Result<Connection, Error> {
        create_private(path)?;
        tighten_modes(path)?;
        let c = Connection::open(path).map_err(db_err)?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS nonces (
                 client_token TEXT    NOT NULL,
                 nonce        TEXT    NOT NULL,
                 ts           INTEGER NOT NULL,
                 PRIMARY KEY (client_token, nonce)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces (ts);",
        )
        .map_err(db_err)?;
        tighten_modes(path)?;
        Ok(c)
    }

    /// Record the pair; false when it was already recorded (a replay).
    pub(super) fn record(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(Self::open(&self.path)?);
        }
        let c = guard.as_ref().expect("opened above");
        let forget = ms(forget_before);
        if forget - self.purged_before.load(Ordering::Relaxed) >= PURGE_EVERY_MS {
            c.prepare_cached("DELETE FROM nonces WHERE ts < ?1")
                .and_then(|mut s| s.execute([forget]))
                .map_err(db_err)?;
            self.purged_before.store(forget, Ordering::Relaxed);
        }
        let inserted = c
            .prepare_cached("INSERT OR IGNORE INTO nonces (client_token, nonce, ts) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![client_token, nonce, ms(timestamp)]))
            .map_err(db_err)?;
        Ok(inserted == 1)
    }
}
