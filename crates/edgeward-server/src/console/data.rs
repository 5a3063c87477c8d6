//! The namespaces-and-items pages: the namespaces of each network the person may view, a
//! namespace's groups, a group's item keys, and an item's value with the forms that edit and
//! delete it.
//!
//! Every read and change is a [`crate::data_service`] call with the person's [`Actor`], the same
//! call the admin API's handlers make, so the grants it checks and the words it refuses with
//! are the API's; a page only chooses which controls to show, by the same permit check
//! ([`data_service::may`]). Changes are audited like the API's ([`crate::audit::console`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use edgeward_core::audit::actions;
use edgeward_core::network::Network;
use edgeward_core::Error;

use super::pages::{error_page, refused_form, render, Chrome};
use super::session::Person;
use crate::data_service::{self, ItemPath};
use crate::permit::cap;
use crate::state::AppState;

/// A path segment, percent-encoded (names are `[A-Za-z0-9_-]` today; this keeps a link right
/// whatever a name holds).
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The console's path of a namespace.
fn ns_href(network: Network, ns: &str) -> String {
    format!("/namespaces/{}/{}", network.as_str(), seg(ns))
}

/// How long a namespace keeps its items, in words.
fn retention(seconds: u64) -> String {
    const DAY: u64 = 86_400;
    match seconds {
        0 => "indefinitely".into(),
        s if s % DAY == 0 => format!("{} days ({s} s)", s / DAY),
        s => format!("{s} s"),
    }
}

/// One row of a network's namespace table.
struct NamespaceRow {
    name: String,
    href: String,
    retention: String,
    group_id: u64,
    geo_location: String,
    delete_at: Option<String>,
}

/// One network's table (only the networks the person may view have one).
struct NetworkTable {
    network: &'static str,
    rows: Vec<NamespaceRow>,
}

#[derive(Template)]
#[template(path = "console/namespaces.html")]
struct NamespacesPage {
    chrome: Chrome,
    networks: Vec<NetworkTable>,
}

/// `GET /namespaces`: a table per network the person may view.
pub async fn namespaces(State(state): State<AppState>, person: Person) -> Response {
    let result = async {
        let mut networks = Vec::new();
        let mut refusal = None;
        for network in [Network::Production, Network::Staging] {
            let on = match data_service::on::<cap::ViewNamespace>(&person.caller.0, network) {
                Ok(on) => on,
                Err(e) => {
                    refusal.get_or_insert(e);
                    continue;
                }
            };
            let rows = data_service::namespaces(&state, &on)
                .await?
                .into_iter()
                .map(|n| NamespaceRow {
                    href: ns_href(network, n.name.as_str()),
                    name: n.name.to_string(),
                    retention: retention(n.retention_seconds),
                    group_id: n.group_id.get(),
                    geo_location: n.geo_location,
                    delete_at: n.delete_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                })
                .collect();
            networks.push(NetworkTable { network: network.as_str(), rows });
        }
        // Neither network: the API's refusal (of production, the plain capability).
        if let (true, Some(e)) = (networks.is_empty(), refusal) {
            return Err(e);
        }
        Ok(NamespacesPage { chrome: Chrome::of(&state, &person, "namespaces").await?, networks })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "console/namespace.html")]
struct NamespacePage {
    chrome: Chrome,
    network: &'static str,
    name: String,
    retention: String,
    group_id: u64,
    geo_location: String,
    delete_at: Option<String>,
    /// The groups, when the person may read the namespace's data.
    groups: Option<Vec<(String, String)>>,
}

