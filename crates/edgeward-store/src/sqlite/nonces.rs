//! EdgeGrid nonces on SQLite deployments: an append-only journal in the data directory
//! (`nonces/`, 0700, one file per minute of request timestamps, 0600).
//!
//! Every signed admin request records its (client, timestamp, nonce), so a request is accepted
//! once across restarts and across the processes sharing a data directory (a blue/green restart
//! on one host). A replay is a copy of a signed request and carries its timestamp; the same nonce
//! under another timestamp needs a new signature, so it is another request.
//!
//! **Why a journal and not a table.** A SQLite commit per request (even batched, in a side
//! database without fsync) cost admin retrieval a third of its throughput: locking, B-tree pages,
//! WAL frames and checkpoints for 50 bytes that matter for four minutes. Here a request costs one
//! `write(2)` of a 16-byte record to the page cache and an `lseek(2)`, on the caller's thread,
//! with no thread hand-off.
//!
//! **Durability.** The record reaches the operating system before the request is answered, so it
//! survives a crash of the process (`kill -9`), but not necessarily a power loss. A power loss
//! means a reboot, which takes longer than the timestamp window: a request captured before it has
//! expired by the time any server answers again, so no replayable nonce is lost.
//!
//! **Several processes, exactly once.** Each record is one `O_APPEND` write of [`RECORD`] bytes,
//! which the kernel places whole at the end of the file, so the file is one order of all
//! processes' records. A record goes to the file of its timestamp's minute, so a request and its
//! replays always meet in one file. After appending, a process reads what others appended before
//! its record (nothing, when it is alone: the offset tells): a copy of its record there means the
//! other process accepted it first, and this one is a replay. Of any number of processes sent one
//! request at once, exactly the one whose record comes first accepts it.
//!
//! **Memory and expiry.** Each process keeps the records it has read or written as 64-bit keys in
//! one set per timestamp; sets whose timestamp is older than `forget_before` are dropped whole,
//! and a minute's file is deleted once its last timestamp is. A file is read whole the first time
//! a process needs its minute, so a restarted server knows what the one before it accepted.
//!
//! Records: the timestamp in milliseconds (i64, little-endian), then the first 8 bytes of a
//! SHA-256 over the client token, the nonce and the timestamp. An accidental match of two
//! requests is about one in 10^13 at ten thousand requests a second, and a client cannot aim a
//! match at another client's request, whose nonce it does not know in advance.
//!
//! Earlier versions kept nonces in a SQLite side database (`nonces.db`): its nonces still in the
//! window are carried into the journal at the first nonce, and the file is removed.
#![allow(clippy::disallowed_methods, reason = "the nonce journal's files are the store's storage")]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Seek, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashSet;
use sha2::{Digest, Sha256};

use edgeward_core::Error;

use crate::codec::ms;

/// Bytes in one record: a power of two, so a record never straddles a page of the file.
const RECORD: usize = 16;

/// Milliseconds of request timestamps per journal file.
const FILE_SPAN_MS: i64 = 60_000;

/// The nonce journal of one store.
pub(super) struct NonceJournal {
    dir: PathBuf,
    /// The side database of earlier versions, carried over at the first nonce.
    earlier: PathBuf,
    state: Mutex<Option<Journal>>,
}

/// What a process knows of the journal: opened at the first nonce.
struct Journal {
    /// Open files by minute (timestamp / [`FILE_SPAN_MS`]).
    files: BTreeMap<i64, Minute>,
    /// Keys of the records read or written, by timestamp (already hashes: a light hasher).
    seen: BTreeMap<i64, FxHashSet<u64>>,
    /// The `forget_before` of the last cleanup of files.
    cleaned_before: i64,
}

/// One minute's file and how far this process has read it.
struct Minute {
    file: File,
    path: PathBuf,
    read_to: u64,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    tracing::error!(path = %path.display(), error = %e, "nonce journal: cannot {what}");
    Error::Unavailable("the nonce could not be recorded".into())
}

