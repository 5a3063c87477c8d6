//! [`ApiClientStore`] on PostgreSQL: EdgeGrid API clients.

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

#[async_trait]
impl ApiClientStore for PostgresStore {
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<(), Error> {
        let mut w = Write::start(self).await?;
        insert(w.conn(), &client, &sealed_secret).await?;
        w.done().await
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
        w.done().await
    }

    async fn api_clients_version(&self) -> Result<u64, Error> {
        let row = sqlx::query(sql::API_CLIENTS_VERSION).fetch_one(&self.pool).await.map_err(db_err)?;
        Ok(crate::codec::unsigned(col::<i64>(&row, 0)?))
    }
}
