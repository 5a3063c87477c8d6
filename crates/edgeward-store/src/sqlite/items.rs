//! [`ItemStore`] on SQLite: item values, written through the group-commit writer.

use super::{changes, db_err, SqliteStore};
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::sqlite as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::store::{Change, ItemKey, ItemStore, StoredItem};
use edgeward_core::{refusal, Error};
use rusqlite::{params, OptionalExtension};

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get_item(&self, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<StoredItem>, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::GET_ITEM)
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            key.network.as_str(),
                            key.namespace.as_str(),
                            key.sandbox,
                            key.group,
                            key.item,
                            ms(now)
                        ],
                        |r| rows::stored_item(r),
                    )
                    .optional()
                })
                .map_err(db_err)
        })
    }

    async fn put_item(&self, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| {
            let exists = c
                .prepare_cached(sql::NAMESPACE_EXISTS)
                .and_then(|mut s| s.exists(params![key.network.as_str(), key.namespace.as_str()]))
                .map_err(db_err)?;
            if !exists {
                return Err(refusal::namespace_missing());
            }
            c.prepare_cached(
                "INSERT INTO items (network, namespace, sandbox, grp, item, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (network, namespace, sandbox, grp, item) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![key.network.as_str(), key.namespace.as_str(), key.sandbox, key.group, key.item, value, ms(now)])
            })
            .map_err(db_err)?;
            changes::note(c, &Change::Item(key), now)?;
            Ok(())
        })
        .await
    }

    async fn purge_expired_items(&self, now: DateTime<Utc>, batch: usize) -> Result<u64, Error> {
        self.write(move |c| {
            c.prepare_cached(sql::PURGE_EXPIRED_ITEMS)
                .and_then(|mut s| s.execute(params![ms(now), codec::saturating(batch)]))
                .map(|n| n as u64)
                .map_err(db_err)
        })
        .await
    }

    async fn delete_item(&self, key: ItemKey, now: DateTime<Utc>) -> Result<bool, Error> {
        self.write(move |c| {
            let n = c.prepare_cached(
                "DELETE FROM items WHERE network = ?1 AND namespace = ?2 AND sandbox = ?3 AND grp = ?4 AND item = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![key.network.as_str(), key.namespace.as_str(), key.sandbox, key.group, key.item])
            })
            .map_err(db_err)?;
            if n > 0 {
                changes::note(c, &Change::Item(key), now)?;
            }
            Ok(n > 0)
        })
        .await
    }
}
