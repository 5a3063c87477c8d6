//! EdgeGrid authentication of admin-API requests.
//!
//! Order matters: the header's shape (one header, every field, a nonce of 1 to 128 letters,
//! digits and hyphens) is checked first, then the client and its access token (unknown or
//! disabled → "Inactive client token"), then the timestamp window; only then is the body read
//! (bounded: a POST body no longer than the signed part), then the signature (constant-time), and
//! only a request with a valid signature records its nonce, so nobody without the secret can
//! burn nonces. Nonces are checked in memory first, then recorded in the store, so a request
//! is accepted once across restarts and servers sharing a database. Opened secrets are cached per client for as long as the store's clients version
//! is unchanged (see `ClientCache`); they are never logged.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use edgeward_core::capability::Grants;
use edgeward_core::store::ApiClient;
use edgeward_edgegrid::{parse_authorization, verify, SignedRequest};
use uuid::Uuid;

use crate::body::read_bounded;
use crate::metrics::AuthLabels;
use crate::problem::{ApiError, ServerError};
use crate::state::{AppState, VerifiedClient};

/// Who makes an admin request: an API client (EdgeGrid) or a person signed in to the console.
/// The admin API's handlers and the console's pages hold the same [`Caller`], so what either may
/// do is decided by the same checks ([`crate::permit`]) over the same grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The client's or the user's name.
    pub name: String,
    /// Which of the two it is.
    pub kind: ActorKind,
    /// What it may do: an API client's grants, or a user's effective grants (read afresh for
    /// every console request).
    pub grants: Grants,
    /// The user it acts for: an API client's owner (whose notification panel it reads), or the
    /// signed-in user.
    pub user: Option<Uuid>,
}

/// The two kinds of [`Actor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// An API client, authenticated by its EdgeGrid signature.
    Client,
    /// A user, signed in to the console.
    User,
}

impl Actor {
    /// The actor of an API client's requests.
    pub fn client(client: &ApiClient) -> Self {
        Self {
            name: client.name.to_string(),
            kind: ActorKind::Client,
            grants: client.grants.clone(),
            user: client.owner,
        }
    }

    /// How the audit trail names it: `client:NAME` or `user:NAME`.
    pub fn label(&self) -> String {
        match self.kind {
            ActorKind::Client => format!("client:{}", self.name),
            ActorKind::User => format!("user:{}", self.name),
        }
    }
}

/// The authenticated caller, put in the request's extensions. What it may do is asked of
/// [`crate::permit`] (`Caller::permit`, `Caller::permit_on`).
#[derive(Clone, Debug)]
pub struct Caller(pub Arc<Actor>);

/// Largest admin request body read.
pub const MAX_ADMIN_BODY: usize = 1024 * 1024;

fn deny(state: &AppState, reason: &'static str, detail: &'static str) -> Response {
    state.metrics.auth_failures.get_or_create(&AuthLabels { reason }).inc();
    tracing::info!(reason, "request refused by EdgeGrid authentication");
    let mut resp = ApiError::from(ServerError::EdgeGrid(detail)).into_response();
    resp.extensions_mut().insert(crate::audit::AuthDenied(reason));
    resp
}

