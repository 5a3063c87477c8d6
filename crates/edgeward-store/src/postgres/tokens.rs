//! [`TokenStore`] on PostgreSQL: tokens, their names and refresh, usage, revocation and purge; the token count in shards.

use super::{bad_row, changes, col, commit, db_err, is_unique_violation, PostgresStore};
use crate::codec::{self, from_ms, ms};
use crate::rows;
use crate::sql::pg as sql;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use edgeward_core::names::TokenName;
use edgeward_core::network::Network;
use edgeward_core::store::{ListedToken, NewToken, StoredToken, TokenStore, TokenUsage};
use edgeward_core::token::Token;
use edgeward_core::{refusal, Error};
use uuid::Uuid;

/// Creations this close to the account limit lock every count shard and check the exact sum.
/// Farther away, the sum they read may miss creations still in flight on other shards; the limit
/// stays exact while fewer than this many creations are in flight at once, across all servers.
const NEAR_LIMIT: i64 = 1024;

/// How many token count shards there are (schema 21). The one-statement creation counts on its
/// connection's shard (`pg_backend_pid() % COUNT_SHARDS`), the checked one on a random shard.
const COUNT_SHARDS: u8 = 64;

/// One of the token count shards, at random.
fn rand_shard() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0] % COUNT_SHARDS
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert_token(&self, new: NewToken, max_tokens: u64) -> Result<Token, Error> {
        if self.insert_token_at_once(&new, max_tokens).await? {
            return Ok(new.token);
        }
        self.insert_token_checked(new, max_tokens).await
    }

    async fn token_by_name(&self, name: &TokenName) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(sql::TOKEN_BY_NAME)
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::token(&r, refs))
            .transpose()
    }

    async fn token_by_uuid(&self, uuid: Uuid) -> Result<Option<StoredToken>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(sql::TOKEN_BY_REF)
            .bind(refs.token_ref(&uuid))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::token(&r, refs))
            .transpose()
    }

    async fn list_tokens(&self, now: DateTime<Utc>, expired_after: Option<DateTime<Utc>>) -> Result<Vec<Token>, Error> {
        let floor = ms(expired_after.unwrap_or(now));
        let refs = self.refs.get()?;
        sqlx::query(sql::LIST_TOKENS)
            .bind(floor)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| rows::token(r, refs).map(|t| t.token))
            .collect()
    }

    async fn token_overview(&self) -> Result<Vec<ListedToken>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(sql::TOKEN_OVERVIEW)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| rows::listed_token(r, refs))
            .collect()
    }

    async fn revoke_token(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?;
        let token_ref = refs.token_ref(&uuid);
        let mut tx = self.begin().await?;
        let t = revoke_row(&mut tx, refs, sql::REVOKE_TOKEN, &token_ref, now)
            .await?
            .ok_or_else(refusal::token_already_revoked)?;
        commit(tx).await?;
        Ok(t)
    }

    async fn schedule_revocation(&self, uuid: Uuid, at: Option<DateTime<Utc>>) -> Result<(), Error> {
        let token_ref = self.refs.get()?.token_ref(&uuid);
        let n = sqlx::query(sql::SCHEDULE_REVOCATION)
            .bind(&token_ref)
            .bind(at.map(ms))
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(refusal::token_missing());
        }
        Ok(())
    }

    async fn due_revocations(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Token>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(sql::DUE_REVOCATIONS)
            .bind(ms(now))
            .bind(codec::saturating(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| rows::token(r, refs).map(|t| t.token))
            .collect()
    }

    async fn revoke_if_due(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token, Error> {
        let refs = self.refs.get()?;
        let token_ref = refs.token_ref(&uuid);
        let mut tx = self.begin().await?;
        // Not due (any more): rolled back, so the pending audit record is not written.
        let t = revoke_row(&mut tx, refs, sql::REVOKE_DUE_TOKEN, &token_ref, now)
            .await?
            .ok_or_else(refusal::token_missing)?;
        commit(tx).await?;
        Ok(t)
    }

    async fn refresh_token(&self, name: &TokenName, now: DateTime<Utc>, next: NaiveDate) -> Result<Token, Error> {
        let refs = self.refs.get()?;
        let mut tx = self.begin().await?;
        let held = sqlx::query("SELECT expiry FROM tokens WHERE live_name = $1 FOR UPDATE")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        match held {
            None => return Err(refusal::token_not_found(name)),
            Some(r) if col::<Option<String>>(&r, 0)?.is_some() => return Err(refusal::token_not_refreshable(name)),
            Some(_) => {}
        }
        let row = sqlx::query(sql::REFRESH_TOKEN)
            .bind(name.as_str())
            .bind(ms(now))
            .bind(next.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let t = rows::token(&row, refs)?;
        commit(tx).await?;
        Ok(t.token)
    }

    async fn refresh_due_tokens(&self, today: NaiveDate, now: DateTime<Utc>, next: NaiveDate) -> Result<u64, Error> {
        sqlx::query(sql::REFRESH_DUE_TOKENS)
            .bind(today.to_string())
            .bind(ms(now))
            .bind(next.to_string())
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err)
    }

    async fn purge_tokens(&self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.begin().await?;
        let expired = sqlx::query(sql::PURGE_EXPIRED_TOKENS)
            .bind(ms(cutoff))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        let revoked = sqlx::query(sql::PURGE_REVOKED_TOKENS)
            .bind(ms(cutoff))
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if expired > 0 {
            sqlx::query("UPDATE token_counts SET n = n - $1 WHERE shard = $2")
                .bind(codec::saturating(expired))
                .bind(i32::from(rand_shard()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit(tx).await?;
        Ok(expired + revoked)
    }

    async fn record_usage(&self, usage: Vec<TokenUsage>) -> Result<(), Error> {
        let rows = codec::usage_rows(self.refs.get()?, usage);
        let mut tx = self.begin().await?;
        for (token_ref, network, requests, last_used) in &rows {
            sqlx::query(sql::RECORD_USAGE)
                .bind(token_ref)
                .bind(network)
                .bind(requests)
                .bind(last_used)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit(tx).await
    }

    async fn token_usage(&self, uuid: Uuid) -> Result<Vec<TokenUsage>, Error> {
        sqlx::query(sql::TOKEN_USAGE)
            .bind(self.refs.get()?.token_ref(&uuid))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let n: String = col(r, 0)?;
                Ok(TokenUsage {
                    uuid,
                    network: Network::parse(&n).map_err(|e| bad_row(e.to_string()))?,
                    requests: crate::codec::unsigned(col::<i64>(r, 1)?),
                    last_used: from_ms(col(r, 2)?),
                })
            })
            .collect()
    }

    async fn counted_tokens(&self) -> Result<u64, Error> {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(n), 0)::BIGINT FROM token_counts")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        // Never negative: every decrement matches an earlier increment.
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn revoked_token_uuids(&self) -> Result<Vec<Uuid>, Error> {
        let refs = self.refs.get()?;
        sqlx::query(sql::REVOKED_TOKENS)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| refs.open_uuid(&col::<Vec<u8>>(r, 1)?, &col::<String>(r, 0)?).map_err(bad_row))
            .collect()
    }
}

/// Revoke the token of `token_ref` with `revoke` (`REVOKE_TOKEN` or `REVOKE_DUE_TOKEN`), in the
/// caller's transaction: the row, the token count and the change feed. `None` when the
/// statement's condition did not hold (revoked already, or not due).
async fn revoke_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    refs: &crate::refs::RefKeys,
    revoke: &str,
    token_ref: &str,
    now: DateTime<Utc>,
) -> Result<Option<Token>, Error> {
    let Some(row) =
        sqlx::query(revoke).bind(token_ref).bind(ms(now)).fetch_optional(&mut **tx).await.map_err(db_err)?
    else {
        return Ok(None);
    };
    let t = rows::token(&row, refs)?;
    changes::note_revoked(tx, token_ref, now).await?;
    sqlx::query("UPDATE token_counts SET n = n - 1 WHERE shard = $1")
        .bind(i32::from(rand_shard()))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(Some(t.token))
}

/// Bind a new token's columns, `$1`…`$15` of `new_token_values!` (in `sql`), to `query`.
fn bind_new_token<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    token_ref: &'q str,
    token: &'q Token,
    now_ms: i64,
    sealed_value: &'q Option<Vec<u8>>,
    kid: &'q Option<String>,
    refs: &crate::refs::RefKeys,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(token_ref)
        .bind(token.name.as_str())
        .bind(token.networks.staging)
        .bind(token.networks.production)
        .bind(token.ewids.to_claim())
        .bind(codec::encode_namespaces(&token.namespaces))
        .bind(token.expiry.map(|d| d.to_string()))
        .bind(token.expires_at().map(ms))
        .bind(now_ms)
        .bind(token.next_refresh.map(|d| d.to_string()))
        .bind(i64::from(token.generation))
        .bind(&token.cpcode)
        .bind(sealed_value)
        .bind(refs.seal_uuid(&token.uuid, token_ref))
        .bind(kid)
}

