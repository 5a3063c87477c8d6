//! [`ChangeStore`] on PostgreSQL, [`note`] (called inside the writes other servers must honour),
//! and the `LISTEN` side of the feed's accelerator.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use edgeward_core::store::{Change, ChangeStore};
use edgeward_core::Error;

use super::{col, db_err, PostgresStore};
use crate::codec::{decode_change, encode_change, ms, TOKEN_REVOKED};
use crate::sql::pg as sql;

/// The channel the `changes` trigger notifies.
pub const CHANNEL: &str = "edgeward_changes";

/// Append `change` (an item or namespace change) to the feed, in the caller's transaction.
pub(super) async fn note(
    tx: &mut Transaction<'static, Postgres>,
    change: &Change,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let (kind, subject) =
        encode_change(change).ok_or_else(|| Error::Internal("revocations are noted by token ref".into()))?;
    insert(tx, kind, &subject, at).await
}

/// Append a revocation to the feed, by the token's ref.
pub(super) async fn note_revoked(
    tx: &mut Transaction<'static, Postgres>,
    token_ref: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    insert(tx, TOKEN_REVOKED, token_ref, at).await
}

async fn insert(
    tx: &mut Transaction<'static, Postgres>,
    kind: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(sql::APPEND_CHANGE).bind(kind).bind(subject).bind(ms(at)).execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ChangeStore for PostgresStore {
    async fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<(i64, Change)>, Error> {
        let refs = self.refs.get()?;
        let rows = sqlx::query(sql::CHANGES_AFTER)
            .bind(seq)
            .bind(crate::codec::saturating(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (seq, kind, subject): (i64, String, String) = (col(r, 0)?, col(r, 1)?, col(r, 2)?);
            let sealed: Option<Vec<u8>> = col(r, 3)?;
            match decode_change(&kind, &subject, sealed.as_deref(), refs) {
                Some(change) => out.push((seq, change)),
                // A revocation whose token was purged since: nothing left to refuse.
                None if kind == TOKEN_REVOKED => {}
                None => tracing::warn!(seq, kind, "unreadable change feed entry skipped"),
            }
        }
        Ok(out)
    }

    async fn last_change_seq(&self) -> Result<i64, Error> {
        col(&sqlx::query(sql::LAST_CHANGE_SEQ).fetch_one(self.pool()).await.map_err(db_err)?, 0)
    }

    async fn announce(&self, change: Change, at: DateTime<Utc>) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        note(&mut tx, &change, at).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        sqlx::query(sql::PURGE_CHANGES_BEFORE)
            .bind(ms(before))
            .execute(self.pool())
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err)
    }

    async fn record_nonce(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, Error> {
        use std::sync::atomic::Ordering;
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        // Every signed admin request comes here: its commit does not wait for the WAL flush. A
        // PostgreSQL crash may lose the last few hundred milliseconds of nonces (at most three
        // times `wal_writer_delay`); a restart of PostgreSQL itself takes about as long as that
        // and the requests concerned are then that much closer to leaving the timestamp window.
        sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await.map_err(db_err)?;
        let forget = ms(forget_before);
        let purge = forget - self.nonces_purged_before.load(Ordering::Relaxed) >= NONCE_PURGE_EVERY_MS;
        if purge {
            sqlx::query("DELETE FROM nonces WHERE ts < $1").bind(forget).execute(&mut *tx).await.map_err(db_err)?;
        }
        let inserted =
            sqlx::query("INSERT INTO nonces (client_token, nonce, ts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(client_token)
                .bind(nonce)
                .bind(ms(timestamp))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        tx.commit().await.map_err(db_err)?;
        if purge {
            self.nonces_purged_before.store(forget, Ordering::Relaxed);
        }
        Ok(inserted == 1)
    }

    async fn wait_for_change(&self) {
        self.changed.notified().await;
    }
}

/// Least time between two deletions of expired nonces by one store.
const NONCE_PURGE_EVERY_MS: i64 = 10_000;

/// The `LISTEN` task of a store and its clones: stopped when the last of them is dropped (a
/// server drops its store when it shuts down), so no connection outlives the store.
pub(super) struct Listener(tokio::task::AbortHandle);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listen on [`CHANNEL`] and wake the follower (through `changed`) at each notification, and
/// after each reconnection (notifications sent meanwhile are lost; the follower reads the feed).
pub(super) fn spawn_listener(pool: sqlx::PgPool, changed: std::sync::Arc<tokio::sync::Notify>) -> Listener {
    let task = tokio::spawn(async move {
        let mut listener = loop {
            match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut l) => match l.listen(CHANNEL).await {
                    Ok(()) => break l,
                    Err(e) => tracing::warn!(error = %e, "cannot LISTEN for changes; retrying"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot connect to LISTEN for changes; retrying"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => changed.notify_one(),
                // The connection was lost and is being re-established on the next call.
                Ok(None) => {
                    changed.notify_one();
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "change listener: PostgreSQL unavailable; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
    Listener(task.abort_handle())
}
