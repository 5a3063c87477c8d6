//! The console's token pages: the list (search and filter), a token's page (every field the API
//! returns, its value or reference, its `edgekv_tokens.js` entry and downloads, and the refresh,
//! rotate and revoke forms its grants allow), and the create form.
//!
//! Every read and change is a call of `service`, the admin API's token rules, with the person's
//! `Actor`: the service checks the grants (through `permit`) and validates. The pages only ask
//! `permit` which controls to show; a form posted without the grant is refused by the service.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use edgeward_core::audit::actions;
use edgeward_core::names::NamespaceName;
use edgeward_core::network::Networks;
use edgeward_core::store::ListedToken;
use edgeward_core::Error;
use edgeward_wire::tokenfile::TokenFile;
use edgeward_wire::{CreateTokenRequest, LenientBool, NamespacePairs, ScheduleRevocation, TokenObject};

use super::pages::{error_page, form_to_correct, networks, render, time_left, Chrome};
use super::session::Person;

use crate::permit::{self, cap};
use crate::service;
use crate::state::AppState;

/// Tokens within this many days of their expiry are marked as expiring (the notices' first
/// threshold).
const EXPIRING_WITHIN_DAYS: i64 = 30;

/// Where a token stands, as the list shows and filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Valid,
    Expiring,
    Expired,
    Revoked,
    Replaced,
}

impl Status {
    fn of(t: &ListedToken, now: DateTime<Utc>) -> Self {
        let token = &t.stored.token;
        if token.revoked_at.is_some() {
            Self::Revoked
        } else if token.is_expired(now) {
            Self::Expired
        } else if t.replaced_by.is_some() {
            Self::Replaced
        } else if token.expires_at().is_some_and(|end| end - now <= chrono::Duration::days(EXPIRING_WITHIN_DAYS)) {
            Self::Expiring
        } else {
            Self::Valid
        }
    }

    /// The value of the filter's `status` that selects it.
    fn key(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expiring => "expiring",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Replaced => "replaced",
        }
    }

    /// The CSS class of its cell.
    fn class(self) -> &'static str {
        match self {
            Self::Valid => "status-ok",
            Self::Expiring | Self::Replaced => "status-warn",
            Self::Expired | Self::Revoked => "status-bad",
        }
    }
}

/// One row of the list.
pub struct Row {
    name: String,
    /// Whether the name links to the token's page (live tokens: the API answers for them).
    linked: bool,
    kind: &'static str,
    namespaces: String,
    networks: String,
    ewids: String,
    /// The expiry date, or the next scheduled refresh.
    until: String,
    time_left: String,
    last_used: String,
    status: String,
    status_class: &'static str,
}

/// A choice of the status filter.
pub struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    choices: Vec<Choice>,
    rows: Vec<Row>,
    total: usize,
    in_file: Vec<InFile>,
}

/// One entry of the complete `edgekv_tokens.js`, as the tokens page shows it.
struct InFile {
    namespace: String,
    token: String,
    /// Live tokens for the namespace that the file leaves out, comma-separated.
    left_out: String,
}

/// The list's search form.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

const CHOICES: [(&str, &str); 5] = [
    ("all", "All"),
    ("expiring", "Expiring (within 30 days)"),
    ("expired", "Expired"),
    ("revoked", "Revoked"),
    ("replaced", "Replaced"),
];

fn day_and_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn row(t: &ListedToken, status: Status, now: DateTime<Utc>) -> Row {
    let token = &t.stored.token;
    let until = token.expiry.or(token.next_refresh);
    Row {
        name: token.name.to_string(),
        linked: matches!(status, Status::Valid | Status::Expiring | Status::Replaced),
        kind: if token.expiry.is_some() { "expiring" } else { "auto-refreshing" },
        namespaces: token
            .namespaces
            .iter()
            .map(|(ns, p)| format!("{ns}: {}", p.letters().concat()))
            .collect::<Vec<_>>()
            .join(", "),
        networks: networks(token.networks.staging, token.networks.production),
        ewids: token.ewids.to_wire().join(", "),
        until: match (token.expiry, token.next_refresh) {
            (Some(e), _) => format!("expires {e}"),
            (None, Some(r)) => format!("refreshes {r}"),
            (None, None) => String::new(),
        },
        time_left: until.map(|d| time_left(d, now)).unwrap_or_default(),
        last_used: t.last_used.map_or_else(|| "never".to_owned(), day_and_time),
        status: match (status, &t.replaced_by) {
            (Status::Replaced, Some(by)) => format!("replaced by {by}"),
            (Status::Expiring, _) => "expires within 30 days".to_owned(),
            (s, _) => s.key().to_owned(),
        },
        status_class: status.class(),
    }
}

