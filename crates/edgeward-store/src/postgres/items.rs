//! [`ItemStore`] on PostgreSQL: item values, each write holding its namespace row.

use super::{col, db_err, PostgresStore, Write};
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::pg as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::store::{ItemKey, ItemStore, StoredItem};
use edgeward_core::{refusal, Error};
use sqlx::Postgres;

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Bind an item's key as `$1`…`$5` (network, namespace, sandbox, group, item).
fn bind_key<'q>(q: PgQuery<'q>, key: &'q ItemKey) -> PgQuery<'q> {
    q.bind(key.network.as_str()).bind(key.namespace.as_str()).bind(&key.sandbox).bind(&key.group).bind(&key.item)
}

#[async_trait]
impl ItemStore for PostgresStore {
    async fn get_item(&self, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<StoredItem>, Error> {
        let row =
            bind_key(sqlx::query(sql::GET_ITEM), key).bind(ms(now)).fetch_optional(&self.pool).await.map_err(db_err)?;
        row.as_ref().map(rows::stored_item).transpose()
    }

    async fn put_item(&self, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<(), Error> {
        // One statement (one round trip, its own transaction): lock the namespace row FOR SHARE
        // (a concurrent namespace delete waits for this write, then deletes the item with the
        // namespace; or this write finds the namespace gone), write the item, append the change.
        let subject = codec::item_subject(&key);
        let mut w = Write::start(self).await?;
        let row = bind_key(
            sqlx::query(
                "WITH ns AS (SELECT 1 FROM namespaces WHERE network = $1 AND name = $2 FOR SHARE), \
                  written AS (INSERT INTO items (network, namespace, sandbox, grp, item, value, updated_at) \
                              SELECT $1, $2, $3, $4, $5, $6, $7 FROM ns \
                              ON CONFLICT (network, namespace, sandbox, grp, item) \
                              DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
                              RETURNING 1), \
                  noted AS (INSERT INTO changes (kind, subject, at) SELECT $8, $9, $7 FROM written RETURNING 1) \
                 SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM noted)",
            ),
            &key,
        )
        .bind(&value)
        .bind(ms(now))
        .bind("item")
        .bind(subject)
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        if col::<i64>(&row, 0)? == 0 {
            return Err(refusal::namespace_missing());
        }
        w.done().await
    }

    async fn delete_item(&self, key: ItemKey, now: DateTime<Utc>) -> Result<bool, Error> {
        // One statement: delete, and append the change only if there was something to delete.
        let subject = codec::item_subject(&key);
        let mut w = Write::start(self).await?;
        let row = bind_key(
            sqlx::query(
                "WITH gone AS (DELETE FROM items \
                           WHERE network = $1 AND namespace = $2 AND sandbox = $3 AND grp = $4 AND item = $5 \
                           RETURNING 1), \
                  noted AS (INSERT INTO changes (kind, subject, at) SELECT $6, $7, $8 FROM gone RETURNING 1) \
                 SELECT (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM noted)",
            ),
            &key,
        )
        .bind("item")
        .bind(subject)
        .bind(ms(now))
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        let deleted = col::<i64>(&row, 0)? > 0;
        if deleted {
            w.done().await?;
        }
        Ok(deleted)
    }

    async fn purge_expired_items(&self, now: DateTime<Utc>, batch: usize) -> Result<u64, Error> {
        sqlx::query(sql::PURGE_EXPIRED_ITEMS)
            .bind(ms(now))
            .bind(codec::saturating(batch))
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err)
    }
}
