//! EdgeGrid nonces on SQLite, in a side database (`nonces.db` beside `edgeward.db`).
//!
//! Every signed admin request records its nonce, so a request is accepted once across restarts
//! and across the processes sharing a data directory. The main database's group-commit writer
//! fsyncs every commit; a nonce per admin request there would cost each request an fsync. The
//! side database runs in WAL mode with `synchronous=NORMAL`: a commit reaches the operating
//! system before the request is answered, so it survives a crash of the process, but not
//! necessarily a power loss. A power loss means a reboot, which takes longer than the timestamp
//! window; a request captured before it has expired by the time any server answers again, so no
//! replayable nonce is lost.
//!
//! Like the main database, the side database has one writer thread that folds every nonce
//! waiting into one transaction (at most [`MAX_BATCH`]): under load, one commit answers many
//! requests, and no request blocks an async worker on SQLite. A request is answered only after
//! the transaction holding its nonce committed, so a replay sent to another process at the same
//! moment still finds it. Several processes share the file through SQLite's locking
//! (`busy_timeout`).
//!
//! Nothing slow stays on the writer's path. The table is keyed by timestamp first, so a commit
//! appends to the last pages of one B-tree and the purge of expired nonces cuts its front; keyed
//! by the random nonce first, each commit touched a page per nonce across a table of a million
//! rows, and retrieval throughput fell by a third. The key is the pair's identity too: a replay
//! is a copy of a signed request and carries its timestamp, while the same nonce under another
//! timestamp needs a new signature, so it is another request (the server's in-memory check keys
//! its pairs the same way). SQLite's automatic checkpoint would run inside a commit and fsync
//! there, stalling every request waiting for it (measured: 12–18 ms, several times a second);
//! automatic checkpoints are off and a thread of its own runs passive checkpoints (which never
//! block the writer) after every [`CHECKPOINT_EVERY`] commits. Expired nonces are deleted at
//! most every [`PURGE_EVERY_MS`], so each purge is a small delete.
//!
//! The file has no migrations: it holds nothing that outlives the timestamp window, and its one
//! table is created if absent, at the first nonce (administration commands never create it);
//! the table of earlier versions is carried over and dropped then.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot};

use edgeward_core::Error;

use super::{create_private, db_err, tighten_modes};
use crate::codec::ms;

/// Least time between two purges of expired nonces.
pub(super) const PURGE_EVERY_MS: i64 = 1_000;

/// Commits between two checkpoints of the write-ahead log.
const CHECKPOINT_EVERY: u32 = 64;

/// Most nonces recorded in one transaction.
const MAX_BATCH: usize = 256;

/// One nonce waiting for the writer, with where to send whether it was new.
struct Pending {
    client_token: String,
    nonce: String,
    timestamp: i64,
    forget_before: i64,
    reply: oneshot::Sender<Result<bool, Error>>,
}

/// The side database's writer, started with the store; the file is opened at the first nonce.
pub(super) struct NonceDb {
    queue: mpsc::UnboundedSender<Pending>,
}