/// `GET /tokens`: the tokens the person may view, searched by name and filtered by status.
pub async fn list(State(state): State<AppState>, person: Person, Query(query): Query<ListQuery>) -> Response {
    let result = async {
        let chrome = Chrome::of(&state, &person, "tokens").await?;
        let tokens = service::token_overview(&state, &person.caller.0).await?;
        let now = state.clock.now();
        let wanted = CHOICES.iter().find(|(v, _)| *v == query.status).map_or("all", |(v, _)| *v);
        let needle = query.q.trim().to_lowercase();
        let rows = tokens
            .iter()
            .filter(|t| t.stored.token.name.as_str().to_lowercase().contains(&needle))
            .map(|t| (t, Status::of(t, now)))
            .filter(|(_, s)| wanted == "all" || s.key() == wanted)
            .map(|(t, s)| row(t, s, now))
            .collect();
        let choices =
            CHOICES.iter().map(|&(value, label)| Choice { value, label, selected: value == wanted }).collect();
        let live = tokens.iter().filter(|t| t.stored.token.revoked_at.is_none() && !t.stored.token.is_expired(now));
        let in_file = FileChoice::of(live)
            .by_namespace
            .into_iter()
            .map(|(namespace, (chosen, left_out))| InFile {
                namespace,
                token: chosen.stored.token.name.to_string(),
                left_out: left_out.join(", "),
            })
            .collect();
        Ok::<_, Error>(ListPage { chrome, q: query.q.trim().to_owned(), choices, rows, total: tokens.len(), in_file })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

/// An `edgekv_tokens.js` as a download.
fn token_file(file: &TokenFile) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"edgekv_tokens.js\"")),
        ],
        file.render(),
    )
        .into_response()
}

/// Which token a complete `edgekv_tokens.js` holds for each namespace, and the live tokens left
/// out because another covers that namespace (a file has one entry a namespace). Of the live
/// tokens not replaced, the one chosen is valid on the most networks, then has the most rights
/// in that namespace, then lasts longest (auto-refreshing first, then the latest expiry), then is
/// the newest. The tokens page shows this choice beside the download, so nothing is picked
/// behind the person's back.
pub struct FileChoice<'a> {
    /// Namespace → (the token chosen, the names left out).
    pub by_namespace: BTreeMap<String, (&'a ListedToken, Vec<String>)>,
}

impl<'a> FileChoice<'a> {
    /// How strongly `t` claims namespace `ns`: networks, then rights there, then how long it
    /// lasts (auto-refreshing first, then the latest expiry), then how new it is.
    fn rank(t: &ListedToken, ns: &NamespaceName) -> impl Ord {
        let tok = &t.stored.token;
        (
            usize::from(tok.networks.staging) + usize::from(tok.networks.production),
            tok.namespaces.get(ns).map_or(0, |r| r.letters().len()),
            tok.expiry.is_none(),
            tok.expiry,
            tok.issued_at,
        )
    }

