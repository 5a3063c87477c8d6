//! [`NotifyStore`] on SQLite: users, escalation contacts, expiry notices, the panel and leases.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use edgeward_core::network::Networks;
use edgeward_core::notify::{
    CheckRun, Contact, ExpiringToken, FailedEmail, NewEmail, NewNotice, NewWebhook, Notice, OutboxEmail, OutboxWebhook,
    User, UserPassword, UserUpdate,
};
use edgeward_core::store::{ApiClient, NotifyStore};
use edgeward_core::{refusal, Error};

use super::{conversion, db_err, decode_namespaces, parse_date, SqliteStore};
use crate::codec::{self, from_ms, ms};
use crate::rows;
use crate::sql::sqlite as sql;
use crate::sql::Outbox;

fn insert_run(c: &rusqlite::Connection, run: &CheckRun) -> Result<(), Error> {
    c.execute(
        sql::INSERT_NOTIFY_RUN,
        params![
            run.check_day.to_string(),
            run.holder,
            ms(run.started_at),
            ms(run.finished_at),
            run.dry_run,
            codec::saturating(run.due),
            codec::saturating(run.notices)
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Insert a user row and the roles they hold (`AlreadyExists` when the name is taken; a role
/// that does not exist is refused before anything is written).
fn insert_user(c: &rusqlite::Connection, user: &User) -> Result<(), Error> {
    let roles = super::roles::check_given(c, &user.roles)?;
    let n = c
        .execute(
            sql::INSERT_USER,
            params![
                user.id.to_string(),
                user.name,
                user.email,
                user.email_registered,
                user.active,
                user.grants.to_list(),
                ms(user.created_at)
            ],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(refusal::user_taken(&user.name));
    }
    super::roles::store_roles(c, user.id, &roles)
}

/// Set a user's password hash and whether it must be changed; `None` for an unknown name.
/// Set a user's password, ending every session they have (in the caller's transaction).
fn set_password(c: &rusqlite::Connection, name: &str, hash: &str, must_change: bool) -> Result<Option<User>, Error> {
    let user = c
        .query_row(sql::SET_USER_PASSWORD, params![name, hash, must_change], |r| rows::user(r))
        .optional()
        .map_err(db_err)?;
    match user {
        Some(u) => {
            super::sessions::end_all(c, u.id)?;
            Ok(Some(super::roles::with_roles(c, u)?))
        }
        None => Ok(None),
    }
}

const EMAIL: Outbox = Outbox { sent: sql::EMAIL_SENT, retry: sql::EMAIL_RETRY, failed: sql::EMAIL_FAILED };
const WEBHOOK: Outbox = Outbox { sent: sql::WEBHOOK_SENT, retry: sql::WEBHOOK_RETRY, failed: sql::WEBHOOK_FAILED };

/// A message was accepted (SMTP) or delivered (2xx).
fn outbox_sent(c: &rusqlite::Connection, outbox: Outbox, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
    c.prepare_cached(outbox.sent).and_then(|mut s| s.execute(params![id, ms(now)])).map_err(db_err)?;
    Ok(())
}

/// An attempt failed: try again at `retry_at`, or give up (`None`).
fn outbox_failed(
    c: &rusqlite::Connection,
    outbox: Outbox,
    id: i64,
    error: String,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    match retry_at {
        Some(at) => c.execute(outbox.retry, params![id, error, ms(at)]),
        None => c.execute(outbox.failed, params![id, error]),
    }
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn create_user(&self, user: User) -> Result<User, Error> {
        self.write(move |c| {
            insert_user(c, &user)?;
            super::roles::with_roles(c, user)
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>, Error> {
        self.read(super::roles::users).await
    }

    async fn update_user(&self, name: &str, update: UserUpdate) -> Result<User, Error> {
        let name = name.to_owned();
        self.write(move |c| {
            let user = c
                .query_row(sql::USER_BY_NAME, [&name], |r| rows::user(r))
                .optional()
                .map_err(db_err)?
                .ok_or_else(|| refusal::user_missing(&name))?;
            let mut user = super::roles::with_roles(c, user)?;
            let roles = update.roles.as_deref().map(|r| super::roles::check_given(c, r)).transpose()?;
            let held_before = user.roles.clone();
            user.apply_update(update);
            c.execute(sql::UPDATE_USER, params![user.id.to_string(), user.active, user.email, user.email_registered])
                .map_err(db_err)?;
            if let Some(roles) = roles {
                super::roles::store_roles(c, user.id, &roles)?;
            }
            // Deactivated, or a role taken away (a grant may be lost): every session ends.
            if !user.active || held_before.iter().any(|r| !user.roles.contains(r)) {
                super::sessions::end_all(c, user.id)?;
            }
            Ok(user)
        })
        .await
    }

    async fn user_password(&self, name: &str) -> Result<Option<UserPassword>, Error> {
        let name = name.to_owned();
        self.read(move |c| {
            c.prepare_cached(sql::USER_PASSWORD)
                .and_then(|mut s| s.query_row([&name], |r| rows::user_password(r)).optional())
                .map_err(db_err)
        })
        .await
    }

    async fn set_user_password(&self, name: &str, hash: String, must_change: bool) -> Result<User, Error> {
        let name = name.to_owned();
        self.write(move |c| set_password(c, &name, &hash, must_change)?.ok_or_else(|| refusal::user_missing(&name)))
            .await
    }

    async fn create_first_administrator(
        &self,
        user: User,
        password_hash: String,
        client: ApiClient,
        sealed_secret: Vec<u8>,
    ) -> Result<bool, Error> {
        self.write(move |c| {
            let existing: i64 = c.query_row(sql::COUNT_USERS_AND_API_CLIENTS, [], |r| r.get(0)).map_err(db_err)?;
            if existing > 0 {
                return Ok(false);
            }
            insert_user(c, &user)?;
            set_password(c, &user.name, &password_hash, true)?;
            super::api_clients::insert(c, &client, &sealed_secret)?;
            Ok(true)
        })
        .await
    }

    async fn put_contact(&self, contact: Contact, now: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| {
            c.execute(sql::PUT_CONTACT, params![contact.email, contact.name, now.timestamp_millis()])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn list_contacts(&self) -> Result<Vec<Contact>, Error> {
        self.read(|c| {
            let mut s = c.prepare_cached(sql::LIST_CONTACTS).map_err(db_err)?;
            let rows = s.query_map([], |r| Ok(Contact { email: r.get(0)?, name: r.get(1)? })).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn remove_contact(&self, email: &str) -> Result<(), Error> {
        let email = email.to_owned();
        self.write(move |c| {
            if c.execute(sql::DELETE_CONTACT, [&email]).map_err(db_err)? == 0 {
                return Err(refusal::contact_missing(&email));
            }
            Ok(())
        })
        .await
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |c| {
            let changed = c.execute(sql::TAKE_LEASE, params![name, holder, ms(until), ms(now)]).map_err(db_err)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), Error> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.write(move |c| {
            c.execute(sql::RELEASE_LEASE, params![name, holder]).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn expiring_tokens(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<ExpiringToken>, Error> {
        let refs = self.refs.get()?.clone();
        self.read(move |c| {
            // A range of `expires_at` (the last second of the expiry day), so the partial index
            // on unrevoked tokens' expiry answers it without reading other tokens.
            let (from, to) = codec::expiry_range(first, last);
            let mut s = c.prepare_cached(sql::TOKENS_EXPIRING_BETWEEN).map_err(db_err)?;
            let rows = s
                .query_map(params![from, to], |r| {
                    let token_ref: String = r.get(0)?;
                    let expiry: String = r.get(2)?;
                    let namespaces: String = r.get(5)?;
                    let sealed: Vec<u8> = r.get(7)?;
                    Ok(ExpiringToken {
                        uuid: refs.open_uuid(&sealed, &token_ref).map_err(conversion)?,
                        name: r.get(1)?,
                        expiry: parse_date(&expiry)?,
                        networks: Networks { staging: r.get(3)?, production: r.get(4)? },
                        namespaces: decode_namespaces(&namespaces)?,
                        last_used: r.get::<_, Option<i64>>(6)?.map(from_ms),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn soonest_expiry(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
        self.point_read(|c| {
            c.query_row(sql::NEXT_EXPIRY, [ms(now)], |r| r.get::<_, Option<i64>>(0))
                .map(|v| v.map(from_ms))
                .map_err(db_err)
        })
    }

    async fn live_token_counts(&self, now: DateTime<Utc>) -> Result<edgeward_core::store::LiveTokenCounts, Error> {
        let bounds = codec::live_token_bounds(now);
        // A scan of the live tokens (the partial index on unrevoked tokens' expiry): on a
        // blocking thread, as listings are.
        let rows = self
            .read(move |c| {
                let mut s = c.prepare_cached(sql::LIVE_TOKEN_COUNTS).map_err(db_err)?;
                let rows = s.query_map(bounds, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).map_err(db_err)?;
                rows.map(|r| r.map_err(db_err)).collect::<Result<Vec<_>, Error>>()
            })
            .await?;
        codec::live_token_counts(rows)
    }

    async fn mark_replaced(&self, old: Uuid, new: Uuid) -> Result<(), Error> {
        let refs = self.refs.get()?;
        let (old, new) = (refs.token_ref(&old), refs.token_ref(&new));
        self.write(move |c| {
            let n = c.execute(sql::SET_REPLACED_BY, params![old, new]).map_err(db_err)?;
            if n == 0 {
                return Err(refusal::token_missing());
            }
            Ok(())
        })
        .await
    }

    async fn claim_notices(&self, due: Vec<(Uuid, u32)>, now: DateTime<Utc>) -> Result<Vec<(Uuid, u32)>, Error> {
        let refs = self.refs.get()?;
        let due: Vec<(Uuid, String, u32)> = due.into_iter().map(|(u, d)| (u, refs.token_ref(&u), d)).collect();
        self.write(move |c| {
            let mut insert = c.prepare_cached(sql::CLAIM_EXPIRY_NOTICE).map_err(db_err)?;
            let mut status = c.prepare_cached(sql::EXPIRY_NOTICE_STATUS).map_err(db_err)?;
            let mut pending = Vec::new();
            for (uuid, token_ref, days) in due {
                insert.execute(params![token_ref, days, ms(now)]).map_err(db_err)?;
                let s: String = status.query_row(params![token_ref, days], |r| r.get(0)).map_err(db_err)?;
                if s == "pending" {
                    pending.push((uuid, days));
                }
            }
            Ok(pending)
        })
        .await
    }

    async fn undelivered_notices(&self, due: Vec<(Uuid, u32)>) -> Result<Vec<(Uuid, u32)>, Error> {
        let refs = self.refs.get()?;
        let due: Vec<(Uuid, String, u32)> = due.into_iter().map(|(u, d)| (u, refs.token_ref(&u), d)).collect();
        self.read(move |c| {
            let mut status = c.prepare_cached(sql::EXPIRY_NOTICE_STATUS).map_err(db_err)?;
            let mut undelivered = Vec::new();
            for (uuid, token_ref, days) in due {
                let s: Option<String> =
                    status.query_row(params![token_ref, days], |r| r.get(0)).optional().map_err(db_err)?;
                if s.as_deref() != Some("delivered") {
                    undelivered.push((uuid, days));
                }
            }
            Ok(undelivered)
        })
        .await
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
        let refs = self.refs.get()?;
        let delivered: Vec<(String, u32)> = delivered.iter().map(|(u, d)| (refs.token_ref(u), *d)).collect();
        self.write(move |c| {
            let mut hooks = c.prepare_cached(sql::QUEUE_WEBHOOK).map_err(db_err)?;
            for w in &webhooks {
                hooks.execute(params![w.event_id.to_string(), w.body, ms(now)]).map_err(db_err)?;
            }
            let mut queue = c.prepare_cached(sql::QUEUE_EMAIL).map_err(db_err)?;
            for e in &emails {
                queue.execute(params![e.recipient, e.subject, e.text_body, e.html_body, ms(now)]).map_err(db_err)?;
            }
            let mut add = c.prepare_cached(sql::INSERT_NOTICE).map_err(db_err)?;
            for n in &notices {
                add.execute(params![n.user_id.to_string(), n.threshold_days, ms(now), n.subject, n.tokens.to_string()])
                    .map_err(db_err)?;
            }
            let mut done = c.prepare_cached(sql::MARK_EXPIRY_NOTICE_DELIVERED).map_err(db_err)?;
            for (token_ref, days) in &delivered {
                done.execute(params![token_ref, days]).map_err(db_err)?;
            }
            insert_run(c, &run)
        })
        .await
    }

    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEmail>, Error> {
        self.write(move |c| {
            let mut s = c
                .prepare_cached(
                    "UPDATE email_outbox SET next_attempt_at = ?2 WHERE id IN \
                     (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?3) \
                     RETURNING id, recipient, subject, text_body, html_body, attempts",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map(params![ms(now), ms(claim_until), codec::saturating(limit)], |r| {
                    Ok(OutboxEmail {
                        id: r.get(0)?,
                        email: NewEmail {
                            recipient: r.get(1)?,
                            subject: r.get(2)?,
                            text_body: r.get(3)?,
                            html_body: r.get(4)?,
                        },
                        attempts: r.get(5)?,
                    })
                })
                .map_err(db_err)?;
            let mut out = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            out.sort_by_key(|e| e.id);
            Ok(out)
        })
        .await
    }

    async fn email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| outbox_sent(c, EMAIL, id, now)).await
    }

    async fn email_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<(), Error> {
        self.write(move |c| outbox_failed(c, EMAIL, id, error, retry_at)).await
    }

    async fn failed_emails(&self, limit: usize) -> Result<Vec<FailedEmail>, Error> {
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::FAILED_EMAIL).map_err(db_err)?;
            let rows = s
                .query_map([codec::saturating(limit)], |r| {
                    Ok(FailedEmail {
                        recipient: r.get(0)?,
                        subject: r.get(1)?,
                        attempts: r.get(2)?,
                        error: r.get(3)?,
                        created_at: from_ms(r.get(4)?),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn pending_email_count(&self) -> Result<u64, Error> {
        self.point_read(|c| {
            c.query_row(sql::COUNT_PENDING_EMAIL, [], |r| r.get::<_, i64>(0))
                .map(crate::codec::unsigned)
                .map_err(db_err)
        })
    }

    async fn claim_due_webhooks(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxWebhook>, Error> {
        self.write(move |c| {
            let mut s = c
                .prepare_cached(
                    "UPDATE webhook_outbox SET next_attempt_at = ?2 WHERE id IN \
                     (SELECT id FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?3) \
                     RETURNING id, event_id, body, attempts",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map(params![ms(now), ms(claim_until), codec::saturating(limit)], |r| {
                    let event_id: String = r.get(1)?;
                    Ok(OutboxWebhook {
                        id: r.get(0)?,
                        event: NewWebhook {
                            event_id: Uuid::parse_str(&event_id).map_err(|e| conversion(e.to_string()))?,
                            body: r.get(2)?,
                        },
                        attempts: r.get(3)?,
                    })
                })
                .map_err(db_err)?;
            let mut out = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            out.sort_by_key(|w| w.id);
            Ok(out)
        })
        .await
    }

    async fn webhook_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.write(move |c| outbox_sent(c, WEBHOOK, id, now)).await
    }

    async fn webhook_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<(), Error> {
        self.write(move |c| outbox_failed(c, WEBHOOK, id, error, retry_at)).await
    }

    async fn webhook_counts(&self) -> Result<(u64, u64), Error> {
        self.point_read(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'failed'), 0) FROM webhook_outbox",
                [],
                |r| Ok((crate::codec::unsigned(r.get::<_, i64>(0)?), crate::codec::unsigned(r.get::<_, i64>(1)?))),
            )
            .map_err(db_err)
        })
    }

    async fn record_run(&self, run: CheckRun) -> Result<(), Error> {
        self.write(move |c| insert_run(c, &run)).await
    }

    async fn check_runs(&self, limit: usize) -> Result<Vec<CheckRun>, Error> {
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::RECENT_NOTIFY_RUNS).map_err(db_err)?;
            let rows = s.query_map([codec::saturating(limit)], |r| rows::check_run(r)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn notices_for(&self, user: Uuid, limit: usize, before: Option<i64>) -> Result<(Vec<Notice>, u64), Error> {
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT id, user_id, threshold_days, created_at, read_at, subject, tokens FROM notices \
                     WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                )
                .map_err(db_err)?;
            let rows = s
                .query_map(params![user.to_string(), before.unwrap_or(i64::MAX), codec::saturating(limit)], |r| {
                    let tokens: String = r.get(6)?;
                    Ok(Notice {
                        id: r.get(0)?,
                        user_id: user,
                        threshold_days: r.get(2)?,
                        created_at: from_ms(r.get(3)?),
                        read_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
                        subject: r.get(5)?,
                        tokens: serde_json::from_str(&tokens).map_err(|e| conversion(e.to_string()))?,
                    })
                })
                .map_err(db_err)?;
            let notices = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            let unread: i64 =
                c.query_row(sql::COUNT_UNREAD_NOTICES, [user.to_string()], |r| r.get(0)).map_err(db_err)?;
            Ok((notices, crate::codec::unsigned(unread)))
        })
        .await
    }

    async fn mark_notices_read(&self, user: Uuid, ids: Vec<i64>, now: DateTime<Utc>) -> Result<u64, Error> {
        self.write(move |c| {
            // One statement either way: the ids travel as one JSON array.
            let changed = if ids.is_empty() {
                c.execute(sql::MARK_NOTICES_READ, params![user.to_string(), ms(now)])
            } else {
                c.execute(
                    "UPDATE notices SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL \
                     AND id IN (SELECT value FROM json_each(?3))",
                    params![
                        user.to_string(),
                        ms(now),
                        serde_json::to_string(&ids).map_err(|e| Error::Internal(e.to_string()))?
                    ],
                )
            }
            .map_err(db_err)?;
            Ok(changed as u64)
        })
        .await
    }
}
