//! [`NotifyStore`] on PostgreSQL: users, escalation contacts, expiry notices, the panel, the
//! outboxes and leases.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use uuid::Uuid;

use edgeward_core::network::Networks;
use edgeward_core::notify::{
    CheckRun, Contact, ExpiringToken, FailedEmail, NewEmail, NewNotice, NewWebhook, Notice, OutboxEmail, OutboxWebhook,
    User, UserPassword, UserUpdate,
};
use edgeward_core::store::{ApiClient, NotifyStore};
use edgeward_core::{refusal, Error};

use super::{bad_row, col, commit, db_err, PostgresStore, Write};
use crate::codec::{self, from_ms, ms};
use crate::rows;
use crate::sql::pg as sql;
use crate::sql::Outbox;

async fn insert_run<'e, E>(c: E, run: &CheckRun) -> Result<(), Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query(sql::INSERT_NOTIFY_RUN)
        .bind(run.check_day.to_string())
        .bind(&run.holder)
        .bind(ms(run.started_at))
        .bind(ms(run.finished_at))
        .bind(run.dry_run)
        .bind(codec::saturating(run.due))
        .bind(codec::saturating(run.notices))
        .execute(c)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Insert a user row and the roles they hold (`AlreadyExists` when the name is taken, once a
/// concurrent insert of the same name has committed; a role that does not exist is refused
/// before anything is written).
async fn insert_user(c: &mut sqlx::PgConnection, user: &User) -> Result<(), Error> {
    let roles = super::roles::check_given(c, &user.roles).await?;
    let n = sqlx::query(sql::INSERT_USER)
        .bind(user.id.to_string())
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.email_registered)
        .bind(user.active)
        .bind(user.grants.to_list())
        .bind(ms(user.created_at))
        .execute(&mut *c)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n == 0 {
        return Err(refusal::user_taken(&user.name));
    }
    super::roles::store_roles(c, user.id, &roles).await
}

/// Set a user's password hash and whether it must be changed; `None` for an unknown name.
/// Set a user's password, ending every session they have (on `c`: the caller's transaction).
async fn set_password(
    c: &mut sqlx::PgConnection,
    name: &str,
    hash: &str,
    must_change: bool,
) -> Result<Option<User>, Error> {
    let user = sqlx::query(sql::SET_USER_PASSWORD)
        .bind(name)
        .bind(hash)
        .bind(must_change)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?
        .map(|r| rows::user(&r))
        .transpose()?;
    match user {
        Some(u) => {
            super::sessions::end_all(&mut *c, u.id).await?;
            Ok(Some(super::roles::with_roles(c, u).await?))
        }
        None => Ok(None),
    }
}

fn attempts(r: &PgRow, i: usize) -> Result<u32, Error> {
    Ok(crate::codec::unsigned32(col::<i32>(r, i)?))
}

const EMAIL: Outbox = Outbox { sent: sql::EMAIL_SENT, retry: sql::EMAIL_RETRY, failed: sql::EMAIL_FAILED };
const WEBHOOK: Outbox = Outbox { sent: sql::WEBHOOK_SENT, retry: sql::WEBHOOK_RETRY, failed: sql::WEBHOOK_FAILED };

/// A message was accepted (SMTP) or delivered (2xx).
async fn outbox_sent(store: &PostgresStore, outbox: Outbox, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
    sqlx::query(outbox.sent).bind(id).bind(ms(now)).execute(store.pool()).await.map_err(db_err)?;
    Ok(())
}

