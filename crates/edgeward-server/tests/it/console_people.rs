//! The console's People page over HTTPS against a real server (on the suite's backend): an
//! administrator adds a user and gives them a one-time password they must change, edits a custom
//! role (its holder's next page follows), takes a role away and deactivates a user (their open
//! session ends), disables an API client (its next request is refused); built-in roles have no
//! control and a direct post is refused; refused input is said in the people functions' own
//! words; a person without `MANAGE_NOTIFICATIONS` is refused as the API refuses them; forms
//! without their CSRF token change nothing; and the audit trail has each change as the API's.

use edgeward_core::audit::{AuditFilter, AuditOutcome};
use edgeward_core::capability::Capability;
use edgeward_core::names::{EmailAddress, RoleName};
use reqwest::{Method, StatusCode};

use crate::common::console::{
    browser, cookie_pair, csrf_of, first_sign_in, has, inner_html, page, post, sign_in, signed_in_user,
};
use crate::common::{raw, spawn_app, TestApp};

const PASSWORD: &str = "a long new password";

/// Text as the console's templates escape it.
fn esc(s: &str) -> String {
    s.replace('&', "&#38;").replace('\'', "&#39;").replace('"', "&#34;").replace('<', "&#60;").replace('>', "&#62;")
}

/// The admin signed in (their own password chosen), the People page and its CSRF token.
async fn admin(app: &TestApp, b: &reqwest::Client) -> (String, String) {
    let cookie = first_sign_in(app, b, PASSWORD).await;
    let people = page(app, b, &cookie, "/people").await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.text);
    (cookie.clone(), csrf_of(&people.text))
}

/// Every record of the trail: (actor, action, target, outcome).
async fn trail(app: &TestApp) -> Vec<(String, String, String, AuditOutcome)> {
    let filter = AuditFilter { limit: 1000, ..Default::default() };
    let records = app.server.state.store.audit_records(&filter).await.unwrap();
    records.into_iter().map(|e| (e.record.actor, e.record.action, e.record.target, e.record.outcome)).collect()
}

fn recorded(
    trail: &[(String, String, String, AuditOutcome)],
    action: &str,
    target: &str,
    outcome: AuditOutcome,
) -> bool {
    trail.iter().any(|(a, c, t, o)| a == "user:admin" && c == action && t == target && *o == outcome)
}

