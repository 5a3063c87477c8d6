//! EdgeGrid authentication and capability grants, against a real server on port 0.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::sync::Arc;

use crate::common::*;
use chrono::{Duration, Utc};
use edgeward_client::{Client, Edgerc};
use edgeward_core::capability::Capability::*;
use edgeward_core::clock::ManualClock;
use edgeward_core::names::ClientName;
use reqwest::Method;

fn assert_gateway_401(status: u16, body: &serde_json::Value, detail_contains: &str) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["title"], "Not authorized", "{body}");
    assert_eq!(body["type"], "https://problems.luna.akamaiapis.net/-/pep-authn/deny", "{body}");
    assert!(body["detail"].as_str().unwrap().contains(detail_contains), "{body}");
}

#[tokio::test]
async fn unsigned_and_badly_signed_requests_are_refused() {
    let app = spawn_app().await;
    let http = app.plain_http();
    let r = http.get(app.url("/edgekv/v1/tokens")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("x-trace-id"));
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let (s, _, b) = raw_with(&app.admin, Method::GET, "/edgekv/v1/tokens", None, Some("Bearer abc".into())).await;
    assert_gateway_401(s, &b, "not a valid EG1-HMAC-SHA256");

    // Wrong secret.
    let mut wrong = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap();
    wrong.credentials.client_secret = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZw==".into();
    let wrong = Client::new(wrong, Some(&app.server.prepared.tls_cert)).unwrap();
    let (s, _, b) = raw(&wrong, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_gateway_401(s, &b, "The signature does not match");

    // Unknown client token; right client token with a wrong access token.
    let mut unknown = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap();
    unknown.credentials.client_token = "akab-ct-unknown".into();
    let (s, _, b) = raw(&Client::new(unknown, None).unwrap(), Method::GET, "/edgekv/v1/tokens", None).await;
    assert_gateway_401(s, &b, "Inactive client token");
    let mut bad_at = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap();
    bad_at.credentials.access_token = "akab-at-other".into();
    let (s, _, b) = raw(&Client::new(bad_at, None).unwrap(), Method::GET, "/edgekv/v1/tokens", None).await;
    assert_gateway_401(s, &b, "Inactive client token");

    // A body changed after signing (POST bodies are covered by the signature).
    let body = cli_body("t", true, false, "", &[("default", "r")]);
    let auth = app.admin.authorization("POST", "/edgekv/v1/tokens", body.as_bytes());
    let tampered = body.replace("\"t\"", "\"u\"");
    let (s, _, b) = raw_with(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&tampered), Some(auth)).await;
    assert_gateway_401(s, &b, "The signature does not match");
    // A signature made for another path.
    let auth = app.admin.authorization("GET", "/edgekv/v1/initialize", b"");
    let (s, _, b) = raw_with(&app.admin, Method::GET, "/edgekv/v1/tokens", None, Some(auth)).await;
    assert_gateway_401(s, &b, "The signature does not match");
    assert!(app.admin.list_tokens(false).await.unwrap().tokens.is_empty());
    app.server.shutdown().await;
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let app = spawn_app().await;
    let body = cli_body("once", true, false, "", &[("default", "r")]);
    let auth = app.admin.authorization("POST", "/edgekv/v1/tokens", body.as_bytes());
    let (s, _, _) = raw_with(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body), Some(auth.clone())).await;
    assert_eq!(s, 200);
    let (s, _, b) = raw_with(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body), Some(auth)).await;
    assert_gateway_401(s, &b, "nonce has already been used");
    let get = app.admin.authorization("GET", "/edgekv/v1/tokens", b"");
    let (s, _, _) = raw_with(&app.admin, Method::GET, "/edgekv/v1/tokens", None, Some(get.clone())).await;
    assert_eq!(s, 200);
    let (s, _, b) = raw_with(&app.admin, Method::GET, "/edgekv/v1/tokens", None, Some(get)).await;
    assert_gateway_401(s, &b, "nonce");
    app.server.shutdown().await;
}

#[tokio::test]
async fn timestamps_outside_the_window_are_refused() {
    let app =
        spawn_app_with(|c| c.edgegrid.timestamp_window_secs = 120, Arc::new(edgeward_core::clock::SystemClock)).await;
    let edgerc = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap();
    for (skew, ok) in [(-300, false), (-100, true), (100, true), (300, false)] {
        let clock = ManualClock::new(Utc::now() + Duration::seconds(skew));
        let c = Client::new(edgerc.clone(), Some(&app.server.prepared.tls_cert)).unwrap().with_clock(Arc::new(clock));
        let (s, _, b) = raw(&c, Method::GET, "/edgekv/v1/tokens", None).await;
        if ok {
            assert_eq!(s, 200, "skew {skew}: {b}");
        } else {
            assert_gateway_401(s, &b, "outside the accepted window");
        }
    }
    app.server.shutdown().await;
}