/// The record key of a request.
fn key(client_token: &str, nonce: &str, ts: i64) -> u64 {
    let mut h = Sha256::new();
    for part in [client_token.as_bytes(), nonce.as_bytes()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(ts.to_le_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

fn encode(ts: i64, key: u64) -> [u8; RECORD] {
    let mut r = [0u8; RECORD];
    r[..8].copy_from_slice(&ts.to_le_bytes());
    r[8..].copy_from_slice(&key.to_le_bytes());
    r
}

fn decode(r: &[u8]) -> (i64, u64) {
    let ts = i64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
    let key = u64::from_le_bytes(r[8..RECORD].try_into().expect("8 bytes"));
    (ts, key)
}

/// The file name of a minute (the unix second it starts at), and back.
fn file_name(minute: i64) -> String {
    format!("{}.log", minute * (FILE_SPAN_MS / 1000))
}

fn minute_of_name(name: &str) -> Option<i64> {
    let secs: i64 = name.strip_suffix(".log")?.parse().ok()?;
    (secs % (FILE_SPAN_MS / 1000) == 0).then_some(secs / (FILE_SPAN_MS / 1000))
}

/// Whether a minute's every timestamp is before `forget_before`.
fn ended(minute: i64, forget_before: i64) -> bool {
    (minute + 1).saturating_mul(FILE_SPAN_MS) <= forget_before
}

impl NonceJournal {
    /// The journal in `dir` (created at the first nonce; administration commands never do).
    pub(super) fn new(dir: PathBuf) -> Self {
        let earlier = dir.with_extension("db");
        Self { dir, earlier, state: Mutex::new(None) }
    }

    /// Record the nonce; false when the client sent it before with this timestamp (a replay).
    /// A timestamp before `forget_before` is outside any window: nothing to remember.
    pub(super) fn record(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let (ts, forget) = (ms(timestamp), ms(forget_before));
        if ts < forget {
            return Ok(true);
        }
        // Hashed before the lock is taken: other requests wait only for the append.
        let key = key(client_token, nonce, ts);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.is_none() {
            *state = Some(self.open(forget)?);
        }
        let j = state.as_mut().expect("opened above");
        j.forget(&self.dir, forget);
        j.accept(&self.dir, ts, key, forget)
    }

    /// Create the directory, delete the files of minutes already past, and carry over the
    /// nonces of an earlier version's side database.
    fn open(&self, forget: i64) -> Result<Journal, Error> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io_err("create the directory", &self.dir, e))?;
        let mut j = Journal { files: BTreeMap::new(), seen: BTreeMap::new(), cleaned_before: i64::MIN };
        j.forget(&self.dir, forget);
        for (client_token, nonce, ts) in earlier_nonces(&self.earlier, forget) {
            j.accept(&self.dir, ts, key(&client_token, &nonce, ts), forget)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.earlier.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::remove_file(&name) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("remove the earlier nonce database", Path::new(&name), e)),
            }
        }
        Ok(j)
    }
}

impl Journal {
    /// Remember a request's record; false when this process or another accepted it before.
    fn accept(&mut self, dir: &Path, ts: i64, key: u64, forget: i64) -> Result<bool, Error> {
        if self.seen.get(&ts).is_some_and(|s| s.contains(&key)) {
            return Ok(false);
        }
        let fresh = self.append(dir, ts.div_euclid(FILE_SPAN_MS), ts, key, forget)?;
        if fresh {
            self.seen.entry(ts).or_default().insert(key);
        }
        Ok(fresh)
    }

    /// Drop what is older than `forget`: the sets of its timestamps at once, its files when a
    /// minute has passed (closing and deleting them, also those only other processes opened).
    fn forget(&mut self, dir: &Path, forget: i64) {
        while let Some(first) = self.seen.first_entry() {
            if *first.key() >= forget {
                break;
            }
            first.remove();
        }
        if forget.div_euclid(FILE_SPAN_MS) == self.cleaned_before.div_euclid(FILE_SPAN_MS) {
            return;
        }
        self.cleaned_before = forget;
        self.files.retain(|minute, _| !ended(*minute, forget));
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(minute) = name.to_str().and_then(minute_of_name) else { continue };
            if ended(minute, forget) {
                // Another process may just have deleted it too.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Append a record to its minute's file; false when another process's copy of it comes
    /// first in the file.
    fn append(&mut self, dir: &Path, minute: i64, ts: i64, key: u64, forget: i64) -> Result<bool, Error> {
        let m = match self.files.entry(minute) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let path = dir.join(file_name(minute));
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| io_err("open", &path, e))?;
                e.insert(Minute { file, path, read_to: 0 })
            }
        };
        let path = m.path.as_path();
        m.file.write_all(&encode(ts, key)).map_err(|e| io_err("append to", path, e))?;
        let end = m.file.stream_position().map_err(|e| io_err("seek in", path, e))?;
        if end % RECORD as u64 != 0 {
            // Not written by Edgeward (a record is one write, whole or not at all): refuse
            // rather than misread the minute; its file is deleted with the minute.
            tracing::error!(path = %path.display(), "nonce journal: the file is damaged; signed requests of this minute are refused");
            return Err(Error::Unavailable("the nonce could not be recorded".into()));
        }
        let mine = end.saturating_sub(RECORD as u64);
        let mut first = true;
        if mine > m.read_to {
            // What other processes appended since this one last read, up to its own record.
            let mut others = vec![
                0u8;
                usize::try_from(mine - m.read_to)
                    .map_err(|e| Error::Internal(format!("nonce journal size: {e}")))?
            ];
            m.file.read_exact_at(&mut others, m.read_to).map_err(|e| io_err("read", path, e))?;
            for r in others.chunks_exact(RECORD) {
                let (t, k) = decode(r);
                if t == ts && k == key {
                    first = false;
                }
                if t >= forget {
                    self.seen.entry(t).or_default().insert(k);
                }
            }
        }
        m.read_to = end;
        Ok(first)
    }
}

