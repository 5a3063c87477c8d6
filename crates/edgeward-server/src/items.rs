//! Rules shared by the two doors to items (the admin API and the data plane): names, value
//! size, and the answers EdgeKV gives for them.

use axum::http::StatusCode;

use crate::problem::ApiError;

/// Largest value, in characters (bytes when the value is not UTF-8).
pub const MAX_VALUE_CHARS: usize = 262_144;

/// A namespace (32), group (128), item (512) or sandbox (128) name: `[A-Za-z0-9_-]`.
pub fn check_segment(s: &str, max: usize, what: &str) -> Result<(), ApiError> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ApiError::edgekv(
            StatusCode::BAD_REQUEST,
            "EKV_9000",
            format!("{what} must only use a string that matches A-Z a-z 0-9 _ or -."),
        ));
    }
    Ok(())
}

/// A namespace name from a path, with EdgeKV's 400 when it is not one.
pub fn namespace(s: &str) -> Result<edgeward_core::names::NamespaceName, ApiError> {
    edgeward_core::names::NamespaceName::parse(s).map_err(|_| {
        ApiError::edgekv(
            StatusCode::BAD_REQUEST,
            "EKV_9000",
            "Namespace must only use a string that matches A-Z a-z 0-9 _ or -.",
        )
    })
}

/// Refuse values over [`MAX_VALUE_CHARS`] with EdgeKV's 413.
pub fn check_value(body: &[u8]) -> Result<(), ApiError> {
    let chars = std::str::from_utf8(body).map_or(body.len(), |s| s.chars().count());
    if chars > MAX_VALUE_CHARS {
        return Err(ApiError::edgekv(
            StatusCode::PAYLOAD_TOO_LARGE,
            "EKV_9000",
            format!("Value cannot exceed {MAX_VALUE_CHARS} characters."),
        ));
    }
    Ok(())
}

/// EdgeKV's 404 for an absent item.
pub fn not_found(group: &str, item: &str) -> ApiError {
    ApiError::edgekv(
        StatusCode::NOT_FOUND,
        "EKV_9000",
        format!("Item '{item}' or group '{group}' was not found in the database."),
    )
}
