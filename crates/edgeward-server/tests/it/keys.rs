//! Token-signing keys at run time: maintenance retires a key once its last token has expired, a
//! server learns a key added elsewhere from the first value it signed, and forged kids do not
//! make a server read the keys per request.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]

use std::sync::Arc;

use crate::common::*;
use base64::Engine as _;
use chrono::{Duration, TimeZone, Utc};
use edgeward_core::clock::{Clock, ManualClock, SystemClock};
use edgeward_server::keys::{self, KeyState};
use reqwest::Method;

async fn create(app_admin: &edgeward_client::Client, name: &str, expiry: &str) -> (String, String) {
    let body = cli_body(name, false, true, expiry, &[("default", "rw")]);
    let (s, _, t) = raw(app_admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{t}");
    (t["uuid"].as_str().unwrap().to_owned(), t["value"].as_str().unwrap().to_owned())
}

async fn put(addr: std::net::SocketAddr, token: &str) -> u16 {
    reqwest::Client::new()
        .put(format!("http://{addr}/api/v1/namespaces/default/groups/g/items/i"))
        .header("X-Akamai-EdgeDB-Auth", token)
        .body("v")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn state_of(report: &[keys::KeyReport], kid: &str) -> KeyState {
    report.iter().find(|k| k.kid == kid).unwrap().state
}

#[tokio::test]
async fn maintenance_retires_a_key_once_its_last_token_has_expired() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap());
    let app = spawn_app_at(clock.clone()).await;
    let st = &app.server.state;
    let store = st.store.as_ref();
    let (_, short) = create(&app.admin, "short", "2026-12-01").await;
    let k0 = edgeward_token::header_kid(&short).unwrap();
    let k1 = keys::rotate(store, &st.data_key.current(), clock.now()).await.unwrap();
    st.keys.reload(store, &st.data_key.current()).await.unwrap();
    let (fresh_uuid, fresh) = create(&app.admin, "fresh", "2026-12-20").await;
    assert_eq!(edgeward_token::header_kid(&fresh).unwrap(), k1, "the new key signs");
    assert_eq!(put(app.server.data_addr, &short).await, 200, "the old key still verifies");

    // k0 still vouches for a live token: kept, however long ago k1 took over.
    clock.advance(Duration::hours(2));
    assert_eq!(edgeward_server::jobs::run_once(st, clock.now()).await.keys_retired, 0);
    let report = keys::report(store, clock.now()).await.unwrap();
    assert_eq!((state_of(&report, &k0), state_of(&report, &k1)), (KeyState::Verifying, KeyState::Active));
    assert_eq!(report.iter().find(|k| k.kid == k0).unwrap().live_tokens, 1);

    // Its last token expired: retired, and gone from the JWKS.
    clock.set(Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 1).unwrap());
    assert_eq!(edgeward_server::jobs::run_once(st, clock.now()).await.keys_retired, 1);
    assert_eq!(state_of(&keys::report(store, clock.now()).await.unwrap(), &k0), KeyState::Retired);
    let jwks: serde_json::Value =
        app.plain_http().get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec![k1.as_str()]);

    // A key whose tokens are all revoked waits out the grace after the newer key took over.
    let k2 = keys::rotate(store, &st.data_key.current(), clock.now()).await.unwrap();
    let uuid = uuid::Uuid::parse_str(&fresh_uuid).unwrap();
    store.revoke_token(uuid, clock.now()).await.unwrap();
    assert_eq!(edgeward_server::jobs::run_once(st, clock.now()).await.keys_retired, 0, "within the grace");
    clock.advance(keys::RETIRE_GRACE + Duration::minutes(1));
    assert_eq!(edgeward_server::jobs::run_once(st, clock.now()).await.keys_retired, 1);
    let report = keys::report(store, clock.now()).await.unwrap();
    assert_eq!((state_of(&report, &k1), state_of(&report, &k2)), (KeyState::Retired, KeyState::Active));
    assert_eq!(edgeward_server::jobs::run_once(st, clock.now()).await.keys_retired, 0, "the active key stays");
    app.server.shutdown().await;
}

#[tokio::test]
async fn a_key_added_elsewhere_verifies_at_once_and_forged_kids_are_read_for_at_most_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = |poll_ms: u64| {
        let dir = dir.path().to_owned();
        async move {
            let mut cfg = config(&dir);
            cfg.change_poll_ms = poll_ms;
            let server = edgeward_server::spawn(cfg, Arc::new(SystemClock)).await.unwrap();
            let edgerc = edgerc_of(&server);
            let admin = edgeward_client::Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap();
            (server, admin)
        }
    };
    let (a, admin_a) = start(50).await;
    // B polls the feed once an hour: it can only learn the new key from the value itself (on
    // PostgreSQL, NOTIFY may tell it first; the outcome is the same).
    let (b, _) = start(3_600_000).await;
    let expiry = (Utc::now().date_naive() + Duration::days(10)).to_string();
    let (_, old_value) = create(&admin_a, "old", &expiry).await;
    assert_eq!(put(b.data_addr, &old_value).await, 200);

    let st = &a.state;
    let new = keys::rotate(st.store.as_ref(), &st.data_key.current(), SystemClock.now()).await.unwrap();
    st.keys.reload(st.store.as_ref(), &st.data_key.current()).await.unwrap();
    let (_, value) = create(&admin_a, "new", &expiry).await;
    assert_eq!(edgeward_token::header_kid(&value).unwrap(), new);
    assert_eq!(put(b.data_addr, &value).await, 200, "the first value signed by the new key is accepted");

    // Values naming a kid nobody has: refused, and at most one read of the keys for all of them.
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"alg":"EdDSA","typ":"JWT","kid":"ffffffffffffffff"}"#);
    let forged = format!("{header}.{}", value.split_once('.').unwrap().1);
    let reads = b.state.keys.reloads();
    for _ in 0..50 {
        assert_eq!(put(b.data_addr, &forged).await, 401);
    }
    let more = b.state.keys.reloads() - reads;
    assert!(more <= 2, "{more} reads of the keys for 50 forged values");
    a.shutdown().await;
    b.shutdown().await;
}
