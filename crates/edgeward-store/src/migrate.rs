//! Schema migrations: numbered SQL files applied in order, recorded in `schema_migrations`.
//! A database whose schema is newer than this build is refused rather than misread.

use rusqlite::Connection;

use edgeward_core::Error;

pub(crate) const SQLITE: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "items", include_str!("../migrations/sqlite/0002_items.sql")),
    (3, "token_usage", include_str!("../migrations/sqlite/0003_token_usage.sql")),
    (4, "access_groups", include_str!("../migrations/sqlite/0004_access_groups.sql")),
    (5, "notifications", include_str!("../migrations/sqlite/0005_notifications.sql")),
    (6, "email_outbox", include_str!("../migrations/sqlite/0006_email_outbox.sql")),
    (7, "webhook_outbox", include_str!("../migrations/sqlite/0007_webhook_outbox.sql")),
    (8, "changes", include_str!("../migrations/sqlite/0008_changes.sql")),
    (9, "nonces", include_str!("../migrations/sqlite/0009_nonces.sql")),
    (10, "signing_keys", include_str!("../migrations/sqlite/0010_signing_keys.sql")),
    (11, "token_refs", include_str!("../migrations/sqlite/0011_token_refs.sql")),
    (13, "key_rotation", include_str!("../migrations/sqlite/0013_key_rotation.sql")),
    (14, "audit", include_str!("../migrations/sqlite/0014_audit.sql")),
    (15, "nonce_key", include_str!("../migrations/sqlite/0015_nonce_key.sql")),
    (16, "passwords", include_str!("../migrations/sqlite/0016_passwords.sql")),
    (17, "roles", include_str!("../migrations/sqlite/0017_roles.sql")),
    (18, "sessions", include_str!("../migrations/sqlite/0018_sessions.sql")),
    (19, "scheduled_revocation", include_str!("../migrations/sqlite/0019_scheduled_revocation.sql")),
    (20, "client_notify", include_str!("../migrations/sqlite/0020_client_notify.sql")),
    (21, "count_shards", include_str!("../migrations/sqlite/0021_count_shards.sql")),
];

/// The newest schema version this build knows.
pub fn newest_version() -> u32 {
    SQLITE.last().map_or(0, |m| m.0)
}

/// The schema version of the database at `path` (0 for a new one).
#[allow(clippy::disallowed_methods, reason = "the database file is the store's storage: none yet is a new database")]
pub fn database_version(path: &std::path::Path) -> Result<u32, Error> {
    if !path.exists() {
        return Ok(0);
    }
    let conn = Connection::open(path).map_err(|e| Error::Internal(format!("cannot open {}: {e}", path.display())))?;
    let has_table: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| Error::Internal(format!("migration: {e}")))?;
    if !has_table {
        return Ok(0);
    }
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(|e| Error::Internal(format!("migration: {e}")))
}

pub(crate) fn apply(conn: &mut Connection) -> Result<(), Error> {
    let internal = |e: rusqlite::Error| Error::Internal(format!("migration: {e}"));
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .map_err(internal)?;
    let current: u32 = conn
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(internal)?;
    let newest = SQLITE.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(Error::Internal(format!(
            "the database schema is version {current}, newer than this Edgeward build knows ({newest}); upgrade Edgeward"
        )));
    }
    for (version, name, sql) in SQLITE.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction().map_err(internal)?;
        tx.execute_batch(sql).map_err(internal)?;
        tx.execute(
            // The database's own time: bookkeeping of the schema, never compared with the Clock.
            "INSERT INTO schema_migrations (version, name, applied_at) \
             VALUES (?1, ?2, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
            rusqlite::params![version, name],
        )
        .map_err(internal)?;
        tx.commit().map_err(internal)?;
        tracing::info!(version, name, "applied schema migration");
    }
    Ok(())
}
