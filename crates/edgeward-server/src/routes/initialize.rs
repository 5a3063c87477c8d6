//! `/edgekv/v1/initialize`: the account's initialization status.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use edgeward_core::store::Account;

use crate::auth::Caller;
use crate::permit::cap;
use crate::problem::ApiError;
use crate::routes::{is_blank, parse_json, JsonBody};
use crate::state::AppState;
use edgeward_wire::{InitStatus, InitializeRequest};

/// The initialization status (404 with an `UNINITIALIZED` body when never initialized).
#[utoipa::path(get, path = "/edgekv/v1/initialize", responses((status = 200, body = InitStatus), (status = 404, body = InitStatus)))]
pub async fn status(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Result<Response, ApiError> {
    caller.permit::<cap::ViewNamespace>()?;
    Ok(match state.store.account().await? {
        Some(a) => Json(InitStatus::from(&a)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(InitStatus::uninitialized())).into_response(),
    })
}

/// Initialize: 201 the first time, 200 when already initialized.
#[utoipa::path(put, path = "/edgekv/v1/initialize", request_body = Option<InitializeRequest>,
    responses((status = 201, body = InitStatus), (status = 200, body = InitStatus)))]
pub async fn initialize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.permit::<cap::CreateNamespace>()?;
    let req: InitializeRequest =
        if is_blank(&body) { InitializeRequest { data_access_policy: None } } else { parse_json(&body)? };
    let policy = req.data_access_policy;
    let account = Account {
        cpcode: crate::bootstrap::new_cpcode(),
        initialized_at: state.clock.now(),
        restrict_data_access: policy.as_ref().is_none_or(|p| p.restrict_data_access.0),
        allow_namespace_policy_override: policy.as_ref().is_some_and(|p| p.allow_namespace_policy_override.0),
    };
    let (account, created) = state.store.initialize_account(account).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(InitStatus::from(&account))).into_response())
}
