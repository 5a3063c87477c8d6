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
        let forget = ms(forget_before);
        let last = self.nonces_purged_before.load(Ordering::Relaxed);
        if forget - last >= NONCE_PURGE_EVERY_MS
            && self.nonces_purged_before.compare_exchange(last, forget, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            // One request in ten seconds of this store's deletes the expired nonces.
            sqlx::query(PURGE_NONCES_BEFORE).bind(forget).execute(&self.nonces).await.map_err(db_err)?;
        }
        // Grouped with the nonces of concurrent requests (see `nonces.rs`).
        self.nonce_writer.record(client_token, ms(timestamp), nonce).await
    }

    async fn wait_for_change(&self) {
        self.changed.notified().await;
    }
}

/// Nonces whose requests can no longer pass the timestamp window.
const PURGE_NONCES_BEFORE: &str = "DELETE FROM nonces WHERE ts < $1";

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
/// each time the connection is (re)established (notifications sent meanwhile are lost; the
/// follower reads the feed). Listen on the clients' channel too: invalidate `clients` at each of
/// its notifications, and tell it when the connection is up and when it is lost (see
/// [`super::api_clients::VersionCache`]). A lost connection is dropped and a new one made here,
/// so the moment it listens again is known.
pub(super) fn spawn_listener(
    pool: sqlx::PgPool,
    changed: std::sync::Arc<tokio::sync::Notify>,
    clients: std::sync::Arc<super::api_clients::VersionCache>,
) -> Listener {
    let task = tokio::spawn(async move {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut l) => match l.listen_all([CHANNEL, super::api_clients::CHANNEL]).await {
                    Ok(()) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot LISTEN for changes; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot connect to LISTEN for changes; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            clients.set_listening(true);
            changed.notify_one();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) if n.channel() == super::api_clients::CHANNEL => clients.invalidate(),
                    Ok(Some(_)) => changed.notify_one(),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "change listener: PostgreSQL unavailable; retrying");
                        break;
                    }
                }
            }
            clients.set_listening(false);
            drop(listener);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    Listener(task.abort_handle())
}