/// Token creation's two paths: [`TokenStore::insert_token`] tries the one-statement path first
/// and takes the checked one only when that one declines.
impl PostgresStore {
    /// Create the token in one statement, one round trip, committed on its own (with the pending
    /// audit record, if any, in the same statement): when the account exists, every namespace
    /// named is on every network named, the count is far from the limit and the name is free (or
    /// held by an expired token, whose hold is released). `Ok(false)` when any of those checks
    /// fails: nothing was written, and [`Self::insert_token_checked`] makes the exact checks
    /// and gives the exact refusal. A name held by a live token is refused here as there.
    async fn insert_token_at_once(&self, new: &NewToken, max_tokens: u64) -> Result<bool, Error> {
        let refs = self.refs.get()?;
        let NewToken { token, sealed_value, kid } = new;
        let now_ms = ms(token.issued_at);
        let networks: Vec<&str> = token.networks.iter().map(|n| n.as_str()).collect();
        let names: Vec<&str> = token.namespaces.keys().map(|n| n.as_str()).collect();
        let token_ref = refs.token_ref(&token.uuid);
        let claim = crate::audit::claim();
        let record = claim.as_ref().map(|c| c.record());
        // `ready` reads, the rest write only when it has its row. `freed` runs before the insert
        // because the insert reads it, so an expired holder's name is free by then.
        let query = sqlx::query(concat!(
            "WITH ready AS ( \
                 SELECT 1 FROM account a WHERE a.id = 1 \
                   AND (SELECT COUNT(*) FROM namespaces n WHERE n.network = ANY($17) AND n.name = ANY($18)) = $19 \
                   AND (SELECT COALESCE(SUM(n), 0)::BIGINT FROM token_counts) + $20 < $21), \
             freed AS (UPDATE tokens SET live_name = NULL \
                       WHERE live_name = $2 AND expires_at IS NOT NULL AND expires_at < $9 \
                         AND EXISTS (SELECT 1 FROM ready) RETURNING 1), \
             counted AS (UPDATE token_counts SET n = n + 1 \
                         WHERE shard = pg_backend_pid() % $16 AND EXISTS (SELECT 1 FROM ready) RETURNING 1), \
             inserted AS (INSERT INTO tokens (",
            new_token_columns!(),
            ") \
                          SELECT ",
            new_token_values!(),
            " FROM counted \
                          WHERE (SELECT COUNT(*) FROM freed) >= 0 RETURNING 1), \
             audited AS (INSERT INTO audit_log (",
            new_audit_columns!(),
            ") \
                         SELECT $22, $23, $24, $25, $26, $27, $28, $29, $30 FROM inserted WHERE $31 RETURNING 1) \
             SELECT (SELECT COUNT(*) FROM inserted), (SELECT COUNT(*) FROM audited)",
        ));
        let result = bind_new_token(query, &token_ref, token, now_ms, sealed_value, kid, refs)
            .bind(i32::from(COUNT_SHARDS))
            .bind(&networks)
            .bind(&names)
            .bind(codec::saturating(networks.len() * names.len()))
            .bind(NEAR_LIMIT)
            .bind(i64::try_from(max_tokens).unwrap_or(i64::MAX))
            .bind(record.map(|r| ms(r.at)))
            .bind(record.map(|r| r.actor.as_str()))
            .bind(record.and_then(|r| r.owner.as_deref()))
            .bind(record.map(|r| r.action.as_str()))
            .bind(record.map(|r| r.target.as_str()))
            .bind(record.and_then(|r| r.request_id.as_deref()))
            .bind(record.map(|r| r.source.as_str()))
            .bind(record.map(|r| r.outcome.as_str()))
            .bind(record.and_then(|r| r.detail.as_deref()))
            .bind(record.is_some())
            .fetch_one(&self.pool)
            .await;
        let inserted = match &result {
            Ok(row) => col::<i64>(row, 0)? == 1,
            Err(_) => false,
        };
        if let Some(claim) = claim {
            // Given back unless written: the checked path's commit claims it again.
            claim.finish(inserted);
        }
        match result {
            Ok(_) => Ok(inserted),
            Err(e) if is_unique_violation(&e) => Err(refusal::token_name_taken(&token.name)),
            Err(e) => Err(db_err(e)),
        }
    }

