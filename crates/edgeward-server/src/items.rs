//! Rules shared by the two doors to items (the admin API and the data plane): the sandbox,
//! value size, an absent item, and reads and writes through the node's item cache. (Namespace,
//! group and item names are `edgeward_core::names` types.)

use axum::body::Bytes;
use chrono::{DateTime, Utc};

use edgeward_core::names::SandboxId;
use edgeward_core::network::Network;
use edgeward_core::store::ItemKey;
use edgeward_core::{Error, Resource};

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

/// The sandbox a request names (`sandboxId`; absent or empty: `""`, none), by one rule for both
/// doors ([`SandboxId::for_network`]: staging only).
pub fn sandbox(raw: Option<&str>, network: Network) -> Result<String, Error> {
    Ok(SandboxId::for_network(raw, network)?.map(String::from).unwrap_or_default())
}

/// Largest value, in characters (bytes when the value is not UTF-8).
pub const MAX_VALUE_CHARS: usize = 262_144;

/// Refuse values over [`MAX_VALUE_CHARS`] (a limit: EdgeKV's 413).
pub fn check_value(body: &[u8]) -> Result<(), Error> {
    let chars = std::str::from_utf8(body).map_or(body.len(), |s| s.chars().count());
    if chars > MAX_VALUE_CHARS {
        return Err(too_large());
    }
    Ok(())
}

/// Read a value's body, refusing (as [`check_value`]) one that cannot be within the limit
/// before reading all of it, and then checking its characters.
/// A body that stops arriving is 408, and broken framing 400 (see [`crate::body`]).
pub async fn read_value(headers: &axum::http::HeaderMap, body: axum::body::Body) -> Result<Bytes, ApiError> {
    // A character is at most 4 bytes of UTF-8.
    let bytes = crate::body::read_bounded(headers, body, MAX_VALUE_CHARS * 4, || too_large().into()).await?;
    check_value(&bytes)?;
    Ok(bytes)
}

fn too_large() -> Error {
    Error::LimitExceeded(format!("Value cannot exceed {MAX_VALUE_CHARS} characters."))
}

/// An absent item (EdgeKV's 404).
pub fn not_found(group: &str, item: &str) -> Error {
    Error::NotFound {
        resource: Resource::Item,
        message: format!("Item '{item}' or group '{group}' was not found in the database."),
    }
}
