//! [`AccountStore`] on PostgreSQL: the account, its default namespaces and the token-signing keys.

use super::{bad_row, changes, col, commit, db_err, PostgresStore};
use crate::codec::{from_ms, ms};
use crate::rows;
use crate::sql::pg as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::names::NamespaceName;
use edgeward_core::network::Network;
use edgeward_core::store::{Account, AccountStore, Change, SigningKeyUse, StoredSigningKey};
use edgeward_core::{refusal, Error};

#[async_trait]
impl AccountStore for PostgresStore {
    async fn account(&self) -> Result<Option<Account>, Error> {
        sqlx::query(sql::ACCOUNT)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::account(&r))
            .transpose()
    }

    async fn initialize_account(&self, account: Account) -> Result<(Account, bool), Error> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(sql::INSERT_ACCOUNT)
            .bind(&account.cpcode)
            .bind(ms(account.initialized_at))
            .bind(account.restrict_data_access)
            .bind(account.allow_namespace_policy_override)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if inserted == 0 {
            // Initialized already (perhaps by another server a moment ago).
            let row = sqlx::query(sql::ACCOUNT).fetch_one(&mut *tx).await.map_err(db_err)?;
            return Ok((rows::account(&row)?, false));
        }
        for net in Network::ALL {
            sqlx::query(sql::INSERT_DEFAULT_NAMESPACE)
                .bind(net.as_str())
                .bind(edgeward_core::namespace::DEFAULT_RETENTION_SECONDS)
                .bind(ms(account.initialized_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit(tx).await?;
        Ok((account, true))
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, Error> {
        sqlx::query(sql::LIST_SIGNING_KEYS)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(StoredSigningKey {
                    kid: col(r, 0)?,
                    sealed_pkcs8: col(r, 1)?,
                    created_at: from_ms(col(r, 2)?),
                    retired_at: col::<Option<i64>>(r, 3)?.map(from_ms),
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, key: StoredSigningKey) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        let added = sqlx::query(sql::INSERT_SIGNING_KEY)
            .bind(&key.kid)
            .bind(&key.sealed_pkcs8)
            .bind(ms(key.created_at))
            .bind(key.retired_at.map(ms))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if added == 1 {
            changes::note(&mut tx, &Change::SigningKeys(key.kid.clone()), key.created_at).await?;
        }
        commit(tx).await
    }

    async fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> Result<bool, Error> {
        let mut tx = self.begin().await?;
        let retired = sqlx::query(sql::RETIRE_SIGNING_KEY)
            .bind(kid)
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if retired == 0 {
            let known =
                sqlx::query(sql::SIGNING_KEY_EXISTS).bind(kid).fetch_optional(&mut *tx).await.map_err(db_err)?;
            return match known {
                Some(_) => Ok(false),
                None => Err(refusal::unknown_signing_key(kid)),
            };
        }
        changes::note(&mut tx, &Change::SigningKeys(kid.to_owned()), now).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn signing_key_use(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyUse>, Error> {
        sqlx::query(sql::SIGNING_KEY_USE)
            .bind(ms(now))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(SigningKeyUse {
                    kid: col(r, 0)?,
                    live_tokens: crate::codec::unsigned(col::<i64>(r, 1)?),
                    last_expiry: col::<Option<i64>>(r, 2)?.map(from_ms),
                })
            })
            .collect()
    }

    async fn namespace_names(&self, network: Network) -> Result<Vec<NamespaceName>, Error> {
        sqlx::query(sql::LIST_NAMESPACE_NAMES)
            .bind(network.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| NamespaceName::parse(&col::<String>(r, 0)?).map_err(|e| bad_row(e.to_string())))
            .collect()
    }
}
