//! `/edgeward/v1/roles`: named sets of grants that users hold (`edgeward_core::role`). The
//! built-in roles are listed and read like the custom ones, but neither changed nor deleted.
//! The rules are [`crate::people`]'s, shared with the console (`MANAGE_NOTIFICATIONS`, like the
//! users API; `edgeward role …` does the same on the server's data directory).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use edgeward_wire::{NewRole, RoleChange, RoleObject};

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::routes::{parse_json, JsonBody};
use crate::state::AppState;

/// Every role: the built-in ones, then the custom ones by name.
#[utoipa::path(get, path = "/edgeward/v1/roles", responses((status = 200, body = Vec<RoleObject>)))]
pub async fn list_roles(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<RoleObject>>, ApiError> {
    Ok(Json(crate::people::list_roles(&state, &caller.0).await?.iter().map(RoleObject::from).collect()))
}

/// One role.
#[utoipa::path(get, path = "/edgeward/v1/roles/{name}", params(("name" = String, Path)), responses((status = 200, body = RoleObject), (status = 400), (status = 404)))]
pub async fn get_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<RoleObject>, ApiError> {
    Ok(Json(RoleObject::from(&crate::people::get_role(&state, &caller.0, &name).await?)))
}

/// Add a custom role.
#[utoipa::path(post, path = "/edgeward/v1/roles", request_body = NewRole, responses((status = 201, body = RoleObject), (status = 400), (status = 409)))]
pub async fn create_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<RoleObject>), ApiError> {
    let role = crate::people::create_role(&state, &caller.0, parse_json(&body)?).await?;
    Ok((StatusCode::CREATED, Json(RoleObject::from(&role))))
}

/// Change a custom role's description or grants: every holder may do what it grants from their
/// next request on.
#[utoipa::path(put, path = "/edgeward/v1/roles/{name}", params(("name" = String, Path)), request_body = RoleChange, responses((status = 200, body = RoleObject), (status = 400), (status = 404)))]
pub async fn update_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<RoleObject>, ApiError> {
    let role = crate::people::update_role(&state, &caller.0, &name, parse_json::<RoleChange>(&body)?).await?;
    Ok(Json(RoleObject::from(&role)))
}

/// Delete a custom role that no user holds.
#[utoipa::path(delete, path = "/edgeward/v1/roles/{name}", params(("name" = String, Path)), responses((status = 204), (status = 400), (status = 404), (status = 409)))]
pub async fn delete_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::people::delete_role(&state, &caller.0, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
