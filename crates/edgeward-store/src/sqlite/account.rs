//! [`AccountStore`] on SQLite: the account, its default namespaces and the token-signing keys.

use super::{changes, db_err, SqliteStore};
use crate::codec::{from_ms, ms};
use crate::rows;
use crate::sql::sqlite as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::names::NamespaceName;
use edgeward_core::network::Network;
use edgeward_core::store::{Account, AccountStore, Change, SigningKeyUse, StoredSigningKey};
use edgeward_core::{refusal, Error};
use rusqlite::{params, OptionalExtension};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn account(&self) -> Result<Option<Account>, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::ACCOUNT)
                .and_then(|mut s| s.query_row([], |r| rows::account(r)).optional())
                .map_err(db_err)
        })
    }

    async fn initialize_account(&self, account: Account) -> Result<(Account, bool), Error> {
        self.write(move |c| {
            if let Some(existing) = c.query_row(sql::ACCOUNT, [], |r| rows::account(r)).optional().map_err(db_err)? {
                return Ok((existing, false));
            }
            c.execute(
                sql::INSERT_ACCOUNT,
                params![
                    account.cpcode,
                    ms(account.initialized_at),
                    account.restrict_data_access,
                    account.allow_namespace_policy_override
                ],
            )
            .map_err(db_err)?;
            for net in Network::ALL {
                c.execute(
                    sql::INSERT_DEFAULT_NAMESPACE,
                    params![
                        net.as_str(),
                        edgeward_core::namespace::DEFAULT_RETENTION_SECONDS,
                        ms(account.initialized_at)
                    ],
                )
                .map_err(db_err)?;
            }
            Ok((account, true))
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, Error> {
        self.point_read(|c| {
            let mut s = c.prepare_cached(sql::LIST_SIGNING_KEYS).map_err(db_err)?;
            let rows = s
                .query_map([], |r| {
                    Ok(StoredSigningKey {
                        kid: r.get(0)?,
                        sealed_pkcs8: r.get(1)?,
                        created_at: from_ms(r.get(2)?),
                        retired_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn add_signing_key(&self, key: StoredSigningKey) -> Result<(), Error> {
        self.write(move |c| {
            let added = c
                .execute(
                    sql::INSERT_SIGNING_KEY,
                    params![key.kid, key.sealed_pkcs8, ms(key.created_at), key.retired_at.map(ms)],
                )
                .map_err(db_err)?;
            if added == 1 {
                changes::note(c, &Change::SigningKeys(key.kid.clone()), key.created_at)?;
            }
            Ok(())
        })
        .await
    }

    async fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let kid = kid.to_owned();
        self.write(move |c| {
            let retired = c.execute(sql::RETIRE_SIGNING_KEY, params![kid, ms(now)]).map_err(db_err)?;
            if retired == 0 {
                let known = c.query_row(sql::SIGNING_KEY_EXISTS, [&kid], |_| Ok(())).optional();
                return match known.map_err(db_err)? {
                    Some(()) => Ok(false),
                    None => Err(refusal::unknown_signing_key(&kid)),
                };
            }
            changes::note(c, &Change::SigningKeys(kid), now)?;
            Ok(true)
        })
        .await
    }

    async fn signing_key_use(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyUse>, Error> {
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::SIGNING_KEY_USE).map_err(db_err)?;
            let rows = s
                .query_map([ms(now)], |r| {
                    Ok(SigningKeyUse {
                        kid: r.get(0)?,
                        live_tokens: crate::codec::unsigned(r.get::<_, i64>(1)?),
                        last_expiry: r.get::<_, Option<i64>>(2)?.map(from_ms),
                    })
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn namespace_names(&self, network: Network) -> Result<Vec<NamespaceName>, Error> {
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::LIST_NAMESPACE_NAMES).map_err(db_err)?;
            let rows = s.query_map([network.as_str()], |r| r.get::<_, String>(0)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(|n| NamespaceName::parse(&n))).collect()
        })
        .await
    }
}
