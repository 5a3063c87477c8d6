//! [`ApiClientStore`] on SQLite: EdgeGrid API clients.

use super::{db_err, is_unique_violation, SqliteStore};
use crate::codec::ms;
use crate::rows;
use crate::sql::sqlite as sql;
use async_trait::async_trait;
use edgeward_core::names::ClientName;
use edgeward_core::store::{ApiClient, ApiClientStore, StoredApiClient};
use edgeward_core::{refusal, Error};
use rusqlite::{params, OptionalExtension};

/// Insert a client row (`AlreadyExists` when its name or client token is taken).
pub(super) fn insert(c: &rusqlite::Connection, client: &ApiClient, sealed_secret: &[u8]) -> Result<(), Error> {
    c.execute(
        sql::INSERT_API_CLIENT,
        params![
            client.name.as_str(),
            client.client_token,
            client.access_token,
            sealed_secret,
            client.grants.to_list(),
            client.enabled,
            ms(client.created_at),
            client.owner.map(|o| o.to_string())
        ],
    )
    .map_err(|e| if is_unique_violation(&e) { refusal::client_name_taken(&client.name) } else { db_err(e) })?;
    Ok(())
}

#[async_trait]
impl ApiClientStore for SqliteStore {
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<(), Error> {
        self.write(move |c| insert(c, &client, &sealed_secret)).await
    }

    async fn api_client_by_token(&self, client_token: &str) -> Result<Option<StoredApiClient>, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::API_CLIENT_BY_TOKEN)
                .and_then(|mut s| s.query_row([client_token], |r| rows::api_client(r)).optional())
                .map_err(db_err)
        })
    }

    async fn list_api_clients(&self) -> Result<Vec<ApiClient>, Error> {
        self.read(|c| {
            let mut s = c.prepare_cached(sql::LIST_API_CLIENTS).map_err(db_err)?;
            let rows = s.query_map([], |r| rows::api_client(r)).map_err(db_err)?;
            rows.map(|r| r.map(|s| s.client).map_err(db_err)).collect()
        })
        .await
    }

    async fn set_api_client_enabled(&self, name: &ClientName, enabled: bool) -> Result<ApiClient, Error> {
        let name = name.clone();
        self.write(move |c| {
            c.prepare_cached(sql::SET_API_CLIENT_ENABLED)
                .and_then(|mut s| s.query_row(params![name.as_str(), enabled], |r| rows::api_client(r)).optional())
                .map_err(db_err)?
                .map(|s| s.client)
                .ok_or_else(|| refusal::client_not_found(&name))
        })
        .await
    }

    async fn api_clients_version(&self) -> Result<u64, Error> {
        self.point_read(|c| {
            c.prepare_cached(sql::API_CLIENTS_VERSION)
                .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
                .map(crate::codec::unsigned)
                .map_err(db_err)
        })
    }

    async fn delete_api_client(&self, name: &ClientName) -> Result<(), Error> {
        let name = name.clone();
        self.write(move |c| match c.execute(sql::DELETE_API_CLIENT, [name.as_str()]).map_err(db_err)? {
            0 => Err(refusal::client_not_found(&name)),
            _ => Ok(()),
        })
        .await
    }
}
