//! [`SessionStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use edgeward_core::session::{LiveSession, NewSession, SessionStore};
use edgeward_core::Error;

use super::{db_err, PostgresStore};
use crate::codec::ms;
use crate::rows;
use crate::sql::pg as sql;

/// End every session of `user`, on `c` (the caller's transaction).
pub(super) async fn end_all(c: &mut sqlx::PgConnection, user: Uuid) -> Result<u64, Error> {
    Ok(sqlx::query(sql::END_USER_SESSIONS).bind(user.to_string()).execute(c).await.map_err(db_err)?.rows_affected())
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(&self, s: NewSession) -> Result<(), Error> {
        let n = sqlx::query(sql::INSERT_SESSION)
            .bind(&s.id_hash)
            .bind(s.user.to_string())
            .bind(&s.csrf)
            .bind(ms(s.created_at))
            .bind(ms(s.expires_at))
            .execute(self.pool())
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(edgeward_core::refusal::user_missing(&s.user.to_string()));
        }
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<LiveSession>, Error> {
        sqlx::query(sql::SESSION)
            .bind(id_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(|r| rows::live_session(&r))
            .transpose()
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
        sqlx::query(sql::TOUCH_SESSION).bind(id_hash).bind(ms(now)).execute(self.pool()).await.map_err(db_err)?;
        Ok(())
    }

    async fn end_session(&self, id_hash: &str) -> Result<(), Error> {
        sqlx::query(sql::END_SESSION).bind(id_hash).execute(self.pool()).await.map_err(db_err)?;
        Ok(())
    }

    async fn end_user_sessions(&self, user: Uuid) -> Result<u64, Error> {
        let mut c = self.pool().acquire().await.map_err(db_err)?;
        end_all(&mut c, user).await
    }

    async fn purge_sessions(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64, Error> {
        Ok(sqlx::query(sql::PURGE_SESSIONS)
            .bind(ms(now))
            .bind(ms(now - idle))
            .execute(self.pool())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}
