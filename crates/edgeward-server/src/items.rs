//! Rules shared by the two doors to items (the admin API and the data plane): names, value
//! size, the answers EdgeKV gives for them, and reads and writes through the node's item cache.

use axum::body::Bytes;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use edgeward_core::network::Network;
use edgeward_core::store::ItemKey;
use edgeward_core::Error;

use crate::item_cache::Lookup;
use crate::problem::ApiError;
use crate::state::AppState;

/// Read an item at `now` (cached, or from the store and then cached).
pub async fn read(state: &AppState, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<Bytes>, Error> {
    match state.item_cache.get(key, now) {
        Lookup::Hit(v) => Ok(Some(v)),
        Lookup::Miss(ticket) => {
            let Some(found) = state.store.get_item(key, now).await? else { return Ok(None) };
            let value = Bytes::from(found.value);
            state.item_cache.fill(key, ticket, value.clone(), found.expires_at);
            Ok(Some(value))
        }
    }
}

/// Insert or replace an item; the cached value is dropped whatever the outcome.
pub async fn write(state: &AppState, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<(), Error> {
    let result = state.store.put_item(key.clone(), value, now).await;
    state.item_cache.invalidate(&key);
    result
}

/// Delete an item (whether it existed); the cached value is dropped whatever the outcome.
pub async fn delete(state: &AppState, key: ItemKey, now: DateTime<Utc>) -> Result<bool, Error> {
    let result = state.store.delete_item(key.clone(), now).await;
    state.item_cache.invalidate(&key);
    result
}

/// The sandbox a request names (`sandboxId`; absent or empty: none), by one rule for both
/// doors: sandboxes exist on staging only, so production refuses any, rather than store items
/// that nobody could list or delete there.
pub fn sandbox(raw: Option<&str>, network: Network) -> Result<String, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(String::new()),
        Some(_) if network == Network::Production => {
            Err(ApiError::bad_request("sandboxId is only supported on the staging network."))
        }
        Some(s) => {
            check_segment(s, 128, "sandboxId")?;
            Ok(s.to_owned())
        }
    }
}

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
        return Err(too_large());
    }
    Ok(())
}

/// Read a value's body, refusing (413, as [`check_value`]) one that cannot be within the
/// limit before reading all of it, and then checking its characters.
/// A body that stops arriving is 408, and broken framing 400 (see [`crate::body`]).
pub async fn read_value(headers: &axum::http::HeaderMap, body: axum::body::Body) -> Result<Bytes, ApiError> {
    // A character is at most 4 bytes of UTF-8.
    let bytes = crate::body::read_bounded(headers, body, MAX_VALUE_CHARS * 4, too_large).await?;
    check_value(&bytes)?;
    Ok(bytes)
}

fn too_large() -> ApiError {
    ApiError::edgekv(
        StatusCode::PAYLOAD_TOO_LARGE,
        "EKV_9000",
        format!("Value cannot exceed {MAX_VALUE_CHARS} characters."),
    )
}

/// EdgeKV's 404 for an absent item.
pub fn not_found(group: &str, item: &str) -> ApiError {
    ApiError::edgekv(
        StatusCode::NOT_FOUND,
        "EKV_9000",
        format!("Item '{item}' or group '{group}' was not found in the database."),
    )
}
