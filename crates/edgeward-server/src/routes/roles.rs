//! `/edgeward/v1/roles`: named sets of grants that users hold (`edgeward_core::role`). The
//! built-in roles are listed and read like the custom ones, but neither changed nor deleted.
//! These need the `MANAGE_NOTIFICATIONS` grant, like the users API (`edgeward role …` does the
//! same on the server's data directory).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use edgeward_core::names::RoleName;
use edgeward_core::refusal;
use edgeward_core::role::{self, Role};
use edgeward_wire::{NewRole, RoleChange, RoleObject};

use crate::auth::Caller;
use crate::permit::cap;
use crate::problem::ApiError;
use crate::routes::people::parse_grants;
use crate::routes::{parse_json, JsonBody};
use crate::state::AppState;

/// Every role: the built-in ones, then the custom ones by name.
#[utoipa::path(get, path = "/edgeward/v1/roles", responses((status = 200, body = Vec<RoleObject>)))]
pub async fn list_roles(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<RoleObject>>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    Ok(Json(state.store.list_roles().await?.iter().map(RoleObject::from).collect()))
}

/// One role.
#[utoipa::path(get, path = "/edgeward/v1/roles/{name}", params(("name" = String, Path)), responses((status = 200, body = RoleObject), (status = 400), (status = 404)))]
pub async fn get_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<RoleObject>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let name = RoleName::parse(&name)?;
    let role = state.store.role(&name).await?.ok_or_else(|| refusal::role_missing(&name))?;
    Ok(Json(RoleObject::from(&role)))
}

/// Add a custom role.
#[utoipa::path(post, path = "/edgeward/v1/roles", request_body = NewRole, responses((status = 201, body = RoleObject), (status = 400), (status = 409)))]
pub async fn create_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<RoleObject>), ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let req: NewRole = parse_json(&body)?;
    let role = Role {
        name: RoleName::parse(&req.name)?,
        description: role::parse_description(&req.description)?,
        grants: parse_grants("grants", &req.grants)?,
        built_in: false,
    };
    let role = state.store.create_role(role, state.clock.now()).await?;
    tracing::info!(role = %role.name, "role created");
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
    caller.permit::<cap::ManageNotifications>()?;
    let name = RoleName::parse(&name)?;
    let req: RoleChange = parse_json(&body)?;
    let description = req.description.as_deref().map(role::parse_description).transpose()?;
    let grants = req.grants.as_deref().map(|g| parse_grants("grants", g)).transpose()?;
    let role = state.store.update_role(&name, description, grants).await?;
    Ok(Json(RoleObject::from(&role)))
}

/// Delete a custom role that no user holds.
#[utoipa::path(delete, path = "/edgeward/v1/roles/{name}", params(("name" = String, Path)), responses((status = 204), (status = 400), (status = 404), (status = 409)))]
pub async fn delete_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let name = RoleName::parse(&name)?;
    state.store.delete_role(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
