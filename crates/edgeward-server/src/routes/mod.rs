//! HTTP handlers, grouped by resource.

pub mod access;
pub mod audit;
pub mod initialize;
pub mod namespaces;
pub mod notifications;
pub mod ops;
pub mod people;
pub mod tokens;

use axum::body::Bytes;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::problem::ApiError;

/// Parse a JSON body with EdgeKV's error codes: syntax errors and repeated attributes are
/// 422 `EKV_2001`; wrong types, missing or unknown fields are 400 `EKV_2000` naming the field.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        if matches!(e.classify(), Category::Syntax | Category::Eof) || msg.starts_with("duplicate field") {
            ApiError::edgekv(
                StatusCode::UNPROCESSABLE_ENTITY,
                "EKV_2001",
                "The JSON request body contained a syntax error or duplicate attributes.",
            )
        } else {
            let short: String = msg.chars().take(300).collect();
            ApiError::bad_request(format!("Invalid request body: {short}"))
        }
    })
}

/// Whether a body carries nothing: empty, whitespace, or the `""` that the Akamai CLI sends.
pub fn is_blank(body: &Bytes) -> bool {
    let t = body.trim_ascii();
    t.is_empty() || t == b"\"\"" || t == b"{}"
}
