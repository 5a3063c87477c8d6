//! The People page, for people who manage notifications: users (e-mail, flags, roles, direct
//! grants) with the forms that add one, change their roles, deactivate or activate them and give
//! them a one-time password; roles and their grants, with the forms that add, edit and delete a
//! custom role; escalation contacts; API clients, each enabled or disabled from here.
//!
//! Every read and change is a [`crate::people`] call with the person's [`crate::auth::Actor`],
//! the same call the admin API's handlers and the CLI make, so the grant it checks
//! (`MANAGE_NOTIFICATIONS`) and the words it refuses with are theirs: a refused input is said
//! above its form (the page again, `400`), a missing grant is the API's refusal page. Each change
//! is audited with the API's action and target shape ([`crate::audit::console`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use edgeward_core::audit::actions;
use edgeward_core::capability::{Capability, Grants};
use edgeward_core::Error;
use edgeward_wire::{ContactObject, NewRole, RoleChange, UserChange, UserObject};

use super::pages::{error_page, form_to_correct, refused_form, render, Chrome};
use super::session::Person;
use crate::people;
use crate::state::AppState;

/// Where the page is, and where every form returns to.
const PAGE: &str = "/people";

/// A path segment, percent-encoded (user names may hold spaces and more).
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A name made safe for an element id: every character but `A-Z a-z 0-9 _ -` becomes `-`
/// (`ana.b@example.com` → `ana-b-example-com`).
pub fn id_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