#[tokio::test]
async fn an_administrator_adds_a_user_and_gives_them_a_one_time_password_they_must_change() {
    let app = spawn_app().await;
    let b = browser(&app);
    let (cookie, csrf) = admin(&app, &b).await;

    // The page: the four tables, the admin's row, the built-in roles without controls.
    let people = page(&app, &b, &cookie, "/people").await;
    for id in ["users", "roles", "contacts", "clients", "user-create", "role-create", "contact-create"] {
        assert!(has(&people.text, id), "#{id} in {}", people.text);
    }
    let admin_row = inner_html(&people.text, "user-admin");
    assert!(admin_row.contains("every capability") && admin_row.contains("active"), "{admin_row}");
    for id in ["user-roles-admin", "user-active-admin", "user-reset-admin"] {
        assert!(has(&admin_row, id), "#{id} in {admin_row}");
    }
    let role = inner_html(&people.text, "role-token-manager");
    assert!(role.contains("built-in") && role.contains("CREATE_TOKEN, VIEW_TOKEN, REVOKE_TOKEN"), "{role}");
    assert!(people.text.contains("class=\"scroll\"") && !people.text.contains("style="), "no inline style");

    // Add tina, a token manager, with her address.
    let added = post(
        &app,
        &b,
        &cookie,
        "/people/users",
        &[("csrf", &csrf), ("name", "tina"), ("email", "tina@example.com"), ("roles", "token-manager")],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    assert_eq!(added.location.as_deref(), Some("/people"));
    let people = page(&app, &b, &cookie, "/people").await;
    let row = inner_html(&people.text, "user-tina");
    assert!(row.contains("tina@example.com") && row.contains("<td>token-manager</td>"), "{row}");
    assert!(row.contains("<td>no</td>"), "not registered: {row}");
    let (_, _, api) = raw(&app.admin, Method::GET, "/edgeward/v1/users", None).await;
    assert!(api.as_array().unwrap().iter().any(|u| u["name"] == "tina" && u["roles"][0] == "token-manager"), "{api}");

    // Her one-time password, shown once.
    let reset = post(&app, &b, &cookie, "/people/users/tina/reset-password", &[("csrf", &csrf)]).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    let password = inner_html(&reset.text, "one-time-password");
    assert!(password.len() >= 12, "{password}");
    assert!(reset.text.contains("data-copy=\"one-time-password\"") && reset.text.contains("must change it"));

    // It signs her in, and the password page is all she gets until she changes it.
    let signed = sign_in(&app, &b, "tina", &password).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let tina = cookie_pair(&signed.cookie.unwrap());
    assert_eq!(page(&app, &b, &tina, "/tokens").await.location.as_deref(), Some("/account/password"));
    let form = page(&app, &b, &tina, "/account/password").await;
    let changed = post(
        &app,
        &b,
        &tina,
        "/account/password",
        &[
            ("csrf", &csrf_of(&form.text)),
            ("current", &password),
            ("new", "tina's own password"),
            ("confirm", "tina's own password"),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
    let tina = cookie_pair(&changed.cookie.unwrap());
    assert_eq!(page(&app, &b, &tina, "/tokens").await.status, StatusCode::OK, "a token manager sees the tokens");
    assert_eq!(sign_in(&app, &b, "tina", &password).await.status, StatusCode::UNAUTHORIZED, "used once");

    let t = trail(&app).await;
    assert!(recorded(&t, "user.create", "user/tina", AuditOutcome::Success), "{t:#?}");
    assert!(recorded(&t, "user.set_password", "user/tina", AuditOutcome::Success), "{t:#?}");
    // Neither the password nor its hash is in the trail.
    let records = format!(
        "{:?}",
        app.server.state.store.audit_records(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap()
    );
    assert!(!records.contains(&password), "the one-time password is not recorded");
}

#[tokio::test]
async fn a_custom_roles_new_grants_hold_from_its_holders_next_page_and_taking_it_away_ends_their_session() {
    let app = spawn_app().await;
    let b = browser(&app);
    let (cookie, csrf) = admin(&app, &b).await;

    // A custom role, made through the form.
    let made = post(
        &app,
        &b,
        &cookie,
        "/people/roles",
        &[("csrf", &csrf), ("name", "auditors"), ("description", "Read tokens."), ("grants", "VIEW_TOKEN")],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let people = page(&app, &b, &cookie, "/people").await;
    let row = inner_html(&people.text, "role-auditors");
    assert!(row.contains("custom") && row.contains("Read tokens.") && row.contains("<td>VIEW_TOKEN</td>"), "{row}");
    assert!(
        has(&row, "role-edit-auditors")
            && has(&row, "role-delete-auditors")
            && row.contains("data-confirm=\"auditors\"")
    );

    // Its holder may not read the audit trail, until the role grants it.
    let rita = signed_in_user(&app, &b, "rita", &[], &["auditors"]).await;
    assert_eq!(page(&app, &b, &rita, "/tokens").await.status, StatusCode::OK);
    assert_ne!(page(&app, &b, &rita, "/audit").await.status, StatusCode::OK);
    let edited = post(
        &app,
        &b,
        &cookie,
        "/people/roles/auditors",
        &[
            ("csrf", &csrf),
            ("description", "Read tokens and the trail."),
            ("grants", "VIEW_TOKEN"),
            ("grants", "VIEW_AUDIT"),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text);
    let audit = page(&app, &b, &rita, "/audit").await;
    assert_eq!(audit.status, StatusCode::OK, "the same session, the role's new grant: {}", audit.text);
    assert!(audit.text.contains("href=\"/audit\""), "the navigation shows it");

    // A role held cannot be deleted (the people function's words); taken away, her session ends.
    let held =
        post(&app, &b, &cookie, "/people/roles/auditors/delete", &[("csrf", &csrf), ("confirm", "auditors")]).await;
    assert_eq!(held.status, StatusCode::BAD_REQUEST, "{}", held.text);
    let words = esc(&edgeward_core::refusal::role_held(&RoleName::parse("auditors").unwrap(), 1).to_string());
    assert_eq!(inner_html(&held.text, "role-delete-auditors-error"), words);
    let taken = post(&app, &b, &cookie, "/people/users/rita/roles", &[("csrf", &csrf)]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text);
    assert_eq!(page(&app, &b, &rita, "/tokens").await.location.as_deref(), Some("/sign-in"), "signed out");

    // Deleted, once its name is typed.
    let unconfirmed =
        post(&app, &b, &cookie, "/people/roles/auditors/delete", &[("csrf", &csrf), ("confirm", "x")]).await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    let deleted =
        post(&app, &b, &cookie, "/people/roles/auditors/delete", &[("csrf", &csrf), ("confirm", "auditors")]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert!(!has(&page(&app, &b, &cookie, "/people").await.text, "role-auditors"));

    let t = trail(&app).await;
    assert!(recorded(&t, "role.create", "role/auditors", AuditOutcome::Success), "{t:#?}");
    assert!(recorded(&t, "role.update", "role/auditors", AuditOutcome::Success), "{t:#?}");
    assert!(recorded(&t, "role.delete", "role/auditors", AuditOutcome::Failure), "{t:#?}");
    assert!(recorded(&t, "role.delete", "role/auditors", AuditOutcome::Success), "{t:#?}");
    assert!(recorded(&t, "user.update", "user/rita", AuditOutcome::Success), "{t:#?}");
}

#[tokio::test]
async fn deactivating_a_user_ends_their_open_session() {
    let app = spawn_app().await;
    let b = browser(&app);
    let (cookie, csrf) = admin(&app, &b).await;
    let sam = signed_in_user(&app, &b, "sam", &[Capability::ViewToken], &[]).await;
    assert_eq!(page(&app, &b, &sam, "/tokens").await.status, StatusCode::OK);

    let off = post(&app, &b, &cookie, "/people/users/sam/active", &[("csrf", &csrf), ("active", "false")]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.text);
    assert_eq!(page(&app, &b, &sam, "/tokens").await.location.as_deref(), Some("/sign-in"));
    let people = page(&app, &b, &cookie, "/people").await;
    let row = inner_html(&people.text, "user-sam");
    assert!(row.contains("inactive") && row.contains("Activate sam"), "{row}");
    let on = post(&app, &b, &cookie, "/people/users/sam/active", &[("csrf", &csrf), ("active", "true")]).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.text);
    assert!(inner_html(&page(&app, &b, &cookie, "/people").await.text, "user-sam").contains("Deactivate sam"));
    let t = trail(&app).await;
    assert_eq!(t.iter().filter(|(_, c, tg, _)| c == "user.update" && tg == "user/sam").count(), 2, "{t:#?}");
}

#[tokio::test]
async fn built_in_roles_have_no_controls_and_refused_input_is_said_in_the_people_functions_words() {
    let app = spawn_app().await;
    let b = browser(&app);
    let (cookie, csrf) = admin(&app, &b).await;
    let people = page(&app, &b, &cookie, "/people").await;
    for role in ["administrator", "administrator-staging", "token-manager", "viewer"] {
        assert!(has(&people.text, &format!("role-{role}")));
        assert!(!has(&people.text, &format!("role-edit-{role}")) && !has(&people.text, &format!("role-delete-{role}")));
    }

    // A built-in role posted anyway: refused, unchanged.
    let built_in = esc(&edgeward_core::refusal::role_built_in(&RoleName::parse("token-manager").unwrap()).to_string());
    let edit =
        post(&app, &b, &cookie, "/people/roles/token-manager", &[("csrf", &csrf), ("grants", "VIEW_AUDIT")]).await;
    assert_eq!(edit.status, StatusCode::BAD_REQUEST, "{}", edit.text);
    assert!(edit.text.contains(&built_in), "{built_in} in {}", edit.text);
    let delete =
        post(&app, &b, &cookie, "/people/roles/token-manager/delete", &[("csrf", &csrf), ("confirm", "token-manager")])
            .await;
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
    assert!(delete.text.contains(&built_in));
    let (_, _, role) = raw(&app.admin, Method::GET, "/edgeward/v1/roles/token-manager", None).await;
    assert_eq!(role["grants"], serde_json::json!(["CREATE_TOKEN", "VIEW_TOKEN", "REVOKE_TOKEN"]));

    // An unknown role: the message above the form, the values kept.
    let unknown = post(
        &app,
        &b,
        &cookie,
        "/people/users",
        &[("csrf", &csrf), ("name", "uma"), ("email", "uma@example.com"), ("roles", "nosuch")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let words = edgeward_core::refusal::unknown_role(&RoleName::parse("nosuch").unwrap()).to_string();
    assert_eq!(inner_html(&unknown.text, "user-create-error"), esc(&words));
    assert!(unknown.text.contains("value=\"uma\"") && unknown.text.contains("value=\"uma@example.com\""));
    // A bad address, for a user and for a contact.
    let words = esc(&EmailAddress::parse("not-an-address").unwrap_err().to_string());
    let bad =
        post(&app, &b, &cookie, "/people/users", &[("csrf", &csrf), ("name", "uma"), ("email", "not-an-address")])
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(inner_html(&bad.text, "user-create-error"), words);
    let bad =
        post(&app, &b, &cookie, "/people/contacts", &[("csrf", &csrf), ("email", "not-an-address"), ("name", "Ops")])
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(inner_html(&bad.text, "contact-create-error"), words);
    let (_, _, users) = raw(&app.admin, Method::GET, "/edgeward/v1/users", None).await;
    assert!(!users.as_array().unwrap().iter().any(|u| u["name"] == "uma"), "nobody was added: {users}");
    // A name taken.
    let taken = post(&app, &b, &cookie, "/people/users", &[("csrf", &csrf), ("name", "admin")]).await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        inner_html(&taken.text, "user-create-error"),
        esc(&edgeward_core::refusal::user_taken("admin").to_string())
    );

    // A user that is not there: the message at the top of the page.
    let nobody = post(&app, &b, &cookie, "/people/users/nobody/reset-password", &[("csrf", &csrf)]).await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST, "{}", nobody.text);
    assert_eq!(
        inner_html(&nobody.text, "people-error"),
        esc(&edgeward_core::refusal::user_missing("nobody").to_string())
    );

    // Contacts: added, listed, removed.
    let added = post(
        &app,
        &b,
        &cookie,
        "/people/contacts",
        &[("csrf", &csrf), ("email", "ops@example.com"), ("name", "Ops desk")],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let people = page(&app, &b, &cookie, "/people").await;
    let row = inner_html(&people.text, "contact-ops-example-com");
    assert!(row.contains("ops@example.com") && row.contains("Ops desk") && has(&row, "contact-remove-ops-example-com"));
    let removed =
        post(&app, &b, &cookie, "/people/contacts/remove", &[("csrf", &csrf), ("email", "ops@example.com")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
    assert!(has(&page(&app, &b, &cookie, "/people").await.text, "no-contacts"));

    let t = trail(&app).await;
    assert!(recorded(&t, "role.update", "role/token-manager", AuditOutcome::Failure), "{t:#?}");
    assert!(recorded(&t, "user.create", "user/uma", AuditOutcome::Failure), "{t:#?}");
    assert!(recorded(&t, "contact.put", "contact/ops@example.com", AuditOutcome::Success), "{t:#?}");
    assert!(recorded(&t, "contact.remove", "contact/ops@example.com", AuditOutcome::Success), "{t:#?}");
}

#[tokio::test]
async fn a_disabled_api_client_is_refused_from_its_next_request() {
    let app = spawn_app().await;
    let b = browser(&app);
    let ci = app.client_with("ci", &[Capability::ViewToken]).await;
    assert_eq!(raw(&ci, Method::GET, "/edgekv/v1/tokens", None).await.0, 200);
    let (cookie, csrf) = admin(&app, &b).await;
    let people = page(&app, &b, &cookie, "/people").await;
    let row = inner_html(&people.text, "client-ci");
    assert!(row.contains("VIEW_TOKEN") && row.contains("<td>—</td>") && row.contains("enabled"), "{row}");
    let admin_client = people.text.split("id=\"client-").skip(1).find(|r| r.contains("<td>admin</td>"));
    assert!(admin_client.is_some(), "the first start's client is the admin's: {}", inner_html(&people.text, "clients"));

    let off = post(&app, &b, &cookie, "/people/clients/ci/enabled", &[("csrf", &csrf), ("enabled", "false")]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.text);
    let (s, _, body) = raw(&ci, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_eq!(s, 401, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Inactive client token"), "{body}");
    assert!(inner_html(&page(&app, &b, &cookie, "/people").await.text, "client-ci").contains("disabled"));
    let on = post(&app, &b, &cookie, "/people/clients/ci/enabled", &[("csrf", &csrf), ("enabled", "true")]).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.text);
    assert_eq!(raw(&ci, Method::GET, "/edgekv/v1/tokens", None).await.0, 200);
    let t = trail(&app).await;
    assert_eq!(t.iter().filter(|(_, c, tg, _)| c == "apiclient.update" && tg == "apiclient/ci").count(), 2, "{t:#?}");
}

#[tokio::test]
async fn without_manage_notifications_the_page_and_every_form_are_refused_as_the_api_refuses() {
    let app = spawn_app().await;
    let b = browser(&app);
    let ci = app.client_with("ci", &[Capability::ViewToken]).await;
    let grants = [Capability::ViewToken, Capability::ViewAudit];
    let vic = signed_in_user(&app, &b, "vic", &grants, &["viewer"]).await;
    let (api_status, _, api) = raw(&ci, Method::GET, "/edgeward/v1/users", None).await;
    let detail = esc(api["detail"].as_str().unwrap());

    let panel = page(&app, &b, &vic, "/panel").await;
    assert!(!panel.text.contains("href=\"/people\""), "no People link");
    let csrf = csrf_of(&panel.text);
    let people = page(&app, &b, &vic, "/people").await;
    assert_eq!(people.status.as_u16(), api_status);
    assert!(people.text.contains(&detail) && !has(&people.text, "users"), "{}", people.text);

    let posts: [(&str, &[(&str, &str)]); 10] = [
        ("/people/users", &[("name", "mallory"), ("roles", "administrator")]),
        ("/people/users/vic/roles", &[("roles", "administrator")]),
        ("/people/users/admin/active", &[("active", "false")]),
        ("/people/users/admin/reset-password", &[]),
        ("/people/roles", &[("name", "mine"), ("grants", "MANAGE_NOTIFICATIONS")]),
        ("/people/roles/viewer", &[("grants", "MANAGE_NOTIFICATIONS")]),
        ("/people/roles/viewer/delete", &[("confirm", "viewer")]),
        ("/people/contacts", &[("email", "m@example.com"), ("name", "M")]),
        ("/people/contacts/remove", &[("email", "m@example.com")]),
        ("/people/clients/ci/enabled", &[("enabled", "false")]),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = post(&app, &b, &vic, path, &form).await;
        assert_eq!(r.status.as_u16(), api_status, "{path}: {}", r.text);
        assert!(r.text.contains(&detail), "{path}: {}", r.text);
    }

    // Nothing changed: vic holds what she held, admin is active and keeps their password, no
    // role or contact was added, the client still works.
    let (_, _, users) = raw(&app.admin, Method::GET, "/edgeward/v1/users", None).await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2, "{users:?}");
    let vic_now = users.iter().find(|u| u["name"] == "vic").unwrap();
    assert_eq!(vic_now["roles"], serde_json::json!(["viewer"]));
    assert!(users.iter().all(|u| u["active"] == true));
    let (_, _, roles) = raw(&app.admin, Method::GET, "/edgeward/v1/roles", None).await;
    assert!(roles.as_array().unwrap().iter().all(|r| r["builtIn"] == true), "{roles}");
    let (_, _, contacts) = raw(&app.admin, Method::GET, "/edgeward/v1/contacts", None).await;
    assert_eq!(contacts, serde_json::json!([]));
    assert_eq!(raw(&ci, Method::GET, "/edgekv/v1/tokens", None).await.0, 200);
    let initial = crate::common::console::initial_password(&app);
    assert_eq!(
        sign_in(&app, &b, "admin", &initial).await.status,
        StatusCode::SEE_OTHER,
        "admin's password was not reset"
    );
    // Each refusal is in the trail, as the API's would be.
    let filter = AuditFilter { limit: 1000, ..Default::default() };
    let records = app.server.state.store.audit_records(&filter).await.unwrap();
    let refused = records.iter().filter(|e| e.record.actor == "user:vic" && e.record.outcome == AuditOutcome::Failure);
    assert_eq!(refused.count(), posts.len(), "each post reached the people function and was refused there");
}

#[tokio::test]
async fn people_forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let b = browser(&app);
    let (cookie, _) = admin(&app, &b).await;
    let posts: [(&str, &[(&str, &str)]); 5] = [
        ("/people/users", &[("name", "mallory")]),
        ("/people/users/admin/active", &[("active", "false")]),
        ("/people/users/admin/reset-password", &[]),
        ("/people/roles", &[("name", "mine"), ("grants", "VIEW_TOKEN")]),
        ("/people/contacts", &[("email", "m@example.com"), ("name", "M")]),
    ];
    for (path, form) in posts {
        let r = post(&app, &b, &cookie, path, form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert!(r.text.contains("This form is out of date or was sent from another site."));
    }
    let (_, _, users) = raw(&app.admin, Method::GET, "/edgeward/v1/users", None).await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(page(&app, &b, &cookie, "/people").await.status, StatusCode::OK, "still active, still signed in");
    let (_, _, roles) = raw(&app.admin, Method::GET, "/edgeward/v1/roles", None).await;
    assert!(roles.as_array().unwrap().iter().all(|r| r["builtIn"] == true), "{roles}");
}
