//! [`RoleStore`] on PostgreSQL: custom roles, the roles users hold, and users with what they may
//! do. The helpers here also serve `notify.rs`, which reads and writes users with their roles.
//!
//! `user_roles.role` has no foreign key (it also names built-in roles, which are not stored), so
//! two rules keep it true under concurrency: a custom role given to a user is read `FOR SHARE`
//! (a concurrent delete waits for that grant to commit), and a delete removes the role first and
//! counts its holders after (a grant that committed meanwhile is counted, and the delete is
//! rolled back; a grant that started after the delete waits, then finds no role).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use edgeward_core::capability::Grants;
use edgeward_core::names::RoleName;
use edgeward_core::notify::User;
use edgeward_core::role::{self, Role, UserAccess};
use edgeward_core::store::RoleStore;
use edgeward_core::{refusal, Error};

use super::{col, commit, db_err, PostgresStore};
use crate::codec::ms;
use crate::sql::pg as sql;
use crate::{roles, rows};

/// A custom role given to a user, locked until the grant commits (PostgreSQL only: SQLite's
/// single writer needs no lock).
const ROLE_EXISTS_FOR_SHARE: &str = "SELECT 1 FROM roles WHERE name = $1 FOR SHARE";

/// The stored (custom) role of this name.
async fn custom_role<'e, E>(c: E, name: &RoleName) -> Result<Option<Role>, Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query(sql::ROLE_BY_NAME)
        .bind(name.as_str())
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .map(|r| rows::role(&r))
        .transpose()
}

/// Check that every role given exists (the first that does not is refused by name), holding
/// each custom one `FOR SHARE` until the transaction ends; the roles to store, sorted and
/// without repeats. Writes nothing.
pub(super) async fn check_given(c: &mut PgConnection, given: &[RoleName]) -> Result<Vec<RoleName>, Error> {
    let (given, custom) = roles::given(given);
    for name in &custom {
        let found =
            sqlx::query(ROLE_EXISTS_FOR_SHARE).bind(name.as_str()).fetch_optional(&mut *c).await.map_err(db_err)?;
        if found.is_none() {
            return Err(refusal::unknown_role(name));
        }
    }
    Ok(given)
}

/// Replace the roles `user` holds with `given` (already checked by [`check_given`]).
pub(super) async fn store_roles(c: &mut PgConnection, user: Uuid, given: &[RoleName]) -> Result<(), Error> {
    let id = user.to_string();
    sqlx::query(sql::DELETE_USER_ROLES).bind(&id).execute(&mut *c).await.map_err(db_err)?;
    for name in given {
        sqlx::query(sql::INSERT_USER_ROLE).bind(&id).bind(name.as_str()).execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// The roles a user holds, each with its stored role when it is a custom one.
async fn held_roles<'e, E>(c: E, user: Uuid) -> Result<Vec<(RoleName, Option<Role>)>, Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query(sql::HELD_ROLES)
        .bind(user.to_string())
        .fetch_all(c)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::held_role)
        .collect()
}

/// `user` (read without its roles) with the roles they hold.
pub(super) async fn with_roles<'e, E>(c: E, mut user: User) -> Result<User, Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    user.roles = held_roles(c, user.id).await?.into_iter().map(|(name, _)| name).collect();
    Ok(user)
}

/// Every user, by name, with their roles (one snapshot).
pub(super) async fn users(c: &mut PgConnection) -> Result<Vec<User>, Error> {
    let mut users: Vec<User> = sqlx::query(sql::LIST_USERS)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::user)
        .collect::<Result<_, _>>()?;
    let held = sqlx::query(sql::ALL_USER_ROLES)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::user_role)
        .collect::<Result<Vec<_>, _>>()?;
    roles::attach(&mut users, held);
    Ok(users)
}

/// Every custom role, by name.
async fn custom_roles(c: &mut PgConnection) -> Result<Vec<Role>, Error> {
    sqlx::query(sql::LIST_ROLES).fetch_all(c).await.map_err(db_err)?.iter().map(rows::role).collect()
}

/// A read-only transaction whose statements all see one snapshot.
pub(super) async fn snapshot(store: &PostgresStore) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Error> {
    let mut tx = store.pool().begin().await.map_err(db_err)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(tx)
}

#[async_trait]
impl RoleStore for PostgresStore {
    async fn list_roles(&self) -> Result<Vec<Role>, Error> {
        let mut c = self.pool().acquire().await.map_err(db_err)?;
        Ok(roles::all(custom_roles(&mut c).await?))
    }

    async fn role(&self, name: &RoleName) -> Result<Option<Role>, Error> {
        if let Some(built_in) = role::built_in(name.as_str()) {
            return Ok(Some(built_in));
        }
        custom_role(self.pool(), name).await
    }

    async fn create_role(&self, role: Role, now: DateTime<Utc>) -> Result<Role, Error> {
        if role::built_in(role.name.as_str()).is_some() {
            return Err(refusal::role_taken(&role.name));
        }
        let role = Role { built_in: false, ..role };
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let n = sqlx::query(sql::INSERT_ROLE)
            .bind(role.name.as_str())
            .bind(&role.description)
            .bind(role.grants.to_list())
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(refusal::role_taken(&role.name));
        }
        commit(tx).await?;
        Ok(role)
    }

    async fn update_role(
        &self,
        name: &RoleName,
        description: Option<String>,
        grants: Option<Grants>,
    ) -> Result<Role, Error> {
        roles::custom_only(name)?;
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        let row = sqlx::query(concat!("SELECT ", role_columns!(), " FROM roles WHERE name = $1 FOR UPDATE"))
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| refusal::role_missing(name))?;
        let mut role = rows::role(&row)?;
        if let Some(d) = description {
            role.description = d;
        }
        if let Some(g) = grants {
            role.grants = g;
        }
        sqlx::query(sql::UPDATE_ROLE)
            .bind(name.as_str())
            .bind(&role.description)
            .bind(role.grants.to_list())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await?;
        Ok(role)
    }

    async fn delete_role(&self, name: &RoleName) -> Result<(), Error> {
        roles::custom_only(name)?;
        let mut tx = self.pool().begin().await.map_err(db_err)?;
        // Delete first, count after: see the module doc.
        let deleted = sqlx::query(sql::DELETE_ROLE).bind(name.as_str()).execute(&mut *tx).await.map_err(db_err)?;
        if deleted.rows_affected() == 0 {
            return Err(refusal::role_missing(name));
        }
        let row = sqlx::query(sql::COUNT_ROLE_HOLDERS).bind(name.as_str()).fetch_one(&mut *tx).await.map_err(db_err)?;
        let holders = col::<i64>(&row, 0)?;
        if holders > 0 {
            return Err(refusal::role_held(name, u64::try_from(holders).unwrap_or(0)));
        }
        commit(tx).await
    }

    async fn users_with_access(&self) -> Result<Vec<UserAccess>, Error> {
        let mut tx = snapshot(self).await?;
        let custom = custom_roles(&mut tx).await?;
        let users = users(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(users.into_iter().map(|u| UserAccess::new(u, &custom)).collect())
    }

    async fn user_access(&self, id: Uuid) -> Result<Option<UserAccess>, Error> {
        let user = sqlx::query(sql::USER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(|r| rows::user(&r))
            .transpose()?;
        match user {
            None => Ok(None),
            Some(user) => Ok(Some(roles::access(user, held_roles(self.pool(), id).await?))),
        }
    }
}
