//! `/edgeward/v1/users` and `/edgeward/v1/contacts`: who is told about expiring tokens. The
//! rules are [`crate::people`]'s, shared with the console; these handlers read the request and
//! shape the answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use edgeward_wire::{ContactObject, UserChange, UserObject};

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::routes::{parse_json, JsonBody};
use crate::state::AppState;

/// Every user.
#[utoipa::path(get, path = "/edgeward/v1/users", responses((status = 200, body = Vec<UserObject>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<UserObject>>, ApiError> {
    Ok(Json(crate::people::list_users(&state, &caller.0).await?.iter().map(UserObject::from).collect()))
}

/// Add a user, with grants of their own and the roles they hold (an unknown role is refused by
/// name, before anything is stored).
#[utoipa::path(post, path = "/edgeward/v1/users", request_body = UserObject, responses((status = 201, body = UserObject), (status = 400), (status = 409)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<UserObject>), ApiError> {
    let u = crate::people::create_user(&state, &caller.0, parse_json(&body)?).await?;
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
    let u = crate::people::update_user(&state, &caller.0, &name, parse_json::<UserChange>(&body)?).await?;
    Ok(Json(UserObject::from(&u)))
}

/// Every escalation contact.
#[utoipa::path(get, path = "/edgeward/v1/contacts", responses((status = 200, body = Vec<ContactObject>)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ContactObject>>, ApiError> {
    let contacts = crate::people::list_contacts(&state, &caller.0).await?;
    Ok(Json(contacts.into_iter().map(|c| ContactObject { email: c.email, name: c.name }).collect()))
}

/// Add (or rename) an escalation contact.
#[utoipa::path(post, path = "/edgeward/v1/contacts", request_body = ContactObject, responses((status = 200, body = ContactObject), (status = 400)))]
pub async fn put_contact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<ContactObject>, ApiError> {
    let c = crate::people::put_contact(&state, &caller.0, parse_json(&body)?).await?;
    Ok(Json(ContactObject { email: c.email, name: c.name }))
}

/// Remove an escalation contact.
#[utoipa::path(delete, path = "/edgeward/v1/contacts/{email}", params(("email" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn remove_contact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(email): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::people::remove_contact(&state, &caller.0, &email).await?;
    Ok(StatusCode::NO_CONTENT)
}
