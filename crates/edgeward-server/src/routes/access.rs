//! `/edgekv/v1/auth/…`: access groups and the reauthorization of a namespace to another group.
//!
//! Edgeward's API clients hold their capability grants account-wide, so every group shows the
//! caller's whole grant list; groups themselves are managed with `edgeward accessgroup`.

use axum::extract::{Path, State};
use axum::{Extension, Json};

use edgeward_core::names::{AccessGroupId, NamespaceName};
use edgeward_core::network::Network;
use edgeward_core::store::AccessGroup;
use edgeward_wire::{AccessGroupList, AccessGroupObject, ReauthorizeRequest};

use crate::auth::Caller;
use crate::permit::{self, cap};
use crate::problem::ApiError;
use crate::routes::{parse_json, JsonBody};
use crate::state::AppState;

fn object(group: AccessGroup, caller: &Caller) -> AccessGroupObject {
    AccessGroupObject {
        group_id: group.group_id.get(),
        group_name: group.name,
        capabilities: caller.0.grants.iter().map(|c| c.as_str().to_owned()).collect(),
    }
}

/// The access groups, each with the caller's capabilities in it.
#[utoipa::path(get, path = "/edgekv/v1/auth/groups", responses((status = 200, body = AccessGroupList)))]
pub async fn list_groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<AccessGroupList>, ApiError> {
    let groups = state.store.list_access_groups().await?;
    Ok(Json(AccessGroupList { groups: groups.into_iter().map(|g| object(g, &caller)).collect() }))
}

/// One access group; 403 `EKV_1000` for a group the caller cannot see (or that does not exist).
#[utoipa::path(get, path = "/edgekv/v1/auth/groups/{group_id}", params(("group_id" = u64, Path)), responses((status = 200, body = AccessGroupObject), (status = 400), (status = 403)))]
pub async fn get_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> Result<Json<AccessGroupObject>, ApiError> {
    let group_id = AccessGroupId::parse(&raw)?;
    let group = state
        .store
        .list_access_groups()
        .await?
        .into_iter()
        .find(|g| g.group_id == group_id)
        .ok_or_else(|| group_id.no_access())?;
    Ok(Json(object(group, &caller)))
}

/// Move a namespace to another access group, on every network where it exists. The caller
/// needs `AUTHORIZE_NAMESPACE` (production) or `AUTHORIZE_STAGING_NAMESPACE` (staging) for each.
#[utoipa::path(put, path = "/edgekv/v1/auth/namespaces/{ns}", params(("ns" = String, Path)), request_body = ReauthorizeRequest, responses((status = 200, body = ReauthorizeRequest), (status = 400), (status = 403)))]
pub async fn reauthorize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(ns): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ReauthorizeRequest>, ApiError> {
    let name = NamespaceName::parse_requested(&ns)?;
    let req: ReauthorizeRequest = parse_json(&body)?;
    let group_id = AccessGroupId::new(req.group_id.0)?;
    // A namespace that exists nowhere is refused as a missing grant, as EdgeKV does.
    let absent = permit::refusal::<cap::AuthorizeNamespace>;
    let mut found = false;
    for net in [Network::Production, Network::Staging] {
        if state.store.get_namespace(net, &name).await?.is_some() {
            found = true;
            caller.permit_on::<cap::AuthorizeNamespace>(net)?;
        }
    }
    if !found {
        return Err(absent().into());
    }
    let changed = state.store.set_namespace_group(&name, group_id).await?;
    if changed.is_empty() {
        return Err(absent().into());
    }
    tracing::info!(namespace = %name, group_id = req.group_id.0, "namespace reauthorized");
    Ok(Json(req))
}
