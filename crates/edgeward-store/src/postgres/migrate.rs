//! PostgreSQL schema migrations: the same numbering and names as SQLite's, applied in order
//! in one transaction that holds `schema_migrations` locked, so servers starting together
//! apply each migration once. A database newer than this build is refused.

use sqlx::postgres::PgPool;
use sqlx::Row;

use edgeward_core::Error;

use super::{db_err, is_unique_violation};

pub(crate) const POSTGRES: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "items", include_str!("../../migrations/postgres/0002_items.sql")),
    (3, "token_usage", include_str!("../../migrations/postgres/0003_token_usage.sql")),
    (4, "access_groups", include_str!("../../migrations/postgres/0004_access_groups.sql")),
    (5, "notifications", include_str!("../../migrations/postgres/0005_notifications.sql")),
    (6, "email_outbox", include_str!("../../migrations/postgres/0006_email_outbox.sql")),
    (7, "webhook_outbox", include_str!("../../migrations/postgres/0007_webhook_outbox.sql")),
    (8, "changes", include_str!("../../migrations/postgres/0008_changes.sql")),
    (9, "nonces", include_str!("../../migrations/postgres/0009_nonces.sql")),
    (10, "signing_keys", include_str!("../../migrations/postgres/0010_signing_keys.sql")),
    (11, "token_refs", include_str!("../../migrations/postgres/0011_token_refs.sql")),
    (13, "key_rotation", include_str!("../../migrations/postgres/0013_key_rotation.sql")),
    (14, "audit", include_str!("../../migrations/postgres/0014_audit.sql")),
    (15, "nonce_key", include_str!("../../migrations/postgres/0015_nonce_key.sql")),
    (16, "passwords", include_str!("../../migrations/postgres/0016_passwords.sql")),
    (17, "roles", include_str!("../../migrations/postgres/0017_roles.sql")),
    (18, "sessions", include_str!("../../migrations/postgres/0018_sessions.sql")),
    (19, "scheduled_revocation", include_str!("../../migrations/postgres/0019_scheduled_revocation.sql")),
    (20, "client_notify", include_str!("../../migrations/postgres/0020_client_notify.sql")),
    (21, "count_shards", include_str!("../../migrations/postgres/0021_count_shards.sql")),
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

pub(super) async fn apply(pool: &PgPool) -> Result<(), Error> {
    // Two servers creating the table at once: one of them sees a duplicate type; it is there now.
    if let Err(e) = sqlx::query(CREATE_TABLE).execute(pool).await {
        // The loser sees a unique violation on pg_type, or "already exists" (42P07, 42710).
        let exists = matches!(&e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("42P07" | "42710")));
        if !is_unique_violation(&e) && !exists {
            return Err(db_err(e));
        }
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE").execute(&mut *tx).await.map_err(db_err)?;
    let current: i32 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    let current = crate::codec::unsigned32(current);
    let newest = crate::migrate::newest_version();
    if current > newest {
        return Err(Error::Internal(format!(
            "the database schema is version {current}, newer than this Edgeward build knows ({newest}); upgrade Edgeward"
        )));
    }
    let pending: Vec<(u32, &'static str, &'static str)> = POSTGRES.iter().copied().filter(|m| m.0 > current).collect();
    for (version, name, sql) in pending {
        let conn: &mut sqlx::PgConnection = &mut tx;
        sqlx::Executor::execute(conn, sqlx::raw_sql(sql))
            .await
            .map_err(|e| Error::Internal(format!("migration {version}: {e}")))?;
        // The database's own time: bookkeeping of the schema, never compared with the Clock.
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) \
             VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
        )
        .bind(crate::codec::int32(version)?)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tracing::info!(version, name, "applied schema migration (PostgreSQL)");
    }
    tx.commit().await.map_err(db_err)
}

/// The schema version of the PostgreSQL database at `url` (0 for an empty one).
pub async fn database_version(url: &str) -> Result<u32, Error> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.map_err(db_err)?;
    let exists: bool = sqlx::query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&pool)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    if !exists {
        return Ok(0);
    }
    let v: i32 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&pool)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    pool.close().await;
    Ok(crate::codec::unsigned32(v))
}
