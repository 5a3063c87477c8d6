//! Consistent copies of a SQLite database while servers keep writing to it (`edgeward backup`),
//! and the checks a copy passes before `edgeward restore` puts it in place.
//!
//! The copy is SQLite's online backup API run in **one step** (`sqlite3_backup_step` for every page at once): every
//! page is copied inside one read transaction, so the copy is the database as of one commit, and
//! under WAL a reader never blocks the writer (the writer keeps committing to the WAL; only the
//! checkpoint waits behind the copy, so the WAL may grow while it runs). A backup run in several
//! small steps would restart whenever another connection commits between two steps, and under a
//! steady stream of writes might never finish. `VACUUM INTO` would be as consistent, but rewrites
//! every row through the SQL layer; the page copy is cheaper and keeps the file as it is.

use std::path::Path;
use std::time::Duration;

use edgeward_core::Error;
use rusqlite::{backup::Backup, Connection, OpenFlags};

fn failed<'a>(what: &str, path: &'a Path) -> impl FnOnce(rusqlite::Error) -> Error + 'a {
    let what = what.to_owned();
    move |e| Error::Internal(format!("{what} {}: {e}", path.display()))
}

/// Copy the SQLite database at `src` (which servers may be writing to) to a new file `dst`
/// (made 0600; it must not exist): one consistent snapshot, left in rollback-journal mode so
/// that the one file is the whole database. Returns the copy's schema version, after
/// [`check_copy`] has checked it.
pub fn sqlite_snapshot(src: &Path, dst: &Path) -> Result<u32, Error> {
    let source = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed("cannot open", src))?;
    source.busy_timeout(Duration::from_secs(5)).map_err(failed("cannot open", src))?;
    crate::sqlite::create_private(dst)?;
    {
        let mut target = Connection::open(dst).map_err(failed("cannot create", dst))?;
        let backup = Backup::new(&source, &mut target).map_err(failed("cannot copy", src))?;
        // i32::MAX pages: every page in one step, under one read transaction (see the module's
        // docs). A busy or locked source (a WAL reset in progress) is retried after the pause.
        backup.run_to_completion(i32::MAX, Duration::from_millis(50), None).map_err(failed("cannot copy", src))?;
    }
    let target = Connection::open(dst).map_err(failed("cannot open", dst))?;
    let mode: String =
        target.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0)).map_err(failed("cannot finish", dst))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(Error::Internal(format!("cannot finish {}: journal mode stayed {mode}", dst.display())));
    }
    drop(target);
    check_copy(dst)
}

/// Check a copied database before anything relies on it: SQLite's `integrity_check` passes and
/// it is an Edgeward database (it has `schema_migrations`). Returns its schema version; the
/// caller compares it with [`crate::migrate::newest_version`].
pub fn check_copy(path: &Path) -> Result<u32, Error> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed("cannot open", path))?;
    let not_edgeward =
        |detail: String| Error::Internal(format!("{} is not an intact Edgeward database: {detail}", path.display()));
    let verdict: String =
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| not_edgeward(e.to_string()))?;
    if verdict != "ok" {
        return Err(not_edgeward(format!("integrity check: {verdict}")));
    }
    let has_schema: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| not_edgeward(e.to_string()))?;
    if !has_schema {
        return Err(not_edgeward("it has no schema_migrations table".into()));
    }
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(|e| not_edgeward(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods, reason = "the test damages a copy's bytes on disk")]
    fn a_snapshot_is_checked_and_a_damaged_copy_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.db");
        let conn = Connection::open(&src).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version INTEGER); \
             INSERT INTO schema_migrations VALUES (3); CREATE TABLE t (v BLOB);",
        )
        .unwrap();
        for _ in 0..200 {
            conn.execute("INSERT INTO t VALUES (zeroblob(1000))", []).unwrap();
        }
        let dst = dir.path().join("copy.db");
        assert_eq!(sqlite_snapshot(&src, &dst).unwrap(), 3);
        // The source stays open in WAL mode: the copy is one file, whole without a WAL.
        assert!(!dir.path().join("copy.db-wal").exists());

        let plain = dir.path().join("plain.db");
        Connection::open(&plain).unwrap().execute_batch("CREATE TABLE x (v)").unwrap();
        let e = check_copy(&plain).unwrap_err().log_detail();
        assert!(e.contains("no schema_migrations"), "{e}");

        let mut bytes = std::fs::read(&dst).unwrap();
        let len = bytes.len();
        bytes[len / 2..len / 2 + 4096].fill(0xA5);
        let broken = dir.path().join("broken.db");
        std::fs::write(&broken, &bytes).unwrap();
        assert!(check_copy(&broken).is_err());
    }
}
