//! The token lifecycle over HTTPS with EdgeGrid, against a real server on port 0.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use crate::common::*;
use chrono::{Duration, TimeZone, Utc};
use edgeward_core::clock::ManualClock;
use reqwest::Method;

fn noon() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
}

#[tokio::test]
async fn lifecycle_of_both_kinds_of_token() {
    let app = spawn_app_at(noon()).await;
    let c = &app.admin;

    // Auto-refreshing token, exactly as the Akamai CLI sends it.
    let (s, trace, auto) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("auto1", true, false, "", &[("default", "rwd")])))
            .await;
    assert_eq!(s, 200, "{auto}");
    assert_eq!(trace.unwrap().len(), 16);
    assert_eq!(auto["expiry"], "9999-12-31");
    assert!(auto.get("value").is_none(), "an auto-refreshing token never carries a value");
    assert_eq!(auto["namespacePermissions"]["default"], serde_json::json!(["r", "w", "d"]));
    assert_eq!(auto["restrictToEdgeWorkerIds"], serde_json::json!(["all"]));
    assert_eq!(auto["tokenActivationStatus"], "COMPLETE");
    assert_eq!(auto["issueDate"], "2026-11-28");
    assert_eq!(auto["nextScheduledRefreshDate"], "2027-01-27");
    assert!(auto["latestRefreshDate"].is_null());
    assert!(uuid::Uuid::parse_str(auto["uuid"].as_str().unwrap()).is_ok());

    // Expiring token, date-time expiry form, documented field name, booleans as strings.
    let body = r#"{"name":"exp1","allowOnProduction":"true","allowOnStaging":"false","restrictToEdgeWorkerIds":["123","456"],
        "expiry":"2027-01-15T00:00:00Z","namespacePermissions":{"default":["r"]}}"#;
    let (s, _, exp) = raw(c, Method::POST, "/edgekv/v1/tokens", Some(body)).await;
    assert_eq!(s, 200, "{exp}");
    assert_eq!(exp["expiry"], "2027-01-15");
    assert_eq!(exp["allowOnProduction"], true);
    assert_eq!(exp["allowOnStaging"], false);
    assert_eq!(exp["restrictToEdgeWorkerIds"], serde_json::json!(["123", "456"]));
    let value = exp["value"].as_str().expect("expiring tokens carry a value").to_owned();
    assert_eq!(value.split('.').count(), 3);

    // Plain date form too.
    let (s, _, _) = raw(
        c,
        Method::POST,
        "/edgekv/v1/tokens",
        Some(&cli_body("exp2", true, true, "2027-02-01", &[("default", "rw")])),
    )
    .await;
    assert_eq!(s, 200);

    // List.
    let list = c.list_tokens(false).await.unwrap();
    let names: Vec<_> = list.tokens.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["auto1", "exp1", "exp2"]);

    // Retrieve: the same value every time.
    let got = c.get_token("exp1").await.unwrap();
    assert_eq!(got.value.as_deref(), Some(value.as_str()));
    assert!(c.get_token("auto1").await.unwrap().value.is_none());

    // Refresh the auto-refreshing token: same uuid, new dates; the expiring one is refused.
    app.clock.as_ref();
    let refreshed = c.refresh_token("auto1").await.unwrap();
    assert_eq!(refreshed.uuid, auto["uuid"].as_str().unwrap());
    assert_eq!(refreshed.latest_refresh_date.as_deref(), Some("2026-11-28"));
    assert!(!refreshed.namespace_permissions.is_empty(), "refresh responses carry namespacePermissions");
    let (s, _, body) = raw(c, Method::POST, "/edgekv/v1/tokens/exp1/refresh", None).await;
    assert_edgekv_error(s, &body, 400, "EKV_3000");
    assert!(body["detail"].as_str().unwrap().contains("cannot be refreshed"), "{body}");

    // Revoke: {name, uuid}; then gone from retrieve and list; the name is free again.
    let (s, _, revoked) = raw(c, Method::DELETE, "/edgekv/v1/tokens/exp1", None).await;
    assert_eq!(s, 200);
    assert_eq!(revoked, serde_json::json!({"name": "exp1", "uuid": exp["uuid"]}));
    let (s, _, body) = raw(c, Method::GET, "/edgekv/v1/tokens/exp1", None).await;
    assert_edgekv_error(s, &body, 404, "EKV_3000");
    assert_eq!(body["detail"], "Token with name exp1 does not exist.");
    let (s, _, body) = raw(c, Method::DELETE, "/edgekv/v1/tokens/exp1", None).await;
    assert_edgekv_error(s, &body, 404, "EKV_3000");
    assert_eq!(c.list_tokens(true).await.unwrap().tokens.len(), 2);
    let (s, _, again) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("exp1", true, false, "", &[("default", "r")]))).await;
    assert_eq!(s, 200);
    assert_ne!(again["uuid"], exp["uuid"]);
    app.server.shutdown().await;
}

