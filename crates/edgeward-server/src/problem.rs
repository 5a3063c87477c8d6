//! Errors as HTTP responses, in one place.
//!
//! Handlers return [`ApiError`]. Its `IntoResponse` only records *what* went wrong in the
//! response's extensions; the request middleware ([`finish_response`]) then writes the EdgeKV
//! problem+json body with the request's id and path, and sets `X-Trace-Id` on every response.
//! So no handler renders a body by hand and no internal detail can reach a client.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;

use edgeward_core::{Error, Resource};

/// The two families of error bodies EdgeKV clients know.
#[derive(Debug, Clone)]
pub enum Problem {
    /// EdgeKV application error.
    EdgeKv {
        /// HTTP status.
        status: StatusCode,
        /// `errorCode`, e.g. `EKV_3000`.
        code: &'static str,
        /// Overrides the title derived from the status (EdgeKV's 410 says "Not Found").
        title: Option<&'static str>,
        /// Overrides the `type` kind derived from the status.
        kind: Option<&'static str>,
        /// Client-facing text.
        detail: String,
    },
    /// API-gateway authentication failure (always 401).
    Gateway {
        /// Client-facing text.
        detail: &'static str,
    },
}

/// A handler error.
#[derive(Debug, Clone)]
pub struct ApiError(pub Problem);

impl ApiError {
    /// An EdgeKV error with the default title and type for the status.
    pub fn edgekv(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Problem::EdgeKv { status, code, title: None, kind: None, detail: detail.into() })
    }

    /// A 400 `EKV_2000` validation error.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::edgekv(StatusCode::BAD_REQUEST, "EKV_2000", detail)
    }

    /// A gateway 401.
    pub fn unauthorized(detail: &'static str) -> Self {
        Self(Problem::Gateway { detail })
    }

    /// The client-facing text.
    pub fn detail(&self) -> &str {
        match &self.0 {
            Problem::EdgeKv { detail, .. } => detail,
            Problem::Gateway { detail } => detail,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let token_family = |r: Resource| if matches!(r, Resource::Namespace) { "EKV_9000" } else { "EKV_3000" };
        match e {
            Error::NotFound { resource: Resource::Namespace, message } => {
                Self::edgekv(StatusCode::BAD_REQUEST, "EKV_9000", message)
            }
            Error::NotFound { resource: Resource::AccessGroup, message } => {
                Self::edgekv(StatusCode::FORBIDDEN, "EKV_1000", message)
            }
            Error::NotFound { resource, message } => {
                Self::edgekv(StatusCode::NOT_FOUND, token_family(resource), message)
            }
            Error::Gone { resource, message } => Self(Problem::EdgeKv {
                status: StatusCode::GONE,
                code: token_family(resource),
                title: Some("Not Found"),
                kind: Some("edgekv-not-found"),
                detail: message,
            }),
            Error::AlreadyExists { message, .. } => Self::edgekv(StatusCode::CONFLICT, "EKV_3000", message),
            Error::Invalid { message, .. } => Self::bad_request(message),
            Error::Refused { message, .. } => Self::edgekv(StatusCode::BAD_REQUEST, "EKV_3000", message),
            e @ Error::Forbidden(_) => Self::edgekv(StatusCode::BAD_REQUEST, "EKV_1002", e.to_string()),
            Error::LimitExceeded(m) => Self(Problem::EdgeKv {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "EKV_9000",
                title: None,
                kind: None,
                detail: m,
            }),
            Error::Unavailable(log) => {
                tracing::warn!(detail = %log, "dependency unavailable");
                Self(Problem::EdgeKv {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "EKV_0000",
                    title: Some("Service Unavailable Error"),
                    kind: Some("edgekv-internal-server-error"),
                    detail: "The service is temporarily unavailable. Try again shortly.".into(),
                })
            }
            Error::Internal(log) => {
                tracing::error!(detail = %log, "internal error");
                Self::edgekv(StatusCode::INTERNAL_SERVER_ERROR, "EKV_0000", "An internal error occurred.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status = match &self.0 {
            Problem::EdgeKv { status, .. } => *status,
            Problem::Gateway { .. } => StatusCode::UNAUTHORIZED,
        };
        let mut r = status.into_response();
        r.extensions_mut().insert(self.0);
        r
    }
}

fn kind_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "edgekv-bad-request",
        401 => "edgekv-unauthorized",
        403 => "edgekv-forbidden",
        404 | 410 => "edgekv-not-found",
        405 => "edgekv-method-not-allowed",
        409 => "edgekv-conflict",
        413 => "edgekv-payload-too-large",
        422 => "edgekv-unprocessable-entity",
        429 => "edgekv-too-many-requests",
        _ => "edgekv-internal-server-error",
    }
}

/// What the middleware knows about the request when it renders a problem.
pub struct RequestFacts<'a> {
    /// The 16-hex-digit request id (also `X-Trace-Id`).
    pub request_id: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// `Host` as received.
    pub host: &'a str,
    /// Path and query as received.
    pub target: &'a str,
    /// When the request arrived (from the server's clock).
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Render the problem body (if the handler produced one) and set `X-Trace-Id`.
pub fn finish_response(mut resp: Response<Body>, facts: &RequestFacts<'_>) -> Response<Body> {
    if let Some(problem) = resp.extensions_mut().remove::<Problem>() {
        let status = resp.status();
        let body = match problem {
            Problem::EdgeKv { code, title, kind, detail, .. } => json!({
                "type": format!("/edgekv/error-types/{}", kind.unwrap_or_else(|| kind_for(status))),
                "title": title.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error")),
                "status": status.as_u16(),
                "detail": detail,
                "errorCode": code,
                "instance": format!("/edgekv/error-instances/{}", uuid::Uuid::new_v4()),
                "additionalDetail": { "requestId": facts.request_id },
            }),
            Problem::Gateway { detail } => json!({
                "type": "https://problems.luna.akamaiapis.net/-/pep-authn/deny",
                "title": "Not authorized",
                "status": 401,
                "detail": detail,
                "instance": format!("https://{}{}", facts.host, facts.target),
                "method": facts.method,
                "requestId": facts.request_id,
                "requestTime": facts.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }),
        };
        let (mut parts, _) = resp.into_parts();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        parts.headers.remove(header::CONTENT_LENGTH);
        resp = Response::from_parts(parts, Body::from(body.to_string()));
    } else if resp.status() == StatusCode::METHOD_NOT_ALLOWED && !resp.headers().contains_key(header::CONTENT_TYPE) {
        // axum's own 405 for a known path with another method.
        let (parts, _) = resp.into_parts();
        let again =
            ApiError::edgekv(StatusCode::METHOD_NOT_ALLOWED, "EKV_2000", "The method is not allowed on this resource.")
                .into_response();
        let mut r = finish_response(again, facts);
        for (k, v) in parts.headers.iter() {
            if k == header::ALLOW {
                r.headers_mut().insert(k, v.clone());
            }
        }
        return r;
    }
    if let Ok(v) = HeaderValue::from_str(facts.request_id) {
        resp.headers_mut().insert("x-trace-id", v);
    }
    resp
}
