//! Rows read back into domain values, once for both drivers.
//!
//! [`Row`] is what a decoder needs of a result row: a column by position, and a way to say that a
//! value cannot be read. `rusqlite::Row` and sqlx's `PgRow` implement it, each failing with its
//! own error type (so a decoder drops straight into `query_row` on SQLite and into `?` on
//! PostgreSQL). The column lists these decoders read are the catalogue's (`sql.rs`), in the same
//! order.

use sqlx::postgres::PgRow;
use sqlx::Postgres;

use edgeward_core::audit::AuditEntry;
use edgeward_core::capability::Grants;
use edgeward_core::names::{ClientName, NamespaceName, RoleName};
use edgeward_core::network::Network;
use edgeward_core::notify::{CheckRun, User, UserPassword};
use edgeward_core::role::Role;
use edgeward_core::session::LiveSession;
use edgeward_core::store::{Account, ApiClient, ListedToken, Namespace, StoredApiClient, StoredItem, StoredToken};
use edgeward_core::Error;

use crate::codec::{self, from_ms, TokenColumns};
use crate::refs::RefKeys;

/// A column value both drivers decode.
pub(crate) trait Value:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>
{
}
impl<T> Value for T where T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> {}

/// A result row of either driver.
pub(crate) trait Row {
    /// The driver's error.
    type Error;
    /// The column at `i`, counted from 0.
    fn get<T: Value>(&self, i: usize) -> Result<T, Self::Error>;
    /// A value the codec cannot read.
    fn unreadable(msg: String) -> Self::Error;
}

impl Row for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn get<T: Value>(&self, i: usize) -> Result<T, rusqlite::Error> {
        rusqlite::Row::get(self, i)
    }
    fn unreadable(msg: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, msg.into())
    }
}

impl Row for PgRow {
    type Error = Error;
    fn get<T: Value>(&self, i: usize) -> Result<T, Error> {
        sqlx::Row::try_get(self, i).map_err(crate::postgres::db_err)
    }
    fn unreadable(msg: String) -> Error {
        crate::postgres::bad_row(msg)
    }
}

/// A count or a duration as stored (a signed column), never negative when read back.
fn unsigned<R: Row>(r: &R, i: usize) -> Result<u64, R::Error> {
    Ok(u64::try_from(r.get::<i64>(i)?).unwrap_or(0))
}

/// A token row of `sql::TOKEN_COLUMNS`, its uuid opened with `refs`.
pub(crate) fn token<R: Row>(r: &R, refs: &RefKeys) -> Result<StoredToken, R::Error> {
    let token = TokenColumns {
        token_ref: r.get(0)?,
        sealed_uuid: r.get(14)?,
        name: r.get(1)?,
        allow_staging: r.get(2)?,
        allow_production: r.get(3)?,
        ewids: r.get(4)?,
        namespaces: r.get(5)?,
        expiry: r.get(6)?,
        issued_at: r.get(7)?,
        latest_refresh: r.get(8)?,
        next_refresh: r.get(9)?,
        generation: r.get(10)?,
        cpcode: r.get(11)?,
        revoked_at: r.get(12)?,
    }
    .into_token(refs)
    .map_err(R::unreadable)?;
    Ok(StoredToken { token, sealed_value: r.get(13)? })
}

/// A row of `sql::TOKEN_OVERVIEW`: a token row, then its successor's name, its last use and its
/// scheduled revocation.
pub(crate) fn listed_token<R: Row>(r: &R, refs: &RefKeys) -> Result<ListedToken, R::Error> {
    Ok(ListedToken {
        stored: token(r, refs)?,
        replaced_by: r.get(15)?,
        last_used: r.get::<Option<i64>>(16)?.map(from_ms),
        revoke_at: r.get::<Option<i64>>(17)?.map(from_ms),
    })
}

/// An API client row of `sql::CLIENT_COLUMNS`.
pub(crate) fn api_client<R: Row>(r: &R) -> Result<StoredApiClient, R::Error> {
    let name: String = r.get(0)?;
    let grants: String = r.get(4)?;
    let owner: Option<String> = r.get(7)?;
    Ok(StoredApiClient {
        client: ApiClient {
            name: ClientName::parse(&name).map_err(|e| R::unreadable(e.to_string()))?,
            client_token: r.get(1)?,
            access_token: r.get(2)?,
            grants: Grants::parse_list(&grants).map_err(R::unreadable)?,
            enabled: r.get(5)?,
            created_at: from_ms(r.get(6)?),
            owner: owner.as_deref().map(codec::parse_uuid).transpose().map_err(R::unreadable)?,
        },
        sealed_secret: r.get(3)?,
    })
}

/// The account row of `sql::ACCOUNT_COLUMNS`.
pub(crate) fn account<R: Row>(r: &R) -> Result<Account, R::Error> {
    Ok(Account {
        cpcode: r.get(0)?,
        initialized_at: from_ms(r.get(1)?),
        restrict_data_access: r.get(2)?,
        allow_namespace_policy_override: r.get(3)?,
    })
}