#[tokio::test]
async fn client_quirks_are_accepted() {
    let app = spawn_app().await;
    let c = &app.admin;
    // GET and DELETE with the CLI's `""` body; refresh with an empty JSON body.
    raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("q1", true, false, "", &[("default", "r")]))).await;
    let (s, _, _) = raw(c, Method::GET, "/edgekv/v1/tokens", Some("\"\"")).await;
    assert_eq!(s, 200);
    let (s, _, _) = raw(c, Method::GET, "/edgekv/v1/tokens/q1", Some("\"\"")).await;
    assert_eq!(s, 200);
    let (s, _, _) = raw(c, Method::POST, "/edgekv/v1/tokens/q1/refresh", Some("")).await;
    assert_eq!(s, 200);
    let (s, _, init) = raw(c, Method::PUT, "/edgekv/v1/initialize", Some("")).await;
    assert_eq!((s, init["accountStatus"].as_str()), (200, Some("INITIALIZED")), "already initialized → 200");
    let (s, _, init) = raw(c, Method::GET, "/edgekv/v1/initialize", Some("\"\"")).await;
    assert_eq!(s, 200);
    assert!(init["cpcode"].as_str().unwrap().chars().all(|ch| ch.is_ascii_digit()));
    // accountSwitchKey, unencoded, in the signed query.
    let (s, _, _) = raw(c, Method::GET, "/edgekv/v1/tokens?accountSwitchKey=ACC-123:1-2ABC", None).await;
    assert_eq!(s, 200);
    let (s, _, list) =
        raw(c, Method::GET, "/edgekv/v1/tokens?includeExpired=true&accountSwitchKey=K", Some("\"\"")).await;
    assert_eq!((s, list["tokens"].as_array().unwrap().len()), (200, 1));
    let (s, _, _) = raw(c, Method::DELETE, "/edgekv/v1/tokens/q1", Some("\"\"")).await;
    assert_eq!(s, 200);
    // An empty list still has the array.
    let (s, _, list) = raw(c, Method::GET, "/edgekv/v1/tokens", None).await;
    assert_eq!((s, list), (200, serde_json::json!({"tokens": []})));
    app.server.shutdown().await;
}

