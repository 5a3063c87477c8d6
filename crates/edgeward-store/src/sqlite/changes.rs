//! [`ChangeStore`] on SQLite, and [`note`], which the writes that other servers must honour call
//! inside their own transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use edgeward_core::store::{Change, ChangeStore};
use edgeward_core::Error;

use super::{db_err, SqliteStore};
use crate::codec::{decode_change, encode_change, ms, TOKEN_REVOKED};
use crate::sql::sqlite as sql;

/// Append `change` (an item or namespace change) to the feed, in the caller's transaction.
pub(super) fn note(c: &Connection, change: &Change, at: DateTime<Utc>) -> Result<(), Error> {
    let (kind, subject) =
        encode_change(change).ok_or_else(|| Error::Internal("revocations are noted by token ref".into()))?;
    insert(c, kind, &subject, at)
}

/// Append a revocation to the feed, by the token's ref.
pub(super) fn note_revoked(c: &Connection, token_ref: &str, at: DateTime<Utc>) -> Result<(), Error> {
    insert(c, TOKEN_REVOKED, token_ref, at)
}

fn insert(c: &Connection, kind: &str, subject: &str, at: DateTime<Utc>) -> Result<(), Error> {
    c.prepare_cached(sql::APPEND_CHANGE).and_then(|mut s| s.execute(params![kind, subject, ms(at)])).map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ChangeStore for SqliteStore {
    async fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<(i64, Change)>, Error> {
        let refs = self.refs.get()?;
        self.point_read(|c| {
            let mut s = c.prepare_cached(sql::CHANGES_AFTER).map_err(db_err)?;
            let rows = s
                .query_map(params![seq, crate::codec::saturating(limit)], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, kind, subject, sealed) = row.map_err(db_err)?;
                match decode_change(&kind, &subject, sealed.as_deref(), refs) {
                    Some(change) => out.push((seq, change)),
                    // A revocation whose token was purged since: nothing left to refuse.
                    None if kind == TOKEN_REVOKED => {}
                    None => tracing::warn!(seq, kind, "unreadable change feed entry skipped"),
                }
            }
            Ok(out)
        })
    }

    async fn last_change_seq(&self) -> Result<i64, Error> {
        self.point_read(|c| c.query_row(sql::LAST_CHANGE_SEQ, [], |r| r.get(0)).map_err(db_err))
    }

    async fn record_nonce(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, Error> {
        // Not through the writer: see the `nonces` module.
        self.nonces.record(client_token, nonce, timestamp, forget_before)
    }

    async fn announce(&self, change: Change, at: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| note(c, &change, at)).await
    }

    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        self.write(move |c| c.execute(sql::PURGE_CHANGES_BEFORE, [ms(before)]).map(|n| n as u64).map_err(db_err)).await
    }
}
