//! The console's sign-in, sessions and CSRF, over HTTPS against a real server (on the suite's
//! backend): the attacks of the console issue's acceptance list, each refused.

use reqwest::header::COOKIE;
use reqwest::StatusCode;

use crate::common::console::{
    browser, cookie_pair, csrf_of, first_sign_in, initial_password, page, send, sign_in, Answer,
};
use crate::common::spawn_app;

#[tokio::test]
async fn the_session_cookie_is_host_only_secure_http_only_and_strict_and_pages_carry_the_policy() {
    let app = spawn_app().await;
    let b = browser(&app);
    let a = sign_in(&app, &b, "admin", &initial_password(&app)).await;
    let set = a.cookie.unwrap();
    assert!(set.starts_with("__Host-edgeward-session="), "{set}");
    for part in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set.split("; ").any(|p| p == part), "{part} missing from {set}");
    }
    let r = b.get(app.url("/sign-in")).send().await.unwrap();
    let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers().get("x-frame-options").unwrap(), "DENY");
    // Not `no-referrer`: browsers would send `Origin: null` with the console's own forms (browser.rs).
    assert_eq!(r.headers().get("referrer-policy").unwrap(), "same-origin");
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let css = b.get(app.url("/static/console.css")).send().await.unwrap();
    assert_eq!(css.headers().get("cache-control").unwrap(), "public, max-age=86400");
    let etag = css.headers().get("etag").unwrap().clone();
    let again = b.get(app.url("/static/console.css")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_wrong_password_and_a_wrong_name_get_the_same_answer_and_attempts_are_limited() {
    let app = spawn_app().await;
    let b = browser(&app);
    let wrong_password = sign_in(&app, &b, "admin", "not the password at all").await;
    let wrong_name = sign_in(&app, &b, "nobody", "not the password at all").await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_name.status, StatusCode::UNAUTHORIZED);
    assert!(wrong_password.cookie.is_none() && wrong_name.cookie.is_none());
    let message = |a: &Answer| {
        let at = a.text.find("id=\"sign-in-error\">").unwrap();
        a.text[at..a.text[at..].find("</p>").unwrap() + at].to_owned()
    };
    assert_eq!(message(&wrong_password), message(&wrong_name), "the answer does not tell which was wrong");
    assert!(wrong_password.text.contains("The name or the password is not right."));

    // 20 fast wrong attempts: the allowance is spent, and then even the right password is refused.
    let mut limited = 0;
    for _ in 0..20 {
        if sign_in(&app, &b, "admin", "still not the password").await.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 15, "only {limited} of 20 fast attempts were limited");
    let right = sign_in(&app, &b, "admin", &initial_password(&app)).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{}", right.text);
    assert!(right.cookie.is_none());
}

#[tokio::test]
async fn a_stolen_cookie_is_refused_after_sign_out_a_password_change_and_deactivation() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let panel = page(&app, &b, &cookie, "/panel").await;
    assert_eq!(panel.status, StatusCode::OK, "{}", panel.text);

    // Sign-out: the copy a thief kept is refused.
    let stolen = cookie.clone();
    let csrf = csrf_of(&panel.text);
    let out = send(b.post(app.url("/sign-out")).header(COOKIE, &cookie).form(&[("csrf", csrf.as_str())])).await;
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    assert!(out.cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(page(&app, &b, &stolen, "/panel").await.location.as_deref(), Some("/sign-in"));

    // A password change (here by the CLI's route, the store) ends every session.
    let cookie = cookie_pair(&sign_in(&app, &b, "admin", "a long new password").await.cookie.unwrap());
    assert_eq!(page(&app, &b, &cookie, "/panel").await.status, StatusCode::OK);
    let hash = edgeward_server::password::hash("another long password").unwrap();
    app.server.state.store.set_user_password("admin", hash, false).await.unwrap();
    assert_eq!(page(&app, &b, &cookie, "/panel").await.location.as_deref(), Some("/sign-in"));

    // Deactivation ends them too, on the user's next page.
    let cookie = cookie_pair(&sign_in(&app, &b, "admin", "another long password").await.cookie.unwrap());
    assert_eq!(page(&app, &b, &cookie, "/panel").await.status, StatusCode::OK);
    app.server
        .state
        .store
        .update_user("admin", edgeward_core::notify::UserUpdate { active: Some(false), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page(&app, &b, &cookie, "/panel").await.location.as_deref(), Some("/sign-in"));
    let again = sign_in(&app, &b, "admin", "another long password").await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "an inactive user cannot sign in");
}

