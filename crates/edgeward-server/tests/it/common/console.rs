//! The console's test helpers: a browser-like HTTPS client that carries the session cookie by
//! hand, sign-in (the first one included, with its forced password change) and form tokens.

#![allow(
    clippy::disallowed_methods,
    reason = "the helpers read the server's certificate and initial password, and look for that file, as the administrator would"
)]

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

use super::TestApp;

/// A browser-like client that follows no redirect (the tests read where they point) and keeps
/// no cookie by itself (the tests carry the session cookie, as a thief would).
pub fn browser(app: &TestApp) -> reqwest::Client {
    let pem = std::fs::read(&app.server.prepared.tls_cert).unwrap();
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub fn initial_password(app: &TestApp) -> String {
    let text = std::fs::read_to_string(app.dir.path().join("admin-password")).unwrap();
    text.trim().to_owned()
}

pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub text: String,
}

pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    let r = req.send().await.unwrap();
    let status = r.status();
    let location = r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let cookie = r.headers().get(SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
    Answer { status, location, cookie, text: r.text().await.unwrap() }
}

/// `name=value` of a `Set-Cookie` header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

pub async fn sign_in(app: &TestApp, b: &reqwest::Client, name: &str, password: &str) -> Answer {
    send(b.post(app.url("/sign-in")).form(&[("name", name), ("password", password)])).await
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("the page has a form with a CSRF token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub async fn page(app: &TestApp, b: &reqwest::Client, cookie: &str, path: &str) -> Answer {
    send(b.get(app.url(path)).header(COOKIE, cookie)).await
}

/// Sign in as admin with the initial password and choose `new`: the session cookie after it.
pub async fn first_sign_in(app: &TestApp, b: &reqwest::Client, new: &str) -> String {
    let initial = initial_password(app);
    let a = sign_in(app, b, "admin", &initial).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let cookie = cookie_pair(a.cookie.as_deref().unwrap());
    let panel = page(app, b, &cookie, "/panel").await;
    assert_eq!(panel.location.as_deref(), Some("/account/password"), "a given password must be changed first");
    let form = page(app, b, &cookie, "/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.text);
    let changed = send(b.post(app.url("/account/password")).header(COOKIE, &cookie).form(&[
        ("csrf", csrf.as_str()),
        ("current", initial.as_str()),
        ("new", new),
        ("confirm", new),
    ]))
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
    assert!(!app.dir.path().join("admin-password").exists(), "the initial password's file is removed");
    assert_eq!(page(app, b, &cookie, "/panel").await.location.as_deref(), Some("/sign-in"), "the old session ended");
    cookie_pair(changed.cookie.as_deref().expect("a new session"))
}

/// Post a form with the session cookie.
pub async fn post(app: &TestApp, b: &reqwest::Client, cookie: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    send(b.post(app.url(path)).header(COOKIE, cookie).form(form)).await
}

/// The HTML inside the element with `id` (up to its closing tag), as sent.
pub fn inner_html(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {page}"));
    let open = at + page[at..].find('>').unwrap() + 1;
    let tag = page[..at].rfind('<').unwrap();
    let name: String = page[tag + 1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let close = open + page[open..].find(&format!("</{name}>")).unwrap();
    page[open..close].to_owned()
}

/// Whether the page has an element with `id`.
pub fn has(page: &str, id: &str) -> bool {
    page.contains(&format!("id=\"{id}\""))
}

/// A user with these direct grants and roles and a password of their own; their session cookie.
pub async fn signed_in_user(
    app: &TestApp,
    b: &reqwest::Client,
    name: &str,
    grants: &[edgeward_core::capability::Capability],
    roles: &[&str],
) -> String {
    let user = edgeward_core::notify::User {
        id: uuid::Uuid::new_v4(),
        name: name.into(),
        email: None,
        email_registered: false,
        active: true,
        grants: edgeward_core::capability::Grants::new(grants.iter().copied()),
        roles: roles.iter().map(|r| edgeward_core::names::RoleName::parse(r).unwrap()).collect(),
        created_at: app.clock.now(),
    };
    app.server.state.store.create_user(user).await.unwrap();
    let password = "a long password of their own";
    let hash = edgeward_server::password::hash(password).unwrap();
    app.server.state.store.set_user_password(name, hash, false).await.unwrap();
    let a = sign_in(app, b, name, password).await;
    assert_eq!(a.status, reqwest::StatusCode::SEE_OTHER, "{}", a.text);
    cookie_pair(&a.cookie.unwrap())
}