#[tokio::test]
async fn every_validation_error_is_a_clear_problem() {
    let app = spawn_app_at(noon()).await;
    let c = &app.admin;
    let post = |b: String| async move { raw(c, Method::POST, "/edgekv/v1/tokens", Some(&b)).await };
    let cases: Vec<(String, u16, &str, &str)> = vec![
        (cli_body("bad name", true, false, "", &[("default", "r")]), 400, "EKV_2000", "Name contains invalid characters."),
        (cli_body("-lead", true, false, "", &[("default", "r")]), 400, "EKV_2000", "invalid characters"),
        (cli_body(&"n".repeat(33), true, false, "", &[("default", "r")]), 400, "EKV_2000", "between 1 and 32"),
        (cli_body("t", false, false, "", &[("default", "r")]), 400, "EKV_2000", "at least one network"),
        (cli_body("t", true, false, "", &[("nowhere", "r")]), 400, "EKV_2000", "does not exist on the staging network"),
        (cli_body("t", true, false, "", &[("default", "x")]), 400, "EKV_2000", "Invalid permission"),
        (cli_body("t", true, false, "", &[("default", "rr")]), 400, "EKV_2000", "repeated"),
        (cli_body("t", true, false, "", &[("default", "")]), 400, "EKV_2000", "at least one of r, w, d"),
        (cli_body("t", true, false, "", &[]), 400, "EKV_2000", "at least one namespace"),
        (cli_body("t", true, false, "2027/01/01", &[("default", "r")]), 400, "EKV_2000", "ISO-8601"),
        (cli_body("t", true, false, "2026-11-28", &[("default", "r")]), 400, "EKV_2000", "at least 1 day"),
        (cli_body("t", true, false, "2027-05-29", &[("default", "r")]), 400, "EKV_2000", "at most 6 months"),
        (
            r#"{"name":"t","allowOnProduction":false,"allowOnStaging":true,"namespacePermissions":{"default":["r"]},"colour":"red"}"#.into(),
            400,
            "EKV_2000",
            "unknown field",
        ),
        (r#"{"name":"t","allowOnStaging":true,"namespacePermissions":{"default":["r"]}}"#.into(), 400, "EKV_2000", "allowOnProduction"),
        (
            r#"{"name":"t","allowOnProduction":"yes","allowOnStaging":true,"namespacePermissions":{"default":["r"]}}"#.into(),
            400,
            "EKV_2000",
            "true or false",
        ),
        (
            r#"{"name":"t","allowOnProduction":false,"allowOnStaging":true,"restrictToEwids":["1","2","3","4","5","6","7","8","9"],"namespacePermissions":{"default":["r"]}}"#.into(),
            400,
            "EKV_2000",
            "at most 8 EdgeWorker IDs",
        ),
        (
            r#"{"name":"t","allowOnProduction":false,"allowOnStaging":true,"restrictToEwids":["abc"],"namespacePermissions":{"default":["r"]}}"#.into(),
            400,
            "EKV_2000",
            "is not a number",
        ),
        (
            r#"{"name":"t","allowOnProduction":false,"allowOnStaging":true,"namespacePermissions":{"default":["r"],"default":["w"]}}"#.into(),
            400,
            "EKV_2000",
            "repeated",
        ),
        (r#"{"name":"t","name":"u","allowOnProduction":false,"allowOnStaging":true,"namespacePermissions":{}}"#.into(), 422, "EKV_2001", "duplicate"),
        (r#"{"name": "t", "#.into(), 422, "EKV_2001", "syntax error"),
        ("".into(), 400, "EKV_2000", "JSON body"),
    ];
    for (body, status, code, needle) in cases {
        let (s, _, resp) = post(body.clone()).await;
        assert_edgekv_error(s, &resp, status, code);
        assert!(resp["detail"].as_str().unwrap().contains(needle), "{body} → {resp}");
    }
    // More than 20 namespaces.
    let many: Vec<(String, &str)> = (0..21).map(|i| (format!("ns{i}"), "r")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    let (s, _, resp) = post(cli_body("t", true, false, "", &many)).await;
    assert_edgekv_error(s, &resp, 400, "EKV_2000");
    assert!(resp["detail"].as_str().unwrap().contains("at most 20 namespaces"), "{resp}");
    // Bad names on the path.
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/tokens/bad%20name", None).await;
    assert_edgekv_error(s, &resp, 400, "EKV_2000");
    assert_eq!(resp["detail"], "Name contains invalid characters.");
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/tokens?includeExpired=maybe", None).await;
    assert_edgekv_error(s, &resp, 400, "EKV_2000");
    // Nothing was created by any of that.
    assert!(c.list_tokens(true).await.unwrap().tokens.is_empty());
    // Unknown paths and methods are problems too.
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/nothing-here", None).await;
    assert_edgekv_error(s, &resp, 404, "EKV_9000");
    let (s, _, resp) = raw(c, Method::PATCH, "/edgekv/v1/tokens", None).await;
    assert_edgekv_error(s, &resp, 405, "EKV_2000");
    app.server.shutdown().await;
}

#[tokio::test]
async fn duplicate_names_conflict_and_concurrent_creates_have_one_winner() {
    let app = spawn_app().await;
    let body = cli_body("dup", true, false, "", &[("default", "r")]);
    let (s, _, _) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200);
    let (s, _, resp) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_edgekv_error(s, &resp, 409, "EKV_3000");
    assert_eq!(resp["detail"], "Token with name dup is already stored.");

    let body = cli_body("race", true, false, "", &[("default", "r")]);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = app.admin.clone();
            let b = body.clone();
            tokio::spawn(async move { raw(&c, Method::POST, "/edgekv/v1/tokens", Some(&b)).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 49, "{statuses:?}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_are_gone_listed_for_30_days_then_purged() {
    let clock = noon();
    let app = spawn_app_at(clock.clone()).await;
    let c = &app.admin;
    let (s, _, t) = raw(
        c,
        Method::POST,
        "/edgekv/v1/tokens",
        Some(&cli_body("short", true, false, "2026-11-29", &[("default", "r")])),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    // 23:59:59 on the expiry day is still valid; one second later it is expired.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap());
    assert!(c.get_token("short").await.is_ok());
    clock.advance(Duration::seconds(1));
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/tokens/short", None).await;
    assert_edgekv_error(s, &resp, 410, "EKV_3000");
    assert_eq!(resp["detail"], "Token has expired.");
    assert!(c.list_tokens(false).await.unwrap().tokens.is_empty());
    assert_eq!(c.list_tokens(true).await.unwrap().tokens.len(), 1);
    // The name may be reused while the expired one is still listed.
    let (s, _, _) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("short", true, false, "", &[("default", "r")]))).await;
    assert_eq!(s, 200);
    assert_eq!(c.list_tokens(true).await.unwrap().tokens.len(), 2);
    // After 30 days it is no longer listed, and the purge job deletes it.
    clock.advance(Duration::days(30) + Duration::seconds(1));
    let listed = c.list_tokens(true).await.unwrap().tokens;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].expiry, "9999-12-31");
    let report = edgeward_server::jobs::run_once(&app.server.state, clock_now(&app)).await;
    assert_eq!(report.purged, 1);
    let old = uuid::Uuid::parse_str(t["uuid"].as_str().unwrap()).unwrap();
    assert!(app.server.state.store.token_by_uuid(old).await.unwrap().is_none());
    app.server.shutdown().await;
}

/// Retrieval is served from a cache of expiring tokens' records (`token_names`): a record kept
/// there is never served once its token is revoked or expired, so the token that holds the name
/// next is the one retrieved. Fails if the cache stops asking the gate or the clock.
#[tokio::test]
async fn a_retrieved_token_is_not_served_once_revoked_or_expired() {
    let clock = noon();
    let app = spawn_app_at(clock.clone()).await;
    let c = &app.admin;
    let create = |expiry: &'static str| async move {
        let (s, _, t) = raw(
            c,
            Method::POST,
            "/edgekv/v1/tokens",
            Some(&cli_body("kept", true, false, expiry, &[("default", "r")])),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        t["uuid"].as_str().unwrap().to_owned()
    };
    let first = create("2026-12-20").await;
    for _ in 0..2 {
        assert_eq!(c.get_token("kept").await.unwrap().uuid, first, "retrieved (and kept)");
    }
    c.revoke_token("kept").await.unwrap();
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/tokens/kept", None).await;
    assert_eq!(s, 404, "a revoked token is not retrieved: {resp}");
    let second = create("2026-11-29").await;
    assert_eq!(c.get_token("kept").await.unwrap().uuid, second, "the name's next holder");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
    let (s, _, resp) = raw(c, Method::GET, "/edgekv/v1/tokens/kept", None).await;
    assert_edgekv_error(s, &resp, 410, "EKV_3000");
    let third = create("2026-12-31").await;
    assert_eq!(c.get_token("kept").await.unwrap().uuid, third, "the holder after the expired one");
    app.server.shutdown().await;
}

fn clock_now(app: &TestApp) -> chrono::DateTime<Utc> {
    app.clock.now()
}

#[tokio::test]
async fn scheduled_refresh_renews_due_tokens() {
    let clock = noon();
    let app = spawn_app_at(clock.clone()).await;
    let t = app
        .admin
        .create_token(&serde_json::from_str(&cli_body("sched", true, true, "", &[("default", "r")])).unwrap())
        .await
        .unwrap();
    assert_eq!(t.next_scheduled_refresh_date.as_deref(), Some("2027-01-27"));
    clock.set(Utc.with_ymd_and_hms(2027, 1, 27, 1, 0, 0).unwrap());
    let report = edgeward_server::jobs::run_once(&app.server.state, app.clock.now()).await;
    assert_eq!(report.refreshed, 1);
    let after = app.admin.get_token("sched").await.unwrap();
    assert_eq!(after.uuid, t.uuid, "the reference stays the same");
    assert_eq!(after.latest_refresh_date.as_deref(), Some("2027-01-27"));
    assert_eq!(after.next_scheduled_refresh_date.as_deref(), Some("2027-03-28"));
    app.server.shutdown().await;
}

#[tokio::test]
async fn the_token_limit_is_enforced_and_counts_expired_tokens() {
    let clock = noon();
    let app = spawn_app_with(|c| c.limits.max_tokens_per_account = 2, std::sync::Arc::new(clock.clone())).await;
    let c = &app.admin;
    for (n, e) in [("a", "2026-11-29"), ("b", "")] {
        let (s, _, _) =
            raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body(n, true, false, e, &[("default", "r")]))).await;
        assert_eq!(s, 200);
    }
    clock.advance(Duration::days(3)); // "a" expired but still listed: it counts
    let (s, _, resp) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("c", true, false, "", &[("default", "r")]))).await;
    assert_edgekv_error(s, &resp, 413, "EKV_9000");
    assert!(resp["detail"].as_str().unwrap().contains("allowed 2 tokens"), "{resp}");
    c.revoke_token("b").await.unwrap();
    let (s, _, _) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("c", true, false, "", &[("default", "r")]))).await;
    assert_eq!(s, 200);
    app.server.shutdown().await;
}

