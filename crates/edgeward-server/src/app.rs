//! The routers and the middleware every request passes through. They are built from an
//! [`AppState`] alone, so a test can drive them in-process (`tower::ServiceExt::oneshot`); the
//! listeners that serve them are [`crate::server`]'s.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tracing::Instrument;

use crate::metrics::ListenerMetrics;
use crate::problem::{finish_response, RequestFacts, ServerError};
use crate::routes::{access, initialize, namespaces, notifications, ops, people, roles, tokens};
use crate::state::AppState;
use crate::{auth, dataplane};

/// The data plane's item route.
pub const ITEM_ROUTE: &str = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}";
/// The open routes every listener but the metrics one serves.
const OPS_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/.well-known/jwks.json"];

/// A request's id: 16 hex digits, random (the `x-trace-id` header, problem bodies, the admin
/// API's audit records and log spans).
fn request_id() -> String {
    hex::encode(rand::random::<u64>().to_be_bytes())
}

/// What every listener does around each request: an id, a span, the audit of a refused
/// authentication, the problem format ([`finish_response`]), the request's metrics and a debug
/// line. The data plane's item route does the same in [`DataPlane`], without the router.
async fn observe(
    State((state, series)): State<(AppState, Arc<ListenerMetrics>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let listener = series.listener();
    let request_id = request_id();
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
    let served = Served { series: &series, route: matched.as_ref().map(MatchedPath::as_str), started, span };
    served.finish(resp, &state, &request_id, &method, host.as_ref(), &uri)
}

/// A request on its way out: where its metrics go and its span.
struct Served<'a> {
    series: &'a ListenerMetrics,
    route: Option<&'a str>,
    started: Instant,
    span: tracing::Span,
}

impl Served<'_> {
    /// The answer in the problem format when it is a problem (with the request id), counted
    /// and timed, and logged at debug.
    fn finish(
        self,
        resp: Response,
        state: &AppState,
        request_id: &str,
        method: &http::Method,
        host: Option<&http::HeaderValue>,
        uri: &http::Uri,
    ) -> Response {
        let facts = RequestFacts {
            request_id,
            method: method.as_str(),
            host: host.and_then(|h| h.to_str().ok()).unwrap_or(""),
            target: uri.path_and_query().map_or("/", |p| p.as_str()),
            clock: state.clock.as_ref(),
        };
        let resp = finish_response(resp, &facts);
        let status = resp.status().as_u16();
        let elapsed = self.started.elapsed();
        self.series.record(self.route, method, status, elapsed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.span.in_scope(|| tracing::debug!(status, micros, "served"));
        resp
    }
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

/// The data plane of one listener, a service: the item route ([`ITEM_ROUTE`]) is answered
/// straight from the request, without the general router and its middleware (every edge call
/// comes here, and the router, the path extractor and the middleware's layers cost as much as
/// the authorization itself); every other path (`/healthz`, `/readyz`, the JWKS, unknown ones)
/// goes to a router with [`observe`]. Both answer alike: the same problem format, `x-trace-id`,
/// metrics and span.
#[derive(Clone)]
pub struct DataPlane(Arc<DataPlaneParts>);

struct DataPlaneParts {
    state: AppState,
    listener: dataplane::Listener,
    series: Arc<ListenerMetrics>,
    rest: Router,
}

/// The data plane of one listener.
pub fn data_plane(state: AppState, listener: dataplane::Listener) -> DataPlane {
    let series = state.metrics.listener("data", &[ITEM_ROUTE, OPS_ROUTES[0], OPS_ROUTES[1], OPS_ROUTES[2]]);
    let rest = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state((state.clone(), series.clone()), observe))
        .with_state(state.clone());
    DataPlane(Arc::new(DataPlaneParts { state, listener, series, rest }))
}

/// The names of an item path ([`ITEM_ROUTE`]: three non-empty segments, as the router matches
/// them), percent-decoded; `None` for any other path, `Some(Err(()))` when a name is not UTF-8
/// once decoded.
fn item_path(path: &str) -> Option<Result<dataplane::ItemPath, ()>> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (namespace, rest) = rest.split_once('/')?;
    let (group, item) = rest.strip_prefix("groups/")?.split_once('/')?;
    let item = item.strip_prefix("items/")?;
    if namespace.is_empty() || group.is_empty() || item.is_empty() || item.contains('/') {
        return None;
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().map(|d| d.into_owned());
    Some(match (decode(namespace), decode(group), decode(item)) {
        (Ok(namespace), Ok(group), Ok(item)) => Ok(dataplane::ItemPath { namespace, group, item }),
        _ => Err(()),
    })
}

impl DataPlane {
    async fn item(self, req: Request, path: Result<dataplane::ItemPath, ()>) -> Response {
        let this = &*self.0;
        let started = Instant::now();
        let request_id = request_id();
        let (parts, body) = req.into_parts();
        let span = tracing::debug_span!(
            "request",
            method = %parts.method,
            route = ITEM_ROUTE,
            request_id = %request_id,
            listener = "data"
        );
        let answer = match path {
            Ok(path) => dataplane::item(&this.state, &this.listener, &parts, path, body).instrument(span.clone()).await,
            Err(()) => Err(ServerError::PathNotUtf8.into()),
        };
        let served = Served { series: &this.series, route: Some(ITEM_ROUTE), started, span };
        let host = parts.headers.get(http::header::HOST);
        served.finish(answer.into_response(), &this.state, &request_id, &parts.method, host, &parts.uri)
    }
}

impl tower_service::Service<Request> for DataPlane {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match item_path(req.uri().path()) {
            Some(path) => {
                let this = self.clone();
                Box::pin(async move { Ok(this.item(req, path).await) })
            }
            None => Box::pin(self.0.rest.clone().call(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_16_lowercase_hex_digits() {
        for _ in 0..100 {
            let id = request_id();
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        }
    }

    fn path(ns: &str, group: &str, item: &str) -> Option<Result<dataplane::ItemPath, ()>> {
        Some(Ok(dataplane::ItemPath { namespace: ns.into(), group: group.into(), item: item.into() }))
    }

    #[test]
    fn an_item_path_is_matched_as_the_router_matched_it() {
        assert_eq!(item_path("/api/v1/namespaces/default/groups/g/items/k"), path("default", "g", "k"));
        assert_eq!(item_path("/api/v1/namespaces/a%20b/groups/g%2Fh/items/%C3%A9"), path("a b", "g/h", "é"));
        assert_eq!(item_path("/api/v1/namespaces/default/groups/g/items/%FF"), Some(Err(())));
        for other in [
            "/api/v1/namespaces/default/groups/g/items/",
            "/api/v1/namespaces/default/groups/g/items/k/",
            "/api/v1/namespaces/default/groups/g/items/k/more",
            "/api/v1/namespaces//groups/g/items/k",
            "/api/v1/namespaces/default/groups//items/k",
            "/api/v1/namespaces/default/groups/g/items",
            "/api/v1/namespaces/default/groups/g/item/k",
            "/api/v1/namespaces/default/group/g/items/k",
            "/api/v2/namespaces/default/groups/g/items/k",
            "/healthz",
            "/",
        ] {
            assert_eq!(item_path(other), None, "{other}");
        }
    }
}
