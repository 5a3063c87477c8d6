//! `/edgekv/v1/tokens…`: create, list, retrieve, revoke, refresh.

use axum::extract::{Path, State};
use axum::{Extension, Json};

use edgeward_core::Error;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::routes::{is_blank, parse_json, JsonBody, QueryParams};
use crate::service;
use crate::state::AppState;
use edgeward_wire::{
    CreateTokenRequest, RevokedToken, ScheduleRevocation, ScheduledRevocation, TokenList, TokenObject, TokenStates,
};

/// Create a token.
#[utoipa::path(post, path = "/edgekv/v1/tokens", request_body = CreateTokenRequest,
    responses((status = 200, body = TokenObject), (status = 400), (status = 409), (status = 413), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<TokenObject>, ApiError> {
    if is_blank(&body) {
        return Err(Error::invalid("body", "A JSON body describing the token is required.").into());
    }
    let req: CreateTokenRequest = parse_json(&body)?;
    Ok(Json(service::create_token(&state, &caller.0, req).await?))
}

/// List tokens.
#[utoipa::path(get, path = "/edgekv/v1/tokens", params(("includeExpired" = Option<bool>, Query)),
    responses((status = 200, body = TokenList)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: QueryParams,
) -> Result<Json<TokenList>, ApiError> {
    let include_expired = q.flag("includeExpired")?;
    Ok(Json(TokenList { tokens: service::list_tokens(&state, &caller.0, include_expired).await? }))
}

/// Retrieve ("download") a token.
#[utoipa::path(get, path = "/edgekv/v1/tokens/{tokenName}", params(("tokenName" = String, Path), ("includeUsage" = Option<bool>, Query)),
    responses((status = 200, body = TokenObject), (status = 404), (status = 410)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    q: QueryParams,
) -> Result<Json<TokenObject>, ApiError> {
    let include_usage = q.flag("includeUsage")?;
    Ok(Json(service::get_token(&state, &caller.0, &name, include_usage).await?))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/edgekv/v1/tokens/{tokenName}", params(("tokenName" = String, Path)),
    responses((status = 200, body = RevokedToken), (status = 404)))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<RevokedToken>, ApiError> {
    let t = service::revoke_token(&state, &caller.0, &name).await?;
    Ok(Json(RevokedToken { name: t.name.to_string(), uuid: t.uuid.to_string() }))
}

/// Refresh an auto-refreshing token.
#[utoipa::path(post, path = "/edgekv/v1/tokens/{tokenName}/refresh", params(("tokenName" = String, Path)),
    responses((status = 200, body = TokenObject), (status = 400), (status = 404)))]
pub async fn refresh(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<TokenObject>, ApiError> {
    Ok(Json(service::refresh_token(&state, &caller.0, &name).await?))
}

/// Every stored token the caller may view, with its lifecycle: successor, scheduled and done
/// revocation, last use (Edgeward).
#[utoipa::path(get, path = "/edgeward/v1/tokens", responses((status = 200, body = TokenStates), (status = 400)))]
pub async fn states(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<TokenStates>, ApiError> {
    Ok(Json(TokenStates { tokens: service::token_states(&state, &caller.0).await? }))
}

/// Schedule a token's revocation (Edgeward): at `revokeAt`, or `revokeAfterSeconds` from now on
/// the server's clock; a time that has come revokes it now. Replaces an earlier schedule.
#[utoipa::path(put, path = "/edgeward/v1/tokens/{name}/scheduled-revocation", params(("name" = String, Path)),
    request_body = ScheduleRevocation,
    responses((status = 200, body = ScheduledRevocation), (status = 400), (status = 404)))]
pub async fn schedule_revocation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ScheduledRevocation>, ApiError> {
    let when: ScheduleRevocation = parse_json(&body)?;
    Ok(Json(service::schedule_revocation(&state, &caller.0, &name, when).await?))
}

/// Cancel a token's scheduled revocation (Edgeward); the token stays valid.
#[utoipa::path(delete, path = "/edgeward/v1/tokens/{name}/scheduled-revocation", params(("name" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn cancel_revocation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    service::cancel_revocation(&state, &caller.0, &name).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
