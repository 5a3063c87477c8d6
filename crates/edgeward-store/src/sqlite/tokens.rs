//! [`TokenStore`] on SQLite: tokens, their names and refresh, usage, revocation and purge.

use super::{changes, conversion, db_err, is_unique_violation, SqliteStore};
use crate::codec::{self, encode_namespaces, from_ms, ms};
use crate::rows;
use crate::sql::sqlite as sql;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use edgeward_core::names::TokenName;
use edgeward_core::network::Network;
use edgeward_core::store::{ListedToken, NewToken, StoredToken, TokenStore, TokenUsage};
use edgeward_core::token::Token;
use edgeward_core::{refusal, Error};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, new: NewToken, max_tokens: u64) -> Result<Token, Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let NewToken { token, sealed_value, kid } = new;
            let now_ms = ms(token.issued_at);
            c.execute(
                "UPDATE tokens SET live_name = NULL WHERE live_name = ?1 AND expires_at IS NOT NULL AND expires_at < ?2",
                params![token.name.as_str(), now_ms],
            )
            .map_err(db_err)?;
            let count: i64 = c
                .query_row("SELECT token_count FROM account WHERE id = 1", [], |r| r.get(0))
                .optional()
                .map_err(db_err)?
                .ok_or_else(refusal::not_initialized)?;
            if u64::try_from(count).unwrap_or(0) >= max_tokens {
                return Err(refusal::token_limit(max_tokens));
            }
            let mut exists = c.prepare_cached(sql::NAMESPACE_EXISTS).map_err(db_err)?;
            for net in token.networks.iter() {
                for ns in token.namespaces.keys() {
                    if !exists.exists(params![net.as_str(), ns.as_str()]).map_err(db_err)? {
                        return Err(refusal::namespace_not_on(ns, net));
                    }
                }
            }
            let inserted = c
                .prepare_cached(sql::INSERT_TOKEN)
                .and_then(|mut s| {
                    let token_ref = refs.token_ref(&token.uuid);
                    s.execute(params![
                        token_ref,
                        token.name.as_str(),
                        token.networks.staging,
                        token.networks.production,
                        token.ewids.to_claim(),
                        encode_namespaces(&token.namespaces),
                        token.expiry.map(|d| d.to_string()),
                        token.expires_at().map(ms),
                        now_ms,
                        token.next_refresh.map(|d| d.to_string()),
                        token.generation,
                        token.cpcode,
                        sealed_value,
                        refs.seal_uuid(&token.uuid, &token_ref),
                        kid,
                    ])
                });
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(refusal::token_name_taken(&token.name))
                }
                Err(e) => return Err(db_err(e)),
            }
            c.execute("UPDATE account SET token_count = token_count + 1 WHERE id = 1", []).map_err(db_err)?;
            Ok(token)
        })
        .await
    }

    async fn token_by_name(&self, name: &TokenName) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        self.point_read(|c| {
            c.prepare_cached(sql::TOKEN_BY_NAME)
                .and_then(|mut s| s.query_row([name.as_str()], |r| rows::token(r, refs)).optional())
                .map_err(db_err)
        })
    }

    async fn token_by_uuid(&self, uuid: Uuid) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        self.point_read(|c| {
            c.prepare_cached(sql::TOKEN_BY_REF)
                .and_then(|mut s| s.query_row([refs.token_ref(&uuid)], |r| rows::token(r, refs)).optional())
                .map_err(db_err)
        })
    }

    async fn list_tokens(&self, now: DateTime<Utc>, expired_after: Option<DateTime<Utc>>) -> Result<Vec<Token>, Error> {
        let floor = ms(expired_after.unwrap_or(now));
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::LIST_TOKENS).map_err(db_err)?;
            let rows = s.query_map([floor], |r| rows::token(r, &refs)).map_err(db_err)?;
            rows.map(|r| r.map(|t| t.token).map_err(db_err)).collect()
        })
        .await
    }

    async fn token_overview(&self) -> Result<Vec<ListedToken>, Error> {
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::TOKEN_OVERVIEW).map_err(db_err)?;
            let rows = s.query_map([], |r| rows::listed_token(r, &refs)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn revoke_token(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let token_ref = refs.token_ref(&uuid);
            revoke_row(c, &refs, sql::REVOKE_TOKEN, &token_ref, now)?.ok_or_else(refusal::token_already_revoked)
        })
        .await
    }

    async fn schedule_revocation(&self, uuid: Uuid, at: Option<DateTime<Utc>>) -> Result<(), Error> {
        let token_ref = self.refs.get()?.token_ref(&uuid);
        self.write(move |c| {
            let n = c.execute(sql::SCHEDULE_REVOCATION, params![token_ref, at.map(ms)]).map_err(db_err)?;
            if n == 0 {
                return Err(refusal::token_missing());
            }
            Ok(())
        })
        .await
    }

    async fn due_revocations(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Token>, Error> {
        let refs = self.refs.get()?.clone();
        let limit = codec::saturating(limit);
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::DUE_REVOCATIONS).map_err(db_err)?;
            let rows = s.query_map(params![ms(now), limit], |r| rows::token(r, &refs)).map_err(db_err)?;
            rows.map(|r| r.map(|t| t.token).map_err(db_err)).collect()
        })
        .await
    }

    async fn revoke_if_due(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let token_ref = refs.token_ref(&uuid);
            revoke_row(c, &refs, sql::REVOKE_DUE_TOKEN, &token_ref, now)?.ok_or_else(refusal::token_missing)
        })
        .await
    }

    async fn refresh_token(&self, name: &TokenName, now: DateTime<Utc>, next: NaiveDate) -> Result<Token, Error> {
        let name = name.clone();
        let refs = self.refs.get()?.clone();
        self.write(move |c| {
            let held: Option<Option<String>> = c
                .query_row("SELECT expiry FROM tokens WHERE live_name = ?1", [name.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            match held {
                None => return Err(refusal::token_not_found(&name)),
                Some(Some(_)) => return Err(refusal::token_not_refreshable(&name)),
                Some(None) => {}
            }
            c.prepare_cached(sql::REFRESH_TOKEN)
                .and_then(|mut s| {
                    s.query_row(params![name.as_str(), ms(now), next.to_string()], |r| rows::token(r, &refs))
                })
                .map(|t| t.token)
                .map_err(db_err)
        })
        .await
    }

    async fn refresh_due_tokens(&self, today: NaiveDate, now: DateTime<Utc>, next: NaiveDate) -> Result<u64, Error> {
        self.write(move |c| {
            c.execute(sql::REFRESH_DUE_TOKENS, params![today.to_string(), ms(now), next.to_string()])
                .map(|n| n as u64)
                .map_err(db_err)
        })
        .await
    }

    async fn record_usage(&self, usage: Vec<TokenUsage>) -> Result<(), Error> {
        let rows = codec::usage_rows(self.refs.get()?, usage);
        self.write(move |c| {
            let mut s = c.prepare_cached(sql::RECORD_USAGE).map_err(db_err)?;
            for (token_ref, network, requests, last_used) in &rows {
                s.execute(params![token_ref, network, requests, last_used]).map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn token_usage(&self, uuid: Uuid) -> Result<Vec<TokenUsage>, Error> {
        let token_ref = self.refs.get()?.token_ref(&uuid);
        self.point_read(|c| {
            let mut s = c.prepare_cached(sql::TOKEN_USAGE).map_err(db_err)?;
            let rows = s
                .query_map([token_ref], |r| {
                    let n: String = r.get(0)?;
                    Ok(TokenUsage {
                        uuid,
                        network: Network::parse(&n).map_err(|e| conversion(e.to_string()))?,
                        requests: crate::codec::unsigned(r.get::<_, i64>(1)?),
                        last_used: from_ms(r.get(2)?),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn revoked_token_uuids(&self) -> Result<Vec<Uuid>, Error> {
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::REVOKED_TOKENS).map_err(db_err)?;
            let rows = s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).map_err(db_err)?;
            rows.map(|r| {
                let (token_ref, sealed) = r.map_err(db_err)?;
                refs.open_uuid(&sealed, &token_ref).map_err(Error::Internal)
            })
            .collect()
        })
        .await
    }

    async fn counted_tokens(&self) -> Result<u64, Error> {
        self.read(|c| {
            let count: Option<i64> = c
                .query_row("SELECT token_count FROM account WHERE id = 1", [], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            // Never negative: every decrement matches an earlier increment.
            Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
        })
        .await
    }

    async fn purge_tokens(&self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        self.write(move |c| {
            let expired = c.execute(sql::PURGE_EXPIRED_TOKENS, [ms(cutoff)]).map_err(db_err)?;
            c.execute("UPDATE account SET token_count = token_count - ?1 WHERE id = 1", [codec::saturating(expired)])
                .map_err(db_err)?;
            let revoked = c.execute(sql::PURGE_REVOKED_TOKENS, [ms(cutoff), ms(now)]).map_err(db_err)?;
            Ok((expired + revoked) as u64)
        })
        .await
    }
}

/// Revoke the token of `token_ref` with `revoke` (`REVOKE_TOKEN` or `REVOKE_DUE_TOKEN`), in the
/// caller's transaction: the row, the account's count and the change feed. `None` when the
/// statement's condition did not hold (revoked already, or not due).
fn revoke_row(
    c: &rusqlite::Connection,
    refs: &crate::refs::RefKeys,
    revoke: &str,
    token_ref: &str,
    now: DateTime<Utc>,
) -> Result<Option<Token>, Error> {
    let Some(t) = c
        .prepare_cached(revoke)
        .and_then(|mut s| s.query_row(params![token_ref, ms(now)], |r| rows::token(r, refs)).optional())
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    c.execute("UPDATE account SET token_count = token_count - 1 WHERE id = 1", []).map_err(db_err)?;
    changes::note_revoked(c, token_ref, now)?;
    Ok(Some(t.token))
}