#[tokio::test]
async fn a_form_without_its_csrf_token_or_from_another_site_is_refused() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let panel = page(&app, &b, &cookie, "/panel").await;
    let csrf = csrf_of(&panel.text);

    let without = send(b.post(app.url("/sign-out")).header(COOKIE, &cookie).form(&[("csrf", "")])).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.text);
    let wrong = send(b.post(app.url("/sign-out")).header(COOKIE, &cookie).form(&[("csrf", "x".repeat(43))])).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let cross = send(
        b.post(app.url("/sign-out"))
            .header(COOKIE, &cookie)
            .header("origin", "https://evil.example")
            .form(&[("csrf", csrf.as_str())]),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "a cross-site post is refused even with the token");
    let cross_sign_in = send(
        b.post(app.url("/sign-in"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("name", "admin"), ("password", "a long new password")]),
    )
    .await;
    assert_eq!(cross_sign_in.status, StatusCode::FORBIDDEN);
    // The session survived all of that.
    assert_eq!(page(&app, &b, &cookie, "/panel").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_idle_session_and_one_past_its_absolute_lifetime_end() {
    use chrono::TimeZone as _;
    let clock = edgeward_core::clock::ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap());
    let app = crate::common::spawn_app_at(clock.clone()).await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    // Used every 20 minutes (idle lifetime 30), it lives until its 12 hours are up.
    for _ in 0..35 {
        clock.advance(chrono::Duration::minutes(20));
        assert_eq!(page(&app, &b, &cookie, "/panel").await.status, StatusCode::OK);
    }
    clock.advance(chrono::Duration::minutes(20));
    assert_eq!(page(&app, &b, &cookie, "/panel").await.location.as_deref(), Some("/sign-in"), "12 hours are up");
    // Left alone for 31 minutes, a session ends.
    let cookie = cookie_pair(&sign_in(&app, &b, "admin", "a long new password").await.cookie.unwrap());
    clock.advance(chrono::Duration::minutes(31));
    assert_eq!(page(&app, &b, &cookie, "/panel").await.location.as_deref(), Some("/sign-in"));
    // Maintenance removes the sessions that can no longer be live; a live one stays.
    let live = cookie_pair(&sign_in(&app, &b, "admin", "a long new password").await.cookie.unwrap());
    let _idle = sign_in(&app, &b, "admin", "a long new password").await;
    clock.advance(chrono::Duration::minutes(20));
    assert_eq!(page(&app, &b, &live, "/panel").await.status, StatusCode::OK);
    clock.advance(chrono::Duration::minutes(15));
    let report = edgeward_server::jobs::run_once(&app.server.state, app.clock.now()).await;
    assert_eq!(report.sessions_purged, 1, "the session unused for 35 minutes");
    assert_eq!(page(&app, &b, &live, "/panel").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_account_page_shows_the_cp_code_the_limits_and_for_an_administrator_the_check_health() {
    let app = spawn_app().await;
    let b = browser(&app);
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let a = page(&app, &b, &cookie, "/account").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let cpcode = app.server.state.cpcode.clone();
    assert!(a.text.contains(&format!("<dd id=\"cpcode\">{cpcode}</dd>")), "{}", a.text);
    assert!(a.text.contains("Tokens per account") && a.text.contains("id=\"health\""));
    assert!(a.text.contains("id=\"undelivered-none\""), "the administrator is told of every token");
}

#[tokio::test]
async fn what_people_do_in_the_console_is_in_the_audit_trail() {
    use edgeward_core::audit::{AuditFilter, AuditOutcome};
    let app = spawn_app().await;
    let b = browser(&app);
    let wrong = sign_in(&app, &b, "admin", "not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let form = page(&app, &b, &cookie, "/tokens/new").await;
    let csrf = csrf_of(&form.text);
    let made = send(b.post(app.url("/tokens")).header(COOKIE, &cookie).form(&[
        ("csrf", csrf.as_str()),
        ("name", "audited_token"),
        ("staging", "on"),
        ("namespaces", "default:r"),
    ]))
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let refused = send(b.post(app.url("/tokens")).header(COOKIE, &cookie).form(&[
        ("csrf", csrf.as_str()),
        ("name", "bad name!"),
        ("staging", "on"),
        ("namespaces", "default:r"),
    ]))
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // The trail is written after the answer for a refused authentication: wait for it.
    let records = {
        let mut tries = 0;
        loop {
            let r =
                app.server.state.store.audit_records(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
            if r.iter().any(|e| e.record.action == "auth.denied") || tries == 100 {
                break r;
            }
            tries += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let seen: Vec<(String, String, String, AuditOutcome)> = records
        .iter()
        .rev()
        .map(|e| (e.record.actor.clone(), e.record.action.clone(), e.record.target.clone(), e.record.outcome))
        .collect();
    let has = |actor: &str, action: &str, target: &str, outcome: AuditOutcome| {
        seen.iter().any(|(a, c, t, o)| a == actor && c == action && t == target && *o == outcome)
    };
    assert!(has("unauthenticated", "auth.denied", "POST /sign-in", AuditOutcome::Failure), "{seen:#?}");
    assert!(has("user:admin", "session.sign_in", "user/admin", AuditOutcome::Success), "{seen:#?}");
    assert!(has("user:admin", "user.set_password", "user/admin", AuditOutcome::Success), "{seen:#?}");
    assert!(has("user:admin", "token.create", "token/audited_token", AuditOutcome::Success), "{seen:#?}");
    assert!(has("user:admin", "token.create", "token/bad name!", AuditOutcome::Failure), "{seen:#?}");
    let from = records.iter().find(|e| e.record.action == "token.create").unwrap();
    assert!(from.record.request_id.is_some() && from.record.source == "127.0.0.1", "{:?}", from.record);
}

#[tokio::test]
async fn a_typo_in_the_new_password_costs_no_attempt_but_guessing_the_current_one_is_limited() {
    let app = spawn_app().await;
    let b = browser(&app);
    let initial = initial_password(&app);
    for _ in 0..4 {
        assert_eq!(sign_in(&app, &b, "admin", "a wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    let a = sign_in(&app, &b, "admin", &initial).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "the fifth attempt, right");
    let cookie = cookie_pair(&a.cookie.unwrap());
    let form = page(&app, &b, &cookie, "/account/password").await;
    let csrf = csrf_of(&form.text);
    let change = |current: &str, new: &str, confirm: &str| {
        let fields = [
            ("csrf", csrf.clone()),
            ("current", current.to_owned()),
            ("new", new.to_owned()),
            ("confirm", confirm.to_owned()),
        ];
        send(b.post(app.url("/account/password")).header(COOKIE, &cookie).form(&fields))
    };
    let short = change(&initial, "short", "short").await;
    assert!(short.text.contains("A password must be at least 12 characters long."), "{}", short.text);
    let differ = change(&initial, "a long new password", "a long new passwort").await;
    assert!(differ.text.contains("The two new passwords differ."), "{}", differ.text);
    // Guessing the current password spends the sign-in allowance (spent: 5 of 5).
    let guess = change("not the current one", "a long new password", "a long new password").await;
    assert!(guess.text.contains("Too many attempts with a wrong current password."), "{}", guess.text);
}