    /// The choice over `tokens` (live ones: not revoked, not expired) at `now`.
    pub fn of(tokens: impl IntoIterator<Item = &'a ListedToken>) -> Self {
        let mut by_namespace: BTreeMap<String, (&'a ListedToken, Vec<String>)> = BTreeMap::new();
        for t in tokens.into_iter().filter(|t| t.replaced_by.is_none()) {
            for ns in t.stored.token.namespaces.keys() {
                match by_namespace.get_mut(ns.as_str()) {
                    None => {
                        by_namespace.insert(ns.to_string(), (t, Vec::new()));
                    }
                    Some((held, out)) => {
                        if Self::rank(t, ns) > Self::rank(held, ns) {
                            out.push(held.stored.token.name.to_string());
                            *held = t;
                        } else {
                            out.push(t.stored.token.name.to_string());
                        }
                    }
                }
            }
        }
        Self { by_namespace }
    }
}

/// `GET /tokens/edgekv_tokens.js`: a complete `edgekv_tokens.js` of the live tokens the person
/// may view, one entry a namespace, as [`FileChoice`] chooses (and the tokens page shows).
pub async fn download_all(State(state): State<AppState>, person: Person) -> Response {
    let live = match service::live_tokens(&state, &person.caller.0).await {
        Ok(live) => live,
        Err(e) => return error_page(&e),
    };
    let choice = FileChoice::of(live.iter().map(|(t, _)| t));
    let mut file = TokenFile::default();
    for (ns, (chosen, _)) in &choice.by_namespace {
        let Some((_, object)) = live.iter().find(|(t, _)| std::ptr::eq(t, *chosen)) else { continue };
        let entry = edgeward_wire::tokenfile::Entry::of(object);
        if file.put(ns, entry, true).is_err() {
            return error_page(&Error::Internal(format!("namespace {ns} could not be written")));
        }
    }
    token_file(&file)
}

/// `GET /tokens/{name}/edgekv_tokens.js`: a complete `edgekv_tokens.js` holding this token.
pub async fn download(State(state): State<AppState>, person: Person, Path(name): Path<String>) -> Response {
    match service::get_token(&state, &person.caller.0, &name, false).await {
        Ok(t) => token_file(&TokenFile::of_token(&t)),
        Err(e) => error_page(&e),
    }
}

/// One network's use of a token.
pub struct Use {
    network: String,
    requests: u64,
    last_used: String,
}

#[derive(Template)]
#[template(path = "console/token.html")]
struct TokenPage {
    chrome: Chrome,
    t: TokenObject,
    kind: &'static str,
    expiring: bool,
    namespaces: Vec<(String, String)>,
    usage: Vec<Use>,
    /// The value, or the reference of an auto-refreshing token.
    credential: String,
    entry: String,
    can_refresh: bool,
    can_rotate: bool,
    can_revoke: bool,
    /// Its successor and scheduled revocation, in words (empty: neither).
    rotation: String,
    /// A revocation is scheduled (the page offers to cancel it).
    scheduled: bool,
    /// The delays the rotate form offers.
    revoke_after: Vec<(u64, &'static str)>,
}

/// `GET /tokens/{name}`: what `GET /tokens/{name}?includeUsage=true` answers, and the forms the
/// person's grants allow on the token's networks.
pub async fn show(State(state): State<AppState>, person: Person, Path(name): Path<String>) -> Response {
    let result = async {
        let chrome = Chrome::of(&state, &person, "tokens").await?;
        let t = service::get_token(&state, &person.caller.0, &name, true).await?;
        let nets = Networks { staging: t.allow_on_staging, production: t.allow_on_production };
        let grants = &person.caller.0.grants;
        let may_create = permit::check::<cap::CreateToken>(grants, nets).is_ok();
        let expiring = t.value.is_some();
        let state_of = service::token_states(&state, &person.caller.0).await?.into_iter().find(|s| s.uuid == t.uuid);
        let (rotation, scheduled) = match &state_of {
            Some(s) => (s.lifecycle(), s.revoke_at.is_some()),
            None => (String::new(), false),
        };
        let usage = t
            .usage
            .iter()
            .flatten()
            .map(|u| Use { network: u.network.clone(), requests: u.requests, last_used: u.last_used.clone() })
            .collect();
        Ok::<_, Error>(TokenPage {
            chrome,
            kind: if expiring { "expiring" } else { "auto-refreshing" },
            expiring,
            namespaces: t.namespace_permissions.iter().map(|(ns, r)| (ns.clone(), r.concat())).collect(),
            usage,
            credential: t.value.clone().unwrap_or_else(|| t.uuid.clone()),
            entry: TokenFile::of_token(&t).render_entries(),
            can_refresh: may_create && !expiring,
            can_rotate: may_create,
            can_revoke: permit::check::<cap::RevokeToken>(grants, nets).is_ok(),
            rotation,
            scheduled,
            revoke_after: REVOKE_AFTER.to_vec(),
            t,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

fn to_token(name: &str) -> Response {
    Redirect::to(&format!("/tokens/{name}")).into_response()
}

/// A form of a token's page that carries only the CSRF token.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /tokens/{name}/refresh`.
pub async fn refresh(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let refreshed = service::refresh_token(&state, &person.caller.0, &name);
    match person.audited(&state, actions::TOKEN_REFRESH, ("token", &[name.as_str()]), refreshed).await {
        Ok(t) => to_token(&t.name),
        Err(e) => error_page(&e),
    }
}

/// The rotate form.
#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_name: String,
    revoke_old: Option<String>,
    /// Revoke the old token this many seconds later instead (scheduled on the server); empty:
    /// keep it valid.
    #[serde(default)]
    revoke_after: String,
}

/// The delays the rotate form offers for a scheduled revocation, in seconds, with their words.
const REVOKE_AFTER: [(u64, &str); 3] = [(3_600, "in 1 hour"), (86_400, "in 1 day"), (604_800, "in 7 days")];

/// `POST /tokens/{name}/rotate`: a successor with the same scope (`CreateTokenRequest::successor_of`,
/// as `token rotate` makes it), the old token marked replaced, and revoked if asked.
pub async fn rotate(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(form): Form<RotateForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let actor = &person.caller.0;
    let result = async {
        let later = match form.revoke_after.trim() {
            "" => None,
            secs => Some(
                secs.parse::<u64>()
                    .ok()
                    .filter(|s| REVOKE_AFTER.iter().any(|(d, _)| d == s))
                    .ok_or_else(|| Error::invalid("revoke_after", "Choose one of the delays offered."))?,
            ),
        };
        if later.is_some() && form.revoke_old.is_some() {
            return Err(Error::invalid("revoke_after", "Revoke the old token now or later, not both."));
        }
        let old = service::get_token(&state, actor, &name, false).await?;
        if form.revoke_old.is_some() || later.is_some() {
            // Asked before anything is made, so a refusal leaves no successor behind; the
            // service checks it again when it revokes.
            let nets = Networks { staging: old.allow_on_staging, production: old.allow_on_production };
            permit::check::<cap::RevokeToken>(&actor.grants, nets)?;
        }
        let new_name = form.new_name.trim().to_owned();
        let req = CreateTokenRequest::successor_of(&old, new_name.clone(), state.clock.now().date_naive());
        let new = person
            .audited(
                &state,
                actions::TOKEN_CREATE,
                ("token", &[new_name.as_str()]),
                service::create_token(&state, actor, req),
            )
            .await?;
        person
            .audited(
                &state,
                actions::TOKEN_REPLACED,
                ("token", &[old.name.as_str()]),
                service::mark_replaced(&state, actor, &old.name, &new.name),
            )
            .await?;
        if form.revoke_old.is_some() {
            person
                .audited(
                    &state,
                    actions::TOKEN_REVOKE,
                    ("token", &[old.name.as_str()]),
                    service::revoke_token(&state, actor, &old.name),
                )
                .await?;
        }
        if let Some(secs) = later {
            let when = ScheduleRevocation { revoke_after_seconds: Some(secs), ..ScheduleRevocation::default() };
            person
                .audited(
                    &state,
                    actions::TOKEN_SCHEDULE_REVOKE,
                    ("token", &[old.name.as_str()]),
                    service::schedule_revocation(&state, actor, &old.name, when),
                )
                .await?;
        }
        Ok::<_, Error>(new.name)
    }
    .await;
    match result {
        Ok(new) => to_token(&new),
        Err(e) => error_page(&e),
    }
}

/// `POST /tokens/{name}/cancel-revocation`: the token stays valid.
pub async fn cancel_revocation(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let cancelled = service::cancel_revocation(&state, &person.caller.0, &name);
    match person.audited(&state, actions::TOKEN_CANCEL_REVOKE, ("token", &[name.as_str()]), cancelled).await {
        Ok(()) => to_token(&name),
        Err(e) => error_page(&e),
    }
}

/// The revoke form: `confirm` must be the token's name.
#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /tokens/{name}/revoke`, once the name is typed to confirm.
pub async fn revoke(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    if form.confirm.trim() != name {
        return super::pages::refused_form(&format!(
            "To revoke {name}, type its name in the confirmation field. Nothing was revoked."
        ));
    }
    let revoked = service::revoke_token(&state, &person.caller.0, &name);
    match person.audited(&state, actions::TOKEN_REVOKE, ("token", &[name.as_str()]), revoked).await {
        Ok(_) => Redirect::to("/tokens?status=revoked").into_response(),
        Err(e) => error_page(&e),
    }
}

/// The create form, as sent and as shown again.
#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    staging: Option<String>,
    production: Option<String>,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    namespaces: String,
    #[serde(default)]
    ewids: String,
}

impl CreateForm {
    /// The API's request: each line of `namespaces` is `namespace:rights`, `ewids` a
    /// comma-separated list (none: every EdgeWorker), an empty `expiry` an auto-refreshing token.
    /// Nothing is checked here; the service does that.
    fn request(&self) -> CreateTokenRequest {
        let namespaces = self
            .namespaces
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (ns, rights) = l.split_once(':').unwrap_or((l, ""));
                (ns.trim().to_owned(), rights.trim().chars().map(String::from).collect())
            })
            .collect();
        let ewids: Vec<String> =
            self.ewids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        CreateTokenRequest {
            name: self.name.trim().to_owned(),
            allow_on_production: LenientBool(self.production.is_some()),
            allow_on_staging: LenientBool(self.staging.is_some()),
            restrict_to_edge_worker_ids: (!ewids.is_empty()).then_some(ewids),
            expiry: Some(self.expiry.trim().to_owned()).filter(|e| !e.is_empty()),
            namespace_permissions: NamespacePairs(namespaces),
        }
    }
}

/// The refusal of a form, beside its field or (`field` none) above the form.
struct FieldError {
    field: Option<&'static str>,
    message: String,
}

impl FieldError {
    /// The create form's field for an API refusal, or `None` when the page should be the error
    /// page (a missing grant, the store failing).
    fn of(e: &Error) -> Option<Self> {
        let field = match e {
            Error::Invalid { field, .. } => Some(match *field {
                "allowOnStaging" => "staging",
                "allowOnProduction" => "production",
                "restrictToEdgeWorkerIds" => "ewids",
                "namespacePermissions" => "namespaces",
                "expiry" => "expiry",
                "name" => "name",
                _ => return Some(Self { field: None, message: e.to_string() }),
            }),
            Error::AlreadyExists { .. } => Some("name"),
            Error::LimitExceeded(_) | Error::Refused { .. } | Error::NotFound { .. } | Error::Busy(_) => None,
            // A missing grant, the store failing: the error page, as the API would answer.
            _ => return None,
        };
        Some(Self { field, message: e.to_string() })
    }
}

#[derive(Template)]
#[template(path = "console/create.html")]
struct CreatePage {
    chrome: Chrome,
    form: CreateForm,
    error: Option<FieldError>,
}

impl CreatePage {
    /// The error of `field`, if it is the one refused.
    fn error_of(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|e| e.field == Some(field)).map(|e| e.message.as_str())
    }

