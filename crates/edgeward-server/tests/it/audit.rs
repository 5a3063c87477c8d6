//! The audit trail over HTTPS: every kind of change leaves exactly one record naming its actor,
//! a refused change leaves a failure record, failed authentication is recorded, and no record
//! carries a secret, a token value or a token reference.
#![allow(clippy::disallowed_methods, reason = "tests inspect the files of the data directories they run servers in")]

use std::collections::BTreeMap;

use crate::common::*;
use chrono::{TimeZone, Utc};
use edgeward_core::audit::{AuditFilter, AuditOutcome};
use edgeward_core::capability::Capability;
use edgeward_core::clock::ManualClock;
use reqwest::Method;
use serde_json::Value;

fn noon() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
}

async fn ok(c: &edgeward_client::Client, method: Method, path: &str, body: Option<&str>) -> Value {
    let (s, _, v) = raw(c, method.clone(), path, body).await;
    assert!((200..300).contains(&s), "{method} {path}: {s} {v}");
    v
}

/// A page of the trail, through the API.
async fn audit_page(app: &TestApp, query: &str) -> Value {
    let (s, _, v) = raw(&app.admin, Method::GET, &format!("/edgeward/v1/audit{query}"), None).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn every_change_leaves_one_record_with_its_actor_and_refusals_leave_failures() {
    let app = spawn_app_at(noon()).await;
    let c = &app.admin;
    let admin_name = app.server.state.store.list_api_clients().await.unwrap()[0].name.to_string();
    let mut secrets: Vec<String> = Vec::new();
    let edgerc = std::fs::read_to_string(&app.server.prepared.edgerc).unwrap();
    for line in edgerc.lines() {
        if let Some((k, v)) = line.split_once('=') {
            if ["client_secret", "access_token"].contains(&k.trim()) {
                secrets.push(v.trim().to_owned());
            }
        }
    }

    // Tokens: create both kinds, refresh, mark replaced, revoke.
    let auto =
        ok(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("auto1", true, false, "", &[("default", "r")]))).await;
    secrets.push(auto["uuid"].as_str().unwrap().to_owned());
    let exp = ok(
        c,
        Method::POST,
        "/edgekv/v1/tokens",
        Some(&cli_body("exp1", true, true, "2027-01-15", &[("default", "rw")])),
    )
    .await;
    secrets.push(exp["value"].as_str().unwrap().to_owned());
    ok(c, Method::POST, "/edgekv/v1/tokens/auto1/refresh", None).await;
    ok(c, Method::POST, "/edgeward/v1/tokens/auto1/replaced-by", Some(r#"{"name":"exp1"}"#)).await;
    ok(c, Method::DELETE, "/edgekv/v1/tokens/auto1", None).await;
    // The account (already initialized: a repeat that changes nothing is still one record).
    ok(c, Method::PUT, "/edgekv/v1/initialize", None).await;
    // Namespaces and items.
    let ns = r#"{"namespace":"ns1","retentionInSeconds":0,"geoLocation":"US","groupId":0}"#;
    ok(c, Method::POST, "/edgekv/v1/networks/staging/namespaces", Some(ns)).await;
    let ns2 = r#"{"namespace":"ns1","retentionInSeconds":86400,"geoLocation":"US","groupId":0}"#;
    ok(c, Method::PUT, "/edgekv/v1/networks/staging/namespaces/ns1", Some(ns2)).await;
    ok(c, Method::PUT, "/edgekv/v1/networks/staging/namespaces/ns1/groups/g/items/k1", Some(r#""v""#)).await;
    ok(c, Method::DELETE, "/edgekv/v1/networks/staging/namespaces/ns1/groups/g/items/k1", None).await;
    ok(c, Method::PUT, "/edgekv/v1/auth/namespaces/ns1", Some(r#"{"groupId":0}"#)).await;
    ok(c, Method::DELETE, "/edgekv/v1/networks/staging/namespaces/ns1?sync=true", None).await;
    // People and the expiry check.
    ok(c, Method::POST, "/edgeward/v1/users", Some(r#"{"name":"alice","grants":["CREATE_TOKEN"]}"#)).await;
    ok(c, Method::PATCH, "/edgeward/v1/users/alice", Some(r#"{"active":false}"#)).await;
    ok(c, Method::POST, "/edgeward/v1/contacts", Some(r#"{"email":"ops@example.com","name":"Ops"}"#)).await;
    ok(c, Method::DELETE, "/edgeward/v1/contacts/ops@example.com", None).await;
    ok(c, Method::POST, "/edgeward/v1/notify/run?dryRun=true", None).await;
    // Reads leave nothing.
    ok(c, Method::GET, "/edgekv/v1/tokens", None).await;
    ok(c, Method::GET, "/edgekv/v1/tokens/exp1", None).await;

    // Refused: a client without CREATE_TOKEN, and a create that fails validation.
    let viewer = app.client_with("viewer", &[Capability::ViewToken]).await;
    let (s, _, v) =
        raw(&viewer, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("nope", true, false, "", &[("default", "r")])))
            .await;
    assert_eq!(s, 400, "EdgeKV refuses a missing grant with 400 EKV_1002: {v}");
    let (s, _, _) = raw(c, Method::DELETE, "/edgekv/v1/tokens/nobody", None).await;
    assert_eq!(s, 404);
    // Reading the trail is a grant of its own.
    let (s, _, v) = raw(&viewer, Method::GET, "/edgeward/v1/audit", None).await;
    assert_edgekv_error(s, &v, 400, "EKV_1002");

    let page = audit_page(&app, "?limit=1000").await;
    let records = page["records"].as_array().unwrap();
    let mut by_action: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in records {
        by_action.entry(r["action"].as_str().unwrap().to_owned()).or_default().push(r);
    }
    let successes = |action: &str| -> Vec<&Value> {
        by_action.get(action).map_or(vec![], |v| v.iter().copied().filter(|r| r["outcome"] == "success").collect())
    };
    for (action, target, n) in [
        ("token.create", "token/auto1", 1),
        ("token.create", "token/exp1", 1),
        ("token.refresh", "token/auto1", 1),
        ("token.replaced", "token/auto1", 1),
        ("token.revoke", "token/auto1", 1),
        ("account.initialize", "account", 1),
        ("namespace.create", "namespace/staging/ns1", 1),
        ("namespace.update", "namespace/staging/ns1", 1),
        ("namespace.reauthorize", "namespace/ns1", 1),
        ("namespace.delete", "namespace/staging/ns1", 1),
        ("item.write", "item/staging/ns1/g/k1", 1),
        ("item.delete", "item/staging/ns1/g/k1", 1),
        ("user.create", "user/alice", 1),
        ("user.update", "user/alice", 1),
        ("contact.put", "contact/ops@example.com", 1),
        ("contact.remove", "contact/ops@example.com", 1),
        ("notify.run", "notify", 1),
    ] {
        let found: Vec<&Value> = successes(action).into_iter().filter(|r| r["target"] == target).collect();
        assert_eq!(found.len(), n, "{action} {target}: exactly one record; trail: {page:#}");
        let r = found[0];
        assert_eq!(r["actor"], format!("client:{admin_name}"), "{r}");
        assert_eq!(r["source"], "127.0.0.1", "{r}");
        assert_eq!(r["requestId"].as_str().map(str::len), Some(16), "{r}");
    }
    assert!(by_action.keys().all(|a| a != "token.view"), "reads are not audited");
    let failures: Vec<&Value> = records.iter().filter(|r| r["outcome"] == "failure").collect();
    assert!(
        failures.iter().any(|r| r["actor"] == "client:viewer"
            && r["action"] == "token.create"
            && r["target"] == "token/nope"
            && r["detail"] == "400 EKV_1002"),
        "the refused creation: {failures:#?}"
    );
    assert!(
        failures.iter().any(|r| r["action"] == "token.revoke" && r["target"] == "token/nobody"),
        "the failed revocation: {failures:#?}"
    );

    // Filters: by action prefix, by target, paging.
    let tokens = audit_page(&app, "?action=token.&outcome=success").await;
    assert_eq!(tokens["records"].as_array().unwrap().len(), 5);
    let one = audit_page(&app, "?limit=1").await;
    let next = one["next"].as_i64().expect("more pages");
    let older = audit_page(&app, &format!("?limit=1&before={next}")).await;
    assert!(older["records"][0]["id"].as_i64().unwrap() < next);
    let (s, _, v) = raw(c, Method::GET, "/edgeward/v1/audit?outcome=maybe", None).await;
    assert_edgekv_error(s, &v, 400, "EKV_2000");
    let (s, _, v) = raw(c, Method::GET, "/edgeward/v1/audit?since=yesterday", None).await;
    assert_edgekv_error(s, &v, 400, "EKV_2000");
    let (s, _, v) = raw(c, Method::GET, "/edgeward/v1/audit?actor=a&actor=b", None).await;
    assert_edgekv_error(s, &v, 400, "EKV_2000");

    // No secret, token value or token reference in any record, as the store holds them.
    let all = app.server.state.store.audit_records(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
    let text = serde_json::to_string(&all).unwrap();
    assert!(secrets.len() >= 4);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret reached the audit trail");
    }
}

#[tokio::test]
async fn failed_authentication_is_recorded_once_per_source_and_reason() {
    let app = spawn_app_at(noon()).await;
    let bad = "EG1-HMAC-SHA256 client_token=akab-nobody;access_token=akab-x;timestamp=20261128T12:00:00+0000;nonce=5f1c0f8e-7a0e-4d55-9a36-1d8c1b8e6f10;signature=AAAA";
    for _ in 0..5 {
        let (s, _, _) = raw_with(&app.admin, Method::GET, "/edgekv/v1/tokens", None, Some(bad.into())).await;
        assert_eq!(s, 401);
    }
    let filter = AuditFilter { action: Some("auth.denied".into()), limit: 100, ..Default::default() };
    // The record is written off the request path: wait for it, a bounded number of times.
    let mut found = Vec::new();
    for _ in 0..250 {
        found = app.server.state.store.audit_records(&filter).await.unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found.len(), 1, "five refusals in a row from one source: one record, {found:#?}");
    let r = &found[0].record;
    assert_eq!(r.outcome, AuditOutcome::Failure);
    assert_eq!(r.actor, "unauthenticated");
    assert_eq!(r.source, "127.0.0.1");
    assert_eq!(r.target, "GET /edgekv/v1/tokens");
    assert_eq!(r.detail.as_deref(), Some("inactive"));
}

/// A page of the trail is read by the client's types exactly as the endpoint writes it, and the
/// client's `audit` sends filters whose values need encoding (`+` in a time) intact.
#[tokio::test]
async fn the_client_reads_the_audit_page_as_the_endpoint_writes_it() {
    use edgeward_wire::AuditPage;
    let app = spawn_app_at(noon()).await;
    let c = &app.admin;
    for name in ["one", "two"] {
        let body = cli_body(name, true, false, "2026-12-24", &[("default", "r")]);
        ok(c, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    }
    let page: AuditPage = exact(c, Method::GET, "/edgeward/v1/audit?action=token.create&limit=1", None).await;
    let next = page.next.expect("a second page");
    assert_eq!((page.records.len(), page.records[0].target.as_str()), (1, "token/two"));
    assert_eq!(c.audit(&[("action", "token.create"), ("limit", "1")]).await.unwrap(), page);
    let rest = c
        .audit(&[("target", "token/"), ("since", "2026-11-28T11:00:00+00:00"), ("before", &next.to_string())])
        .await
        .unwrap();
    assert_eq!(rest.records.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(), ["token/one"]);
    assert_eq!((rest.records[0].outcome, rest.next), (AuditOutcome::Success, None));
}