#[tokio::test]
async fn operational_endpoints_and_trace_ids() {
    let app = spawn_app().await;
    let http = app.plain_http();
    for path in ["/healthz", "/readyz", "/metrics", "/.well-known/jwks.json", "/openapi.json"] {
        let r = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["x-trace-id"].len(), 16, "{path}");
    }
    let jwks: serde_json::Value =
        http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["kid"], app.server.state.keys.current().set.active().kid());
    raw(&app.admin, Method::GET, "/edgekv/v1/tokens", None).await;
    let metrics = http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(
            r#"edgeward_http_requests_total{listener="admin",route="/edgekv/v1/tokens",method="GET",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("edgeward_soonest_token_expiry_seconds{"), "no expiring token yet: {metrics}");
    // The soonest expiry of a live token, in seconds, per account.
    let expiry = (Utc::now().date_naive() + Duration::days(3)).to_string();
    let body = cli_body("soon", true, false, &expiry, &[("default", "r")]);
    assert_eq!(raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await.0, 200);
    let metrics = http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = metrics.lines().find(|l| l.starts_with("edgeward_soonest_token_expiry_seconds{")).expect("the gauge");
    assert!(line.contains(&format!("cpcode=\"{}\"", app.server.state.cpcode)), "{line}");
    let secs: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((2 * 86_400..=4 * 86_400).contains(&secs), "{line}");
    assert!(metrics.contains("edgeward_notices_delivered_total 0"), "{metrics}");
    // The data plane listener answers on its own port.
    let data = reqwest::get(format!("http://{}/healthz", app.server.data_addr)).await.unwrap();
    assert_eq!(data.status(), 200);
    assert!(data.headers().contains_key("x-trace-id"));
    app.server.shutdown().await;
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/admin.json")).unwrap();
    assert!(
        committed == edgeward_server::openapi::document_text(),
        "openapi/admin.json is stale: run `cargo run -p edgeward -- openapi > openapi/admin.json`"
    );
}

