//! [`AuditStore`] on SQLite, and [`insert`], which the writer calls inside an audited write's
//! own savepoint (see `crate::audit`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use edgeward_core::audit::{AuditEntry, AuditFilter, AuditRecord, AuditStore};
use edgeward_core::Error;

use super::{db_err, SqliteStore};
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::sqlite as sql;

/// Append `r`, in the caller's transaction.
pub(super) fn insert(c: &Connection, r: &AuditRecord) -> Result<(), Error> {
    c.prepare_cached(sql::INSERT_AUDIT_RECORD)
        .and_then(|mut s| {
            s.execute(params![
                ms(r.at),
                r.actor,
                r.owner,
                r.action,
                r.target,
                r.request_id,
                r.source,
                r.outcome.as_str(),
                r.detail
            ])
        })
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, record: AuditRecord) -> Result<(), Error> {
        self.write(move |c| insert(c, &record)).await
    }

    async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, Error> {
        let f = filter.clone();
        self.read(move |c| {
            let (action_exact, action_prefix) = codec::exact_or_prefix(f.action.as_deref(), '.');
            let (target_exact, target_prefix) = codec::exact_or_prefix(f.target.as_deref(), '/');
            let mut s = c
                .prepare_cached(concat!(
                    "SELECT ",
                    audit_columns!(),
                    " FROM audit_log \
                     WHERE (?1 IS NULL OR actor = ?1) \
                       AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3) \
                       AND (?4 IS NULL OR target = ?4) AND (?5 IS NULL OR substr(target, 1, length(?5)) = ?5) \
                       AND (?6 IS NULL OR outcome = ?6) \
                       AND (?7 IS NULL OR at >= ?7) AND (?8 IS NULL OR at < ?8) AND (?9 IS NULL OR id < ?9) \
                     ORDER BY id DESC LIMIT ?10"
                ))
                .map_err(db_err)?;
            let rows = s
                .query_map(
                    params![
                        f.actor,
                        action_exact,
                        action_prefix,
                        target_exact,
                        target_prefix,
                        f.outcome.map(|o| o.as_str()),
                        f.since.map(ms),
                        f.until.map(ms),
                        f.before_id,
                        crate::audit::page_limit(f.limit)
                    ],
                    |r| rows::audit_entry(r),
                )
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row.map_err(db_err)?);
            }
            Ok(out)
        })
        .await
    }

    async fn purge_audit(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        self.write(move |c| c.execute(sql::PURGE_AUDIT_BEFORE, params![ms(before)]).map(|n| n as u64).map_err(db_err))
            .await
    }
}
