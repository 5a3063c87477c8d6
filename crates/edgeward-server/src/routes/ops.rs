//! Operational endpoints: health, readiness, metrics, the JWKS document, the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::problem::{ApiError, ServerError};
use crate::state::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers, within a second (a load balancer asking should not wait
/// for a connection attempt to a database that is down). Not ready is a plain-text 503 (a probe
/// answer, not a problem).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(1), state.store.account()).await {
        Ok(Ok(_)) => return "ready".into_response(),
        Ok(Err(e)) => tracing::warn!(error = %e.log_detail(), "not ready"),
        Err(_) => tracing::warn!("not ready: the database did not answer within a second"),
    }
    (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer").into_response()
}

/// Who may read `/metrics`: anyone, or the holder of a bearer token.
#[derive(Clone)]
pub struct MetricsAccess {
    /// The server's state.
    pub state: AppState,
    /// The token `Authorization: Bearer …` must carry, when set.
    pub bearer: Option<std::sync::Arc<str>>,
}

fn bearer_ok(headers: &axum::http::HeaderMap, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else { return false };
    let Some(given) = value.as_bytes().strip_prefix(b"Bearer ") else { return false };
    bool::from(given.ct_eq(token.as_bytes()))
}

/// Prometheus text exposition (401 without the bearer token, when one is configured). What
/// costs a query (the soonest expiry, live tokens by expiry) and the store's pools are read now,
/// once per scrape, not per request.
pub async fn metrics(State(access): State<MetricsAccess>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &access.bearer {
        if !bearer_ok(&headers, token) {
            tracing::info!("a /metrics request without the right bearer token was refused");
            return ([(header::WWW_AUTHENTICATE, "Bearer")], ApiError::from(ServerError::MetricsBearer))
                .into_response();
        }
    }
    let state = access.state;
    let labels = crate::metrics::AccountLabels { cpcode: state.cpcode.clone() };
    let now = state.clock.now();
    match state.store.soonest_expiry(now).await {
        Ok(Some(at)) => {
            state.metrics.soonest_token_expiry.get_or_create(&labels).set((at - now).num_seconds());
        }
        Ok(None) => {
            state.metrics.soonest_token_expiry.remove(&labels);
        }
        Err(e) => tracing::warn!(error = %e.log_detail(), "soonest token expiry unknown for /metrics"),
    }
    let tokens = match state.store.live_token_counts(now).await {
        Ok(counts) => Some(counts),
        Err(e) => {
            tracing::warn!(error = %e.log_detail(), "live tokens unknown for /metrics");
            None
        }
    };
    state.metrics.refresh(tokens, &state.store.pool_stats());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render())
        .into_response()
}

/// The public keys that verify token values.
pub async fn jwks(State(state): State<AppState>) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(state.keys.current().set.jwks())).into_response()
}

/// The OpenAPI document of the admin API.
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ServerError::UnknownPath.into()
}
