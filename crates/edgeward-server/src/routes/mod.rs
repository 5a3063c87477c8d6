//! HTTP handlers, grouped by resource.

pub mod access;
pub mod audit;
pub mod initialize;
pub mod namespaces;
pub mod notifications;
pub mod ops;
pub mod people;
pub mod roles;
pub mod status;
pub mod tokens;

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use edgeward_core::Error;

use crate::problem::{ApiError, ServerError};

/// Parse a JSON body: syntax errors and repeated attributes are [`ServerError::JsonSyntax`];
/// wrong types, missing or unknown fields are `Invalid`, naming the field.
///
/// Every request body is a JSON object: anything else (an array, `null`, a string) is
/// `Invalid`, and never read as a struct's fields in order (serde would take `[null]` for an
/// object).
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let first = body.trim_ascii_start().first();
    if first.is_some_and(|b| *b != b'{') {
        // Not an object: but a syntax error stays a syntax error.
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
            return Err(Error::invalid("body", "The request body must be a JSON object.").into());
        }
    }
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        if matches!(e.classify(), Category::Syntax | Category::Eof) || msg.starts_with("duplicate field") {
            ServerError::JsonSyntax.into()
        } else {
            let short: String = msg.chars().take(300).collect();
            Error::invalid("body", format!("Invalid request body: {short}")).into()
        }
    })
}

/// Whether a body carries nothing: empty, whitespace, or the `""` that the Akamai CLI sends.
pub fn is_blank(body: &Bytes) -> bool {
    let t = body.trim_ascii();
    t.is_empty() || t == b"\"\"" || t == b"{}"
}

/// The query parameters of a request, each at most once: a repeated parameter is refused
/// (`Invalid`), so that no proxy or client library decides which copy counts. Unknown parameters are
/// kept and ignored by the handlers (the Akamai CLI adds `accountSwitchKey`).
#[derive(Debug, Default, Clone)]
pub struct QueryParams(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self::from_uri(&parts.uri)?)
    }
}

impl QueryParams {
    /// The parameters of `uri`'s query (none without one).
    pub fn from_uri(uri: &axum::http::Uri) -> Result<Self, Error> {
        let mut map = std::collections::HashMap::new();
        for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                let k: String = k.chars().take(64).collect();
                return Err(Error::invalid("query", format!("The query parameter {k} is repeated; give it once.")));
            }
        }
        Ok(Self(map))
    }

    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    /// A boolean parameter: absent is `false`; `true` or `false` (any case); anything else is
    /// `Invalid`.
    pub fn flag(&self, key: &'static str) -> Result<bool, Error> {
        self.flag_with(key, &[])
    }

    /// [`QueryParams::flag`] that also takes `on` and `off` (the namespace list's `details`,
    /// which Akamai's Go client sends as `on`).
    pub fn flag_or_on_off(&self, key: &'static str) -> Result<bool, Error> {
        self.flag_with(key, &[("on", true), ("off", false)])
    }

    fn flag_with(&self, key: &'static str, more: &[(&str, bool)]) -> Result<bool, Error> {
        let Some(v) = self.0.get(key) else { return Ok(false) };
        if v.eq_ignore_ascii_case("true") {
            return Ok(true);
        }
        if v.eq_ignore_ascii_case("false") {
            return Ok(false);
        }
        if let Some((_, b)) = more.iter().find(|(w, _)| v.eq_ignore_ascii_case(w)) {
            return Ok(*b);
        }
        let words = if more.is_empty() { "true or false" } else { "true, false, on or off" };
        Err(Error::invalid(key, format!("{key} must be {words}.")))
    }
}

/// A JSON request body: refused ([`ServerError::NotJson`], 415) when the request says it is
/// something else (a form, multipart, XML…). No `Content-Type`, `application/json` (with any parameters, such as
/// `charset`) and `application/*+json` are accepted, as real clients send them.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let essence = ct.to_str().ok().and_then(|v| v.split(';').next()).map(|e| e.trim().to_ascii_lowercase());
            let json = essence
                .as_deref()
                .is_some_and(|e| e == "application/json" || (e.starts_with("application/") && e.ends_with("+json")));
            if !json {
                return Err(ServerError::NotJson.into());
            }
        }
        let body = Bytes::from_request(req, state).await.map_err(|_| ServerError::BodyMalformed)?;
        Ok(Self(body))
    }
}
