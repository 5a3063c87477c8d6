//! [`AuditStore`] on PostgreSQL, and the audited write paths: [`super::commit`] appends the
//! pending record (see `crate::audit`) in the transaction it commits, and [`Write`] runs a
//! single-statement write on a plain pooled connection, or in a transaction that also appends
//! the record when an audited change is pending.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Transaction};

use edgeward_core::audit::{AuditEntry, AuditFilter, AuditRecord, AuditStore};
use edgeward_core::Error;

use super::{db_err, PostgresStore};
use crate::audit::Claim;
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::pg as sql;

/// Append `r` on `c` (the caller's transaction).
pub(super) async fn insert(c: &mut PgConnection, r: &AuditRecord) -> Result<(), Error> {
    sqlx::query(sql::INSERT_AUDIT_RECORD)
        .bind(ms(r.at))
        .bind(&r.actor)
        .bind(&r.owner)
        .bind(&r.action)
        .bind(&r.target)
        .bind(&r.request_id)
        .bind(&r.source)
        .bind(r.outcome.as_str())
        .bind(&r.detail)
        .execute(c)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Commit `tx`, appending the pending audit record first.
pub(super) async fn commit(mut tx: Transaction<'static, Postgres>) -> Result<(), Error> {
    let claim = crate::audit::claim();
    if let Some(claim) = &claim {
        insert(&mut tx, claim.record()).await?;
    }
    let committed = tx.commit().await.map_err(db_err);
    if let Some(claim) = claim {
        claim.finish(committed.is_ok());
    }
    committed
}

/// The connection of a single-statement write (see the module doc).
pub(super) enum Write {
    Plain(PoolConnection<Postgres>),
    Audited(Transaction<'static, Postgres>, Claim),
}

impl Write {
    pub(super) async fn start(store: &PostgresStore) -> Result<Self, Error> {
        match crate::audit::claim() {
            Some(claim) => Ok(Self::Audited(store.pool().begin().await.map_err(db_err)?, claim)),
            None => Ok(Self::Plain(store.pool().acquire().await.map_err(db_err)?)),
        }
    }

    pub(super) fn conn(&mut self) -> &mut PgConnection {
        match self {
            Self::Plain(c) => c,
            Self::Audited(tx, _) => tx,
        }
    }

    /// The write succeeded: append the record and commit (audited), or nothing to do.
    pub(super) async fn done(self) -> Result<(), Error> {
        match self {
            Self::Plain(_) => Ok(()),
            Self::Audited(mut tx, claim) => {
                insert(&mut tx, claim.record()).await?;
                let committed = tx.commit().await.map_err(db_err);
                claim.finish(committed.is_ok());
                committed
            }
        }
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, record: AuditRecord) -> Result<(), Error> {
        let mut c = self.pool().acquire().await.map_err(db_err)?;
        insert(&mut c, &record).await
    }

    async fn audit_records(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, Error> {
        let (action_exact, action_prefix) = codec::exact_or_prefix(f.action.as_deref(), '.');
        let (target_exact, target_prefix) = codec::exact_or_prefix(f.target.as_deref(), '/');
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log \
             WHERE ($1::text IS NULL OR actor = $1) \
               AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR left(action, length($3)) = $3) \
               AND ($4::text IS NULL OR target = $4) AND ($5::text IS NULL OR left(target, length($5)) = $5) \
               AND ($6::text IS NULL OR outcome = $6) \
               AND ($7::bigint IS NULL OR at >= $7) AND ($8::bigint IS NULL OR at < $8) \
               AND ($9::bigint IS NULL OR id < $9) \
             ORDER BY id DESC LIMIT $10"
        ))
        .bind(&f.actor)
        .bind(action_exact)
        .bind(action_prefix)
        .bind(target_exact)
        .bind(target_prefix)
        .bind(f.outcome.map(|o| o.as_str()))
        .bind(f.since.map(ms))
        .bind(f.until.map(ms))
        .bind(f.before_id)
        .bind(crate::audit::page_limit(f.limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::audit_entry).collect()
    }

    async fn purge_audit(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        Ok(sqlx::query(sql::PURGE_AUDIT_BEFORE)
            .bind(ms(before))
            .execute(self.pool())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}