    /// The refusal that has no field.
    fn form_error(&self) -> Option<&str> {
        self.error.as_ref().filter(|e| e.field.is_none()).map(|e| e.message.as_str())
    }
}

/// `GET /tokens/new`.
pub async fn new(State(state): State<AppState>, person: Person) -> Response {
    match Chrome::of(&state, &person, "create").await {
        Ok(chrome) => render(&CreatePage {
            chrome,
            form: CreateForm { staging: Some("on".into()), ..CreateForm::default() },
            error: None,
        }),
        Err(e) => error_page(&e),
    }
}

/// `POST /tokens`: `POST /edgekv/v1/tokens` from the form; the new token's page, or the form
/// again with the API's refusal beside its field.
pub async fn create(State(state): State<AppState>, person: Person, Form(form): Form<CreateForm>) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let req = form.request();
    let name = req.name.clone();
    let created = service::create_token(&state, &person.caller.0, req);
    let e = match person.audited(&state, actions::TOKEN_CREATE, ("token", &[name.as_str()]), created).await {
        Ok(t) => return to_token(&t.name),
        Err(e) => e,
    };
    let Some(error) = FieldError::of(&e) else { return error_page(&e) };
    match Chrome::of(&state, &person, "create").await {
        Ok(chrome) => form_to_correct(&CreatePage { chrome, form, error: Some(error) }),
        Err(e) => error_page(&e),
    }
}