/// Whether a nonce has the shape every EdgeGrid client gives it (a UUID, in Akamai's own
/// clients): 1 to 128 letters, digits and `-`.
pub fn nonce_shape_ok(nonce: &str) -> bool {
    (1..=128).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Middleware: verify the EdgeGrid signature, attach [`Caller`], and run the request through the
/// audit trail ([`crate::audit::record_changes`]).
///
/// Everything that can be checked without the body (the header's shape, the client, its access
/// token, the timestamp) is checked before a byte of the body is read; the body is then read
/// with a bound: a POST body may not be longer than the part the signature covers
/// (`edgegrid.max_body`), so nothing unsigned is ever parsed.
pub async fn require_edgegrid(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let (Some(auth_value), None) = (values.next(), values.next()) else {
        return deny(
            &state,
            "malformed",
            "The request is not signed: one EG1-HMAC-SHA256 Authorization header is required",
        );
    };
    let Ok(auth_value) = auth_value.to_str() else {
        return deny(&state, "malformed", "The Authorization header is not a valid EG1-HMAC-SHA256 header");
    };
    let Ok(auth) = parse_authorization(auth_value) else {
        return deny(&state, "malformed", "The Authorization header is not a valid EG1-HMAC-SHA256 header");
    };
    if !nonce_shape_ok(auth.nonce) {
        return deny(&state, "malformed", "The nonce must be 1 to 128 letters, digits and hyphens (a UUID)");
    }
    let version = match state.store.api_clients_version().await {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let verified = match state.clients.get(version, auth.client_token) {
        Some(v) => v,
        None => {
            let stored = match state.store.api_client_by_token(auth.client_token).await {
                Ok(Some(c)) if c.client.enabled => c,
                Ok(_) => return deny(&state, "inactive", "Inactive client token"),
                Err(e) => return ApiError::from(e).into_response(),
            };
            let secret = match state.data_key.open(&stored.sealed_secret, stored.client.client_token.as_bytes()) {
                Ok(s) => String::from_utf8_lossy(&s).into_owned(),
                Err(_) => {
                    tracing::error!(client = %stored.client.name, "the client secret does not open with the data key");
                    return deny(&state, "inactive", "Inactive client token");
                }
            };
            let actor = Arc::new(Actor::client(&stored.client));
            let v = Arc::new(VerifiedClient { client: Arc::new(stored.client), actor, secret });
            state.clients.put(version, v.clone());
            v
        }
    };
    if !bool::from(verified.client.access_token.as_bytes().ct_eq(auth.access_token.as_bytes())) {
        return deny(&state, "inactive", "Inactive client token");
    }
    let now = state.request_clock.now();
    if (now - auth.time).abs() > state.timestamp_window {
        return deny(
            &state,
            "timestamp",
            "The request timestamp is outside the accepted window; check the client's clock",
        );
    }
    let body = if parts.method == axum::http::Method::POST {
        let max = state.edgegrid.max_body;
        read_bounded(&parts.headers, body, max, || {
            ServerError::BodyTooLarge(format!(
                "A POST body may not exceed {max} bytes, the part the EdgeGrid signature covers."
            ))
            .into()
        })
        .await
    } else {
        read_bounded(&parts.headers, body, MAX_ADMIN_BODY, || {
            ServerError::BodyTooLarge(format!("The request body exceeds {MAX_ADMIN_BODY} bytes.")).into()
        })
        .await
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers: Vec<(&str, &str)> = state
        .edgegrid
        .headers_to_sign
        .iter()
        .filter_map(|name| parts.headers.get(name.as_str()).and_then(|v| v.to_str().ok()).map(|v| (name.as_str(), v)))
        .collect();
    let signed = SignedRequest { method: parts.method.as_str(), host, target, headers: &headers, body: &body };
    if !verify(&verified.secret, &auth, &signed, &state.edgegrid) {
        return deny(&state, "signature", "The signature does not match");
    }
    let window = state.timestamp_window.num_seconds();
    if !state.nonces.first_use(auth.client_token, auth.nonce, auth.time.timestamp(), now.timestamp(), window) {
        return deny(&state, "replay", "The nonce has already been used: every request needs a fresh nonce");
    }
    // Durably too, so a request is accepted once across restarts and across servers sharing the
    // database (SQLite: an append to the nonce journal; PostgreSQL: an asynchronous commit).
    match state.store.record_nonce(auth.client_token, auth.nonce, auth.time, now - state.timestamp_window * 2).await {
        Ok(true) => {}
        Ok(false) => {
            return deny(&state, "replay", "The nonce has already been used: every request needs a fresh nonce")
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    parts.extensions.insert(Caller(verified.actor.clone()));
    crate::audit::record_changes(&state, &verified.actor, Request::from_parts(parts, Body::from(body)), next).await
}