/// The nonces of an earlier version's side database still inside the window (none when it is
/// absent or unreadable: it held nothing that outlives four minutes).
fn earlier_nonces(path: &Path, forget: i64) -> Vec<(String, String, i64)> {
    if !path.exists() {
        return Vec::new();
    }
    let read = || -> rusqlite::Result<Vec<(String, String, i64)>> {
        let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut out = Vec::new();
        for table in ["nonces_by_time", "nonces"] {
            let exists: bool = c.query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            if exists {
                let mut q = c.prepare(&format!("SELECT client_token, nonce, ts FROM {table} WHERE ts >= ?1"))?;
                let rows = q.query_map([forget], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            }
        }
        Ok(out)
    };
    read().unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "the earlier nonce database is unreadable; its nonces are not carried over");
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("in range")
    }

    /// A journal directory (not created yet) in a temporary directory kept as long as the guard.
    fn journal_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonces");
        (dir, path)
    }

    #[test]
    fn of_many_journals_sent_one_request_at_once_exactly_one_accepts_it() {
        let (_dir, path) = journal_dir();
        for round in 0..20 {
            let nonce = format!("n{round}");
            let barrier = std::sync::Barrier::new(8);
            let accepted = std::thread::scope(|s| {
                let tries: Vec<_> = (0..8)
                    .map(|_| {
                        let (path, nonce, barrier) = (path.clone(), nonce.clone(), &barrier);
                        s.spawn(move || {
                            // A journal each: as many processes sharing the directory.
                            let j = NonceJournal::new(path);
                            barrier.wait();
                            j.record("ct", &nonce, at(0), at(-240)).unwrap()
                        })
                    })
                    .collect();
                tries.into_iter().map(|t| t.join().unwrap()).filter(|fresh| *fresh).count()
            });
            assert_eq!(accepted, 1, "round {round}");
        }
    }

    #[test]
    fn a_reopened_journal_knows_the_nonces_before_it_and_forgets_them_after_the_window() {
        let (_dir, path) = journal_dir();
        let j = NonceJournal::new(path.clone());
        assert!(j.record("ct", "n1", at(0), at(-240)).unwrap());
        assert!(!j.record("ct", "n1", at(0), at(-240)).unwrap(), "replay, same journal");
        drop(j);
        let again = NonceJournal::new(path.clone());
        assert!(!again.record("ct", "n1", at(0), at(-239)).unwrap(), "replay after a reopen");
        assert!(again.record("ct", "n2", at(0), at(-239)).unwrap());
        assert!(again.record("ct", "n1", at(1), at(-239)).unwrap(), "another timestamp, another request");
        // Two minutes later the first minute's file is gone from the directory.
        assert!(again.record("ct", "n3", at(300), at(121)).unwrap());
        let names: Vec<String> =
            std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, vec![file_name(at(300).timestamp_millis().div_euclid(FILE_SPAN_MS))]);
        assert!(again.record("ct", "n1", at(0), at(121)).unwrap(), "outside the window: forgotten");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(path.join(&names[0])).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_damaged_file_refuses_its_minute_only() {
        let (_dir, path) = journal_dir();
        let j = NonceJournal::new(path.clone());
        assert!(j.record("ct", "n1", at(0), at(-240)).unwrap());
        let file = path.join(file_name(ms(at(0)).div_euclid(FILE_SPAN_MS)));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), RECORD as u64, "one record, one write");
        std::fs::OpenOptions::new().append(true).open(&file).unwrap().write_all(b"junk!").unwrap();
        let again = NonceJournal::new(path);
        assert!(again.record("ct", "n2", at(0), at(-240)).is_err(), "fails closed");
        assert!(again.record("ct", "n3", at(120), at(-120)).unwrap(), "the next minute's file is whole");
    }

    #[test]
    fn nonces_of_the_earlier_side_database_are_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let earlier = dir.path().join("nonces.db");
        let c = rusqlite::Connection::open(&earlier).unwrap();
        c.execute_batch(
            "CREATE TABLE nonces_by_time (ts INTEGER NOT NULL, client_token TEXT NOT NULL, nonce TEXT NOT NULL,
                                          PRIMARY KEY (ts, client_token, nonce)) WITHOUT ROWID;
             CREATE TABLE nonces (client_token TEXT NOT NULL, nonce TEXT NOT NULL, ts INTEGER NOT NULL,
                                  PRIMARY KEY (client_token, nonce)) WITHOUT ROWID;",
        )
        .unwrap();
        c.execute("INSERT INTO nonces_by_time VALUES (?1, 'ct', 'n1')", [ms(at(0))]).unwrap();
        c.execute("INSERT INTO nonces VALUES ('ct', 'n2', ?1)", [ms(at(0))]).unwrap();
        drop(c);
        let j = NonceJournal::new(dir.path().join("nonces"));
        assert!(!j.record("ct", "n1", at(0), at(-240)).unwrap(), "a replay of a nonce recorded before the upgrade");
        assert!(!j.record("ct", "n2", at(0), at(-240)).unwrap(), "and of the oldest table's");
        assert!(j.record("ct", "n3", at(0), at(-240)).unwrap());
        assert!(!earlier.exists(), "the earlier database is removed");
        let again = NonceJournal::new(dir.path().join("nonces"));
        assert!(!again.record("ct", "n1", at(0), at(-240)).unwrap(), "carried into the journal itself");
    }
}
