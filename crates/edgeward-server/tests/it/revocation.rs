//! A revocation holds for as long as the token could otherwise be valid: past maintenance's
//! retention, across a restart, and on a node started afterwards; and a correctly signed value
//! whose token the store does not know is refused.

use std::sync::Arc;

use crate::common::*;
use chrono::{Duration, TimeZone, Utc};
use edgeward_core::clock::{Clock, ManualClock};
use reqwest::Method;

const ITEM: &str = "/api/v1/namespaces/default/groups/g/items/i";

async fn get(addr: std::net::SocketAddr, value: &str) -> (u16, String) {
    data_get(addr, ITEM, value).await
}

/// What the server logs at WARN and above while this test binary runs (every test's server logs
/// into it; assertions only look for what one test caused).
fn captured_warnings() -> Arc<std::sync::Mutex<Vec<u8>>> {
    static LOG: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
        log
    })
    .clone()
}

struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

#[tokio::test]
async fn a_revocation_outlives_maintenance_a_restart_and_a_later_node() {
    let clock = ManualClock::new(noon());
    let app = spawn_app_at(clock.clone()).await;
    // About five months left.
    let body = cli_body("long", false, true, "2027-04-28", &[("default", "r")]);
    let (s, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    let value = t["value"].as_str().unwrap().to_owned();
    assert_eq!(get(app.server.data_addr, &value).await.0, 404, "valid before");
    app.admin.revoke_token("long").await.unwrap();

    // 31 days later maintenance runs: past the 30-day retention, but the value has not expired.
    clock.advance(Duration::days(31));
    let report = edgeward_server::jobs::run_once(&app.server.state, clock.now()).await;
    assert_eq!(report.purged, 0, "the revoked token is kept while its value could be valid");
    let TestApp { server, dir, .. } = app;
    server.shutdown().await;

    // Restarted on the same data directory (same database): still refused, as revoked (not
    // merely unknown: the store still holds the token).
    let later = Arc::new(ManualClock::new(clock.now()));
    let again = edgeward_server::spawn(config(dir.path()), later.clone()).await.unwrap();
    let (s, body) = get(again.data_addr, &value).await;
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("has been revoked"), "{body}");
    // The admin API answers for the name as EdgeKV does for a revoked token (the name is free),
    // not with the token's value.
    let edgerc = edgerc_of(&again);
    let admin = edgeward_client::Client::new(edgerc, Some(&again.prepared.tls_cert)).unwrap().with_clock(later.clone());
    let (s, _, body) = raw(&admin, Method::GET, "/edgekv/v1/tokens/long", None).await;
    assert_edgekv_error(s, &body, 404, "EKV_3000");

    // A second node started afterwards on the same database refuses it too.
    let second = edgeward_server::spawn(config(dir.path()), later.clone()).await.unwrap();
    let (s, body) = get(second.data_addr, &value).await;
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("has been revoked"), "{body}");

    // Once the value has expired and the retention has passed, the row goes; the value stays refused.
    later.set(Utc.with_ymd_and_hms(2027, 4, 29, 0, 0, 1).unwrap());
    let report = edgeward_server::jobs::run_once(&second.state, later.now()).await;
    assert_eq!(report.purged, 1);
    assert_eq!(get(second.data_addr, &value).await.0, 401);
    again.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn a_signed_value_the_store_does_not_know_is_refused() {
    let log = captured_warnings();
    let app = spawn_app_at(ManualClock::new(noon())).await;
    // Signed with the server's own key, for a token that was never stored.
    let mut namespaces = std::collections::BTreeMap::new();
    namespaces.insert("namespace-default".to_owned(), serde_json::json!(["r"]));
    let claims = edgeward_token::Claims {
        iss: "edgeward".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: noon().timestamp(),
        exp: (noon() + Duration::days(30)).timestamp(),
        cpc: app.server.state.cpcode.clone(),
        env: vec!["p".into()],
        ewids: "all".into(),
        name: "ghost".into(),
        namespaces,
    };
    let forged = edgeward_token::sign(&claims, app.server.state.keys.current().set.active());
    for _ in 0..2 {
        let (s, body) = get(app.server.data_addr, &forged).await;
        assert_eq!(s, 401, "{body}");
        assert!(body.contains("The access token is unknown."), "{body}");
    }
    // Each refusal is reported, naming the signing key, never the value or its jti.
    let kid = app.server.state.keys.current().set.active().kid().to_owned();
    let warnings = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    // This server's signing key is its own: other tests' servers in this binary report theirs.
    let reports: Vec<&str> =
        warnings.lines().filter(|l| l.contains("unknown to the store") && l.contains(&format!("kid={kid}"))).collect();
    assert_eq!(reports.len(), 2, "{warnings}");
    for report in reports {
        assert!(report.contains("WARN"), "{report}");
    }
    assert!(!warnings.contains(&claims.jti) && !warnings.contains(&forged), "{warnings}");
    // A stored token's value is accepted (looked up once, then cached).
    let body = cli_body("real", false, true, "2026-12-20", &[("default", "r")]);
    let (_, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    let value = t["value"].as_str().unwrap();
    assert_eq!(get(app.server.data_addr, value).await.0, 404);
    assert_eq!(get(app.server.data_addr, value).await.0, 404);
    app.server.shutdown().await;
}

/// Two servers on one database, each running its maintenance at the same moment past a
/// scheduled revocation (on a manual clock: the servers' own timers never see it due): the token
/// is revoked once, audited once, refused on both nodes; a cancelled schedule and one not yet
/// due are left alone.
#[tokio::test]
async fn a_scheduled_revocation_is_carried_out_once_by_two_servers_at_the_same_moment() {
    let clock = ManualClock::new(noon());
    let app = spawn_app_at(clock.clone()).await;
    let second = edgeward_server::spawn(config(app.dir.path()), Arc::new(clock.clone())).await.unwrap();
    let mut values = Vec::new();
    for name in ["old", "kept", "later"] {
        let body = cli_body(name, false, true, "2027-04-28", &[("default", "r")]);
        let (s, _, t) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
        assert_eq!(s, 200, "{t}");
        values.push(t["value"].as_str().unwrap().to_owned());
    }
    let at = |minutes: i64| edgeward_wire::ScheduleRevocation {
        revoke_at: Some((noon() + Duration::minutes(minutes)).to_rfc3339()),
        revoke_after_seconds: None,
    };
    app.admin.schedule_revocation("old", &at(60)).await.unwrap();
    app.admin.schedule_revocation("kept", &at(60)).await.unwrap();
    app.admin.cancel_revocation("kept").await.unwrap();
    app.admin.schedule_revocation("later", &at(600)).await.unwrap();

    // Not yet due: nothing happens.
    let early = noon() + Duration::minutes(30);
    let report = edgeward_server::jobs::run_once(&app.server.state, early).await;
    assert_eq!(report.revoked, 0);

    // Due on both at once: one of them revokes it.
    let due = noon() + Duration::minutes(90);
    let (a, b) = tokio::join!(
        edgeward_server::jobs::run_once(&app.server.state, due),
        edgeward_server::jobs::run_once(&second.state, due)
    );
    assert_eq!(a.revoked + b.revoked, 1, "{a:?} {b:?}");
    let (a, b) = tokio::join!(
        edgeward_server::jobs::run_once(&app.server.state, due),
        edgeward_server::jobs::run_once(&second.state, due)
    );
    assert_eq!(a.revoked + b.revoked, 0, "done already: {a:?} {b:?}");

    let audit = app.admin.audit(&[("action", "token.revoke")]).await.unwrap();
    let targets: Vec<_> = audit.records.iter().map(|r| (r.actor.as_str(), r.target.as_str())).collect();
    assert_eq!(targets, [("maintenance", "token/old")]);

    // Refused on both nodes (the other one learns it through the change feed).
    for addr in [app.server.data_addr, second.data_addr] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (s, body) = get(addr, &values[0]).await;
            if s == 401 {
                assert!(body.contains("has been revoked"), "{body}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{addr}: still {s}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(get(addr, &values[1]).await.0, 404, "cancelled: still valid");
        assert_eq!(get(addr, &values[2]).await.0, 404, "not due yet: still valid");
    }
    second.shutdown().await;
}
