//! `/edgekv/v1/networks/{network}/namespaces…`: namespaces, their groups and items.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use edgeward_core::names::{AccessGroupId, NamespaceName};
use edgeward_core::namespace::{self as ns_rules, GeoLocation, Retention};
use edgeward_core::network::Network;
use edgeward_core::store::Namespace;
use edgeward_core::{Error, Resource};
use edgeward_wire::{LenientBoolSer, LenientU64, NamespaceList, NamespaceObject, NamespacePolicy, ScheduledDelete};

use crate::auth::Caller;
use crate::data_service::{self, network, ItemPath};
use crate::permit::{self, cap};
use crate::problem::ApiError;
use crate::routes::{parse_json, JsonBody, QueryParams};
use crate::state::AppState;

type Params = QueryParams;

fn object(n: &Namespace) -> NamespaceObject {
    NamespaceObject {
        namespace: n.name.to_string(),
        retention_in_seconds: Some(LenientU64(n.retention_seconds)),
        geo_location: Some(n.geo_location.clone()),
        group_id: Some(LenientU64(n.group_id.get())),
        data_access_policy: Some(NamespacePolicy {
            restrict_data_access: LenientBoolSer(false),
            policy_type: Some("inherited".into()),
        }),
    }
}

fn retention(r: Option<LenientU64>) -> Result<u64, Error> {
    Ok(Retention::parse(r.map(|r| r.0))?.seconds())
}

/// List namespaces (`details=on|true` for full objects).
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces", params(("network" = String, Path), ("details" = Option<String>, Query)), responses((status = 200, body = NamespaceList)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(net): Path<String>,
    q: QueryParams,
) -> Result<Json<NamespaceList>, ApiError> {
    let on = data_service::on::<cap::ViewNamespace>(&caller.0, network(&net)?)?;
    let details = q.flag_or_on_off("details")?;
    let all = data_service::namespaces(&state, &on).await?;
    let namespaces = all
        .iter()
        .map(|n| {
            if details {
                object(n)
            } else {
                NamespaceObject {
                    namespace: n.name.to_string(),
                    retention_in_seconds: None,
                    geo_location: None,
                    group_id: None,
                    data_access_policy: None,
                }
            }
        })
        .collect();
    Ok(Json(NamespaceList { namespaces }))
}

/// Create a namespace (an identical one already there answers 200 too).
#[utoipa::path(post, path = "/edgekv/v1/networks/{network}/namespaces", params(("network" = String, Path)), request_body = NamespaceObject, responses((status = 200, body = NamespaceObject), (status = 400), (status = 409), (status = 413)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(net): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<NamespaceObject>, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::CreateNamespace>(net)?;
    let req: NamespaceObject = parse_json(&body)?;
    let name = NamespaceName::parse_requested(&req.namespace)?;
    if name.as_str() == "default" {
        return Err(Error::AlreadyExists {
            resource: Resource::Namespace,
            message: "The default namespace exists on every account and cannot be created.".into(),
        }
        .into());
    }
    let retention = retention(req.retention_in_seconds)?;
    let group_id = req
        .group_id
        .ok_or_else(|| Error::invalid("groupId", "groupId must be specified (0 for every access group)."))?;
    let group_id = AccessGroupId::new(group_id.0)?;
    let geo = GeoLocation::parse(req.geo_location.as_deref(), net)?;
    let ns = Namespace {
        network: net,
        name,
        retention_seconds: retention,
        group_id,
        geo_location: geo.as_str().to_owned(),
        created_at: state.clock.now(),
        delete_at: None,
    };
    let (ns, _) = state.store.create_namespace(ns, state.limits.max_namespaces_per_network).await?;
    Ok(Json(object(&ns)))
}

/// One namespace.
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}", params(("network" = String, Path), ("ns" = String, Path)), responses((status = 200, body = NamespaceObject), (status = 400)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
) -> Result<Json<NamespaceObject>, ApiError> {
    let ns = data_service::namespace(&state, &caller.0, network(&net)?, &ns).await?;
    Ok(Json(object(&ns)))
}

/// Change a namespace's retention.
#[utoipa::path(put, path = "/edgekv/v1/networks/{network}/namespaces/{ns}", params(("network" = String, Path), ("ns" = String, Path)), request_body = NamespaceObject, responses((status = 200, body = NamespaceObject), (status = 400)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<NamespaceObject>, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::ModifyNamespace>(net)?;
    let name = NamespaceName::parse_requested(&ns)?;
    let req: NamespaceObject = parse_json(&body)?;
    if req.namespace != ns {
        return Err(Error::invalid("namespace", "The namespace in the body must match the one in the path.").into());
    }
    let current = state.store.get_namespace(net, &name).await?.ok_or_else(ns_rules::missing)?;
    if name.as_str() == "default" {
        return Err(Error::invalid("namespace", "The retention of the default namespace cannot be modified.").into());
    }
    if req.group_id.is_some_and(|g| g.0 != current.group_id.get()) {
        return Err(Error::Refused {
            resource: Resource::Namespace,
            message: "groupId changes must be made through the reauthorize endpoint.".into(),
        }
        .into());
    }
    if req.geo_location.as_deref().is_some_and(|g| !g.eq_ignore_ascii_case(&current.geo_location)) {
        return Err(Error::invalid("geoLocation", "The geoLocation of a namespace cannot be changed.").into());
    }
    let retention = retention(req.retention_in_seconds)?;
    let updated = state.store.set_namespace_retention(net, &name, retention, state.clock.now()).await;
    state.item_cache.clear();
    Ok(Json(object(&updated?)))
}

