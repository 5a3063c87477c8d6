//! [`ApiClientStore`] on PostgreSQL: EdgeGrid API clients, and [`VersionCache`], which spares
//! signed requests the read of the clients version while the `LISTEN` connection is up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use super::{col, db_err, is_unique_violation, PostgresStore, Write};
use crate::codec::ms;
use crate::rows;
use crate::sql::pg as sql;
use async_trait::async_trait;
use edgeward_core::names::ClientName;
use edgeward_core::store::{ApiClient, ApiClientStore, StoredApiClient};
use edgeward_core::{refusal, Error};

/// Insert a client row (`AlreadyExists` when its name or client token is taken).
pub(super) async fn insert(c: &mut sqlx::PgConnection, client: &ApiClient, sealed_secret: &[u8]) -> Result<(), Error> {
    sqlx::query(sql::INSERT_API_CLIENT)
        .bind(client.name.as_str())
        .bind(&client.client_token)
        .bind(&client.access_token)
        .bind(sealed_secret)
        .bind(client.grants.to_list())
        .bind(client.enabled)
        .bind(ms(client.created_at))
        .bind(client.owner.map(|o| o.to_string()))
        .execute(c)
        .await
        .map_err(|e| if is_unique_violation(&e) { refusal::client_name_taken(&client.name) } else { db_err(e) })?;
    Ok(())
}

/// The channel the clients' version trigger notifies (schema 20).
pub(super) const CHANNEL: &str = "edgeward_api_clients";

/// The clients version as this store last read it, and whether it may still be trusted.
///
/// A change to `api_clients` bumps the stored version and notifies [`CHANNEL`] in the same
/// transaction (schema 20). The store's `LISTEN` task calls [`VersionCache::invalidate`] on each
/// notification, so while that connection is up the version read last is current but for the
/// time a notification takes to arrive (about a millisecond on one network): a client disabled
/// or deleted on another server is refused here from then on. A server's own client writes
/// invalidate at their commit, before the write returns. While the `LISTEN` connection is down,
/// or until it is first up, every call reads the version from the database, as without the cache.
///
/// Every invalidation moves `epoch` on; a version is trusted only if it was read in the current
/// epoch, so a read that raced with a notification is read again rather than kept.
#[derive(Default)]
pub(super) struct VersionCache {
    epoch: AtomicU64,
    listening: AtomicBool,
    /// The version read last, and the epoch it was read in.
    read: Mutex<Option<(u64, u64)>>,
}

impl VersionCache {
    /// The version, if one read in the current epoch is held and the listener is up.
    fn current(&self) -> Option<u64> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        match *self.read.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((at, version)) if at == epoch => Some(version),
            _ => None,
        }
    }

    /// Whether the `LISTEN` connection is up.
    pub(super) fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Forget the version read: a client changed, or notifications may have been missed.
    pub(super) fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The `LISTEN` connection is up (listening) or lost. Either way what was read before may
    /// have missed a notification.
    pub(super) fn set_listening(&self, up: bool) {
        self.listening.store(up, Ordering::Release);
        self.invalidate();
    }
}

#[async_trait]
impl ApiClientStore for PostgresStore {
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        insert(w.conn(), &client, &sealed_secret).await?;
        w.done().await?;
        self.clients_version.invalidate();
        Ok(())
    }

    async fn api_client_by_token(&self, client_token: &str) -> Result<Option<StoredApiClient>, Error> {
        sqlx::query(sql::API_CLIENT_BY_TOKEN)
            .bind(client_token)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| rows::api_client(&r))
            .transpose()
    }

    async fn list_api_clients(&self) -> Result<Vec<ApiClient>, Error> {
        sqlx::query(sql::LIST_API_CLIENTS)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| rows::api_client(r).map(|c| c.client))
            .collect()
    }

    async fn set_api_client_enabled(&self, name: &ClientName, enabled: bool) -> Result<ApiClient, Error> {
        let mut w = Write::start(self).await?;
        let client = sqlx::query(sql::SET_API_CLIENT_ENABLED)
            .bind(name.as_str())
            .bind(enabled)
            .fetch_optional(w.conn())
            .await
            .map_err(db_err)?
            .map(|r| rows::api_client(&r).map(|c| c.client))
            .transpose()?
            .ok_or_else(|| refusal::client_not_found(name))?;
        w.done().await?;
        self.clients_version.invalidate();
        Ok(client)
    }

    async fn delete_api_client(&self, name: &ClientName) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        let n = sqlx::query(sql::DELETE_API_CLIENT)
            .bind(name.as_str())
            .execute(w.conn())
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(refusal::client_not_found(name));
        }
        w.done().await?;
        self.clients_version.invalidate();
        Ok(())
    }

    async fn api_clients_version(&self) -> Result<u64, Error> {
        let cache = &self.clients_version;
        if let Some(version) = cache.current() {
            return Ok(version);
        }
        let epoch = cache.epoch.load(Ordering::Acquire);
        let row = sqlx::query(sql::API_CLIENTS_VERSION).fetch_one(&self.pool).await.map_err(db_err)?;
        let version = crate::codec::unsigned(col::<i64>(&row, 0)?);
        *cache.read.lock().unwrap_or_else(|e| e.into_inner()) = Some((epoch, version));
        Ok(version)
    }
}
