//! The routers and the middleware every request passes through. They are built from an
//! [`AppState`] alone, so a test can drive them in-process (`tower::ServiceExt::oneshot`); the
//! listeners that serve them are [`crate::server`]'s.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post, put};
use axum::Router;
use tracing::Instrument;

use crate::metrics::ListenerMetrics;
use crate::problem::{finish_response, RequestFacts};
use crate::routes::{access, initialize, namespaces, notifications, ops, people, roles, tokens};
use crate::state::AppState;
use crate::{auth, dataplane};

/// The data plane's item route.
pub const ITEM_ROUTE: &str = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}";
/// The open routes every listener but the metrics one serves.
const OPS_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/.well-known/jwks.json"];

async fn observe(
    State((state, series)): State<(AppState, Arc<ListenerMetrics>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let listener = series.listener();
    let request_id = format!("{:016x}", rand::random::<u64>());
    let peer = crate::audit::peer_ip(&req);
    if listener == "admin" {
        req.extensions_mut().insert(crate::audit::RequestId(request_id.clone()));
    }
    let method = req.method().clone();
    // The template, not the path (a reference-counted handle: no copy).
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    // Cheap handles (reference-counted), read only when the answer is a problem.
    let host = req.headers().get(http::header::HOST).cloned();
    let uri = req.uri().clone();
    // The data plane is the hot path: its request span is at DEBUG, so that at the default
    // level no span is built or formatted per edge call. The admin API's is at INFO.
    let span = if listener == "admin" {
        tracing::info_span!("request", %method, %route, request_id = %request_id, listener)
    } else {
        tracing::debug_span!("request", %method, %route, request_id = %request_id, listener)
    };
    let started = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    if let Some(crate::audit::AuthDenied(reason)) = resp.extensions().get::<crate::audit::AuthDenied>().copied() {
        let refused = crate::audit::Refused {
            source: peer,
            method: method.as_str(),
            path: uri.path(),
            request_id: &request_id,
            reason,
        };
        state.trail.auth_denied(&state, refused);
    }
    let facts = RequestFacts {
        request_id: &request_id,
        method: method.as_str(),
        host: host.as_ref().and_then(|h| h.to_str().ok()).unwrap_or(""),
        target: uri.path_and_query().map_or("/", |p| p.as_str()),
        now: state.clock.now(),
    };
    let resp = finish_response(resp, &facts);
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    series.record(matched.as_ref().map(MatchedPath::as_str), &method, status, elapsed);
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::debug!(status, micros, "served"));
    resp
}

/// The admin API router (EdgeGrid-protected routes plus the open operational ones); `/metrics`
/// with `metrics`, unless it has a listener of its own.
pub fn admin_router(state: AppState, metrics: Option<ops::MetricsAccess>) -> Router {
    let signed = Router::new()
        .route("/edgekv/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/edgekv/v1/tokens/{name}", get(tokens::get).delete(tokens::revoke))
        .route("/edgekv/v1/tokens/{name}/refresh", post(tokens::refresh))
        .route("/edgekv/v1/initialize", get(initialize::status).put(initialize::initialize))
        .route("/edgekv/v1/networks/{network}/namespaces", get(namespaces::list).post(namespaces::create))
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}",
            get(namespaces::get).put(namespaces::update).delete(namespaces::delete),
        )
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}/status/scheduled-delete",
            get(namespaces::scheduled_delete).put(namespaces::reschedule_delete).delete(namespaces::cancel_delete),
        )
        .route("/edgekv/v1/auth/groups", get(access::list_groups))
        .route("/edgekv/v1/auth/groups/{group_id}", get(access::get_group))
        .route("/edgekv/v1/auth/namespaces/{ns}", put(access::reauthorize))
        .route("/edgeward/v1/notifications", get(notifications::list))
        .route("/edgeward/v1/notifications/read", post(notifications::mark_read))
        .route("/edgeward/v1/notify/run", post(notifications::run))
        .route("/edgeward/v1/notify/status", get(notifications::status))
        .route("/edgeward/v1/audit", get(crate::routes::audit::list))
        .route("/edgeward/v1/status", get(crate::routes::status::status))
        .route("/edgeward/v1/tokens", get(tokens::states))
        .route("/edgeward/v1/tokens/{name}/replaced-by", post(notifications::replaced_by))
        .route(
            "/edgeward/v1/tokens/{name}/scheduled-revocation",
            put(tokens::schedule_revocation).delete(tokens::cancel_revocation),
        )
        .route("/edgeward/v1/users", get(people::list_users).post(people::create_user))
        .route("/edgeward/v1/users/{name}", axum::routing::patch(people::update_user))
        .route("/edgeward/v1/roles", get(roles::list_roles).post(roles::create_role))
        .route("/edgeward/v1/roles/{name}", get(roles::get_role).put(roles::update_role).delete(roles::delete_role))
        .route("/edgeward/v1/contacts", get(people::list_contacts).post(people::put_contact))
        .route("/edgeward/v1/contacts/{email}", axum::routing::delete(people::remove_contact))
        .route("/edgekv/v1/networks/{network}/namespaces/{ns}/groups", get(namespaces::groups))
        .route("/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}", get(namespaces::item_keys))
        .route(
            "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}",
            get(namespaces::item).put(namespaces::put_item).delete(namespaces::delete_item),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_edgegrid));
    let mut open = Router::new().merge(signed);
    if let Some(access) = metrics {
        open = open.merge(Router::new().route("/metrics", get(ops::metrics)).with_state(access));
    }
    open.merge(crate::console::router())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/openapi.json", get(ops::openapi))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state((state.clone(), state.metrics.listener("admin", &OPS_ROUTES)), observe))
        .with_state(state)
}

/// The router of the metrics listener (`metrics.addr`): `/metrics` only.
pub fn metrics_router(access: ops::MetricsAccess) -> Router {
    let state = access.state.clone();
    Router::new().route("/metrics", get(ops::metrics)).with_state(access).fallback(ops::not_found).layer(
        middleware::from_fn_with_state((state.clone(), state.metrics.listener("metrics", &["/metrics"])), observe),
    )
}

/// The data-plane router of one listener.
pub fn data_router(state: AppState, listener: dataplane::Listener) -> Router {
    let items = Router::new().route(ITEM_ROUTE, any(dataplane::item)).with_state((state.clone(), Arc::new(listener)));
    Router::new()
        .merge(items)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state(
            (state.clone(), state.metrics.listener("data", &[ITEM_ROUTE, OPS_ROUTES[0], OPS_ROUTES[1], OPS_ROUTES[2]])),
            observe,
        ))
        .with_state(state)
}
