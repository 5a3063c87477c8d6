//! [`SealedStore`] on PostgreSQL: the sealed columns of [`crate::sealed::SEALED_COLUMNS`].

use async_trait::async_trait;

use edgeward_core::store::{Resealed, SealedRow, SealedStore};
use edgeward_core::Error;

use super::{col, db_err, PostgresStore};
use crate::sealed::{batch_sql, column, reseal_sql};

#[async_trait]
impl SealedStore for PostgresStore {
    async fn sealed_batch(
        &self,
        column_name: &str,
        after: Option<String>,
        prefix: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, Error> {
        let c = column(column_name)?;
        let sql = batch_sql(c, ["$1", "$2", "$3", "$4"], "substr", "NULL::bytea");
        let len = i32::try_from(prefix.len()).unwrap_or(i32::MAX);
        sqlx::query(&sql)
            .bind(after.unwrap_or_default())
            .bind(prefix)
            .bind(len)
            .bind(crate::codec::saturating(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok(SealedRow { key: col(r, 0)?, sealed: col(r, 1)?, via: col(r, 2)? }))
            .collect()
    }

    async fn reseal(&self, column_name: &str, rows: Vec<Resealed>) -> Result<u64, Error> {
        let c = column(column_name)?;
        let sql = reseal_sql(c, ["$1", "$2", "$3"]);
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let mut n = 0;
        for r in &rows {
            n += sqlx::query(&sql)
                .bind(&r.new)
                .bind(&r.key)
                .bind(&r.old)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }
}