/// Delete a namespace and its items. With `sync=true` it goes at once (200 and the operation's
/// record); otherwise the deletion is scheduled (202 with its time and `Retry-After`) and can
/// be moved or cancelled until shortly before. A second request keeps the first time.
#[utoipa::path(delete, path = "/edgekv/v1/networks/{network}/namespaces/{ns}", params(("network" = String, Path), ("ns" = String, Path), ("sync" = Option<bool>, Query)), responses((status = 200), (status = 202, body = ScheduledDelete), (status = 400)))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::DeleteNamespace>(net)?;
    let name = deletable(&ns)?;
    if q.flag("sync")? {
        let deleted = state.store.delete_namespace(net, &name, state.clock.now()).await;
        state.item_cache.clear();
        deleted.map_err(|e| absent_or(e, net))?;
        let cpcode = &state.cpcode;
        return Ok(Json(json!({
            "operationPerformed": "DELETED",
            "description": format!("Namespace '{name}' was successfully deleted."),
            "id": cpcode,
        }))
        .into_response());
    }
    let current = state.store.get_namespace(net, &name).await?.ok_or_else(|| no_such_namespace(net))?;
    let at = match current.delete_at {
        Some(at) => at,
        None => {
            let at = state.clock.now() + state.namespace_delete_delay;
            state.store.schedule_namespace_delete(net, &name, Some(at)).await.map_err(|e| absent_or(e, net))?;
            tracing::info!(network = net.as_str(), namespace = %name, delete_at = %at, "namespace deletion scheduled");
            at
        }
    };
    Ok((StatusCode::ACCEPTED, scheduled(&state, at)).into_response())
}

/// Earliest a scheduled deletion can still be moved or cancelled.
const RESCHEDULE_LEAD: chrono::Duration = chrono::Duration::minutes(5);

fn deletable(ns: &str) -> Result<NamespaceName, Error> {
    let name = NamespaceName::parse_requested(ns)?;
    if name.as_str() == "default" {
        return Err(Error::invalid("namespace", "The default namespace cannot be deleted."));
    }
    Ok(name)
}

/// A namespace to delete that does not exist: refused as a missing grant, as EdgeKV does.
fn no_such_namespace(net: Network) -> Error {
    permit::refusal_on::<cap::DeleteNamespace>(net)
}

fn absent_or(e: Error, net: Network) -> Error {
    match e {
        Error::NotFound { .. } => no_such_namespace(net),
        other => other,
    }
}

/// The scheduled-deletion body with `Retry-After: <seconds left>`.
fn scheduled(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> impl IntoResponse {
    let left = (at - state.clock.now()).num_seconds().max(0);
    (
        [(axum::http::header::RETRY_AFTER, left.to_string())],
        Json(ScheduledDelete { scheduled_delete_time: at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string() }),
    )
}

fn not_scheduled(name: &str) -> Error {
    Error::NotFound {
        resource: Resource::ScheduledDeletion,
        message: format!("No deletion is scheduled for namespace {name}."),
    }
}

fn too_late(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> Result<(), Error> {
    if at - now < RESCHEDULE_LEAD {
        return Err(Error::Refused {
            resource: Resource::ScheduledDeletion,
            message: "A namespace deletion due in five minutes or less can no longer be moved or cancelled.".into(),
        });
    }
    Ok(())
}

/// When a namespace's scheduled deletion happens.
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete", params(("network" = String, Path), ("ns" = String, Path)), responses((status = 200, body = ScheduledDelete), (status = 400), (status = 404)))]
pub async fn scheduled_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::DeleteNamespace>(net)?;
    let name = NamespaceName::parse_requested(&ns)?;
    let current = state.store.get_namespace(net, &name).await?.ok_or_else(|| no_such_namespace(net))?;
    let at = current.delete_at.ok_or_else(|| not_scheduled(&ns))?;
    Ok(scheduled(&state, at).into_response())
}

/// Schedule a namespace's deletion for a given time, or move it.
#[utoipa::path(put, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete", params(("network" = String, Path), ("ns" = String, Path)), request_body = ScheduledDelete, responses((status = 200, body = ScheduledDelete), (status = 400)))]
pub async fn reschedule_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::DeleteNamespace>(net)?;
    let name = deletable(&ns)?;
    let req: ScheduledDelete = parse_json(&body)?;
    let at = chrono::DateTime::parse_from_rfc3339(req.scheduled_delete_time.trim())
        .map_err(|_| {
            Error::invalid(
                "scheduledDeleteTime",
                "scheduledDeleteTime must be an RFC 3339 time, such as 2026-05-08T14:16:05Z.",
            )
        })?
        .with_timezone(&chrono::Utc);
    let now = state.clock.now();
    if at <= now {
        return Err(Error::invalid("scheduledDeleteTime", "scheduledDeleteTime must be in the future.").into());
    }
    let current = state.store.get_namespace(net, &name).await?.ok_or_else(|| no_such_namespace(net))?;
    if let Some(previous) = current.delete_at {
        too_late(previous, now)?;
    }
    state.store.schedule_namespace_delete(net, &name, Some(at)).await.map_err(|e| absent_or(e, net))?;
    tracing::info!(network = net.as_str(), namespace = %name, delete_at = %at, "namespace deletion scheduled");
    Ok(scheduled(&state, at).into_response())
}