#[tokio::test]
async fn a_disabled_client_is_refused_at_once_and_can_be_enabled_again() {
    let app = spawn_app().await;
    let ops = app.client_with("ops", &[ViewToken]).await;
    assert!(ops.list_tokens(false).await.is_ok());
    let name = ClientName::parse("ops").unwrap();
    app.server.state.store.set_api_client_enabled(&name, false).await.unwrap();
    let (s, _, b) = raw(&ops, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_gateway_401(s, &b, "Inactive client token");
    app.server.state.store.set_api_client_enabled(&name, true).await.unwrap();
    assert!(ops.list_tokens(false).await.is_ok());
    app.server.state.store.delete_api_client(&name).await.unwrap();
    let (s, _, b) = raw(&ops, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_gateway_401(s, &b, "Inactive client token");
    app.server.shutdown().await;
}

#[tokio::test]
async fn grants_gate_every_token_operation() {
    let app = spawn_app().await;
    let admin = &app.admin;
    let staging_body = cli_body("stg", true, false, "", &[("default", "r")]);
    let both_body = cli_body("both", true, true, "", &[("default", "r")]);
    for b in [&staging_body, &both_body] {
        assert_eq!(raw(admin, Method::POST, "/edgekv/v1/tokens", Some(b)).await.0, 200);
    }

    let missing = |s: u16, b: &serde_json::Value, cap: &str| {
        assert_edgekv_error(s, b, 400, "EKV_1002");
        assert_eq!(
            b["detail"],
            format!("That resource does not exist or you are missing the '{cap}' permission for it."),
            "{b}"
        );
    };

    // No grants at all.
    let nobody = app.client_with("nobody", &[]).await;
    let (s, _, b) = raw(&nobody, Method::GET, "/edgekv/v1/tokens", None).await;
    missing(s, &b, "VIEW_TOKEN");
    let (s, _, b) =
        raw(&nobody, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("n", true, false, "", &[("default", "r")])))
            .await;
    missing(s, &b, "CREATE_TOKEN");
    let (s, _, b) = raw(&nobody, Method::DELETE, "/edgekv/v1/tokens/stg", None).await;
    missing(s, &b, "REVOKE_TOKEN");
    let (s, _, b) = raw(&nobody, Method::POST, "/edgekv/v1/tokens/stg/refresh", None).await;
    missing(s, &b, "CREATE_TOKEN");
    let (s, _, b) = raw(&nobody, Method::GET, "/edgekv/v1/initialize", None).await;
    missing(s, &b, "VIEW_NAMESPACE");
    let (s, _, b) = raw(&nobody, Method::PUT, "/edgekv/v1/initialize", None).await;
    missing(s, &b, "CREATE_NAMESPACE");
    let later = serde_json::json!({ "revokeAfterSeconds": 3600 }).to_string();
    let (s, _, b) = raw(&nobody, Method::PUT, "/edgeward/v1/tokens/stg/scheduled-revocation", Some(&later)).await;
    missing(s, &b, "REVOKE_TOKEN");
    let (s, _, b) = raw(&nobody, Method::DELETE, "/edgeward/v1/tokens/stg/scheduled-revocation", None).await;
    missing(s, &b, "REVOKE_TOKEN");
    let (s, _, b) = raw(&nobody, Method::GET, "/edgeward/v1/tokens", None).await;
    missing(s, &b, "VIEW_TOKEN");

    // Staging grants cover staging-only tokens and nothing else.
    let stg = app.client_with("stg-ops", &[CreateStagingToken, ViewStagingToken, RevokeStagingToken]).await;
    let (s, _, _) =
        raw(&stg, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("stg2", true, false, "", &[("default", "r")])))
            .await;
    assert_eq!(s, 200);
    let (s, _, b) =
        raw(&stg, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("prod2", false, true, "", &[("default", "r")])))
            .await;
    missing(s, &b, "CREATE_TOKEN");
    let names: Vec<_> = stg.list_tokens(false).await.unwrap().tokens.into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["stg", "stg2"], "only staging-only tokens are visible");
    assert!(stg.get_token("stg").await.is_ok());
    let (s, _, b) = raw(&stg, Method::GET, "/edgekv/v1/tokens/both", None).await;
    missing(s, &b, "VIEW_TOKEN");
    // A name that does not exist gets the same answer: names of hidden tokens do not leak.
    let (s, _, b) = raw(&stg, Method::GET, "/edgekv/v1/tokens/no_such_token", None).await;
    missing(s, &b, "VIEW_TOKEN");
    let (s, _, b) = raw(&stg, Method::DELETE, "/edgekv/v1/tokens/both", None).await;
    missing(s, &b, "REVOKE_TOKEN");
    let (s, _, b) = raw(&stg, Method::POST, "/edgekv/v1/tokens/both/refresh", None).await;
    missing(s, &b, "CREATE_TOKEN");
    let (s, _, b) = raw(&stg, Method::PUT, "/edgeward/v1/tokens/both/scheduled-revocation", Some(&later)).await;
    missing(s, &b, "REVOKE_TOKEN");
    let in_an_hour = edgeward_wire::ScheduleRevocation { revoke_at: None, revoke_after_seconds: Some(3600) };
    assert!(stg.schedule_revocation("stg2", &in_an_hour).await.is_ok());
    assert!(stg.cancel_revocation("stg2").await.is_ok());
    let states = stg.token_states().await.unwrap().tokens;
    assert_eq!(states.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["stg", "stg2"]);
    assert!(states.iter().all(|t| t.may_revoke), "its staging grant covers them: {states:?}");
    assert!(stg.refresh_token("stg").await.is_ok());
    assert!(stg.revoke_token("stg").await.is_ok());

    // Revoke only: can schedule a revocation, whose answer names the token and the time and
    // nothing a viewer would see; cannot list.
    let revoker = app.client_with("revoker", &[RevokeToken]).await;
    let (s, _, b) = raw(&revoker, Method::PUT, "/edgeward/v1/tokens/both/scheduled-revocation", Some(&later)).await;
    assert_eq!(s, 200, "{b}");
    let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, vec!["name", "revokeAt", "revoked"], "{b}");
    let (s, _, b) = raw(&revoker, Method::GET, "/edgeward/v1/tokens", None).await;
    missing(s, &b, "VIEW_TOKEN");
    assert!(revoker.cancel_revocation("both").await.is_ok());
    // A time well in the past is a mistake, not "now".
    let past = serde_json::json!({ "revokeAt": (Utc::now() - Duration::hours(1)).to_rfc3339() }).to_string();
    let (s, _, b) = raw(&revoker, Method::PUT, "/edgeward/v1/tokens/both/scheduled-revocation", Some(&past)).await;
    assert_edgekv_error(s, &b, 400, "EKV_2000");
    assert!(b["detail"].as_str().unwrap().contains("in the past"), "{b}");

    // View only: can read, cannot change.
    let viewer = app.client_with("viewer", &[ViewToken]).await;
    assert_eq!(viewer.list_tokens(false).await.unwrap().tokens.len(), 2);
    assert!(viewer.get_token("both").await.is_ok());
    let states = viewer.token_states().await.unwrap().tokens;
    assert!(!states.is_empty() && states.iter().all(|t| !t.may_revoke), "{states:?}");
    let (s, _, b) = raw(&viewer, Method::DELETE, "/edgekv/v1/tokens/both", None).await;
    missing(s, &b, "REVOKE_TOKEN");
    assert!(admin.get_token("both").await.is_ok(), "nothing was revoked by refused calls");
    app.server.shutdown().await;
}

#[tokio::test]
async fn an_operators_own_certificate_is_served() {
    let certs = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = edgeward_server::tls::self_signed(chrono::Utc::now()).unwrap();
    let (cert, key) = (certs.path().join("mine.pem"), certs.path().join("mine.key"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, &key_pem).unwrap();
    let (c2, k2) = (cert.clone(), key.clone());
    let app = spawn_app_with(
        move |c| {
            c.tls_cert = Some(c2);
            c.tls_key = Some(k2);
        },
        Arc::new(edgeward_core::clock::SystemClock),
    )
    .await;
    assert_eq!(app.server.prepared.tls_cert, cert);
    assert!(!app.dir.path().join("tls").exists(), "no certificate is generated when one is given");
    // A client trusting only the operator's certificate gets through.
    let edgerc = Edgerc::load(&app.server.prepared.edgerc, "default").unwrap();
    let c = Client::new(edgerc, Some(&cert)).unwrap();
    assert!(c.list_tokens(false).await.is_ok());
    app.server.shutdown().await;
}
