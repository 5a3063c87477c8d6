//! Errors as HTTP responses, in one place.
//!
//! Handlers return [`ApiError`]: a domain [`Error`] (what went wrong, from `edgeward-core`), or
//! a [`ServerError`] (a failure only the HTTP server knows: EdgeGrid authentication, request
//! bodies, data-plane tokens, unknown paths). [`ApiError::problem`] is the one table from each
//! of them to a status, an EdgeKV `errorCode` and a `type`; no handler names a status or a code.
//! `IntoResponse` only records the resulting [`Problem`] in the response's extensions; the
//! request middleware ([`finish_response`]) then writes the EdgeKV problem+json body with the
//! request's id and path, and sets `X-Trace-Id` on every response. So no handler renders a body
//! by hand and no internal detail can reach a client.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;

use edgeward_core::names::field;
use edgeward_core::{Error, Resource};

use crate::dataplane::Denial;

/// EdgeKV's `errorCode`s, each written once.
mod code {
    /// Internal error, or the service is unavailable.
    pub const INTERNAL: &str = "EKV_0000";
    /// Access denied: an access group, or a data-plane token used outside its scope.
    pub const FORBIDDEN: &str = "EKV_1000";
    /// Not authenticated: a data-plane token, or the `/metrics` bearer token.
    pub const UNAUTHORIZED: &str = "EKV_1001";
    /// The API client lacks a capability grant (or the thing does not exist).
    pub const MISSING_GRANT: &str = "EKV_1002";
    /// The request breaks a rule.
    pub const VALIDATION: &str = "EKV_2000";
    /// The JSON body does not parse.
    pub const JSON_SYNTAX: &str = "EKV_2001";
    /// Tokens, and the state of what the admin API manages.
    pub const MANAGEMENT: &str = "EKV_3000";
    /// Namespaces and items.
    pub const DATA: &str = "EKV_9000";
}

/// The two families of error bodies EdgeKV clients know: what [`ApiError::problem`] decides.
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
        detail: String,
    },
}

impl Problem {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Problem::EdgeKv { status, .. } => *status,
            Problem::Gateway { .. } => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A failure only the HTTP server knows. `Display` is the client-facing text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServerError {
    /// EdgeGrid authentication failed (the API gateway's 401 body).
    #[error("{0}")]
    EdgeGrid(&'static str),
    /// A request body over the limit for it (the text says which limit).
    #[error("{0}")]
    BodyTooLarge(String),
    /// The request body stopped arriving.
    #[error("The request body did not arrive in time; send it without pauses.")]
    BodyTimedOut,
    /// The request body's framing is broken, or it ended early.
    #[error("The request body is malformed or incomplete (check Content-Length and chunked framing).")]
    BodyMalformed,
    /// A JSON endpoint's body sent as another media type.
    #[error("The request body must be JSON (Content-Type: application/json).")]
    NotJson,
    /// A JSON body with a syntax error or a repeated attribute.
    #[error("The JSON request body contained a syntax error or duplicate attributes.")]
    JsonSyntax,
    /// The data plane refused the request's token.
    #[error("{0}")]
    Token(Denial),
    /// `/metrics` without the configured bearer token.
    #[error("/metrics needs Authorization: Bearer with the configured token.")]
    MetricsBearer,
    /// No route has this path.
    #[error("The requested resource does not exist.")]
    UnknownPath,
    /// The data plane's item path with a method other than GET, PUT or DELETE.
    #[error("Use GET, PUT or DELETE.")]
    ItemMethod,
    /// A refusal made before any handler ran (axum's 405 for a known path with another method,
    /// an extractor's rejection), with axum's status; the text is ours, not axum's.
    #[error("{}", rejected_detail(*.0))]
    Rejected(StatusCode),
    /// A path segment that is not UTF-8 once percent-decoded (refused as the router's path
    /// extractor refuses it: [`ServerError::Rejected`] with 400).
    #[error("{}", rejected_detail(StatusCode::BAD_REQUEST))]
    PathNotUtf8,
}

fn rejected_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "The method is not allowed on this resource.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request body's Content-Type is not supported.",
        _ => "The request is malformed: check its path, query parameters and body.",
    }
}

