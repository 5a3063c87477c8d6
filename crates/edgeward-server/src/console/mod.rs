//! The web console: the pages people use instead of EdgeGrid, served on the admin listener
//! (same TLS) by `edgeward serve` itself.
//!
//! Pages are rendered on the server from templates compiled into the binary (askama,
//! `templates/console/`); the little JavaScript they use ships as a file (`static/console.js`)
//! and runs under a Content-Security-Policy that allows no inline script, no other origin and no
//! framing. Who is signed in, and the CSRF and sign-in rules, are [`session`]'s; what a person
//! may see and do is decided by the same permit checks and service calls as the admin API's
//! (a person is a [`crate::auth::Caller`] like an API client), so the console has no rules of
//! its own. Nothing here is on the data plane's path: the data-plane router has no console
//! route.

pub mod account;
pub mod audit;
pub mod data;
pub mod pages;
pub mod people;
pub mod session;
pub mod tokens;

use std::sync::LazyLock;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The console's Content-Security-Policy: everything from this origin only, no inline script
/// or style, no plug-ins, forms post only here, and no page may frame the console.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Largest item edit form: a value of `MAX_VALUE_CHARS` characters of 4 bytes each, every byte
/// percent-encoded, and room for the CSRF token (axum's default of 2 MB is less).
const EDIT_FORM_BYTES: usize = crate::items::MAX_VALUE_CHARS * 4 * 3 + 4096;

/// The console's routes (merged into the admin router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(pages::sign_in_page).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/account/password", get(pages::password_page).post(pages::change_password))
        .route("/account", get(account::account))
        .route("/panel", get(pages::panel))
        .route("/panel/read", post(pages::mark_read))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/new", get(tokens::new))
        .route("/tokens/edgekv_tokens.js", get(tokens::download_all))
        .route("/tokens/{name}", get(tokens::show))
        .route("/tokens/{name}/edgekv_tokens.js", get(tokens::download))
        .route("/tokens/{name}/refresh", post(tokens::refresh))
        .route("/tokens/{name}/rotate", post(tokens::rotate))
        .route("/tokens/{name}/revoke", post(tokens::revoke))
        .route("/tokens/{name}/cancel-revocation", post(tokens::cancel_revocation))
        .route("/namespaces", get(data::namespaces))
        .route("/namespaces/{network}/{ns}", get(data::namespace))
        .route("/namespaces/{network}/{ns}/groups/{group}", get(data::group))
        .route(
            "/namespaces/{network}/{ns}/groups/{group}/items/{item}",
            get(data::item).post(data::edit_item).layer(DefaultBodyLimit::max(EDIT_FORM_BYTES)),
        )
        .route("/namespaces/{network}/{ns}/groups/{group}/items/{item}/delete", post(data::delete_item))
        .route("/audit", get(audit::audit))
        .route("/people", get(people::page))
        .route("/people/users", post(people::create_user))
        .route("/people/users/{name}/roles", post(people::user_roles))
        .route("/people/users/{name}/active", post(people::user_active))
        .route("/people/users/{name}/reset-password", post(people::reset_password))
        .route("/people/roles", post(people::create_role))
        .route("/people/roles/{name}", post(people::edit_role))
        .route("/people/roles/{name}/delete", post(people::delete_role))
        .route("/people/contacts", post(people::add_contact))
        .route("/people/contacts/remove", post(people::remove_contact))
        .route("/people/clients/{name}/enabled", post(people::client_enabled))
        .route("/static/console.css", get(stylesheet))
        .route("/static/console.js", get(script))
        .layer(middleware::from_fn(page_headers))
}

/// Headers of every console answer: the policy, no sniffing, no referrer to other sites, and
/// pages never cached (static files set their own caching).
///
/// The referrer policy is `same-origin`, not `no-referrer`: under `no-referrer` browsers send
/// `Origin: null` with the console's own form posts, which the cross-site check
/// ([`session::cross_site`]) must refuse; under `same-origin` they send this origin with them,
/// and still no referrer (no token name in a path) to any other site.
async fn page_headers(req: axum::extract::Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// A file of `static/`, compiled in.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    /// The first 64 bits of the body's SHA-256, quoted.
    etag: LazyLock<String>,
}

fn etag_of(body: &str) -> String {
    use sha2::Digest as _;
    format!("\"{}\"", &hex::encode(sha2::Sha256::digest(body.as_bytes()))[..16])
}

static STYLESHEET: Asset = Asset {
    body: include_str!("../../static/console.css"),
    content_type: "text/css; charset=utf-8",
    etag: LazyLock::new(|| etag_of(include_str!("../../static/console.css"))),
};

static SCRIPT: Asset = Asset {
    body: include_str!("../../static/console.js"),
    content_type: "text/javascript; charset=utf-8",
    etag: LazyLock::new(|| etag_of(include_str!("../../static/console.js"))),
};

async fn stylesheet(headers: HeaderMap) -> Response {
    serve_asset(&headers, &STYLESHEET)
}

async fn script(headers: HeaderMap) -> Response {
    serve_asset(&headers, &SCRIPT)
}

/// A static file, cached by the browser for a day and revalidated by its `ETag` after that.
fn serve_asset(headers: &HeaderMap, asset: &Asset) -> Response {
    let etag = HeaderValue::from_str(&asset.etag).expect("a quoted hex tag is a valid header value");
    let caching = HeaderValue::from_static("public, max-age=86400");
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, caching)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, caching),
            (header::ETAG, etag),
        ],
        asset.body,
    )
        .into_response()
}