impl NonceDb {
    pub(super) fn new(path: PathBuf) -> Result<Self, Error> {
        let (queue, rx) = mpsc::unbounded_channel();
        // Room for one request: a checkpoint asked for while one runs is not queued twice.
        let (checkpoint, checkpoints) = std::sync::mpsc::sync_channel(1);
        let checkpoint_path = path.clone();
        std::thread::Builder::new()
            .name("edgeward-nonce-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoint_path, &checkpoints))
            .map_err(|e| Error::Internal(format!("cannot start the nonce checkpoint thread: {e}")))?;
        std::thread::Builder::new()
            .name("edgeward-nonce-writer".into())
            .spawn(move || writer_loop(&path, rx, &checkpoint))
            .map_err(|e| Error::Internal(format!("cannot start the nonce writer thread: {e}")))?;
        Ok(Self { queue })
    }

    /// Record the nonce; false when the client sent it before with this timestamp (a replay).
    pub(super) async fn record(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let stopped = || Error::Unavailable("the nonce writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            client_token: client_token.to_owned(),
            nonce: nonce.to_owned(),
            timestamp: ms(timestamp),
            forget_before: ms(forget_before),
            reply,
        };
        self.queue.send(pending).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn open(path: &Path) -> Result<Connection, Error> {
    create_private(path)?;
    tighten_modes(path)?;
    let c = Connection::open(path).map_err(db_err)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
         PRAGMA wal_autocheckpoint=0;
         CREATE TABLE IF NOT EXISTS nonces_by_time (
             ts           INTEGER NOT NULL,
             client_token TEXT    NOT NULL,
             nonce        TEXT    NOT NULL,
             PRIMARY KEY (ts, client_token, nonce)
         ) WITHOUT ROWID;",
    )
    .map_err(db_err)?;
    // Earlier versions keyed the table by client and nonce: carry its nonces over, once.
    let earlier: bool = c
        .query_row("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'nonces'", [], |r| r.get(0))
        .map_err(db_err)?;
    if earlier {
        c.execute_batch(
            "BEGIN IMMEDIATE;
             INSERT OR IGNORE INTO nonces_by_time (ts, client_token, nonce) SELECT ts, client_token, nonce FROM nonces;
             DROP TABLE nonces;
             COMMIT;",
        )
        .map_err(db_err)?;
    }
    tighten_modes(path)?;
    Ok(c)
}

/// Run a passive checkpoint each time the writer asks, on a connection of its own, until the
/// writer stops.
fn checkpoint_loop(path: &Path, requests: &std::sync::mpsc::Receiver<()>) {
    let mut conn: Option<Connection> = None;
    while requests.recv().is_ok() {
        if conn.is_none() {
            conn = Connection::open(path)
                .and_then(|c| c.execute_batch("PRAGMA busy_timeout=5000;").map(|()| c))
                .map_err(|e| tracing::error!(error = %e, "cannot open the nonce database to checkpoint it"))
                .ok();
        }
        if let Some(c) = &conn {
            if let Err(e) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint of the nonce database failed; the next one retries");
            }
        }
    }
}

fn writer_loop(path: &Path, mut rx: mpsc::UnboundedReceiver<Pending>, checkpoint: &std::sync::mpsc::SyncSender<()>) {
    let mut conn: Option<Connection> = None;
    let mut purged_before = 0_i64;
    let mut commits = 0_u32;
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = open(path).map_err(|e| tracing::error!(error = %e, "cannot open the nonce database")).ok();
        }
        let answers = match &conn {
            Some(c) => record_batch(c, &batch, &mut purged_before),
            None => Err(Error::Unavailable("the nonce database cannot be opened".into())),
        };
        match answers {
            Ok(fresh) => {
                for (p, fresh) in batch.drain(..).zip(fresh) {
                    let _ = p.reply.send(Ok(fresh));
                }
                commits += 1;
                if commits >= CHECKPOINT_EVERY {
                    commits = 0;
                    // Full means a checkpoint is already asked for; it covers these commits too.
                    let _ = checkpoint.try_send(());
                }
            }
            Err(e) => {
                tracing::error!(error = %e, nonces = batch.len(), "cannot record nonces");
                for p in batch.drain(..) {
                    let _ = p.reply.send(Err(Error::Unavailable("the nonce could not be recorded".into())));
                }
            }
        }
    }
}

/// Record a batch in one transaction: for each nonce, whether it was new. A nonce sent twice in
/// one batch is new only the first time.
fn record_batch(c: &Connection, batch: &[Pending], purged_before: &mut i64) -> Result<Vec<bool>, Error> {
    let mut run = || -> rusqlite::Result<Vec<bool>> {
        c.execute_batch("BEGIN IMMEDIATE")?;
        let forget = batch.iter().map(|p| p.forget_before).max().unwrap_or(0);
        let purge = forget - *purged_before >= PURGE_EVERY_MS;
        if purge {
            c.prepare_cached("DELETE FROM nonces_by_time WHERE ts < ?1")?.execute([forget])?;
        }
        let mut insert =
            c.prepare_cached("INSERT OR IGNORE INTO nonces_by_time (client_token, nonce, ts) VALUES (?1, ?2, ?3)")?;
        let fresh = batch
            .iter()
            .map(|p| insert.execute(params![p.client_token, p.nonce, p.timestamp]).map(|n| n == 1))
            .collect::<rusqlite::Result<Vec<bool>>>()?;
        c.execute_batch("COMMIT")?;
        if purge {
            *purged_before = forget;
        }
        Ok(fresh)
    };
    run().map_err(|e| {
        let _ = c.execute_batch("ROLLBACK");
        db_err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("in range")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_many_requests_sending_one_nonce_at_once_exactly_one_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let db = std::sync::Arc::new(NonceDb::new(dir.path().join("nonces.db")).unwrap());
        let mut tries = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let db = db.clone();
            tries.spawn(async move { db.record("ct", "n1", at(0), at(-240)).await.unwrap() });
        }
        let answers = tries.join_all().await;
        assert_eq!(answers.len(), 64);
        assert_eq!(answers.iter().filter(|fresh| **fresh).count(), 1);
    }

    #[tokio::test]
    async fn nonces_of_the_earlier_table_are_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonces.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE nonces (client_token TEXT NOT NULL, nonce TEXT NOT NULL, ts INTEGER NOT NULL,
                                  PRIMARY KEY (client_token, nonce)) WITHOUT ROWID;",
        )
        .unwrap();
        c.execute("INSERT INTO nonces VALUES ('ct', 'n1', ?1)", [ms(at(0))]).unwrap();
        drop(c);
        let db = NonceDb::new(path.clone()).unwrap();
        assert!(
            !db.record("ct", "n1", at(0), at(-240)).await.unwrap(),
            "a replay of a nonce recorded before the upgrade"
        );
        assert!(db.record("ct", "n2", at(0), at(-240)).await.unwrap());
        let c = Connection::open(&path).unwrap();
        let tables: i64 =
            c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'nonces'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "the earlier table is dropped");
    }
}
