//! `/edgeward/v1/users` and `/edgeward/v1/contacts`: who is told about expiring tokens. These
//! need the `MANAGE_NOTIFICATIONS` grant (`edgeward user …` and `edgeward contact …` do the
//! same on the server's data directory). A user holds grants directly and through roles
//! (`routes::roles`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use edgeward_core::capability::{Capability, Grants};
use edgeward_core::names::{DisplayName, EmailAddress, RoleName};
use edgeward_core::notify::{Contact, User, UserUpdate};
use edgeward_core::Error;
use edgeward_wire::{ContactObject, UserChange, UserObject};

use crate::auth::Caller;
use crate::permit::cap;
use crate::problem::ApiError;
use crate::routes::{parse_json, JsonBody};
use crate::state::AppState;

fn parse_email(e: &str) -> Result<String, Error> {
    EmailAddress::parse(e).map(String::from)
}

fn parse_name(n: &str) -> Result<String, Error> {
    DisplayName::parse(n).map(String::from)
}

/// A list of grants of a request body's `field` (EdgeKV names; at most one of each).
pub(crate) fn parse_grants(field: &'static str, names: &[String]) -> Result<Grants, Error> {
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
#[utoipa::path(get, path = "/edgeward/v1/users", responses((status = 200, body = Vec<UserObject>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<UserObject>>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    Ok(Json(state.store.list_users().await?.iter().map(UserObject::from).collect()))
}

/// Add a user, with grants of their own and the roles they hold (an unknown role is refused by
/// name, before anything is stored).
#[utoipa::path(post, path = "/edgeward/v1/users", request_body = UserObject, responses((status = 201, body = UserObject), (status = 400), (status = 409)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<UserObject>), ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let req: UserObject = parse_json(&body)?;
    let email = req.email.as_deref().map(parse_email).transpose()?;
    if req.email_registered && email.is_none() {
        return Err(Error::invalid("emailRegistered", "emailRegistered needs an email.").into());
    }
    let grants = parse_grants("grants", &req.grants)?;
    let roles = parse_roles(&req.roles)?;
    let user = User {
        id: uuid::Uuid::new_v4(),
        name: parse_name(&req.name)?,
        email,
        email_registered: req.email_registered,
        active: req.active,
        grants,
        roles,
        created_at: state.clock.now(),
    };
    let u = state.store.create_user(user).await?;
    tracing::info!(user = %u.name, "user created");
    Ok((StatusCode::CREATED, Json(UserObject::from(&u))))
}

/// Change a user: activity, e-mail address, and the roles they hold (replacing those held).
#[utoipa::path(patch, path = "/edgeward/v1/users/{name}", params(("name" = String, Path)), request_body = UserChange, responses((status = 200, body = UserObject), (status = 400), (status = 404)))]
pub async fn update_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<UserObject>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let req: UserChange = parse_json(&body)?;
    let email = req.email.as_deref().map(parse_email).transpose()?;
    let roles = req.roles.as_deref().map(parse_roles).transpose()?;
    let update =
        UserUpdate { active: req.active, email: email.map(Some), email_registered: req.email_registered, roles };
    let u = state.store.update_user(&name, update).await?;
    Ok(Json(UserObject::from(&u)))
}

/// Every escalation contact.
#[utoipa::path(get, path = "/edgeward/v1/contacts", responses((status = 200, body = Vec<ContactObject>)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ContactObject>>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let contacts = state.store.list_contacts().await?;
    Ok(Json(contacts.into_iter().map(|c| ContactObject { email: c.email, name: c.name }).collect()))
}

/// Add (or rename) an escalation contact.
#[utoipa::path(post, path = "/edgeward/v1/contacts", request_body = ContactObject, responses((status = 200, body = ContactObject), (status = 400)))]
pub async fn put_contact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<ContactObject>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let req: ContactObject = parse_json(&body)?;
    let contact = Contact { email: parse_email(&req.email)?, name: parse_name(&req.name)? };
    state.store.put_contact(contact.clone(), state.clock.now()).await?;
    Ok(Json(ContactObject { email: contact.email, name: contact.name }))
}

/// Remove an escalation contact.
#[utoipa::path(delete, path = "/edgeward/v1/contacts/{email}", params(("email" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn remove_contact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    state.store.remove_contact(email.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}
