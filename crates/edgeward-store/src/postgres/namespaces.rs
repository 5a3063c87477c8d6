//! [`NamespaceStore`] on PostgreSQL: namespaces, access groups, groups and item keys.

use super::{bad_row, changes, col, commit, db_err, PostgresStore, Write};
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::pg as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::names::AccessGroupId;
use edgeward_core::names::NamespaceName;
use edgeward_core::network::Network;
use edgeward_core::store::{AccessGroup, Change, Created, Namespace, NamespaceStore};
use edgeward_core::{refusal, Error};
use sqlx::{Postgres, Transaction};

async fn group_exists(tx: &mut Transaction<'static, Postgres>, group_id: AccessGroupId) -> Result<bool, Error> {
    Ok(sqlx::query("SELECT 1 FROM access_groups WHERE group_id = $1 FOR SHARE")
        .bind(group_id.as_i64())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .is_some())
}

async fn delete_namespace_rows(
    tx: &mut Transaction<'static, Postgres>,
    network: &str,
    name: &str,
) -> Result<u64, Error> {
    let n = sqlx::query(sql::DELETE_NAMESPACE)
        .bind(network)
        .bind(name)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if n > 0 {
        sqlx::query(sql::DELETE_NAMESPACE_ITEMS).bind(network).bind(name).execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(n)
}

#[async_trait]
impl NamespaceStore for PostgresStore {
    async fn list_namespaces(&self, network: Network) -> Result<Vec<Namespace>, Error> {
        sqlx::query(sql::LIST_NAMESPACES)
            .bind(network.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::namespace)
            .collect()
    }

    async fn get_namespace(&self, network: Network, name: &NamespaceName) -> Result<Option<Namespace>, Error> {
        sqlx::query(sql::NAMESPACE)
            .bind(network.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::namespace(&r))
            .transpose()
    }

    async fn create_namespace(&self, ns: Namespace, max: usize) -> Result<(Namespace, Created), Error> {
        let mut tx = self.begin().await?;
        let existing = sqlx::query(sql::NAMESPACE)
            .bind(ns.network.as_str())
            .bind(ns.name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .map(|r| rows::namespace(&r))
            .transpose()?;
        let same = |e: &Namespace| {
            e.retention_seconds == ns.retention_seconds
                && e.group_id == ns.group_id
                && e.geo_location == ns.geo_location
        };
        if let Some(e) = existing {
            return if same(&e) { Ok((e, Created::AlreadyThere)) } else { Err(refusal::namespace_conflict(&ns.name)) };
        }
        let count: i64 = col(
            &sqlx::query(sql::COUNT_NETWORK_NAMESPACES)
                .bind(ns.network.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
            0,
        )?;
        if usize::try_from(count).unwrap_or(0) >= max {
            return Err(refusal::namespace_limit(max));
        }
        if !group_exists(&mut tx, ns.group_id).await? {
            return Err(refusal::access_group_missing(ns.group_id));
        }
        let inserted = sqlx::query(sql::INSERT_NAMESPACE)
            .bind(ns.network.as_str())
            .bind(ns.name.as_str())
            .bind(codec::retention_column(ns.retention_seconds)?)
            .bind(ns.group_id.as_i64())
            .bind(&ns.geo_location)
            .bind(ms(ns.created_at))
            .bind(ns.delete_at.map(ms))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        commit(tx).await?;
        if inserted == 0 {
            // Created a moment ago by a concurrent request: answer as if it had come first.
            return match self.get_namespace(ns.network, &ns.name).await? {
                Some(e) if same(&e) => Ok((e, Created::AlreadyThere)),
                _ => Err(refusal::namespace_conflict(&ns.name)),
            };
        }
        Ok((ns, Created::New))
    }

    async fn set_namespace_retention(
        &self,
        network: Network,
        name: &NamespaceName,
        retention_seconds: u64,
        now: DateTime<Utc>,
    ) -> Result<Namespace, Error> {
        let mut tx = self.begin().await?;
        let ns = sqlx::query(sql::SET_NAMESPACE_RETENTION)
            .bind(network.as_str())
            .bind(name.as_str())
            .bind(codec::retention_column(retention_seconds)?)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(refusal::namespace_missing)?;
        let ns = rows::namespace(&ns)?;
        changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
        commit(tx).await?;
        Ok(ns)
    }

    async fn delete_namespace(&self, network: Network, name: &NamespaceName, now: DateTime<Utc>) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        if delete_namespace_rows(&mut tx, network.as_str(), name.as_str()).await? == 0 {
            return Err(refusal::namespace_missing());
        }
        changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
        commit(tx).await
    }

    async fn schedule_namespace_delete(
        &self,
        network: Network,
        name: &NamespaceName,
        at: Option<DateTime<Utc>>,
    ) -> Result<Namespace, Error> {
        sqlx::query(sql::SCHEDULE_NAMESPACE_DELETE)
            .bind(network.as_str())
            .bind(name.as_str())
            .bind(at.map(ms))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::namespace(&r))
            .transpose()?
            .ok_or_else(refusal::namespace_missing)
    }

    async fn delete_due_namespaces(&self, now: DateTime<Utc>) -> Result<Vec<(Network, NamespaceName)>, Error> {
        let mut tx = self.begin().await?;
        let due = sqlx::query(
            "SELECT network, name FROM namespaces WHERE delete_at IS NOT NULL AND delete_at <= $1 \
             ORDER BY network, name FOR UPDATE SKIP LOCKED",
        )
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut deleted = Vec::with_capacity(due.len());
        for r in &due {
            let (network, name): (String, String) = (col(r, 0)?, col(r, 1)?);
            delete_namespace_rows(&mut tx, &network, &name).await?;
            let network = Network::parse(&network).map_err(|e| bad_row(e.to_string()))?;
            let name = NamespaceName::parse(&name).map_err(|e| bad_row(e.to_string()))?;
            changes::note(&mut tx, &Change::Namespace(network, name.clone()), now).await?;
            deleted.push((network, name));
        }
        commit(tx).await?;
        Ok(deleted)
    }

    async fn set_namespace_group(
        &self,
        name: &NamespaceName,
        group_id: AccessGroupId,
    ) -> Result<Vec<Namespace>, Error> {
        let mut tx = self.begin().await?;
        if !group_exists(&mut tx, group_id).await? {
            return Err(refusal::access_group_missing(group_id));
        }
        let mut changed = sqlx::query(sql::SET_NAMESPACE_GROUP)
            .bind(name.as_str())
            .bind(group_id.as_i64())
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::namespace)
            .collect::<Result<Vec<_>, _>>()?;
        commit(tx).await?;
        changed.sort_by_key(|n| n.network.as_str());
        Ok(changed)
    }

    async fn list_access_groups(&self) -> Result<Vec<AccessGroup>, Error> {
        sqlx::query(sql::LIST_ACCESS_GROUPS)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok(AccessGroup { group_id: codec::group_id(col::<i64>(r, 0)?), name: col(r, 1)? }))
            .collect()
    }

    async fn create_access_group(&self, group: AccessGroup, now: DateTime<Utc>) -> Result<AccessGroup, Error> {
        let mut w = Write::start(self).await?;
        let n = sqlx::query(sql::INSERT_ACCESS_GROUP)
            .bind(group.group_id.as_i64())
            .bind(&group.name)
            .bind(now.timestamp_millis())
            .execute(w.conn())
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(refusal::access_group_taken(group.group_id));
        }
        w.done().await?;
        Ok(group)
    }

    async fn delete_access_group(&self, group_id: AccessGroupId) -> Result<(), Error> {
        if group_id == AccessGroupId::ACCOUNT {
            return Err(refusal::account_group_kept());
        }
        let mut tx = self.begin().await?;
        // Lock the group first: a namespace moved into it meanwhile waits (FOR SHARE) or fails.
        let locked = sqlx::query("SELECT 1 FROM access_groups WHERE group_id = $1 FOR UPDATE")
            .bind(group_id.as_i64())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if locked.is_none() {
            return Err(refusal::access_group_missing(group_id));
        }
        let used: i64 = col(
            &sqlx::query(sql::COUNT_GROUP_NAMESPACES)
                .bind(group_id.as_i64())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
            0,
        )?;
        if used > 0 {
            return Err(refusal::access_group_in_use(group_id, used));
        }
        sqlx::query(sql::DELETE_ACCESS_GROUP).bind(group_id.as_i64()).execute(&mut *tx).await.map_err(db_err)?;
        commit(tx).await
    }

    async fn list_groups(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        sqlx::query(sql::LIST_ITEM_GROUPS)
            .bind(network.as_str())
            .bind(name.as_str())
            .bind(sandbox)
            .bind(codec::saturating(max))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| col(r, 0))
            .collect()
    }

    async fn list_item_keys(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        group: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        sqlx::query(sql::LIST_ITEM_KEYS)
            .bind(network.as_str())
            .bind(name.as_str())
            .bind(sandbox)
            .bind(group)
            .bind(codec::saturating(max))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| col(r, 0))
            .collect()
    }
}
