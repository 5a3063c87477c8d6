//! [`RoleStore`] on SQLite: custom roles, the roles users hold, and users with what they may do.
//! The helpers here also serve `notify.rs`, which reads and writes users with their roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use edgeward_core::capability::Grants;
use edgeward_core::names::RoleName;
use edgeward_core::notify::User;
use edgeward_core::role::{self, Role, UserAccess};
use edgeward_core::store::RoleStore;
use edgeward_core::{refusal, Error};

use super::{db_err, SqliteStore};
use crate::codec::ms;
use crate::sql::sqlite as sql;
use crate::{roles, rows};

/// The stored (custom) role of this name.
fn custom_role(c: &Connection, name: &RoleName) -> Result<Option<Role>, Error> {
    c.prepare_cached(sql::ROLE_BY_NAME)
        .and_then(|mut s| s.query_row([name.as_str()], |r| rows::role(r)).optional())
        .map_err(db_err)
}

/// Check that every role given exists (the first that does not is refused by name); the roles
/// to store, sorted and without repeats. Writes nothing.
pub(super) fn check_given(c: &Connection, given: &[RoleName]) -> Result<Vec<RoleName>, Error> {
    let (given, custom) = roles::given(given);
    for name in &custom {
        let exists = c
            .prepare_cached(sql::ROLE_EXISTS)
            .and_then(|mut s| s.query_row([name.as_str()], |_| Ok(())).optional())
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(refusal::unknown_role(name));
        }
    }
    Ok(given)
}

/// Replace the roles `user` holds with `given` (already checked by [`check_given`]).
pub(super) fn store_roles(c: &Connection, user: Uuid, given: &[RoleName]) -> Result<(), Error> {
    let id = user.to_string();
    c.execute(sql::DELETE_USER_ROLES, [&id]).map_err(db_err)?;
    let mut insert = c.prepare_cached(sql::INSERT_USER_ROLE).map_err(db_err)?;
    for name in given {
        insert.execute(params![id, name.as_str()]).map_err(db_err)?;
    }
    Ok(())
}

/// The roles a user holds, each with its stored role when it is a custom one.
fn held_roles(c: &Connection, user: Uuid) -> Result<Vec<(RoleName, Option<Role>)>, Error> {
    let mut s = c.prepare_cached(sql::HELD_ROLES).map_err(db_err)?;
    let rows = s.query_map([user.to_string()], |r| rows::held_role(r)).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

/// `user` (read without its roles) with the roles they hold.
pub(super) fn with_roles(c: &Connection, mut user: User) -> Result<User, Error> {
    user.roles = held_roles(c, user.id)?.into_iter().map(|(name, _)| name).collect();
    Ok(user)
}

/// Every user, by name, with their roles.
pub(super) fn users(c: &Connection) -> Result<Vec<User>, Error> {
    let mut s = c.prepare_cached(sql::LIST_USERS).map_err(db_err)?;
    let mut users =
        s.query_map([], |r| rows::user(r)).map_err(db_err)?.collect::<Result<Vec<_>, _>>().map_err(db_err)?;
    let mut s = c.prepare_cached(sql::ALL_USER_ROLES).map_err(db_err)?;
    let held =
        s.query_map([], |r| rows::user_role(r)).map_err(db_err)?.collect::<Result<Vec<_>, _>>().map_err(db_err)?;
    roles::attach(&mut users, held);
    Ok(users)
}

/// Every custom role, by name.
fn custom_roles(c: &Connection) -> Result<Vec<Role>, Error> {
    let mut s = c.prepare_cached(sql::LIST_ROLES).map_err(db_err)?;
    let rows = s.query_map([], |r| rows::role(r)).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

#[async_trait]
impl RoleStore for SqliteStore {
    async fn list_roles(&self) -> Result<Vec<Role>, Error> {
        self.read(|c| Ok(roles::all(custom_roles(c)?))).await
    }

    async fn role(&self, name: &RoleName) -> Result<Option<Role>, Error> {
        if let Some(built_in) = role::built_in(name.as_str()) {
            return Ok(Some(built_in));
        }
        self.point_read(|c| custom_role(c, name))
    }

    async fn create_role(&self, role: Role, now: DateTime<Utc>) -> Result<Role, Error> {
        if role::built_in(role.name.as_str()).is_some() {
            return Err(refusal::role_taken(&role.name));
        }
        let role = Role { built_in: false, ..role };
        self.write(move |c| {
            let n = c
                .execute(
                    sql::INSERT_ROLE,
                    params![role.name.as_str(), role.description, role.grants.to_list(), ms(now)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(refusal::role_taken(&role.name));
            }
            Ok(role)
        })
        .await
    }

    async fn update_role(
        &self,
        name: &RoleName,
        description: Option<String>,
        grants: Option<Grants>,
    ) -> Result<Role, Error> {
        roles::custom_only(name)?;
        let name = name.clone();
        self.write(move |c| {
            let mut role = custom_role(c, &name)?.ok_or_else(|| refusal::role_missing(&name))?;
            if let Some(d) = description {
                role.description = d;
            }
            if let Some(g) = grants {
                role.grants = g;
            }
            c.execute(sql::UPDATE_ROLE, params![name.as_str(), role.description, role.grants.to_list()])
                .map_err(db_err)?;
            Ok(role)
        })
        .await
    }

    async fn delete_role(&self, name: &RoleName) -> Result<(), Error> {
        roles::custom_only(name)?;
        let name = name.clone();
        self.write(move |c| {
            let holders: i64 = c.query_row(sql::COUNT_ROLE_HOLDERS, [name.as_str()], |r| r.get(0)).map_err(db_err)?;
            if holders > 0 {
                return Err(refusal::role_held(&name, u64::try_from(holders).unwrap_or(0)));
            }
            if c.execute(sql::DELETE_ROLE, [name.as_str()]).map_err(db_err)? == 0 {
                return Err(refusal::role_missing(&name));
            }
            Ok(())
        })
        .await
    }

    async fn users_with_access(&self) -> Result<Vec<UserAccess>, Error> {
        self.read(|c| {
            let custom = custom_roles(c)?;
            Ok(users(c)?.into_iter().map(|u| UserAccess::new(u, &custom)).collect())
        })
        .await
    }

    async fn user_access(&self, id: Uuid) -> Result<Option<UserAccess>, Error> {
        self.point_read(|c| {
            let user = c
                .prepare_cached(sql::USER_BY_ID)
                .and_then(|mut s| s.query_row([id.to_string()], |r| rows::user(r)).optional())
                .map_err(db_err)?;
            match user {
                None => Ok(None),
                Some(user) => Ok(Some(roles::access(user, held_roles(c, id)?))),
            }
        })
    }
}
