//! [`NamespaceStore`] on SQLite: namespaces, access groups, groups and item keys.

use super::{changes, db_err, SqliteStore};
use crate::codec::{self, ms};
use crate::rows;
use crate::sql::sqlite as sql;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use edgeward_core::names::AccessGroupId;
use edgeward_core::names::NamespaceName;
use edgeward_core::network::Network;
use edgeward_core::store::{AccessGroup, Change, Created, Namespace, NamespaceStore};
use edgeward_core::{refusal, Error};
use rusqlite::{params, OptionalExtension};

#[async_trait]
impl NamespaceStore for SqliteStore {
    async fn list_namespaces(&self, network: Network) -> Result<Vec<Namespace>, Error> {
        self.point_read(|c| {
            let mut s = c.prepare_cached(sql::LIST_NAMESPACES).map_err(db_err)?;
            let rows = s.query_map([network.as_str()], |r| rows::namespace(r)).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn get_namespace(&self, network: Network, name: &NamespaceName) -> Result<Option<Namespace>, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::NAMESPACE)
                .and_then(|mut s| {
                    s.query_row(params![network.as_str(), name.as_str()], |r| rows::namespace(r)).optional()
                })
                .map_err(db_err)
        })
    }

    async fn create_namespace(&self, ns: Namespace, max: usize) -> Result<(Namespace, Created), Error> {
        self.write(move |c| {
            let existing = c
                .prepare_cached(sql::NAMESPACE)
                .and_then(|mut s| {
                    s.query_row(params![ns.network.as_str(), ns.name.as_str()], |r| rows::namespace(r)).optional()
                })
                .map_err(db_err)?;
            if let Some(e) = existing {
                let same = e.retention_seconds == ns.retention_seconds
                    && e.group_id == ns.group_id
                    && e.geo_location == ns.geo_location;
                if same {
                    return Ok((e, Created::AlreadyThere));
                }
                return Err(refusal::namespace_conflict(&ns.name));
            }
            let count: i64 =
                c.query_row(sql::COUNT_NETWORK_NAMESPACES, [ns.network.as_str()], |r| r.get(0)).map_err(db_err)?;
            if usize::try_from(count).unwrap_or(0) >= max {
                return Err(refusal::namespace_limit(max));
            }
            let group = ns.group_id.as_i64();
            let group_known = c
                .prepare_cached("SELECT 1 FROM access_groups WHERE group_id = ?1")
                .and_then(|mut s| s.exists([group]))
                .map_err(db_err)?;
            if !group_known {
                return Err(refusal::access_group_missing(ns.group_id));
            }
            c.execute(
                sql::INSERT_NAMESPACE,
                params![
                    ns.network.as_str(),
                    ns.name.as_str(),
                    codec::retention_column(ns.retention_seconds)?,
                    ns.group_id.as_i64(),
                    ns.geo_location,
                    ms(ns.created_at),
                    ns.delete_at.map(ms)
                ],
            )
            .map_err(db_err)?;
            Ok((ns, Created::New))
        })
        .await
    }

    async fn set_namespace_retention(
        &self,
        network: Network,
        name: &NamespaceName,
        retention_seconds: u64,
        now: DateTime<Utc>,
    ) -> Result<Namespace, Error> {
        let name = name.clone();
        let retention = codec::retention_column(retention_seconds)?;
        self.write(move |c| {
            c.prepare_cached(sql::SET_NAMESPACE_RETENTION)
                .and_then(|mut s| {
                    s.query_row(params![network.as_str(), name.as_str(), retention], |r| rows::namespace(r)).optional()
                })
                .map_err(db_err)?
                .ok_or_else(refusal::namespace_missing)
                .and_then(|ns| {
                    changes::note(c, &Change::Namespace(network, name.clone()), now)?;
                    Ok(ns)
                })
        })
        .await
    }

    async fn delete_namespace(&self, network: Network, name: &NamespaceName, now: DateTime<Utc>) -> Result<(), Error> {
        let name = name.clone();
        self.write(move |c| {
            let n = c.execute(sql::DELETE_NAMESPACE, params![network.as_str(), name.as_str()]).map_err(db_err)?;
            if n == 0 {
                return Err(refusal::namespace_missing());
            }
            c.execute(sql::DELETE_NAMESPACE_ITEMS, params![network.as_str(), name.as_str()]).map_err(db_err)?;
            changes::note(c, &Change::Namespace(network, name.clone()), now)?;
            Ok(())
        })
        .await
    }

    async fn schedule_namespace_delete(
        &self,
        network: Network,
        name: &NamespaceName,
        at: Option<DateTime<Utc>>,
    ) -> Result<Namespace, Error> {
        let name = name.clone();
        self.write(move |c| {
            c.prepare_cached(sql::SCHEDULE_NAMESPACE_DELETE)
                .and_then(|mut s| {
                    s.query_row(params![network.as_str(), name.as_str(), at.map(ms)], |r| rows::namespace(r)).optional()
                })
                .map_err(db_err)?
                .ok_or_else(refusal::namespace_missing)
        })
        .await
    }

    async fn delete_due_namespaces(&self, now: DateTime<Utc>) -> Result<Vec<(Network, NamespaceName)>, Error> {
        self.write(move |c| {
            let due: Vec<(String, String)> = {
                let mut s = c
                    .prepare_cached(
                        "SELECT network, name FROM namespaces WHERE delete_at IS NOT NULL AND delete_at <= ?1",
                    )
                    .map_err(db_err)?;
                let rows = s.query_map([ms(now)], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
            };
            let mut deleted = Vec::with_capacity(due.len());
            for (network, name) in due {
                c.execute(sql::DELETE_NAMESPACE_ITEMS, params![network, name]).map_err(db_err)?;
                c.execute(sql::DELETE_NAMESPACE, params![network, name]).map_err(db_err)?;
                let network = Network::parse(&network).map_err(|e| Error::Internal(e.to_string()))?;
                let name = NamespaceName::parse(&name).map_err(|e| Error::Internal(e.to_string()))?;
                changes::note(c, &Change::Namespace(network, name.clone()), now)?;
                deleted.push((network, name));
            }
            Ok(deleted)
        })
        .await
    }

    async fn set_namespace_group(
        &self,
        name: &NamespaceName,
        group_id: AccessGroupId,
    ) -> Result<Vec<Namespace>, Error> {
        let name = name.clone();
        self.write(move |c| {
            let group = group_id.as_i64();
            let group_known = c
                .prepare_cached("SELECT 1 FROM access_groups WHERE group_id = ?1")
                .and_then(|mut s| s.exists([group]))
                .map_err(db_err)?;
            if !group_known {
                return Err(refusal::access_group_missing(group_id));
            }
            let mut s = c.prepare_cached(sql::SET_NAMESPACE_GROUP).map_err(db_err)?;
            let rows =
                s.query_map(params![name.as_str(), group_id.as_i64()], |r| rows::namespace(r)).map_err(db_err)?;
            let mut changed: Vec<Namespace> = rows.collect::<rusqlite::Result<_>>().map_err(db_err)?;
            changed.sort_by_key(|n| n.network.as_str());
            Ok(changed)
        })
        .await
    }

    async fn list_access_groups(&self) -> Result<Vec<AccessGroup>, Error> {
        self.point_read(|c| {
            let mut s = c.prepare_cached(sql::LIST_ACCESS_GROUPS).map_err(db_err)?;
            let rows = s
                .query_map([], |r| Ok(AccessGroup { group_id: codec::group_id(r.get::<_, i64>(0)?), name: r.get(1)? }))
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
    }

    async fn create_access_group(&self, group: AccessGroup, now: DateTime<Utc>) -> Result<AccessGroup, Error> {
        self.write(move |c| {
            let inserted = c
                .execute(sql::INSERT_ACCESS_GROUP, params![group.group_id.as_i64(), group.name, now.timestamp_millis()])
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(refusal::access_group_taken(group.group_id));
            }
            Ok(group)
        })
        .await
    }

    async fn delete_access_group(&self, group_id: AccessGroupId) -> Result<(), Error> {
        self.write(move |c| {
            if group_id == AccessGroupId::ACCOUNT {
                return Err(refusal::account_group_kept());
            }
            let used: i64 =
                c.query_row(sql::COUNT_GROUP_NAMESPACES, [group_id.as_i64()], |r| r.get(0)).map_err(db_err)?;
            if used > 0 {
                return Err(refusal::access_group_in_use(group_id, used));
            }
            if c.execute(sql::DELETE_ACCESS_GROUP, [group_id.as_i64()]).map_err(db_err)? == 0 {
                return Err(refusal::access_group_missing(group_id));
            }
            Ok(())
        })
        .await
    }

    async fn list_groups(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        let (name, sandbox) = (name.clone(), sandbox.to_owned());
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::LIST_ITEM_GROUPS).map_err(db_err)?;
            let rows = s
                .query_map(params![network.as_str(), name.as_str(), sandbox, codec::saturating(max)], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn list_item_keys(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        group: &str,
        max: usize,
    ) -> Result<Vec<String>, Error> {
        let (name, sandbox, group) = (name.clone(), sandbox.to_owned(), group.to_owned());
        self.read(move |c| {
            let mut s = c.prepare_cached(sql::LIST_ITEM_KEYS).map_err(db_err)?;
            let rows = s
                .query_map(params![network.as_str(), name.as_str(), sandbox, group, codec::saturating(max)], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }
}