/// A handler error: a domain error or a server failure, rendered by [`ApiError::problem`].
#[derive(Debug, Clone)]
pub enum ApiError {
    /// What went wrong, in the domain's terms.
    Domain(Error),
    /// A failure only the server knows.
    Server(ServerError),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self::Domain(e)
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> Self {
        Self::Server(e)
    }
}

impl From<Denial> for ApiError {
    fn from(d: Denial) -> Self {
        Self::Server(ServerError::Token(d))
    }
}

/// The `errorCode` family of a resource: namespaces and items are EdgeKV's data family.
fn family(resource: Resource) -> &'static str {
    match resource {
        Resource::Namespace | Resource::Item | Resource::ScheduledDeletion => code::DATA,
        Resource::Token
        | Resource::ApiClient
        | Resource::Account
        | Resource::AccessGroup
        | Resource::Person
        | Resource::Role => code::MANAGEMENT,
    }
}

impl ApiError {
    /// **The one table**: the status, EdgeKV `errorCode` and `type` of every failure. The
    /// `detail` is the failure's own client-facing text (its `Display`), except for
    /// `Unavailable` and `Internal`, whose details go to the log only.
    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        let row = |status: StatusCode, code: &'static str| Problem::EdgeKv {
            status,
            code,
            title: None,
            kind: None,
            detail: match self {
                ApiError::Domain(e) => e.to_string(),
                ApiError::Server(e) => e.to_string(),
            },
        };
        match self {
            ApiError::Domain(e) => match e {
                // EdgeKV answers a malformed namespace, group, item or sandbox name in its data
                // family, not as a validation error.
                Error::Invalid { field: field::NAMESPACE | field::GROUP | field::ITEM | field::SANDBOX, .. } => {
                    row(S::BAD_REQUEST, code::DATA)
                }
                Error::Invalid { .. } => row(S::BAD_REQUEST, code::VALIDATION),
                Error::NotFound { resource: Resource::Namespace, .. } => row(S::BAD_REQUEST, code::DATA),
                Error::NotFound { resource: Resource::AccessGroup, .. } => row(S::FORBIDDEN, code::FORBIDDEN),
                Error::NotFound { resource, .. } => row(S::NOT_FOUND, family(*resource)),
                Error::Gone { resource, message } => Problem::EdgeKv {
                    status: S::GONE,
                    code: family(*resource),
                    title: Some("Not Found"),
                    kind: Some("edgekv-not-found"),
                    detail: message.clone(),
                },
                Error::AlreadyExists { .. } | Error::InUse { .. } | Error::Busy(_) => {
                    row(S::CONFLICT, code::MANAGEMENT)
                }
                Error::Refused { .. } => row(S::BAD_REQUEST, code::MANAGEMENT),
                Error::Forbidden(_) => row(S::BAD_REQUEST, code::MISSING_GRANT),
                Error::LimitExceeded(_) => row(S::PAYLOAD_TOO_LARGE, code::DATA),
                Error::Unavailable(_) => Problem::EdgeKv {
                    status: S::SERVICE_UNAVAILABLE,
                    code: code::INTERNAL,
                    title: Some("Service Unavailable Error"),
                    kind: Some("edgekv-internal-server-error"),
                    detail: "The service is temporarily unavailable. Try again shortly.".into(),
                },
                Error::Internal(_) => row(S::INTERNAL_SERVER_ERROR, code::INTERNAL),
            },
            ApiError::Server(e) => match e {
                ServerError::EdgeGrid(detail) => Problem::Gateway { detail: (*detail).to_owned() },
                ServerError::BodyTooLarge(_) => row(S::PAYLOAD_TOO_LARGE, code::VALIDATION),
                ServerError::BodyTimedOut => row(S::REQUEST_TIMEOUT, code::VALIDATION),
                ServerError::BodyMalformed => row(S::BAD_REQUEST, code::VALIDATION),
                ServerError::NotJson => row(S::UNSUPPORTED_MEDIA_TYPE, code::VALIDATION),
                ServerError::JsonSyntax => row(S::UNPROCESSABLE_ENTITY, code::JSON_SYNTAX),
                ServerError::Token(Denial::Unauthorized(..)) | ServerError::MetricsBearer => {
                    row(S::UNAUTHORIZED, code::UNAUTHORIZED)
                }
                ServerError::Token(Denial::Forbidden(..)) => row(S::FORBIDDEN, code::FORBIDDEN),
                ServerError::UnknownPath => row(S::NOT_FOUND, code::DATA),
                ServerError::ItemMethod => row(S::METHOD_NOT_ALLOWED, code::DATA),
                ServerError::Rejected(status) => row(*status, code::VALIDATION),
                ServerError::PathNotUtf8 => row(S::BAD_REQUEST, code::VALIDATION),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        match &self {
            ApiError::Domain(Error::Unavailable(log)) => tracing::warn!(detail = %log, "dependency unavailable"),
            ApiError::Domain(Error::Internal(log)) => tracing::error!(detail = %log, "internal error"),
            _ => {}
        }
        let problem = self.problem();
        let mut r = problem.status().into_response();
        r.extensions_mut().insert(problem);
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
        408 => "edgekv-request-timeout",
        413 => "edgekv-payload-too-large",
        415 => "edgekv-unsupported-media-type",
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
    /// The server's clock, read only for a problem that states its time.
    pub clock: &'a dyn edgeward_core::clock::Clock,
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
                "requestTime": facts.clock.now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }),
        };
        let (mut parts, _) = resp.into_parts();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        parts.headers.remove(header::CONTENT_LENGTH);
        resp = Response::from_parts(parts, Body::from(body.to_string()));
    } else if resp.status().is_client_error()
        && resp.headers().get(header::CONTENT_TYPE).is_none_or(|ct| ct.as_bytes().starts_with(b"text/plain"))
    {
        // A refusal made before any handler ran: axum's own 405 for a known path with another
        // method, or an extractor's rejection (a path segment that is not UTF-8…), both plain
        // text. Their text is axum's, not ours: the client gets a problem with a detail of our
        // own. (A 4xx with a JSON body, like the uninitialized `GET /initialize`, is meant.)
        let status = resp.status();
        let (parts, _) = resp.into_parts();
        let again = ApiError::from(ServerError::Rejected(status)).into_response();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::Refusal;
    use edgeward_core::capability::Capability;

    fn wire(e: impl Into<ApiError>) -> (u16, &'static str, String) {
        match e.into().problem() {
            Problem::EdgeKv { status, code, detail, .. } => (status.as_u16(), code, detail),
            Problem::Gateway { detail } => (401, "gateway", detail),
        }
    }

    #[test]
    fn the_table_gives_each_failure_its_status_and_code() {
        let not_found = |resource| Error::NotFound { resource, message: "m".into() };
        let rows: Vec<(ApiError, u16, &str)> = vec![
            (Error::invalid("name", "m").into(), 400, "EKV_2000"),
            (Error::invalid("namespace", "m").into(), 400, "EKV_2000"),
            (Error::invalid(field::NAMESPACE, "m").into(), 400, "EKV_9000"),
            (Error::invalid(field::GROUP, "m").into(), 400, "EKV_9000"),
            (Error::invalid(field::ITEM, "m").into(), 400, "EKV_9000"),
            (Error::invalid(field::SANDBOX, "m").into(), 400, "EKV_9000"),
            (not_found(Resource::Namespace).into(), 400, "EKV_9000"),
            (not_found(Resource::AccessGroup).into(), 403, "EKV_1000"),
            (not_found(Resource::Item).into(), 404, "EKV_9000"),
            (not_found(Resource::ScheduledDeletion).into(), 404, "EKV_9000"),
            (not_found(Resource::Token).into(), 404, "EKV_3000"),
            (not_found(Resource::Person).into(), 404, "EKV_3000"),
            (not_found(Resource::Role).into(), 404, "EKV_3000"),
            (Error::InUse { resource: Resource::Role, message: "m".into() }.into(), 409, "EKV_3000"),
            (Error::Refused { resource: Resource::Role, message: "m".into() }.into(), 400, "EKV_3000"),
            (Error::Gone { resource: Resource::Token, message: "m".into() }.into(), 410, "EKV_3000"),
            (Error::AlreadyExists { resource: Resource::Namespace, message: "m".into() }.into(), 409, "EKV_3000"),
            (Error::Busy("m".into()).into(), 409, "EKV_3000"),
            (Error::Refused { resource: Resource::Token, message: "m".into() }.into(), 400, "EKV_3000"),
            (Error::Forbidden(Capability::ViewToken).into(), 400, "EKV_1002"),
            (Error::LimitExceeded("m".into()).into(), 413, "EKV_9000"),
            (Error::Unavailable("log".into()).into(), 503, "EKV_0000"),
            (Error::Internal("log".into()).into(), 500, "EKV_0000"),
            (ServerError::EdgeGrid("m").into(), 401, "gateway"),
            (ServerError::BodyTooLarge("m".into()).into(), 413, "EKV_2000"),
            (ServerError::BodyTimedOut.into(), 408, "EKV_2000"),
            (ServerError::BodyMalformed.into(), 400, "EKV_2000"),
            (ServerError::NotJson.into(), 415, "EKV_2000"),
            (ServerError::JsonSyntax.into(), 422, "EKV_2001"),
            (Denial::Unauthorized(Refusal::Invalid, "m").into(), 401, "EKV_1001"),
            (Denial::Forbidden(Refusal::WrongNamespace, "m".into()).into(), 403, "EKV_1000"),
            (ServerError::MetricsBearer.into(), 401, "EKV_1001"),
            (ServerError::UnknownPath.into(), 404, "EKV_9000"),
            (ServerError::ItemMethod.into(), 405, "EKV_9000"),
            (ServerError::Rejected(StatusCode::METHOD_NOT_ALLOWED).into(), 405, "EKV_2000"),
            (ServerError::Rejected(StatusCode::BAD_REQUEST).into(), 400, "EKV_2000"),
            (ServerError::PathNotUtf8.into(), 400, "EKV_2000"),
        ];
        for (e, status, code) in rows {
            let shown = format!("{e:?}");
            let (s, c, _) = wire(e);
            assert_eq!((s, c), (status, code), "{shown}");
        }
    }

    #[test]
    fn the_detail_is_the_failures_own_text_and_never_a_log_detail() {
        assert_eq!(
            wire(Error::Forbidden(Capability::DeleteStagingNamespace)).2,
            "That resource does not exist or you are missing the 'DELETE_STAGING_NAMESPACE' permission for it."
        );
        assert_eq!(
            wire(Error::invalid("name", "Name contains invalid characters.")).2,
            "Name contains invalid characters."
        );
        assert_eq!(
            wire(Error::Unavailable("pg at 10.0.0.1: secret".into())).2,
            "The service is temporarily unavailable. Try again shortly."
        );
        assert_eq!(wire(Error::Internal("disk: secret".into())).2, "An internal error occurred.");
        assert_eq!(
            wire(ServerError::Rejected(StatusCode::UNSUPPORTED_MEDIA_TYPE)).2,
            "The request body's Content-Type is not supported."
        );
        assert_eq!(
            wire(Denial::Unauthorized(Refusal::Expired, "The access token has expired.")).2,
            "The access token has expired."
        );
        match ApiError::from(Error::Gone { resource: Resource::Token, message: "Token has expired.".into() }).problem()
        {
            Problem::EdgeKv { title, kind, detail, .. } => {
                assert_eq!(
                    (title, kind, detail.as_str()),
                    (Some("Not Found"), Some("edgekv-not-found"), "Token has expired.")
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