    /// Create the token in a transaction that checks each condition in turn (see
    /// [`Self::insert_token_at_once`], which declined), and refuses with the first that fails.
    async fn insert_token_checked(&self, new: NewToken, max_tokens: u64) -> Result<Token, Error> {
        // Four round trips (begin, two statements, commit): every one is paid while other
        // creations wait for the account row, so the checks are folded into as few as can be.
        let refs = self.refs.get()?;
        let NewToken { token, sealed_value, kid } = new;
        let now_ms = ms(token.issued_at);
        let networks: Vec<&str> = token.networks.iter().map(|n| n.as_str()).collect();
        let names: Vec<&str> = token.namespaces.keys().map(|n| n.as_str()).collect();
        let mut tx = self.begin().await?;
        // Free the name if its holder has expired; count the namespaces found and the tokens.
        let row = sqlx::query(
            "WITH freed AS (UPDATE tokens SET live_name = NULL \
                            WHERE live_name = $1 AND expires_at IS NOT NULL AND expires_at < $2 RETURNING 1) \
             SELECT a.id, \
                    (SELECT COUNT(*) FROM namespaces n WHERE n.network = ANY($3) AND n.name = ANY($4)), \
                    (SELECT COUNT(*) FROM freed), \
                    (SELECT COALESCE(SUM(n), 0)::BIGINT FROM token_counts) \
             FROM account a WHERE a.id = 1",
        )
        .bind(token.name.as_str())
        .bind(now_ms)
        .bind(&networks)
        .bind(&names)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(refusal::not_initialized)?;
        let found: i64 = col(&row, 1)?;
        let counted: i64 = col(&row, 3)?;
        let max = i64::try_from(max_tokens).unwrap_or(i64::MAX);
        if found < codec::saturating(networks.len() * names.len()) {
            for net in token.networks.iter() {
                for ns in token.namespaces.keys() {
                    let there = sqlx::query(sql::NAMESPACE_EXISTS)
                        .bind(net.as_str())
                        .bind(ns.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    if there.is_none() {
                        return Err(refusal::namespace_not_on(ns, net));
                    }
                }
            }
        }
        let token_ref = refs.token_ref(&token.uuid);
        // Far from the limit, count the token on one random shard (creations on other shards do
        // not wait for each other). Near it, lock every shard and check the exact sum first.
        let shard = if counted.saturating_add(NEAR_LIMIT) < max {
            i32::from(rand_shard())
        } else {
            let exact: i64 = sqlx::query("SELECT n FROM token_counts ORDER BY shard FOR UPDATE")
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| col::<i64>(r, 0))
                .sum::<Result<i64, Error>>()?;
            if exact >= max {
                return Err(refusal::token_limit(max_tokens));
            }
            0
        };
        // Count and insert in one statement, last, so the shard is locked only until the commit.
        let query = sqlx::query(concat!(
            "WITH counted AS (UPDATE token_counts SET n = n + 1 WHERE shard = $16 RETURNING 1) \
             INSERT INTO tokens (",
            new_token_columns!(),
            ") SELECT ",
            new_token_values!(),
            " FROM counted"
        ));
        let inserted = bind_new_token(query, &token_ref, &token, now_ms, &sealed_value, &kid, refs)
            .bind(shard)
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(r) if r.rows_affected() == 0 => return Err(Error::Internal("token count shard missing".into())),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(refusal::token_name_taken(&token.name)),
            Err(e) => return Err(db_err(e)),
        }
        commit(tx).await?;
        Ok(token)
    }
}