/// An attempt failed: try again at `retry_at`, or give up (`None`).
async fn outbox_failed(
    store: &PostgresStore,
    outbox: Outbox,
    id: i64,
    error: String,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let query = match retry_at {
        Some(at) => sqlx::query(outbox.retry).bind(id).bind(error).bind(ms(at)),
        None => sqlx::query(outbox.failed).bind(id).bind(error),
    };
    query.execute(store.pool()).await.map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl NotifyStore for PostgresStore {
    async fn create_user(&self, user: User) -> Result<User, Error> {
        // Several rows (the user and their roles): one transaction, audited or not.
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        insert_user(&mut tx, &user).await?;
        let user = super::roles::with_roles(&mut *tx, user).await?;
        commit(tx).await?;
        Ok(user)
    }

    async fn list_users(&self) -> Result<Vec<User>, Error> {
        let mut tx = super::roles::snapshot(self).await?;
        let users = super::roles::users(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(users)
    }

    async fn update_user(&self, name: &str, update: UserUpdate) -> Result<User, Error> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE name = $1 FOR UPDATE"))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| refusal::user_missing(name))?;
        let mut user = super::roles::with_roles(&mut *tx, rows::user(&row)?).await?;
        let roles = match update.roles.as_deref() {
            Some(given) => Some(super::roles::check_given(&mut tx, given).await?),
            None => None,
        };
        let held_before = user.roles.clone();
        user.apply_update(update);
        sqlx::query(sql::UPDATE_USER)
            .bind(user.id.to_string())
            .bind(user.active)
            .bind(&user.email)
            .bind(user.email_registered)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(roles) = roles {
            super::roles::store_roles(&mut tx, user.id, &roles).await?;
        }
        // Deactivated, or a role taken away (a grant may be lost): every session ends.
        if !user.active || held_before.iter().any(|r| !user.roles.contains(r)) {
            super::sessions::end_all(&mut tx, user.id).await?;
        }
        commit(tx).await?;
        Ok(user)
    }

    async fn user_password(&self, name: &str) -> Result<Option<UserPassword>, Error> {
        sqlx::query(sql::USER_PASSWORD)
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(|r| rows::user_password(&r))
            .transpose()
    }

    async fn set_user_password(&self, name: &str, hash: String, must_change: bool) -> Result<User, Error> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let user = set_password(&mut tx, name, &hash, must_change).await?.ok_or_else(|| refusal::user_missing(name))?;
        commit(tx).await?;
        Ok(user)
    }

    async fn create_first_administrator(
        &self,
        user: User,
        password_hash: String,
        client: ApiClient,
        sealed_secret: Vec<u8>,
    ) -> Result<bool, Error> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let row = sqlx::query(sql::COUNT_USERS_AND_API_CLIENTS).fetch_one(&mut *tx).await.map_err(db_err)?;
        if col::<i64>(&row, 0)? > 0 {
            return Ok(false);
        }
        // Two servers starting together both find the tables empty: the second one's user insert
        // waits for the first's commit and then inserts nothing (`AlreadyExists`).
        insert_user(&mut tx, &user).await?;
        set_password(&mut tx, &user.name, &password_hash, true).await?;
        super::api_clients::insert(&mut tx, &client, &sealed_secret).await?;
        commit(tx).await?;
        self.clients_version.invalidate();
        Ok(true)
    }

    async fn put_contact(&self, contact: Contact, now: DateTime<Utc>) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        sqlx::query(sql::PUT_CONTACT)
            .bind(&contact.email)
            .bind(&contact.name)
            .bind(now.timestamp_millis())
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        w.done().await
    }

    async fn list_contacts(&self) -> Result<Vec<Contact>, Error> {
        sqlx::query(sql::LIST_CONTACTS)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok(Contact { email: col(r, 0)?, name: col(r, 1)? }))
            .collect()
    }

    async fn remove_contact(&self, email: &str) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        let n = sqlx::query(sql::DELETE_CONTACT).bind(email).execute(w.conn()).await.map_err(db_err)?.rows_affected();
        if n == 0 {
            return Err(refusal::contact_missing(email));
        }
        w.done().await
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let n = sqlx::query(sql::TAKE_LEASE)
            .bind(name)
            .bind(holder)
            .bind(ms(until))
            .bind(ms(now))
            .execute(self.pool())
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), Error> {
        sqlx::query(sql::RELEASE_LEASE).bind(name).bind(holder).execute(self.pool()).await.map_err(db_err)?;
        Ok(())
    }

    async fn expiring_tokens(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<ExpiringToken>, Error> {
        let (from, to) = codec::expiry_range(first, last);
        let refs = self.refs.get()?;
        sqlx::query(sql::TOKENS_EXPIRING_BETWEEN)
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let (token_ref, expiry, namespaces): (String, String, String) = (col(r, 0)?, col(r, 2)?, col(r, 5)?);
                Ok(ExpiringToken {
                    uuid: refs.open_uuid(&col::<Vec<u8>>(r, 7)?, &token_ref).map_err(bad_row)?,
                    name: col(r, 1)?,
                    expiry: codec::parse_date(&expiry).map_err(bad_row)?,
                    networks: Networks { staging: col(r, 3)?, production: col(r, 4)? },
                    namespaces: codec::decode_namespaces(&namespaces).map_err(bad_row)?,
                    last_used: col::<Option<i64>>(r, 6)?.map(from_ms),
                })
            })
            .collect()
    }

    async fn soonest_expiry(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
        let r = sqlx::query(sql::NEXT_EXPIRY).bind(ms(now)).fetch_one(self.pool()).await.map_err(db_err)?;
        Ok(col::<Option<i64>>(&r, 0)?.map(from_ms))
    }

    async fn live_token_counts(&self, now: DateTime<Utc>) -> Result<edgeward_core::store::LiveTokenCounts, Error> {
        let [now, day, week, month] = codec::live_token_bounds(now);
        let rows = sqlx::query(sql::LIVE_TOKEN_COUNTS)
            .bind(now)
            .bind(day)
            .bind(week)
            .bind(month)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let rows =
            rows.iter().map(|r| Ok((col::<i64>(r, 0)?, col::<i64>(r, 1)?))).collect::<Result<Vec<_>, Error>>()?;
        codec::live_token_counts(rows)
    }

    async fn mark_replaced(&self, old: Uuid, new: Uuid) -> Result<(), Error> {
        let refs = self.refs.get()?;
        let mut w = Write::start(self).await?;
        let n = sqlx::query(sql::SET_REPLACED_BY)
            .bind(refs.token_ref(&old))
            .bind(refs.token_ref(&new))
            .execute(w.conn())
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(refusal::token_missing());
        }
        w.done().await
    }

    async fn claim_notices(&self, due: Vec<(Uuid, u32)>, now: DateTime<Utc>) -> Result<Vec<(Uuid, u32)>, Error> {
        let refs = self.refs.get()?;
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let mut pending = Vec::new();
        for (uuid, days) in due {
            let token_ref = refs.token_ref(&uuid);
            sqlx::query(sql::CLAIM_EXPIRY_NOTICE)
                .bind(&token_ref)
                .bind(codec::int32(days)?)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let status: String = col(
                &sqlx::query(sql::EXPIRY_NOTICE_STATUS)
                    .bind(&token_ref)
                    .bind(codec::int32(days)?)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?,
                0,
            )?;
            if status == "pending" {
                pending.push((uuid, days));
            }
        }
        commit(tx).await?;
        Ok(pending)
    }

    async fn undelivered_notices(&self, due: Vec<(Uuid, u32)>) -> Result<Vec<(Uuid, u32)>, Error> {
        let refs = self.refs.get()?;
        let mut undelivered = Vec::new();
        for (uuid, days) in due {
            let row = sqlx::query(sql::EXPIRY_NOTICE_STATUS)
                .bind(refs.token_ref(&uuid))
                .bind(codec::int32(days)?)
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
            let status: Option<String> = row.as_ref().map(|r| col(r, 0)).transpose()?;
            if status.as_deref() != Some("delivered") {
                undelivered.push((uuid, days));
            }
        }
        Ok(undelivered)
    }

    async fn deliver_notices(
        &self,
        notices: Vec<NewNotice>,
        emails: Vec<NewEmail>,
        webhooks: Vec<NewWebhook>,
        delivered: Vec<(Uuid, u32)>,
        run: CheckRun,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        for w in &webhooks {
            sqlx::query(sql::QUEUE_WEBHOOK)
                .bind(w.event_id.to_string())
                .bind(&w.body)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for e in &emails {
            sqlx::query(sql::QUEUE_EMAIL)
                .bind(&e.recipient)
                .bind(&e.subject)
                .bind(&e.text_body)
                .bind(&e.html_body)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for n in &notices {
            sqlx::query(sql::INSERT_NOTICE)
                .bind(n.user_id.to_string())
                .bind(codec::int32(n.threshold_days)?)
                .bind(ms(now))
                .bind(&n.subject)
                .bind(n.tokens.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let refs = self.refs.get()?;
        for (uuid, days) in &delivered {
            sqlx::query(sql::MARK_EXPIRY_NOTICE_DELIVERED)
                .bind(refs.token_ref(uuid))
                .bind(codec::int32(*days)?)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        insert_run(&mut *tx, &run).await?;
        commit(tx).await
    }

    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEmail>, Error> {
        let rows = sqlx::query(
            "UPDATE email_outbox SET next_attempt_at = $2 WHERE id IN \
             (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
              ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, recipient, subject, text_body, html_body, attempts",
        )
        .bind(ms(now))
        .bind(ms(claim_until))
        .bind(codec::saturating(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(OutboxEmail {
                    id: col(r, 0)?,
                    email: NewEmail {
                        recipient: col(r, 1)?,
                        subject: col(r, 2)?,
                        text_body: col(r, 3)?,
                        html_body: col(r, 4)?,
                    },
                    attempts: attempts(r, 5)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    async fn email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        outbox_sent(self, EMAIL, id, now).await
    }

    async fn email_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<(), Error> {
        outbox_failed(self, EMAIL, id, error, retry_at).await
    }

    async fn failed_emails(&self, limit: usize) -> Result<Vec<FailedEmail>, Error> {
        sqlx::query(sql::FAILED_EMAIL)
            .bind(codec::saturating(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(FailedEmail {
                    recipient: col(r, 0)?,
                    subject: col(r, 1)?,
                    attempts: attempts(r, 2)?,
                    error: col(r, 3)?,
                    created_at: from_ms(col(r, 4)?),
                })
            })
            .collect()
    }

    async fn pending_email_count(&self) -> Result<u64, Error> {
        let r = sqlx::query(sql::COUNT_PENDING_EMAIL).fetch_one(self.pool()).await.map_err(db_err)?;
        Ok(crate::codec::unsigned(col::<i64>(&r, 0)?))
    }

    async fn claim_due_webhooks(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxWebhook>, Error> {
        let rows = sqlx::query(
            "UPDATE webhook_outbox SET next_attempt_at = $2 WHERE id IN \
             (SELECT id FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
              ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, event_id, body, attempts",
        )
        .bind(ms(now))
        .bind(ms(claim_until))
        .bind(codec::saturating(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let mut out = rows
            .iter()
            .map(|r| {
                let event_id: String = col(r, 1)?;
                Ok(OutboxWebhook {
                    id: col(r, 0)?,
                    event: NewWebhook { event_id: codec::parse_uuid(&event_id).map_err(bad_row)?, body: col(r, 2)? },
                    attempts: attempts(r, 3)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        out.sort_by_key(|w| w.id);
        Ok(out)
    }

    async fn webhook_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        outbox_sent(self, WEBHOOK, id, now).await
    }

    async fn webhook_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<(), Error> {
        outbox_failed(self, WEBHOOK, id, error, retry_at).await
    }

    async fn webhook_counts(&self) -> Result<(u64, u64), Error> {
        let r = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE status = 'pending'), COUNT(*) FILTER (WHERE status = 'failed') \
             FROM webhook_outbox",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        Ok((crate::codec::unsigned(col::<i64>(&r, 0)?), crate::codec::unsigned(col::<i64>(&r, 1)?)))
    }

    async fn record_run(&self, run: CheckRun) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        insert_run(w.conn(), &run).await?;
        w.done().await
    }

    async fn check_runs(&self, limit: usize) -> Result<Vec<CheckRun>, Error> {
        sqlx::query(sql::RECENT_NOTIFY_RUNS)
            .bind(codec::saturating(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::check_run)
            .collect()
    }

    async fn notices_for(&self, user: Uuid, limit: usize, before: Option<i64>) -> Result<(Vec<Notice>, u64), Error> {
        let notices = sqlx::query(
            "SELECT id, threshold_days, created_at, read_at, subject, tokens FROM notices \
             WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(user.to_string())
        .bind(before.unwrap_or(i64::MAX))
        .bind(codec::saturating(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let tokens: String = col(r, 5)?;
            Ok(Notice {
                id: col(r, 0)?,
                user_id: user,
                threshold_days: crate::codec::unsigned32(col::<i32>(r, 1)?),
                created_at: from_ms(col(r, 2)?),
                read_at: col::<Option<i64>>(r, 3)?.map(from_ms),
                subject: col(r, 4)?,
                tokens: serde_json::from_str(&tokens).map_err(|e| bad_row(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
        let unread: i64 = col(
            &sqlx::query(sql::COUNT_UNREAD_NOTICES)
                .bind(user.to_string())
                .fetch_one(self.pool())
                .await
                .map_err(db_err)?,
            0,
        )?;
        Ok((notices, crate::codec::unsigned(unread)))
    }

    async fn mark_notices_read(&self, user: Uuid, ids: Vec<i64>, now: DateTime<Utc>) -> Result<u64, Error> {
        let q = if ids.is_empty() {
            sqlx::query(sql::MARK_NOTICES_READ).bind(user.to_string()).bind(ms(now))
        } else {
            sqlx::query("UPDATE notices SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL AND id = ANY($3)")
                .bind(user.to_string())
                .bind(ms(now))
                .bind(ids)
        };
        Ok(q.execute(self.pool()).await.map_err(db_err)?.rows_affected())
    }
}
