//! People: users, roles, escalation contacts and API clients, the rules between a request and
//! the store. The admin API's `/edgeward/v1/users`, `/roles` and `/contacts` and the console's
//! People page call these same functions, so both check the same grant (`MANAGE_NOTIFICATIONS`,
//! through `permit`) and refuse bad input in the same words. (`edgeward user …`, `role …` and
//! `contact …` do the same on the server's data directory.)
//!
//! Managing people never raises anyone above the one who manages them (`permit::covers`): a
//! caller gives a user, directly or through roles, and a role only grants it holds itself, and
//! changes, deactivates or resets the password of a user (disables an API client, changes or
//! deletes a role) only if it holds every grant that user (client, role) has.

use edgeward_core::capability::{Capability, Grants};
use edgeward_core::names::{ClientName, DisplayName, EmailAddress, RoleName};
use edgeward_core::notify::{Contact, User, UserUpdate};
use edgeward_core::refusal;
use edgeward_core::role::{self, Role};
use edgeward_core::store::ApiClient;
use edgeward_core::Error;
use edgeward_wire::{ContactObject, NewRole, RoleChange, UserChange, UserObject};

use crate::auth::Actor;
use crate::permit::{self, cap};
use crate::state::AppState;

fn manage(caller: &Actor) -> Result<(), Error> {
    permit::check::<cap::ManageNotifications>(&caller.grants, edgeward_core::network::Networks::BOTH).map(|_| ())
}

/// The grants of the roles named (built-in or stored); a name no role has adds nothing (the
/// store refuses it by name when it is given to a user).
async fn grants_of_roles(state: &AppState, names: &[RoleName]) -> Result<Grants, Error> {
    let mut all = Vec::new();
    for name in names {
        if let Some(role) = state.store.role(name).await? {
            all.extend(role.grants.iter());
        }
    }
    Ok(Grants::new(all))
}

/// What the user `name` may do (their effective grants), which the caller must cover to act on
/// them; `NotFound` for an unknown name.
async fn grants_of_user(state: &AppState, name: &str) -> Result<Grants, Error> {
    let id = state.store.user_password(name).await?.ok_or_else(|| refusal::user_missing(name))?.user_id;
    Ok(state.store.user_access(id).await?.ok_or_else(|| refusal::user_missing(name))?.grants)
}

fn parse_email(e: &str) -> Result<String, Error> {
    EmailAddress::parse(e).map(String::from)
}

fn parse_name(n: &str) -> Result<String, Error> {
    DisplayName::parse(n).map(String::from)
}

/// A list of grants of a request's `field` (EdgeKV names; at most one of each).
pub fn parse_grants(field: &'static str, names: &[String]) -> Result<Grants, Error> {
    if names.len() > Capability::ALL.len() {
        return Err(Error::invalid(
            field,
            format!("{field}: at most {} capabilities; {} were given.", Capability::ALL.len(), names.len()),
        ));
    }
    Grants::parse_list(&names.join(",")).map_err(|e| Error::invalid(field, format!("{field}: {e}")))
}

/// The roles a user is given (`roles`): each name must follow the rule; whether each exists is
/// the store's check, made before it writes anything.
fn parse_roles(names: &[String]) -> Result<Vec<RoleName>, Error> {
    names.iter().map(|n| RoleName::parse_as(n, "roles")).collect()
}

/// Every user.
pub async fn list_users(state: &AppState, caller: &Actor) -> Result<Vec<User>, Error> {
    manage(caller)?;
    state.store.list_users().await
}

/// Add a user, with grants of their own and the roles they hold (an unknown role is refused by
/// name, before anything is stored).
pub async fn create_user(state: &AppState, caller: &Actor, req: UserObject) -> Result<User, Error> {
    manage(caller)?;
    let email = req.email.as_deref().map(parse_email).transpose()?;
    if req.email_registered && email.is_none() {
        return Err(Error::invalid("emailRegistered", "emailRegistered needs an email."));
    }
    let user = User {
        id: uuid::Uuid::new_v4(),
        name: parse_name(&req.name)?,
        email,
        email_registered: req.email_registered,
        active: req.active,
        grants: parse_grants("grants", &req.grants)?,
        roles: parse_roles(&req.roles)?,
        created_at: state.clock.now(),
    };
    permit::covers(&caller.grants, &user.grants)?;
    permit::covers(&caller.grants, &grants_of_roles(state, &user.roles).await?)?;
    let u = state.store.create_user(user).await?;
    tracing::info!(user = %u.name, "user created");
    Ok(u)
}

/// Change a user: activity, e-mail address, and the roles they hold (replacing those held).
/// Deactivating a user or taking a role away ends their console sessions (the store does it in
/// the same transaction).
pub async fn update_user(state: &AppState, caller: &Actor, name: &str, req: UserChange) -> Result<User, Error> {
    manage(caller)?;
    let email = req.email.as_deref().map(parse_email).transpose()?;
    let roles = req.roles.as_deref().map(parse_roles).transpose()?;
    permit::covers(&caller.grants, &grants_of_user(state, name).await?)?;
    if let Some(roles) = &roles {
        permit::covers(&caller.grants, &grants_of_roles(state, roles).await?)?;
    }
    let update =
        UserUpdate { active: req.active, email: email.map(Some), email_registered: req.email_registered, roles };
    state.store.update_user(name, update).await
}