/// Cancel a namespace's scheduled deletion (204).
#[utoipa::path(delete, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete", params(("network" = String, Path), ("ns" = String, Path)), responses((status = 204), (status = 400), (status = 404)))]
pub async fn cancel_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let net = network(&net)?;
    caller.permit_on::<cap::DeleteNamespace>(net)?;
    let name = NamespaceName::parse_requested(&ns)?;
    let current = state.store.get_namespace(net, &name).await?.ok_or_else(|| no_such_namespace(net))?;
    let at = current.delete_at.ok_or_else(|| not_scheduled(&ns))?;
    too_late(at, state.clock.now())?;
    state.store.schedule_namespace_delete(net, &name, None).await.map_err(|e| absent_or(e, net))?;
    tracing::info!(network = net.as_str(), namespace = %name, "namespace deletion cancelled");
    Ok(StatusCode::NO_CONTENT)
}

/// Group names (bare array).
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups", params(("network" = String, Path), ("ns" = String, Path), ("sandboxId" = Option<String>, Query)), responses((status = 200, body = Vec<String>), (status = 404)))]
pub async fn groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns)): Path<(String, String)>,
    q: QueryParams,
) -> Result<Json<Vec<String>>, ApiError> {
    let sandbox = q.get("sandboxId").map(String::as_str);
    let groups = data_service::groups(&state, &caller.0, network(&net)?, &ns, sandbox).await?;
    if groups.is_empty() {
        return Err(Error::NotFound { resource: Resource::Item, message: "There are no groups.".into() }.into());
    }
    Ok(Json(groups))
}

/// Item keys of a group (bare array; `maxItems`, default 100).
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}", params(("network" = String, Path), ("ns" = String, Path), ("group" = String, Path), ("maxItems" = Option<u32>, Query), ("sandboxId" = Option<String>, Query)), responses((status = 200, body = Vec<String>), (status = 404)))]
pub async fn item_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((net, ns, group)): Path<(String, String, String)>,
    q: QueryParams,
) -> Result<Json<Vec<String>>, ApiError> {
    let (max, sandbox) = (q.get("maxItems").map(String::as_str), q.get("sandboxId").map(String::as_str));
    let keys = data_service::item_keys(&state, &caller.0, network(&net)?, (&ns, &group), max, sandbox).await?;
    if keys.is_empty() {
        return Err(Error::NotFound {
            resource: Resource::Item,
            message: "The requested group is empty or not found.".into(),
        }
        .into());
    }
    Ok(Json(keys))
}

/// The item a request names: its path and `sandboxId`.
fn item_path((network, namespace, group, item): (String, String, String, String), q: &Params) -> ItemPath {
    ItemPath { network, namespace, group, item, sandbox: q.get("sandboxId").cloned() }
}

// GET (and HEAD, which axum answers from the GET handler without the body). PUT and DELETE
// have handlers of their own: a method never decides what a handler does. The doc line below is
// the OpenAPI summary of the item path.
/// Read, write or delete one item.
#[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}", request_body(content = String, description = "PUT only: the value"), params(("network" = String, Path), ("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)), responses((status = 200, description = "The raw value (GET); a confirmation text (PUT, DELETE)", body = String), (status = 404), (status = 413)))]
pub async fn item(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String, String, String)>,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let found = data_service::read_item(&state, &caller.0, item_path(path, &q)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain;charset=utf-8")], found).into_response())
}

/// Write one item (the body is the value).
pub async fn put_item(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String, String, String)>,
    q: QueryParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = data_service::write_item(&state, &caller.0, item_path(path, &q), &body).await?;
    let done = format!(
        "Item was upserted in KV store with database {}, namespace {}, group {}, and key {}.",
        state.cpcode, key.namespace, key.group, key.item
    );
    Ok(done.into_response())
}

/// Delete one item.
pub async fn delete_item(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String, String, String)>,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let key = data_service::delete_item(&state, &caller.0, item_path(path, &q)).await?;
    let done = format!(
        "Item was marked for deletion from database, namespace {}, group {}, and key {}.",
        key.namespace, key.group, key.item
    );
    Ok(done.into_response())
}
