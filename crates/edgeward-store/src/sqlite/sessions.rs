//! [`SessionStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use edgeward_core::session::{LiveSession, NewSession, SessionStore};
use edgeward_core::Error;

use super::{db_err, SqliteStore};
use crate::codec::ms;
use crate::rows;
use crate::sql::sqlite as sql;

/// End every session of `user`, in the caller's transaction.
pub(super) fn end_all(c: &rusqlite::Connection, user: Uuid) -> Result<u64, Error> {
    let n = c.prepare_cached(sql::END_USER_SESSIONS).and_then(|mut s| s.execute([user.to_string()])).map_err(db_err)?;
    Ok(n as u64)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, s: NewSession) -> Result<(), Error> {
        self.write(move |c| {
            let n = c
                .execute(
                    sql::INSERT_SESSION,
                    params![s.id_hash, s.user.to_string(), s.csrf, ms(s.created_at), ms(s.expires_at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(edgeward_core::refusal::user_missing(&s.user.to_string()));
            }
            Ok(())
        })
        .await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<LiveSession>, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::SESSION)
                .and_then(|mut s| s.query_row([id_hash], |r| rows::live_session(r)).optional())
                .map_err(db_err)
        })
    }

    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| {
            c.prepare_cached(sql::TOUCH_SESSION)
                .and_then(|mut s| s.execute(params![id_hash, ms(now)]))
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, id_hash: &str) -> Result<(), Error> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| {
            c.prepare_cached(sql::END_SESSION).and_then(|mut s| s.execute([id_hash])).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn end_user_sessions(&self, user: Uuid) -> Result<u64, Error> {
        self.write(move |c| end_all(c, user)).await
    }

    async fn purge_sessions(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64, Error> {
        self.write(move |c| {
            let n = c.execute(sql::PURGE_SESSIONS, params![ms(now), ms(now - idle)]).map_err(db_err)?;
            Ok(n as u64)
        })
        .await
    }
}
