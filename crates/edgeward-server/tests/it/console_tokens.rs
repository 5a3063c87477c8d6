//! The console's token pages over HTTPS against a real server (on the suite's backend): create
//! through the form with the API's refusals beside their fields, the token's page and its
//! `edgekv_tokens.js` downloads, rotate, revoke with its typed confirmation, and a person who
//! may only view tokens, who is shown no control and whose posts the service refuses.

#![allow(
    clippy::disallowed_methods,
    reason = "the download is written to a temporary file for node to import it, as edge code would"
)]

use edgeward_core::capability::{Capability, Grants};
use edgeward_wire::tokenfile::TokenFile;
use reqwest::header::COOKIE;
use reqwest::StatusCode;

use crate::common::console::{browser, cookie_pair, csrf_of, first_sign_in, has, page, post, sign_in, Answer};
use crate::common::{spawn_app, TestApp};

const PASSWORD: &str = "a long new password";

/// The text of the element with this id, its HTML escapes undone.
fn text_of(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {page}"));
    let start = at + page[at..].find('>').unwrap() + 1;
    let end = start + page[start..].find('<').unwrap();
    page[start..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A day `days` from the server's today, as the date input sends it.
fn in_days(app: &TestApp, days: u64) -> String {
    (app.clock.now().date_naive() + chrono::Days::new(days)).to_string()
}

/// Create a token through the form; the answer.
async fn create(app: &TestApp, b: &reqwest::Client, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    let form = page(app, b, cookie, "/tokens/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let csrf = csrf_of(&form.text);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    post(app, b, cookie, "/tokens", &all).await
}

#[tokio::test]
async fn create_through_the_form_shows_the_apis_refusals_then_the_token_and_its_file() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, PASSWORD).await;
    let expiry = in_days(&app, 90);

    // A bad name: the form again, its values kept, the API's own message beside the name.
    let bad = create(
        &app,
        &b,
        &cookie,
        &[("name", "bad name"), ("staging", "on"), ("expiry", &expiry), ("namespaces", "default:rw")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let api = edgeward_core::names::TokenName::parse("bad name").unwrap_err().to_string();
    assert_eq!(text_of(&bad.text, "name-error"), api);
    assert!(bad.text.contains("value=\"bad name\"") && bad.text.contains(&format!("value=\"{expiry}\"")));
    assert!(bad.text.contains(">default:rw</textarea>"), "the namespaces are kept");
    // Other fields' refusals, each beside its field, in the API's words.
    let rights = create(&app, &b, &cookie, &[("name", "web"), ("staging", "on"), ("namespaces", "default:rx")]).await;
    assert_eq!(rights.status, StatusCode::BAD_REQUEST);
    assert_eq!(text_of(&rights.text, "namespaces-error"), "Invalid permission 'x': use r, w or d.");
    let nets = create(&app, &b, &cookie, &[("name", "web"), ("namespaces", "default:r")]).await;
    assert!(has(&nets.text, "staging-error"), "{}", nets.text);
    let past = create(
        &app,
        &b,
        &cookie,
        &[("name", "web"), ("staging", "on"), ("expiry", "2001-01-01"), ("namespaces", "default:r")],
    )
    .await;
    assert!(text_of(&past.text, "expiry-error").starts_with("Invalid expiration time."), "{}", past.text);
    assert!(app.admin.get_token("web").await.is_err(), "nothing was created");

    // A good one: its page, with the value the API returns, its entry and its file.
    let made = create(
        &app,
        &b,
        &cookie,
        &[
            ("name", "web"),
            ("staging", "on"),
            ("production", "on"),
            ("expiry", &expiry),
            ("namespaces", "default:rw\n"),
            ("ewids", ""),
        ],
    )
    .await;
    assert_eq!((made.status, made.location.as_deref()), (StatusCode::SEE_OTHER, Some("/tokens/web")), "{}", made.text);
    let api = app.admin.get_token("web").await.unwrap();
    let value = api.value.clone().expect("an expiring token has a value");
    assert_eq!((api.expiry.as_str(), api.allow_on_production, api.allow_on_staging), (expiry.as_str(), true, true));
    let shown = page(&app, &b, &cookie, "/tokens/web").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(text_of(&shown.text, "token-value"), value);
    assert!(shown.text.contains("data-copy=\"token-value\""));
    assert!(shown.text.contains("<dl class=\"fields\">"));
    for field in [api.cpcode.as_str(), api.issue_date.as_str(), api.uuid.as_str(), "default: rw"] {
        assert!(shown.text.contains(field), "{field} is shown");
    }
    let entry = text_of(&shown.text, "token-entry");
    assert!(entry.starts_with("\"namespace-default\": {") && entry.contains(&value), "{entry}");
    for control in ["download", "rotate", "revoke"] {
        assert!(has(&shown.text, control), "{control} is offered to the administrator");
    }
    assert!(!has(&shown.text, "refresh"), "an expiring token is not refreshed");

    let r = b.get(app.url("/tokens/web/edgekv_tokens.js")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"edgekv_tokens.js\"");
    let file = r.text().await.unwrap();
    let parsed = TokenFile::parse(&file).unwrap();
    let default = parsed.get("default").unwrap();
    assert!(!default.bare);
    assert_eq!(default.entry.unwrap().value.as_deref(), Some(value.as_str()));
    assert_eq!(imported_by_node(&file).as_deref().unwrap_or(&value[..]), value, "edge code reads the value");
}

/// What `import` of the file gives for `namespace-default`'s value, if node is installed.
fn imported_by_node(file: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edgekv_tokens.mjs");
    std::fs::write(&path, file).unwrap();
    let script = format!(
        "import('{}').then(m => process.stdout.write(m.edgekv_access_tokens['namespace-default'].value))",
        path.display()
    );
    let out = std::process::Command::new("node").args(["--input-type=module", "-e", &script]).output().ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

#[tokio::test]
async fn the_list_searches_filters_and_downloads_every_live_token() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, PASSWORD).await;
    let soon = in_days(&app, 10);
    let later = in_days(&app, 150);
    for (name, expiry) in [("soon", soon.as_str()), ("later", later.as_str()), ("auto", ""), ("gone", "")] {
        let a = create(
            &app,
            &b,
            &cookie,
            &[("name", name), ("staging", "on"), ("expiry", expiry), ("namespaces", "default:r")],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    }
    app.admin.revoke_token("gone").await.unwrap();

    let all = page(&app, &b, &cookie, "/tokens").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.text.contains("<table id=\"tokens\">") && has(&all.text, "create-link") && has(&all.text, "download-all")
    );
    for name in ["soon", "later", "auto", "gone"] {
        assert!(has(&all.text, &format!("token-{name}")), "{name} is listed");
    }
    assert!(all.text.contains("<a href=\"/tokens/soon\">soon</a>"));
    let rows = |a: &Answer| {
        ["soon", "later", "auto", "gone"]
            .into_iter()
            .filter(|n| has(&a.text, &format!("token-{n}")))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows(&page(&app, &b, &cookie, "/tokens?q=OO&status=all").await),
        vec!["soon"],
        "name contains, any case"
    );
    assert_eq!(rows(&page(&app, &b, &cookie, "/tokens?status=expiring").await), vec!["soon"]);
    assert_eq!(rows(&page(&app, &b, &cookie, "/tokens?status=revoked").await), vec!["gone"]);
    assert!(rows(&page(&app, &b, &cookie, "/tokens?status=replaced").await).is_empty());

    // The complete file: one entry for `default`, from the live token that lasts longest.
    let r = b.get(app.url("/tokens/edgekv_tokens.js")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"edgekv_tokens.js\"");
    let file = TokenFile::parse(&r.text().await.unwrap()).unwrap();
    let entry = file.get("default").unwrap().entry.unwrap();
    let auto = app.admin.get_token("auto").await.unwrap();
    assert_eq!((entry.name.as_deref(), entry.reference.as_deref()), (Some("auto"), Some(auto.uuid.as_str())));
    // The page says which token the file holds for `default`, and which it leaves out.
    let shown = text_of(&all.text, "in-file");
    assert!(all.text.contains("<code>default</code>: auto"), "{shown}");
    assert!(all.text.contains("(left out: "), "the others are named: {}", all.text);

    // A token valid on more networks, with more rights, wins over a newer, narrower one: both
    // never expire, so "lasts longest" cannot decide.
    for (name, production, rights) in [("broad", "on", "default:rw"), ("narrow", "", "default:r")] {
        let mut fields = vec![("name", name), ("staging", "on"), ("expiry", ""), ("namespaces", rights)];
        if !production.is_empty() {
            fields.push(("production", production));
        }
        let a = create(&app, &b, &cookie, &fields).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    }
    let r = b.get(app.url("/tokens/edgekv_tokens.js")).header(COOKIE, &cookie).send().await.unwrap();
    let file = TokenFile::parse(&r.text().await.unwrap()).unwrap();
    assert_eq!(file.get("default").unwrap().entry.unwrap().name.as_deref(), Some("broad"));
    let listed = page(&app, &b, &cookie, "/tokens").await;
    assert!(listed.text.contains("<code>default</code>: broad"), "{}", listed.text);
}

#[tokio::test]
async fn rotate_replaces_the_token_and_revokes_the_old_one_only_when_asked() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, PASSWORD).await;
    let expiry = in_days(&app, 30);
    let made = create(
        &app,
        &b,
        &cookie,
        &[("name", "one"), ("staging", "on"), ("expiry", &expiry), ("namespaces", "default:rw"), ("ewids", "42, 7")],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let csrf = csrf_of(&page(&app, &b, &cookie, "/tokens/one").await.text);

    // Without revoke_old: the successor has the same scope and lifetime; the old one stays valid, replaced.
    let r = post(&app, &b, &cookie, "/tokens/one/rotate", &[("csrf", &csrf), ("new_name", "two")]).await;
    assert_eq!(r.location.as_deref(), Some("/tokens/two"), "{}", r.text);
    let (one, two) = (app.admin.get_token("one").await.unwrap(), app.admin.get_token("two").await.unwrap());
    assert_eq!(two.namespace_permissions, one.namespace_permissions);
    assert_eq!(two.restrict_to_edge_worker_ids, one.restrict_to_edge_worker_ids);
    assert_eq!((two.allow_on_staging, two.allow_on_production), (true, false));
    assert_eq!(two.expiry, expiry, "the same lifetime, from today");
    let list = page(&app, &b, &cookie, "/tokens?status=replaced").await;
    assert!(has(&list.text, "token-one") && list.text.contains("replaced by two"), "{}", list.text);

    // With revoke_old: the old one is revoked, and the API no longer finds it.
    let r =
        post(&app, &b, &cookie, "/tokens/two/rotate", &[("csrf", &csrf), ("new_name", "three"), ("revoke_old", "on")])
            .await;
    assert_eq!(r.location.as_deref(), Some("/tokens/three"), "{}", r.text);
    let err = app.admin.get_token("two").await.unwrap_err().to_string();
    assert!(err.contains("404") || err.contains("does not exist"), "{err}");
    assert!(app.admin.get_token("three").await.is_ok());
    assert!(has(&page(&app, &b, &cookie, "/tokens?status=revoked").await.text, "token-two"));
    // A bad successor name is the API's refusal, and nothing changes.
    let bad = post(&app, &b, &cookie, "/tokens/three/rotate", &[("csrf", &csrf), ("new_name", "no way")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("Name contains invalid characters."), "{}", bad.text);

    // Revoked later, by the server: the page says when and offers to cancel it.
    let r = post(
        &app,
        &b,
        &cookie,
        "/tokens/three/rotate",
        &[("csrf", &csrf), ("new_name", "four"), ("revoke_after", "86400")],
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/tokens/four"), "{}", r.text);
    let shown = page(&app, &b, &cookie, "/tokens/three").await;
    let rotation = text_of(&shown.text, "field-rotation");
    assert!(rotation.starts_with("replaced by four, revocation scheduled at "), "{rotation}");
    assert!(has(&shown.text, "cancel-revocation"));
    let r = post(&app, &b, &cookie, "/tokens/three/cancel-revocation", &[("csrf", &csrf)]).await;
    assert_eq!(r.location.as_deref(), Some("/tokens/three"), "{}", r.text);
    let shown = page(&app, &b, &cookie, "/tokens/three").await;
    assert_eq!(text_of(&shown.text, "field-rotation"), "replaced by four");
    assert!(!has(&shown.text, "cancel-revocation"));
    // A delay not offered, or now and later at once: refused before any successor is made.
    for extra in [&[("revoke_after", "5")][..], &[("revoke_after", "3600"), ("revoke_old", "on")][..]] {
        let mut form = vec![("csrf", csrf.as_str()), ("new_name", "five")];
        form.extend_from_slice(extra);
        let bad = post(&app, &b, &cookie, "/tokens/four/rotate", &form).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{extra:?}");
        assert!(app.admin.get_token("five").await.is_err(), "no successor was made");
    }
}

#[tokio::test]
async fn revoke_needs_the_typed_confirmation_and_refresh_renews_an_auto_refreshing_token() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, PASSWORD).await;
    let made = create(&app, &b, &cookie, &[("name", "auto"), ("staging", "on"), ("namespaces", "default:r")]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let shown = page(&app, &b, &cookie, "/tokens/auto").await;
    let uuid = app.admin.get_token("auto").await.unwrap().uuid;
    assert_eq!(text_of(&shown.text, "token-value"), uuid, "an auto-refreshing token shows its reference");
    assert!(shown.text.contains("data-confirm=\"auto\""));
    let csrf = csrf_of(&shown.text);

    let refreshed = post(&app, &b, &cookie, "/tokens/auto/refresh", &[("csrf", &csrf)]).await;
    assert_eq!(refreshed.location.as_deref(), Some("/tokens/auto"), "{}", refreshed.text);
    assert!(app.admin.get_token("auto").await.unwrap().latest_refresh_date.is_some());

    for typed in ["", "aut", "other"] {
        let r = post(&app, &b, &cookie, "/tokens/auto/revoke", &[("csrf", &csrf), ("confirm", typed)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{typed:?}");
        assert!(r.text.contains("type its name"), "{}", r.text);
    }
    assert!(app.admin.get_token("auto").await.is_ok(), "still valid");
    let r = post(&app, &b, &cookie, "/tokens/auto/revoke", &[("csrf", &csrf), ("confirm", "auto")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(app.admin.get_token("auto").await.is_err(), "revoked");
}

#[tokio::test]
async fn a_viewer_is_shown_no_control_and_its_posts_are_refused_by_the_service() {
    let app = spawn_app().await;
    let b = browser(&app);
    let admin = first_sign_in(&app, &b, PASSWORD).await;
    let made = create(&app, &b, &admin, &[("name", "shared"), ("staging", "on"), ("namespaces", "default:r")]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);

    let st = &app.server.state;
    let user = edgeward_core::notify::User {
        id: uuid::Uuid::new_v4(),
        name: "viewer".into(),
        email: None,
        email_registered: false,
        active: true,
        grants: Grants::new([Capability::ViewToken]),
        roles: Vec::new(),
        created_at: app.clock.now(),
    };
    st.store.create_user(user).await.unwrap();
    st.store.set_user_password("viewer", edgeward_server::password::hash(PASSWORD).unwrap(), false).await.unwrap();
    let signed = sign_in(&app, &b, "viewer", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let cookie = cookie_pair(signed.cookie.as_deref().unwrap());

    let list = page(&app, &b, &cookie, "/tokens").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(has(&list.text, "token-shared") && !has(&list.text, "create-link"));
    assert!(!list.text.contains("href=\"/tokens/new\""), "nor in the navigation");
    let shown = page(&app, &b, &cookie, "/tokens/shared").await;
    assert_eq!(shown.status, StatusCode::OK);
    for control in ["rotate", "revoke", "refresh"] {
        assert!(!has(&shown.text, control), "{control} is not offered");
    }
    let csrf = csrf_of(&shown.text);
    let missing_grant = |a: &Answer| a.status == StatusCode::BAD_REQUEST && a.text.contains("permission");
    let created = post(
        &app,
        &b,
        &cookie,
        "/tokens",
        &[("csrf", &csrf), ("name", "mine"), ("staging", "on"), ("namespaces", "default:r")],
    )
    .await;
    assert!(missing_grant(&created), "{} {}", created.status, created.text);
    assert!(created.text.contains("CREATE_TOKEN"), "{}", created.text);
    let rotated = post(&app, &b, &cookie, "/tokens/shared/rotate", &[("csrf", &csrf), ("new_name", "mine")]).await;
    assert!(missing_grant(&rotated), "{}", rotated.text);
    let revoked = post(&app, &b, &cookie, "/tokens/shared/revoke", &[("csrf", &csrf), ("confirm", "shared")]).await;
    assert!(missing_grant(&revoked) && revoked.text.contains("REVOKE_TOKEN"), "{}", revoked.text);
    let refreshed = post(&app, &b, &cookie, "/tokens/shared/refresh", &[("csrf", &csrf)]).await;
    assert!(missing_grant(&refreshed), "{}", refreshed.text);
    assert!(
        app.admin.get_token("shared").await.is_ok() && app.admin.get_token("mine").await.is_err(),
        "nothing changed"
    );
}

#[tokio::test]
async fn a_token_form_without_its_csrf_token_is_refused() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, PASSWORD).await;
    let fields = [("name", "web"), ("staging", "on"), ("namespaces", "default:r")];
    let without = post(&app, &b, &cookie, "/tokens", &fields).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.text);
    let made = create(&app, &b, &cookie, &fields).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    for (path, form) in [
        ("/tokens/web/revoke", vec![("confirm", "web")]),
        ("/tokens/web/rotate", vec![("new_name", "web2"), ("revoke_old", "on")]),
        ("/tokens/web/refresh", vec![]),
    ] {
        let mut wrong = vec![("csrf", "not the token")];
        wrong.extend(form.iter().copied());
        assert_eq!(post(&app, &b, &cookie, path, &form).await.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(post(&app, &b, &cookie, path, &wrong).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(app.admin.get_token("web").await.is_ok() && app.admin.get_token("web2").await.is_err());
}