/// Give a user a new one-time password, to be changed at their next sign-in: what an
/// administrator does for someone who lost theirs. Every session of the user ends. The
/// password is returned once, to be handed over; only its hash is kept.
pub async fn reset_password(state: &AppState, caller: &Actor, name: &str) -> Result<String, Error> {
    manage(caller)?;
    permit::covers(&caller.grants, &grants_of_user(state, name).await?)?;
    let password = crate::password::random();
    let given = password.clone();
    let hash = crate::password::hash_bounded(given)
        .await
        .map_err(|busy| Error::Unavailable(busy.to_string()))?
        .map_err(|e| Error::Internal(e.to_string()))?;
    state.store.set_user_password(name, hash, true).await?;
    tracing::info!(user = %name, "one-time password given");
    Ok(password)
}

/// Every role: the built-in ones, then the custom ones by name.
pub async fn list_roles(state: &AppState, caller: &Actor) -> Result<Vec<Role>, Error> {
    manage(caller)?;
    state.store.list_roles().await
}

/// One role.
pub async fn get_role(state: &AppState, caller: &Actor, name: &str) -> Result<Role, Error> {
    manage(caller)?;
    let name = RoleName::parse(name)?;
    state.store.role(&name).await?.ok_or_else(|| refusal::role_missing(&name))
}

/// Add a custom role.
pub async fn create_role(state: &AppState, caller: &Actor, req: NewRole) -> Result<Role, Error> {
    manage(caller)?;
    let role = Role {
        name: RoleName::parse(&req.name)?,
        description: role::parse_description(&req.description)?,
        grants: parse_grants("grants", &req.grants)?,
        built_in: false,
    };
    permit::covers(&caller.grants, &role.grants)?;
    let role = state.store.create_role(role, state.clock.now()).await?;
    tracing::info!(role = %role.name, "role created");
    Ok(role)
}

/// Change a custom role's description or grants: every holder may do what it grants from their
/// next request on.
pub async fn update_role(state: &AppState, caller: &Actor, name: &str, req: RoleChange) -> Result<Role, Error> {
    manage(caller)?;
    let name = RoleName::parse(name)?;
    let description = req.description.as_deref().map(role::parse_description).transpose()?;
    let grants = req.grants.as_deref().map(|g| parse_grants("grants", g)).transpose()?;
    permit::covers(&caller.grants, &grants_of_roles(state, std::slice::from_ref(&name)).await?)?;
    if let Some(grants) = &grants {
        permit::covers(&caller.grants, grants)?;
    }
    state.store.update_role(&name, description, grants).await
}

/// Delete a custom role nobody holds.
pub async fn delete_role(state: &AppState, caller: &Actor, name: &str) -> Result<(), Error> {
    manage(caller)?;
    let name = RoleName::parse(name)?;
    permit::covers(&caller.grants, &grants_of_roles(state, std::slice::from_ref(&name)).await?)?;
    state.store.delete_role(&name).await
}

/// Every escalation contact.
pub async fn list_contacts(state: &AppState, caller: &Actor) -> Result<Vec<Contact>, Error> {
    manage(caller)?;
    state.store.list_contacts().await
}

/// Add (or rename) an escalation contact.
pub async fn put_contact(state: &AppState, caller: &Actor, req: ContactObject) -> Result<Contact, Error> {
    manage(caller)?;
    let contact = Contact { email: parse_email(&req.email)?, name: parse_name(&req.name)? };
    state.store.put_contact(contact.clone(), state.clock.now()).await?;
    Ok(contact)
}

/// Remove an escalation contact.
pub async fn remove_contact(state: &AppState, caller: &Actor, email: &str) -> Result<(), Error> {
    manage(caller)?;
    state.store.remove_contact(email.trim()).await
}

/// Every API client (without secrets).
pub async fn list_api_clients(state: &AppState, caller: &Actor) -> Result<Vec<ApiClient>, Error> {
    manage(caller)?;
    state.store.list_api_clients().await
}

/// Enable or disable an API client: a disabled client is refused from its next request on, on
/// every server (the clients version changes).
pub async fn set_api_client_enabled(
    state: &AppState,
    caller: &Actor,
    name: &str,
    enabled: bool,
) -> Result<ApiClient, Error> {
    manage(caller)?;
    let name = ClientName::parse(name)?;
    let clients = state.store.list_api_clients().await?;
    let current = clients.iter().find(|c| c.name == name).ok_or_else(|| refusal::client_not_found(&name))?;
    permit::covers(&caller.grants, &current.grants)?;
    let client = state.store.set_api_client_enabled(&name, enabled).await?;
    tracing::info!(client = %client.name, enabled, "API client changed");
    Ok(client)
}