#[test]
fn the_committed_data_plane_openapi_document_matches_the_code() {
    use edgeward_server::openapi::{document_text_of, Door};
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/data-plane.json")).unwrap();
    assert!(
        committed == document_text_of(Door::DataPlane),
        "openapi/data-plane.json is stale: run `cargo run -p edgeward -- openapi --data-plane > openapi/data-plane.json`"
    );
}

#[tokio::test]
async fn token_values_carry_edgekv_claims() {
    use base64::Engine as _;
    let app = spawn_app_at(noon()).await;
    let body = r#"{"name":"claims","allowOnProduction":true,"allowOnStaging":true,"restrictToEwids":["42"],
        "expiry":"2022-03-30","namespacePermissions":{"default":["d","r"]}}"#;
    // 2022 is in the past for this clock: refused. Use a valid date instead.
    let (s, _, _) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(body)).await;
    assert_eq!(s, 400);
    let body = body.replace("2022-03-30", "2027-03-30");
    let (s, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    let value = t["value"].as_str().unwrap();
    let parts: Vec<_> = value.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], app.server.state.keys.current().set.active().kid());
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["namespace-default"], serde_json::json!(["r", "d"]));
    assert_eq!(claims["env"], serde_json::json!(["s", "p"]));
    assert_eq!(claims["ewids"], "42");
    assert_eq!(claims["cpc"], t["cpcode"]);
    // The CP code is the account's, as the initialize endpoint reads it back from the store.
    let (s, _, account) = raw(&app.admin, Method::GET, "/edgekv/v1/initialize", None).await;
    assert_eq!(s, 200, "{account}");
    assert_eq!(t["cpcode"], account["cpcode"], "{account}");
    assert_eq!(claims["jti"], t["uuid"]);
    assert_eq!(claims["iss"], "edgeward");
    assert_eq!(claims["iat"], Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap().timestamp());
    assert_eq!(claims["exp"], Utc.with_ymd_and_hms(2027, 3, 30, 23, 59, 59).unwrap().timestamp());
    assert!(edgeward_token::verify(value, &app.server.state.keys.current().set).is_ok());
    app.server.shutdown().await;
}
