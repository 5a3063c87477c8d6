//! Namespaces, groups and items for an [`Actor`]: the one way in for the admin API's handlers
//! (`routes::namespaces`) and the console's pages (`console::data`).
//!
//! Each function takes the request's values as sent (the network, the names, `sandboxId`,
//! `maxItems`), checks the actor's grant on the network through [`crate::permit`] before
//! anything else is read, parses the values by core's rules, and reads or writes through the
//! store (items through [`crate::items`], which keeps the item cache exact). The handlers add
//! only what is the wire's: query flags, EdgeKV's 404 for an empty listing, the confirmation
//! texts. So a person in the console may see and do exactly what the same grants allow an API
//! client, refused in the same words.

use axum::body::Bytes;

use edgeward_core::names::{GroupName, ItemName, NamespaceName};
use edgeward_core::namespace as ns_rules;
use edgeward_core::network::Network;
use edgeward_core::store::{ItemKey, Namespace};
use edgeward_core::Error;

use crate::auth::Actor;
use crate::items;
use crate::permit::{self, cap, Cap, Permit};
use crate::state::AppState;

/// The network a request names (`staging` or `production`).
pub fn network(raw: &str) -> Result<Network, Error> {
    Network::parse(raw).map_err(|_| Error::invalid("network", "The network must be staging or production."))
}

/// A network the actor was found to hold `C` on: what the operation of `C` takes. Only [`on`]
/// makes one.
#[derive(Debug, Clone, Copy)]
pub struct On<C: Cap> {
    _permit: Permit<C>,
    network: Network,
}

impl<C: Cap> On<C> {
    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }
}

/// `C` held on `network`, or the API's refusal.
pub fn on<C: Cap>(actor: &Actor, network: Network) -> Result<On<C>, Error> {
    Ok(On { _permit: permit::check(&actor.grants, network.into())?, network })
}

/// Whether the actor holds `C` on `network` (what a page offers; the operation checks again).
pub fn may<C: Cap>(actor: &Actor, network: Network) -> bool {
    on::<C>(actor, network).is_ok()
}

/// The namespaces of a network the actor may view.
pub async fn namespaces(state: &AppState, on: &On<cap::ViewNamespace>) -> Result<Vec<Namespace>, Error> {
    state.store.list_namespaces(on.network).await
}

/// One namespace (`VIEW_NAMESPACE` on its network).
pub async fn namespace(state: &AppState, actor: &Actor, network: Network, ns: &str) -> Result<Namespace, Error> {
    on::<cap::ViewNamespace>(actor, network)?;
    state.store.get_namespace(network, &NamespaceName::parse_requested(ns)?).await?.ok_or_else(ns_rules::missing)
}

/// The group names of a namespace (`READ_DATA` on its network); empty when it has none.
pub async fn groups(
    state: &AppState,
    actor: &Actor,
    network: Network,
    ns: &str,
    sandbox: Option<&str>,
) -> Result<Vec<String>, Error> {
    on::<cap::ReadData>(actor, network)?;
    let name = NamespaceName::parse_requested(ns)?;
    state.store.get_namespace(network, &name).await?.ok_or_else(ns_rules::missing)?;
    state.store.list_groups(network, &name, &items::sandbox(sandbox, network)?, 10_000).await
}

/// Most item keys one listing answers.
pub const MAX_ITEM_KEYS: usize = 10_000;

/// The item keys of a group (`READ_DATA` on its network): at most `max_items` (1 to
/// [`MAX_ITEM_KEYS`], 100 when not given); empty when the group has none.
pub async fn item_keys(
    state: &AppState,
    actor: &Actor,
    network: Network,
    (ns, group): (&str, &str),
    max_items: Option<&str>,
    sandbox: Option<&str>,
) -> Result<Vec<String>, Error> {
    on::<cap::ReadData>(actor, network)?;
    let name = NamespaceName::parse_requested(ns)?;
    let group = GroupName::parse(group)?;
    let max = match max_items {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=MAX_ITEM_KEYS).contains(m))
            .ok_or_else(|| Error::invalid("maxItems", "maxItems must be between 1 and 10000."))?,
        None => 100,
    };
    state.store.get_namespace(network, &name).await?.ok_or_else(ns_rules::missing)?;
    state.store.list_item_keys(network, &name, &items::sandbox(sandbox, network)?, group.as_str(), max).await
}

/// One item as a request names it: the path's four values and the `sandboxId` query value.
#[derive(Debug, Clone)]
pub struct ItemPath {
    /// `staging` or `production`.
    pub network: String,
    /// The namespace.
    pub namespace: String,
    /// The group.
    pub group: String,
    /// The item.
    pub item: String,
    /// `sandboxId`, if given.
    pub sandbox: Option<String>,
}

/// The item a request names, after the actor's grant for `C` on the network is checked.
fn item_key<C: Cap>(actor: &Actor, path: ItemPath) -> Result<ItemKey, Error> {
    let network = network(&path.network)?;
    on::<C>(actor, network)?;
    let namespace = NamespaceName::parse_requested(&path.namespace)?;
    let group = GroupName::parse_owned(path.group)?.into();
    let item = ItemName::parse_owned(path.item)?.into();
    Ok(ItemKey { network, namespace, sandbox: items::sandbox(path.sandbox.as_deref(), network)?, group, item })
}

/// Read one item (`READ_DATA`): its value, or EdgeKV's 404.
pub async fn read_item(state: &AppState, actor: &Actor, path: ItemPath) -> Result<Bytes, Error> {
    let key = item_key::<cap::ReadData>(actor, path)?;
    state.store.get_namespace(key.network, &key.namespace).await?.ok_or_else(ns_rules::missing)?;
    items::read(state, &key, state.clock.now()).await?.ok_or_else(|| items::not_found(&key.group, &key.item))
}

/// Write one item (`WRITE_DATA`; the value within [`items::MAX_VALUE_CHARS`]): the key written.
pub async fn write_item(state: &AppState, actor: &Actor, path: ItemPath, value: &[u8]) -> Result<ItemKey, Error> {
    let key = item_key::<cap::WriteData>(actor, path)?;
    items::check_value(value)?;
    items::write(state, key.clone(), value.to_vec(), state.clock.now()).await.map_err(|e| match e {
        Error::NotFound { .. } => ns_rules::missing(),
        other => other,
    })?;
    Ok(key)
}

/// Delete one item (`DELETE_DATA`): the key deleted, or EdgeKV's 404 when there was none.
pub async fn delete_item(state: &AppState, actor: &Actor, path: ItemPath) -> Result<ItemKey, Error> {
    let key = item_key::<cap::DeleteData>(actor, path)?;
    let absent = items::not_found(&key.group, &key.item);
    if !items::delete(state, key.clone(), state.clock.now()).await? {
        return Err(absent);
    }
    Ok(key)
}