/// Grants in words: every capability, none, or their EdgeKV names.
fn grants_text(g: &Grants) -> String {
    if *g == Grants::all() {
        return "every capability".into();
    }
    let names: Vec<&str> = g.iter().map(Capability::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The EdgeKV names of grants.
fn grant_names(g: &Grants) -> Vec<String> {
    g.iter().map(|c| c.as_str().to_owned()).collect()
}

/// A submitted form's fields, repeated ones (checkbox groups) included.
struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `key`, or empty.
    fn one(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`.
    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a checkbox `key` was ticked.
    fn on(&self, key: &str) -> bool {
        !self.one(key).is_empty()
    }
}

/// One row of the users table.
pub struct UserRow {
    name: String,
    id: String,
    href: String,
    email: String,
    registered: bool,
    active: bool,
    roles: String,
    held: Vec<String>,
    grants: String,
}

impl UserRow {
    /// Whether the user holds `role`.
    fn holds(&self, role: &str) -> bool {
        self.held.iter().any(|r| r == role)
    }
}

/// One row of the roles table.
pub struct RoleRow {
    name: String,
    built_in: bool,
    description: String,
    grants: String,
    granted: Vec<String>,
}

impl RoleRow {
    /// Whether the role grants `capability`.
    fn grants_cap(&self, capability: &str) -> bool {
        self.granted.iter().any(|c| c == capability)
    }
}

/// One row of the contacts table.
pub struct ContactRow {
    id: String,
    email: String,
    name: String,
}

/// One row of the API clients table.
pub struct ClientRow {
    name: String,
    grants: String,
    owner: String,
    enabled: bool,
}

/// What the add-user form held (kept when it is refused).
#[derive(Default)]
pub struct UserDraft {
    name: String,
    email: String,
    registered: bool,
    roles: Vec<String>,
}

impl UserDraft {
    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// What the add-role form held (kept when it is refused).
#[derive(Default)]
pub struct RoleDraft {
    name: String,
    description: String,
    grants: Vec<String>,
}

impl RoleDraft {
    fn has_grant(&self, capability: &str) -> bool {
        self.grants.iter().any(|c| c == capability)
    }
}

/// What the add-contact form held (kept when it is refused).
#[derive(Default)]
pub struct ContactDraft {
    email: String,
    name: String,
}

/// The forms' values to show again, and the refusal of one form.
#[derive(Default)]
struct Again {
    user: UserDraft,
    role: RoleDraft,
    contact: ContactDraft,
    /// The id of the refused form, and the people function's words.
    error: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage {
    chrome: Chrome,
    users: Vec<UserRow>,
    roles: Vec<RoleRow>,
    contacts: Vec<ContactRow>,
    clients: Vec<ClientRow>,
    /// Every capability's EdgeKV name, in `Capability::ALL`'s order.
    capabilities: Vec<&'static str>,
    user_draft: UserDraft,
    role_draft: RoleDraft,
    contact_draft: ContactDraft,
    error: Option<(String, String)>,
}

impl PeoplePage {
    /// The refusal shown above the form `id`, if it is the one refused.
    fn error_for(&self, id: &str) -> Option<&str> {
        self.error.as_ref().filter(|(form, _)| form == id).map(|(_, m)| m.as_str())
    }

    /// The refusal of a form that is not on the page (its user, role, contact or client is not
    /// there any more, or never was): shown at the top.
    fn stray_error(&self) -> Option<&str> {
        let (form, message) = self.error.as_ref()?;
        fn on<'a>(form: &str, prefixes: &[&str], mut ids: impl Iterator<Item = &'a str>) -> bool {
            ids.any(|id| prefixes.iter().any(|p| form.strip_prefix(p) == Some(id)))
        }
        let shown = ["user-create", "role-create", "contact-create"].contains(&form.as_str())
            || on(form, &["user-roles-", "user-active-", "user-reset-"], self.users.iter().map(|u| u.id.as_str()))
            || on(form, &["role-edit-", "role-delete-"], self.roles.iter().map(|r| r.name.as_str()))
            || on(form, &["contact-remove-"], self.contacts.iter().map(|c| c.id.as_str()))
            || on(form, &["client-enabled-"], self.clients.iter().map(|c| c.name.as_str()));
        (!shown).then_some(message.as_str())
    }
}

/// The page, read through the people functions (each checks the person's grant).
async fn load(state: &AppState, person: &Person, again: Again) -> Result<PeoplePage, Error> {
    let actor = &person.caller.0;
    let users = people::list_users(state, actor).await?;
    let roles = people::list_roles(state, actor).await?;
    let contacts = people::list_contacts(state, actor).await?;
    let clients = people::list_api_clients(state, actor).await?;
    let names: HashMap<uuid::Uuid, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let users = users
        .into_iter()
        .map(|u| {
            let held: Vec<String> = u.roles.iter().map(ToString::to_string).collect();
            UserRow {
                id: id_part(&u.name),
                href: format!("{PAGE}/users/{}", seg(&u.name)),
                email: u.email.clone().unwrap_or_default(),
                registered: u.email_registered,
                active: u.active,
                roles: if held.is_empty() { "none".into() } else { held.join(", ") },
                held,
                grants: grants_text(&u.grants),
                name: u.name,
            }
        })
        .collect();
    let roles = roles
        .into_iter()
        .map(|r| RoleRow {
            name: r.name.to_string(),
            built_in: r.built_in,
            description: r.description.clone(),
            grants: grants_text(&r.grants),
            granted: grant_names(&r.grants),
        })
        .collect();
    let contacts =
        contacts.into_iter().map(|c| ContactRow { id: id_part(&c.email), email: c.email, name: c.name }).collect();
    let clients = clients
        .into_iter()
        .map(|c| ClientRow {
            name: c.name.to_string(),
            grants: grants_text(&c.grants),
            owner: c.owner.and_then(|o| names.get(&o).cloned()).unwrap_or_else(|| "—".into()),
            enabled: c.enabled,
        })
        .collect();
    Ok(PeoplePage {
        chrome: Chrome::of(state, person, "people").await?,
        users,
        roles,
        contacts,
        clients,
        capabilities: Capability::ALL.iter().map(|c| c.as_str()).collect(),
        user_draft: again.user,
        role_draft: again.role,
        contact_draft: again.contact,
        error: again.error,
    })
}

/// `GET /people`.
pub async fn page(State(state): State<AppState>, person: Person) -> Response {
    match load(&state, &person, Again::default()).await {
        Ok(p) => render(&p),
        Err(e) => error_page(&e),
    }
}

/// Whether a refusal is the input's (said above its form), not the person's grant or the
/// server's (the API's refusal page).
fn said_above_the_form(e: &Error) -> bool {
    matches!(
        e,
        Error::Invalid { .. }
            | Error::NotFound { .. }
            | Error::Gone { .. }
            | Error::AlreadyExists { .. }
            | Error::InUse { .. }
            | Error::Refused { .. }
            | Error::LimitExceeded(_)
            | Error::Busy(_)
    )
}

/// The answer to a change: back to the page, or the page again with the refusal above the form
/// `form` (its values kept in `again`), or the API's refusal page.
async fn answer<T>(
    state: &AppState,
    person: &Person,
    done: Result<T, Error>,
    form: String,
    mut again: Again,
) -> Response {
    match done {
        Ok(_) => Redirect::to(PAGE).into_response(),
        Err(e) if said_above_the_form(&e) => {
            again.error = Some((form, e.to_string()));
            match load(state, person, again).await {
                Ok(p) => form_to_correct(&p),
                Err(e) => error_page(&e),
            }
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /people/users`: add a user (name, e-mail, registered, roles).
pub async fn create_user(
    State(state): State<AppState>,
    person: Person,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let draft = UserDraft {
        name: f.one("name").to_owned(),
        email: f.one("email").trim().to_owned(),
        registered: f.on("registered"),
        roles: f.all("roles"),
    };
    let req = UserObject {
        name: draft.name.clone(),
        email: Some(draft.email.clone()).filter(|e| !e.is_empty()),
        email_registered: draft.registered,
        active: true,
        grants: Vec::new(),
        roles: draft.roles.clone(),
    };
    let name = req.name.trim().to_owned();
    let made = person
        .audited(
            &state,
            actions::USER_CREATE,
            ("user", &[name.as_str()]),
            people::create_user(&state, &person.caller.0, req),
        )
        .await;
    if made.is_ok() {
        tracing::info!(user = %person.user.name, created = %name, "console user created");
    }
    answer(&state, &person, made, "user-create".into(), Again { user: draft, ..Again::default() }).await
}

/// `POST /people/users/{name}/roles`: the roles the user holds from now on (taking one away ends
/// their sessions).
pub async fn user_roles(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let change = UserChange { roles: Some(f.all("roles")), ..UserChange::default() };
    let done = person
        .audited(
            &state,
            actions::USER_UPDATE,
            ("user", &[name.as_str()]),
            people::update_user(&state, &person.caller.0, &name, change),
        )
        .await;
    answer(&state, &person, done, format!("user-roles-{}", id_part(&name)), Again::default()).await
}

/// `true` or `false` from a form's hidden field, else the form is refused.
fn flag(f: &Fields, key: &str) -> Option<bool> {
    match f.one(key) {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `POST /people/users/{name}/active`: deactivate (their sessions end) or activate a user.
pub async fn user_active(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let Some(active) = flag(&f, "active") else {
        return refused_form("The form must say whether the user is active (true or false). Nothing was changed.");
    };
    let change = UserChange { active: Some(active), ..UserChange::default() };
    let done = person
        .audited(
            &state,
            actions::USER_UPDATE,
            ("user", &[name.as_str()]),
            people::update_user(&state, &person.caller.0, &name, change),
        )
        .await;
    answer(&state, &person, done, format!("user-active-{}", id_part(&name)), Again::default()).await
}

#[derive(Template)]
#[template(path = "console/one_time_password.html")]
struct OneTimePasswordPage {
    chrome: Chrome,
    name: String,
    password: String,
}

/// `POST /people/users/{name}/reset-password`: a new one-time password for the user, shown once
/// (never logged; only its hash is kept); every session of theirs ends, and they must change it
/// at their next sign-in.
pub async fn reset_password(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let given = person
        .audited(
            &state,
            actions::USER_SET_PASSWORD,
            ("user", &[name.as_str()]),
            people::reset_password(&state, &person.caller.0, &name),
        )
        .await;
    match given {
        Ok(password) => {
            tracing::info!(user = %person.user.name, of = %name, "console one-time password given");
            match Chrome::of(&state, &person, "people").await {
                Ok(chrome) => render(&OneTimePasswordPage { chrome, name, password }),
                Err(e) => error_page(&e),
            }
        }
        Err(e) => {
            answer::<()>(&state, &person, Err(e), format!("user-reset-{}", id_part(&name)), Again::default()).await
        }
    }
}

/// `POST /people/roles`: add a custom role (name, description, grants).
pub async fn create_role(
    State(state): State<AppState>,
    person: Person,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let draft = RoleDraft {
        name: f.one("name").to_owned(),
        description: f.one("description").to_owned(),
        grants: f.all("grants"),
    };
    let req =
        NewRole { name: draft.name.clone(), description: draft.description.clone(), grants: draft.grants.clone() };
    let name = req.name.trim().to_owned();
    let made = person
        .audited(
            &state,
            actions::ROLE_CREATE,
            ("role", &[name.as_str()]),
            people::create_role(&state, &person.caller.0, req),
        )
        .await;
    answer(&state, &person, made, "role-create".into(), Again { role: draft, ..Again::default() }).await
}

/// `POST /people/roles/{name}`: a custom role's description and grants (each holder may do what
/// it grants from their next page on). A built-in role is refused by the people function.
pub async fn edit_role(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let change = RoleChange { description: Some(f.one("description").to_owned()), grants: Some(f.all("grants")) };
    let done = person
        .audited(
            &state,
            actions::ROLE_UPDATE,
            ("role", &[name.as_str()]),
            people::update_role(&state, &person.caller.0, &name, change),
        )
        .await;
    answer(&state, &person, done, format!("role-edit-{}", id_part(&name)), Again::default()).await
}

/// `POST /people/roles/{name}/delete`, once the role's name is typed to confirm.
pub async fn delete_role(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    if f.one("confirm").trim() != name {
        return refused_form(&format!(
            "To delete role {name}, type its name in the confirmation field. Nothing was deleted."
        ));
    }
    let done = person
        .audited(
            &state,
            actions::ROLE_DELETE,
            ("role", &[name.as_str()]),
            people::delete_role(&state, &person.caller.0, &name),
        )
        .await;
    answer(&state, &person, done, format!("role-delete-{}", id_part(&name)), Again::default()).await
}

/// `POST /people/contacts`: add (or rename) an escalation contact.
pub async fn add_contact(
    State(state): State<AppState>,
    person: Person,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let draft = ContactDraft { email: f.one("email").trim().to_owned(), name: f.one("name").to_owned() };
    let req = ContactObject { email: draft.email.clone(), name: draft.name.clone() };
    let done = person
        .audited(
            &state,
            actions::CONTACT_PUT,
            ("contact", &[draft.email.as_str()]),
            people::put_contact(&state, &person.caller.0, req),
        )
        .await;
    answer(&state, &person, done, "contact-create".into(), Again { contact: draft, ..Again::default() }).await
}

/// `POST /people/contacts/remove`: remove the escalation contact `email`.
pub async fn remove_contact(
    State(state): State<AppState>,
    person: Person,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let email = f.one("email").trim().to_owned();
    let done = person
        .audited(
            &state,
            actions::CONTACT_REMOVE,
            ("contact", &[email.as_str()]),
            people::remove_contact(&state, &person.caller.0, &email),
        )
        .await;
    answer(&state, &person, done, format!("contact-remove-{}", id_part(&email)), Again::default()).await
}

/// `POST /people/clients/{name}/enabled`: enable or disable an API client (a disabled one is
/// refused from its next request on).
pub async fn client_enabled(
    State(state): State<AppState>,
    person: Person,
    Path(name): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if let Err(r) = person.check_form(f.one("csrf")) {
        return r.into_response();
    }
    let Some(enabled) = flag(&f, "enabled") else {
        return refused_form("The form must say whether the client is enabled (true or false). Nothing was changed.");
    };
    let done = person
        .audited(
            &state,
            actions::API_CLIENT_UPDATE,
            ("apiclient", &[name.as_str()]),
            people::set_api_client_enabled(&state, &person.caller.0, &name, enabled),
        )
        .await;
    answer(&state, &person, done, format!("client-enabled-{}", id_part(&name)), Again::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_paths_are_safe_whatever_a_name_holds() {
        assert_eq!(id_part("ana.b@example.com"), "ana-b-example-com");
        assert_eq!(id_part("token-manager_2"), "token-manager_2");
        assert_eq!(id_part("Ana María"), "Ana-Mar-a");
        assert_eq!(seg("Ana María"), "Ana%20Mar%C3%ADa");
    }

    #[test]
    fn grants_read_as_words() {
        assert_eq!(grants_text(&Grants::all()), "every capability");
        assert_eq!(grants_text(&Grants::default()), "none");
        assert_eq!(grants_text(&Grants::new([Capability::ViewAudit, Capability::ViewToken])), "VIEW_TOKEN, VIEW_AUDIT");
    }
}