/// `GET /namespaces/{network}/{ns}`: the namespace and its groups.
pub async fn namespace(
    State(state): State<AppState>,
    person: Person,
    Path((network, ns)): Path<(String, String)>,
) -> Response {
    let result = async {
        let actor = &person.caller.0;
        let network = data_service::network(&network)?;
        let n = data_service::namespace(&state, actor, network, &ns).await?;
        let groups = if data_service::may::<cap::ReadData>(actor, network) {
            let groups = data_service::groups(&state, actor, network, &ns, None).await?;
            let base = ns_href(network, n.name.as_str());
            Some(groups.into_iter().map(|g| (format!("{base}/groups/{}", seg(&g)), g)).collect())
        } else {
            None
        };
        Ok::<_, Error>(NamespacePage {
            chrome: Chrome::of(&state, &person, "namespaces").await?,
            network: network.as_str(),
            name: n.name.to_string(),
            retention: retention(n.retention_seconds),
            group_id: n.group_id.get(),
            geo_location: n.geo_location,
            delete_at: n.delete_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            groups,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

/// Most item keys a group's page lists.
const ITEMS_SHOWN: usize = 1_000;

#[derive(Template)]
#[template(path = "console/group.html")]
struct GroupPage {
    chrome: Chrome,
    network: &'static str,
    namespace: String,
    ns_href: String,
    group: String,
    /// (link, key).
    items: Vec<(String, String)>,
    /// More keys than are shown.
    more: bool,
}

/// `GET /namespaces/{network}/{ns}/groups/{group}`: the group's item keys.
pub async fn group(
    State(state): State<AppState>,
    person: Person,
    Path((network, ns, group)): Path<(String, String, String)>,
) -> Response {
    let result = async {
        let network = data_service::network(&network)?;
        let max = ITEMS_SHOWN.to_string();
        let keys = data_service::item_keys(&state, &person.caller.0, network, (&ns, &group), Some(&max), None).await?;
        let base = format!("{}/groups/{}", ns_href(network, &ns), seg(&group));
        Ok::<_, Error>(GroupPage {
            chrome: Chrome::of(&state, &person, "namespaces").await?,
            network: network.as_str(),
            ns_href: ns_href(network, &ns),
            namespace: ns,
            group,
            more: keys.len() == ITEMS_SHOWN,
            items: keys.into_iter().map(|k| (format!("{base}/items/{}", seg(&k)), k)).collect(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "console/item.html")]
struct ItemPage {
    chrome: Chrome,
    network: &'static str,
    namespace: String,
    ns_href: String,
    group: String,
    group_href: String,
    item: String,
    href: String,
    /// The value as text (not UTF-8: shown with replacement characters, and not editable).
    value: String,
    text: bool,
    bytes: usize,
    can_write: bool,
    can_delete: bool,
}

fn item_path(network: String, namespace: String, group: String, item: String) -> ItemPath {
    ItemPath { network, namespace, group, item, sandbox: None }
}

/// `GET /namespaces/{network}/{ns}/groups/{group}/items/{item}`: the value and its forms.
pub async fn item(
    State(state): State<AppState>,
    person: Person,
    Path((network, ns, group, item)): Path<(String, String, String, String)>,
) -> Response {
    let result = async {
        let actor = &person.caller.0;
        let value =
            data_service::read_item(&state, actor, item_path(network.clone(), ns.clone(), group.clone(), item.clone()))
                .await?;
        let network = data_service::network(&network)?;
        let text = std::str::from_utf8(&value).is_ok();
        let ns_href = ns_href(network, &ns);
        let group_href = format!("{ns_href}/groups/{}", seg(&group));
        Ok::<_, Error>(ItemPage {
            chrome: Chrome::of(&state, &person, "namespaces").await?,
            network: network.as_str(),
            href: format!("{group_href}/items/{}", seg(&item)),
            ns_href,
            group_href,
            namespace: ns,
            group,
            item,
            value: String::from_utf8_lossy(&value).into_owned(),
            text,
            bytes: value.len(),
            can_write: text && data_service::may::<cap::WriteData>(actor, network),
            can_delete: data_service::may::<cap::DeleteData>(actor, network),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    value: String,
}

/// `POST /namespaces/{network}/{ns}/groups/{group}/items/{item}`: write the value (the API's
/// `PUT`, with its grant and checks), then back to the item.
///
/// Browsers send a textarea's line breaks as CRLF whatever the text held; they are stored as LF.
pub async fn edit_item(
    State(state): State<AppState>,
    person: Person,
    Path((network, ns, group, item)): Path<(String, String, String, String)>,
    Form(form): Form<EditForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let value = form.value.replace("\r\n", "\n");
    let target = [network.as_str(), ns.as_str(), group.as_str(), item.as_str()];
    let path = item_path(network.clone(), ns.clone(), group.clone(), item.clone());
    let written = person
        .audited(
            &state,
            actions::ITEM_WRITE,
            ("item", &target),
            data_service::write_item(&state, &person.caller.0, path, value.as_bytes()),
        )
        .await;
    match written {
        Ok(key) => {
            tracing::info!(user = %person.user.name, network = key.network.as_str(), namespace = %key.namespace, group = %key.group, item = %key.item, "console item written");
            Redirect::to(&format!(
                "{}/groups/{}/items/{}",
                ns_href(key.network, key.namespace.as_str()),
                seg(&key.group),
                seg(&key.item)
            ))
            .into_response()
        }
        Err(e) => error_page(&e),
    }
}

/// The delete form: `confirm` must be the item's name.
#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /namespaces/{network}/{ns}/groups/{group}/items/{item}/delete`, once the item's name
/// is typed to confirm: the API's `DELETE`, with its grant and checks; then to the group.
pub async fn delete_item(
    State(state): State<AppState>,
    person: Person,
    Path((network, ns, group, item)): Path<(String, String, String, String)>,
    Form(form): Form<DeleteForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    if form.confirm.trim() != item {
        return refused_form(&format!(
            "To delete {item}, type its name in the confirmation field. Nothing was deleted."
        ));
    }
    let target = [network.as_str(), ns.as_str(), group.as_str(), item.as_str()];
    let path = item_path(network.clone(), ns.clone(), group.clone(), item.clone());
    let deleted = person
        .audited(
            &state,
            actions::ITEM_DELETE,
            ("item", &target),
            data_service::delete_item(&state, &person.caller.0, path),
        )
        .await;
    match deleted {
        Ok(key) => {
            tracing::info!(user = %person.user.name, network = key.network.as_str(), namespace = %key.namespace, group = %key.group, item = %key.item, "console item deleted");
            Redirect::to(&format!("{}/groups/{}", ns_href(key.network, key.namespace.as_str()), seg(&key.group)))
                .into_response()
        }
        Err(e) => error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_and_segments_read_as_words_and_paths() {
        assert_eq!(retention(0), "indefinitely");
        assert_eq!(retention(86_400 * 183), "183 days (15811200 s)");
        assert_eq!(retention(90_000), "90000 s");
        assert_eq!(seg("a-b_C9"), "a-b_C9");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
