//! `/edgekv/v1/tokens…`: create, list, retrieve, revoke, refresh.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::routes::{is_blank, parse_json};
use crate::service;
use crate::state::AppState;
use edgeward_wire::{CreateTokenRequest, RevokedToken, TokenList, TokenObject};

/// Query of `GET /tokens`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// `true` to include tokens that expired less than 30 days ago.
    pub include_expired: Option<String>,
}

/// Create a token.
#[utoipa::path(post, path = "/edgekv/v1/tokens", request_body = CreateTokenRequest,
    responses((status = 200, body = TokenObject), (status = 400), (status = 409), (status = 413), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<TokenObject>, ApiError> {
    if is_blank(&body) {
        return Err(ApiError::bad_request("A JSON body describing the token is required."));
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
    Query(q): Query<ListQuery>,
) -> Result<Json<TokenList>, ApiError> {
    let include_expired = match q.include_expired.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("includeExpired must be true or false.")),
    };
    Ok(Json(TokenList { tokens: service::list_tokens(&state, &caller.0, include_expired).await? }))
}

/// Retrieve ("download") a token.
#[utoipa::path(get, path = "/edgekv/v1/tokens/{tokenName}", params(("tokenName" = String, Path), ("includeUsage" = Option<bool>, Query)),
    responses((status = 200, body = TokenObject), (status = 404), (status = 410)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(q): Query<GetQuery>,
) -> Result<Json<TokenObject>, ApiError> {
    let include_usage = q.include_usage.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Json(service::get_token(&state, &caller.0, &name, include_usage).await?))
}

/// Query of `GET /tokens/{name}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQuery {
    /// Edgeward: `true` adds the token's data-plane usage (one more read).
    pub include_usage: Option<String>,
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