/// A namespace row of `sql::NAMESPACE_COLUMNS`.
pub(crate) fn namespace<R: Row>(r: &R) -> Result<Namespace, R::Error> {
    let network: String = r.get(0)?;
    let name: String = r.get(1)?;
    Ok(Namespace {
        network: Network::parse(&network).map_err(|e| R::unreadable(e.to_string()))?,
        name: NamespaceName::parse(&name).map_err(|e| R::unreadable(e.to_string()))?,
        retention_seconds: unsigned(r, 2)?,
        group_id: codec::group_id(r.get(3)?),
        geo_location: r.get(4)?,
        created_at: from_ms(r.get(5)?),
        delete_at: r.get::<Option<i64>>(6)?.map(from_ms),
    })
}

/// A user row of `sql::USER_COLUMNS`.
pub(crate) fn user<R: Row>(r: &R) -> Result<User, R::Error> {
    let id: String = r.get(0)?;
    let grants: String = r.get(5)?;
    Ok(User {
        id: codec::parse_uuid(&id).map_err(R::unreadable)?,
        name: r.get(1)?,
        email: r.get(2)?,
        email_registered: r.get(3)?,
        active: r.get(4)?,
        grants: Grants::parse_list(&grants).map_err(R::unreadable)?,
        // Read separately (`sql::HELD_ROLES`, `sql::ALL_USER_ROLES`), then added.
        roles: Vec::new(),
        created_at: from_ms(r.get(6)?),
    })
}

/// A row of `sql::SESSION`: the user's columns, then the session's.
pub(crate) fn live_session<R: Row>(r: &R) -> Result<LiveSession, R::Error> {
    Ok(LiveSession {
        user: user(r)?,
        must_change_password: r.get(7)?,
        csrf: r.get(8)?,
        created_at: from_ms(r.get(9)?),
        last_seen_at: from_ms(r.get(10)?),
        expires_at: from_ms(r.get(11)?),
    })
}

/// A role name as stored.
fn role_name<R: Row>(r: &R, i: usize) -> Result<RoleName, R::Error> {
    let name: String = r.get(i)?;
    RoleName::parse(&name).map_err(|e| R::unreadable(e.to_string()))
}

/// A (custom) role row of `sql::ROLE_COLUMNS`.
pub(crate) fn role<R: Row>(r: &R) -> Result<Role, R::Error> {
    let grants: String = r.get(2)?;
    Ok(Role {
        name: role_name(r, 0)?,
        description: r.get(1)?,
        grants: Grants::parse_list(&grants).map_err(R::unreadable)?,
        built_in: false,
    })
}

/// A row of `sql::HELD_ROLES`: the role's name, and the role itself when it is a stored (custom)
/// one.
pub(crate) fn held_role<R: Row>(r: &R) -> Result<(RoleName, Option<Role>), R::Error> {
    let name = role_name(r, 0)?;
    let grants: Option<String> = r.get(2)?;
    let custom = match grants {
        Some(grants) => Some(Role {
            name: name.clone(),
            description: r.get::<Option<String>>(1)?.unwrap_or_default(),
            grants: Grants::parse_list(&grants).map_err(R::unreadable)?,
            built_in: false,
        }),
        None => None,
    };
    Ok((name, custom))
}

/// A row of `sql::ALL_USER_ROLES`: a user's id and one role they hold.
pub(crate) fn user_role<R: Row>(r: &R) -> Result<(uuid::Uuid, RoleName), R::Error> {
    let id: String = r.get(0)?;
    Ok((codec::parse_uuid(&id).map_err(R::unreadable)?, role_name(r, 1)?))
}

/// A row of `sql::USER_PASSWORD`.
pub(crate) fn user_password<R: Row>(r: &R) -> Result<UserPassword, R::Error> {
    let id: String = r.get(0)?;
    Ok(UserPassword {
        user_id: codec::parse_uuid(&id).map_err(R::unreadable)?,
        hash: r.get(1)?,
        must_change: r.get(2)?,
    })
}

/// A row of `sql::RECENT_NOTIFY_RUNS`.
pub(crate) fn check_run<R: Row>(r: &R) -> Result<CheckRun, R::Error> {
    let day: String = r.get(0)?;
    Ok(CheckRun {
        check_day: codec::parse_date(&day).map_err(R::unreadable)?,
        holder: r.get(1)?,
        started_at: from_ms(r.get(2)?),
        finished_at: from_ms(r.get(3)?),
        dry_run: r.get(4)?,
        due: unsigned(r, 5)?,
        notices: unsigned(r, 6)?,
    })
}

/// An audit row of `sql::AUDIT_COLUMNS`.
pub(crate) fn audit_entry<R: Row>(r: &R) -> Result<AuditEntry, R::Error> {
    codec::AuditColumns {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        owner: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        request_id: r.get(6)?,
        source: r.get(7)?,
        outcome: r.get(8)?,
        detail: r.get(9)?,
    }
    .into_entry()
    .map_err(R::unreadable)
}

/// A row of `sql::GET_ITEM`: the value, when it was written, and the namespace's retention.
pub(crate) fn stored_item<R: Row>(r: &R) -> Result<StoredItem, R::Error> {
    let updated_at = from_ms(r.get(1)?);
    let retention: i64 = r.get(2)?;
    Ok(StoredItem {
        value: r.get(0)?,
        updated_at,
        expires_at: (retention > 0).then(|| updated_at + chrono::Duration::seconds(retention)),
    })
}
