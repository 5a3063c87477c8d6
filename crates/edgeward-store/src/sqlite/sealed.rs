//! [`SealedStore`] on SQLite: the sealed columns of [`crate::sealed::SEALED_COLUMNS`].

use async_trait::async_trait;
use rusqlite::params;

use edgeward_core::store::{Resealed, SealedRow, SealedStore};
use edgeward_core::Error;

use super::{db_err, SqliteStore};
use crate::sealed::{batch_sql, column, reseal_sql};

#[async_trait]
impl SealedStore for SqliteStore {
    async fn sealed_batch(
        &self,
        column_name: &str,
        after: Option<String>,
        prefix: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, Error> {
        let c = column(column_name)?;
        self.read(move |conn| {
            let sql = batch_sql(c, ["?1", "?2", "?3", "?4"], "substr", "CAST(NULL AS BLOB)");
            let mut s = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = s
                .query_map(
                    params![
                        after.unwrap_or_default(),
                        prefix,
                        crate::codec::saturating(prefix.len()),
                        crate::codec::saturating(limit)
                    ],
                    |r| Ok(SealedRow { key: r.get(0)?, sealed: r.get(1)?, via: r.get(2)? }),
                )
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn reseal(&self, column_name: &str, rows: Vec<Resealed>) -> Result<u64, Error> {
        let c = column(column_name)?;
        self.write(move |conn| {
            let sql = reseal_sql(c, ["?1", "?2", "?3"]);
            let mut s = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut n = 0;
            for r in &rows {
                n += s.execute(params![r.new, r.key, r.old]).map_err(db_err)? as u64;
            }
            Ok(n)
        })
        .await
    }
}
