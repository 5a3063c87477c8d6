//! Namespaces, groups and items through the admin API.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]

use crate::common::*;
use edgeward_core::capability::Capability;
use reqwest::Method;

const NS: &str = "/edgekv/v1/networks/production/namespaces";

#[tokio::test]
async fn namespace_lifecycle_and_errors() {
    let app = spawn_app_with(
        |c| c.limits.max_namespaces_per_network = 3,
        std::sync::Arc::new(edgeward_core::clock::SystemClock),
    )
    .await;
    let c = &app.admin;
    let (s, _, list) = raw(c, Method::GET, NS, None).await;
    assert_eq!((s, list), (200, serde_json::json!({"namespaces": [{"namespace": "default"}]})));
    for q in ["?details=on", "?details=true"] {
        let (_, list) = (0, raw(c, Method::GET, &format!("/edgekv/v1/networks/STAGING/namespaces{q}"), None).await.2);
        assert_eq!(list["namespaces"][0]["retentionInSeconds"], 15_724_800, "{list}");
    }

    let body = r#"{"namespace":"shop","retentionInSeconds":86400,"groupId":"0","geoLocation":"EU"}"#;
    let (s, _, ns) = raw(c, Method::POST, NS, Some(body)).await;
    assert_eq!(s, 200, "{ns}");
    assert_eq!(
        (ns["namespace"].as_str(), ns["groupId"].as_u64(), ns["geoLocation"].as_str()),
        (Some("shop"), Some(0), Some("EU"))
    );
    assert_eq!(raw(c, Method::POST, NS, Some(body)).await.0, 200, "an identical create is idempotent");
    let cases = [
        (r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#, 409, "EKV_3000", "different configuration"),
        (r#"{"namespace":"x","groupId":0}"#, 400, "EKV_2000", "Retention period must be specified."),
        (r#"{"namespace":"x","retentionInSeconds":5,"groupId":0}"#, 400, "EKV_2000", "between 86400 and 315360000"),
        (
            r#"{"namespace":"x","retentionInSeconds":0,"groupId":0,"geoLocation":"MARS"}"#,
            400,
            "EKV_2000",
            "US, EU, JP, GLOBAL",
        ),
        (r#"{"namespace":"bad name","retentionInSeconds":0,"groupId":0}"#, 400, "EKV_9000", "A-Z a-z"),
        (r#"{"namespace":"default","retentionInSeconds":0,"groupId":0}"#, 409, "EKV_3000", "default"),
        (r#"{"namespace":"x","retentionInSeconds":0,"groupId":-1}"#, 400, "EKV_2000", "whole number"),
    ];
    for (b, status, code, needle) in cases {
        let (s, _, r) = raw(c, Method::POST, NS, Some(b)).await;
        assert_edgekv_error(s, &r, status, code);
        assert!(r["detail"].as_str().unwrap().contains(needle), "{b}: {r}");
    }
    let (s, _, r) = raw(c, Method::POST, "/edgekv/v1/networks/staging/namespaces", Some(body)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert_eq!(r["detail"], "The staging network only supports US location.");
    assert_eq!(
        raw(c, Method::POST, NS, Some(r#"{"namespace":"blog","retentionInSeconds":0,"groupId":0}"#)).await.0,
        200
    );
    let (s, _, r) = raw(c, Method::POST, NS, Some(r#"{"namespace":"more","retentionInSeconds":0,"groupId":0}"#)).await;
    assert_edgekv_error(s, &r, 413, "EKV_9000");
    assert_eq!(r["detail"], "Each account is allowed 3 namespaces. This limit has already been reached.");

    let (s, _, r) = raw(c, Method::GET, &format!("{NS}/nope"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_9000");
    assert_eq!(r["detail"], "The requested namespace does not exist.");
    let (s, _, r) = raw(
        c,
        Method::PUT,
        &format!("{NS}/shop"),
        Some(r#"{"namespace":"shop","retentionInSeconds":172800,"groupId":0,"geoLocation":"EU"}"#),
    )
    .await;
    assert_eq!((s, r["retentionInSeconds"].as_u64()), (200, Some(172_800)), "{r}");
    let (s, _, r) = raw(
        c,
        Method::PUT,
        &format!("{NS}/shop"),
        Some(r#"{"namespace":"shop","retentionInSeconds":172800,"groupId":7}"#),
    )
    .await;
    assert_edgekv_error(s, &r, 400, "EKV_3000");
    let (s, _, r) = raw(
        c,
        Method::PUT,
        &format!("{NS}/default"),
        Some(r#"{"namespace":"default","retentionInSeconds":86400,"groupId":0}"#),
    )
    .await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");

    // Items through the admin API.
    let item = format!("{NS}/shop/groups/countries/items/DE");
    let (s, _, r) = raw(c, Method::GET, &item, None).await;
    assert_edgekv_error(s, &r, 404, "EKV_9000");
    let (s, _, r) = raw(c, Method::PUT, &item, Some(r#"{"name":"Germany"}"#)).await;
    assert_eq!(s, 200, "{r}");
    assert!(r.as_str().unwrap().starts_with("Item was upserted in KV store with database"), "{r}");
    let (s, _, r) = raw(c, Method::GET, &item, None).await;
    assert_eq!((s, r), (200, serde_json::json!({"name": "Germany"})));
    raw(c, Method::PUT, &format!("{NS}/shop/groups/countries/items/FR"), Some("France")).await;
    raw(c, Method::PUT, &format!("{NS}/shop/groups/cities/items/Paris"), Some("x")).await;
    assert_eq!(
        raw(c, Method::GET, &format!("{NS}/shop/groups"), None).await.2,
        serde_json::json!(["cities", "countries"])
    );
    assert_eq!(
        raw(c, Method::GET, &format!("{NS}/shop/groups/countries"), None).await.2,
        serde_json::json!(["DE", "FR"])
    );
    assert_eq!(
        raw(c, Method::GET, &format!("{NS}/shop/groups/countries?maxItems=1"), None).await.2,
        serde_json::json!(["DE"])
    );
    let (s, _, r) = raw(c, Method::GET, &format!("{NS}/shop/groups/none"), None).await;
    assert_edgekv_error(s, &r, 404, "EKV_9000");
    let (s, _, r) = raw(c, Method::PUT, &item, Some(&"x".repeat(262_145))).await;
    assert_edgekv_error(s, &r, 413, "EKV_9000");
    let (s, _, r) = raw(c, Method::PUT, &format!("{NS}/nope/groups/g/items/i"), Some("x")).await;
    assert_edgekv_error(s, &r, 400, "EKV_9000");
    let (s, _, r) = raw(c, Method::GET, &format!("{NS}/shop/groups/countries/items/DE?sandboxId=sb"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert_eq!(raw(c, Method::DELETE, &item, None).await.0, 200);
    assert_eq!(raw(c, Method::DELETE, &item, None).await.0, 404);

    // A token can now name the new namespace.
    let (s, _, t) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("shop_ro", false, true, "", &[("shop", "r")]))).await;
    assert_eq!(s, 200, "{t}");
    let (s, _, t) =
        raw(c, Method::POST, "/edgekv/v1/tokens", Some(&cli_body("shop_stg", true, false, "", &[("shop", "r")]))).await;
    assert_edgekv_error(s, &t, 400, "EKV_2000");

    // Delete: async answers 202 (a scheduled deletion; see scheduled_namespace_deletion),
    // sync 200; default and unknown namespaces are refused.
    let (s, _, r) = raw(c, Method::DELETE, &format!("{NS}/blog"), None).await;
    assert_eq!(s, 202);
    assert!(r["scheduledDeleteTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(raw(c, Method::GET, &format!("{NS}/blog"), None).await.0, 200, "still there until its time");
    let (s, _, r) = raw(c, Method::DELETE, &format!("{NS}/shop?sync=true"), None).await;
    assert_eq!((s, r["operationPerformed"].as_str()), (200, Some("DELETED")), "{r}");
    assert_eq!(raw(c, Method::GET, &format!("{NS}/shop/groups"), None).await.0, 400, "gone with its items");
    let (s, _, r) = raw(c, Method::DELETE, &format!("{NS}/default"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let (s, _, r) = raw(c, Method::DELETE, &format!("{NS}/shop"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    app.server.shutdown().await;
}

#[tokio::test]
async fn namespace_and_data_grants() {
    let app = spawn_app().await;
    let stg = app.client_with("stg", &[Capability::ViewStagingNamespace, Capability::ReadStagingData]).await;
    assert_eq!(raw(&stg, Method::GET, "/edgekv/v1/networks/staging/namespaces", None).await.0, 200);
    let (s, _, r) = raw(&stg, Method::GET, NS, None).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    assert!(r["detail"].as_str().unwrap().contains("VIEW_NAMESPACE"));
    let (s, _, r) =
        raw(&stg, Method::PUT, "/edgekv/v1/networks/staging/namespaces/default/groups/g/items/i", Some("x")).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    assert!(r["detail"].as_str().unwrap().contains("WRITE_DATA"));
    let (s, _, r) = raw(
        &stg,
        Method::POST,
        "/edgekv/v1/networks/staging/namespaces",
        Some(r#"{"namespace":"n","retentionInSeconds":0,"groupId":0}"#),
    )
    .await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    app.server.shutdown().await;
}

#[tokio::test]
async fn scheduled_namespace_deletion() {
    use chrono::{Duration, TimeZone, Utc};
    use edgeward_core::clock::Clock;
    let clock = edgeward_core::clock::ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap());
    let app = spawn_app_with(|c| c.namespace_delete_delay_secs = 3600, std::sync::Arc::new(clock.clone())).await;
    let c = &app.admin;
    let create = r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#;
    assert_eq!(raw(c, Method::POST, NS, Some(create)).await.0, 200);
    let item = format!("{NS}/shop/groups/g/items/i");
    assert_eq!(raw(c, Method::PUT, &item, Some("\"v\"")).await.0, 200);
    let status = format!("{NS}/shop/status/scheduled-delete");

    // Nothing scheduled yet.
    let (s, _, r) = raw(c, Method::GET, &status, None).await;
    assert_edgekv_error(s, &r, 404, "EKV_9000");
    let (s, _, r) = raw(c, Method::DELETE, &status, None).await;
    assert_edgekv_error(s, &r, 404, "EKV_9000");

    // A delete schedules it an hour ahead; a second delete keeps the first time.
    let (s, h, r) = raw_full(c, Method::DELETE, &format!("{NS}/shop"), None, None).await;
    assert_eq!((s, r["scheduledDeleteTime"].as_str()), (202, Some("2026-11-28T13:00:00.000Z")), "{r}");
    assert_eq!(h["retry-after"], "3600");
    clock.advance(Duration::minutes(10));
    let (s, h, r) = raw_full(c, Method::DELETE, &format!("{NS}/shop"), None, None).await;
    assert_eq!((s, r["scheduledDeleteTime"].as_str()), (202, Some("2026-11-28T13:00:00.000Z")));
    assert_eq!(h["retry-after"], "3000");
    let (s, h, r) = raw_full(c, Method::GET, &status, None, None).await;
    assert_eq!((s, r["scheduledDeleteTime"].as_str()), (200, Some("2026-11-28T13:00:00.000Z")));
    assert_eq!(h["retry-after"], "3000");

    // Until then the namespace serves; the maintenance run before the time leaves it.
    assert_eq!(raw(c, Method::GET, &item, None).await.2, serde_json::json!("v"));
    assert_eq!(edgeward_server::jobs::run_once(&app.server.state, clock.now()).await.namespaces_deleted, 0);

    // Move it; bad times are refused.
    for (body, code) in [
        (r#"{"scheduledDeleteTime":"tomorrow"}"#, "EKV_2000"),
        (r#"{"scheduledDeleteTime":"2026-11-28T11:00:00Z"}"#, "EKV_2000"),
        (r#"{"scheduledDeleteTime":"2026-11-28T14:00:00Z","x":1}"#, "EKV_2000"),
        (r#"{"scheduledDeleteTime":"#, "EKV_2001"),
    ] {
        let (s, _, r) = raw(c, Method::PUT, &status, Some(body)).await;
        assert_eq!((s >= 400, r["errorCode"].as_str()), (true, Some(code)), "{body}: {r}");
    }
    let (s, h, r) =
        raw_full(c, Method::PUT, &status, Some(r#"{"scheduledDeleteTime":"2026-11-28T15:00:00+01:00"}"#), None).await;
    assert_eq!((s, r["scheduledDeleteTime"].as_str()), (200, Some("2026-11-28T14:00:00.000Z")), "{r}");
    assert_eq!(h["retry-after"], "6600");

    // Cancel; then schedule again and let it run out.
    assert_eq!(raw(c, Method::DELETE, &status, None).await.0, 204);
    assert_eq!(raw(c, Method::GET, &status, None).await.0, 404);
    assert_eq!(raw(c, Method::DELETE, &format!("{NS}/shop"), None).await.0, 202);
    clock.advance(Duration::minutes(56)); // 4 minutes before its time
    let (s, _, r) = raw(c, Method::DELETE, &status, None).await;
    assert_edgekv_error(s, &r, 400, "EKV_3000");
    let (s, _, r) = raw(c, Method::PUT, &status, Some(r#"{"scheduledDeleteTime":"2026-12-01T00:00:00Z"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_3000");
    clock.advance(Duration::minutes(4));
    assert_eq!(edgeward_server::jobs::run_once(&app.server.state, clock.now()).await.namespaces_deleted, 1);
    let (s, _, r) = raw(c, Method::GET, &format!("{NS}/shop"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_9000");
    let (s, _, r) = raw(c, Method::GET, &status, None).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    // A namespace of that name starts empty.
    assert_eq!(raw(c, Method::POST, NS, Some(create)).await.0, 200);
    assert_eq!(raw(c, Method::GET, &item, None).await.0, 404);

    // The default namespace cannot be scheduled; a staging grant reaches staging only.
    let (s, _, r) = raw(
        c,
        Method::PUT,
        &format!("{NS}/default/status/scheduled-delete"),
        Some(r#"{"scheduledDeleteTime":"2027-01-01T00:00:00Z"}"#),
    )
    .await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let stg_only = app.client_with("stg_only", &[Capability::DeleteStagingNamespace]).await;
    let (s, _, r) =
        raw(&stg_only, Method::GET, "/edgekv/v1/networks/staging/namespaces/default/status/scheduled-delete", None)
            .await;
    assert_edgekv_error(s, &r, 404, "EKV_9000");
    let (s, _, r) = raw(&stg_only, Method::GET, &status, None).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    assert!(r["detail"].as_str().unwrap().contains("'DELETE_NAMESPACE'"), "{r}");
    let (s, _, r) =
        raw(&stg_only, Method::GET, "/edgekv/v1/networks/staging/namespaces/nowhere/status/scheduled-delete", None)
            .await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    assert!(r["detail"].as_str().unwrap().contains("DELETE_STAGING_NAMESPACE"), "{r}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn access_groups_and_reauthorization() {
    let app = spawn_app().await;
    let c = &app.admin;
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups", None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        (r["groups"][0]["groupId"].as_u64(), r["groups"][0]["groupName"].as_str()),
        (Some(0), Some("Account Group"))
    );
    let caps: Vec<&str> =
        r["groups"][0]["capabilities"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(caps.len(), 24, "the administrator holds every capability: {caps:?}");
    assert!(caps.contains(&"AUTHORIZE_STAGING_NAMESPACE"));

    // A group added by the operator shows up, and namespaces can be created in and moved to it.
    {
        use edgeward_core::names::AccessGroupId;
        use edgeward_core::store::AccessGroup;
        let store = &app.server.state.store;
        store
            .create_access_group(
                AccessGroup { group_id: AccessGroupId::new(4284).unwrap(), name: "Shop team".into() },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups/4284", None).await;
    assert_eq!((s, r["groupName"].as_str()), (200, Some("Shop team")), "{r}");
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups/100", None).await;
    assert_edgekv_error(s, &r, 403, "EKV_1000");
    assert_eq!(r["detail"], "You do not have access to group 100.");
    assert_eq!(r["type"], "/edgekv/error-types/edgekv-forbidden");
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups/x", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");

    let (s, _, r) =
        raw(c, Method::POST, NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":"100"}"#)).await;
    assert_edgekv_error(s, &r, 403, "EKV_1000");
    assert_eq!(
        raw(c, Method::POST, NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":"4284"}"#)).await.0,
        200
    );
    let (s, _, r) = raw(c, Method::PUT, "/edgekv/v1/auth/namespaces/shop", Some(r#"{"groupId":"0"}"#)).await;
    assert_eq!((s, r), (200, serde_json::json!({"groupId": 0})));
    assert_eq!(raw(c, Method::GET, &format!("{NS}/shop"), None).await.2["groupId"], 0);
    let (s, _, r) = raw(c, Method::PUT, "/edgekv/v1/auth/namespaces/shop", Some(r#"{"groupId":100}"#)).await;
    assert_edgekv_error(s, &r, 403, "EKV_1000");
    let (s, _, r) = raw(c, Method::PUT, "/edgekv/v1/auth/namespaces/nowhere", Some(r#"{"groupId":0}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    assert!(r["detail"].as_str().unwrap().contains("AUTHORIZE_NAMESPACE"));
    for bad in [r#"{"groupId":-1}"#, r#"{}"#, r#"{"groupId":1,"other":2}"#] {
        let (s, _, r) = raw(c, Method::PUT, "/edgekv/v1/auth/namespaces/shop", Some(bad)).await;
        assert_edgekv_error(s, &r, 400, "EKV_2000");
    }

    // Reauthorizing needs the grant for every network the namespace is on: a staging-only
    // grant moves a staging-only namespace, not `default` (on both) nor `shop` (production).
    let stg_ns = r#"{"namespace":"drafts","retentionInSeconds":0,"groupId":0}"#;
    assert_eq!(raw(c, Method::POST, "/edgekv/v1/networks/staging/namespaces", Some(stg_ns)).await.0, 200);
    let stg = app.client_with("stg_auth", &[Capability::AuthorizeStagingNamespace]).await;
    let (s, _, r) = raw(&stg, Method::PUT, "/edgekv/v1/auth/namespaces/drafts", Some(r#"{"groupId":4284}"#)).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/networks/staging/namespaces/drafts", None).await;
    assert_eq!((s, r["groupId"].as_u64()), (200, Some(4284)));
    for ns in ["default", "shop"] {
        let (s, _, r) =
            raw(&stg, Method::PUT, &format!("/edgekv/v1/auth/namespaces/{ns}"), Some(r#"{"groupId":4284}"#)).await;
        assert_edgekv_error(s, &r, 400, "EKV_1002");
        assert!(r["detail"].as_str().unwrap().contains("'AUTHORIZE_NAMESPACE'"), "{r}");
    }
    assert_eq!(raw(c, Method::GET, "/edgekv/v1/networks/production/namespaces/default", None).await.2["groupId"], 0);
    let (s, _, r) = raw(&stg, Method::GET, "/edgekv/v1/auth/groups", None).await;
    assert_eq!(r["groups"][0]["capabilities"], serde_json::json!(["AUTHORIZE_STAGING_NAMESPACE"]), "{s} {r}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn an_access_group_id_above_i64_max_is_refused_before_anything_is_stored() {
    let app = spawn_app().await;
    let c = &app.admin;
    let above = "9223372036854775808";
    let range =
        "The group id 9223372036854775808 is out of range: a group id is a whole number from 0 to 9223372036854775807.";
    // As a number and as a string (the CLI sends strings), on create and on reauthorization.
    for group in [above.to_owned(), format!("\"{above}\"")] {
        let body = format!(r#"{{"namespace":"huge","retentionInSeconds":0,"groupId":{group}}}"#);
        let (s, _, r) = raw(c, Method::POST, NS, Some(body.as_str())).await;
        assert_edgekv_error(s, &r, 400, "EKV_2000");
        assert_eq!(
            (r["detail"].as_str(), r["type"].as_str()),
            (Some(range), Some("/edgekv/error-types/edgekv-bad-request"))
        );
        let body = format!(r#"{{"groupId":{group}}}"#);
        let (s, _, r) = raw(c, Method::PUT, "/edgekv/v1/auth/namespaces/default", Some(body.as_str())).await;
        assert_edgekv_error(s, &r, 400, "EKV_2000");
        assert_eq!(r["detail"], range);
    }
    let (s, _, r) = raw(c, Method::GET, &format!("/edgekv/v1/auth/groups/{above}"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert_eq!(r["detail"], range);
    // The largest id is in range: refused only as a group that does not exist.
    let (s, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups/9223372036854775807", None).await;
    assert_edgekv_error(s, &r, 403, "EKV_1000");
    let body = r#"{"namespace":"huge","retentionInSeconds":0,"groupId":9223372036854775807}"#;
    let (s, _, r) = raw(c, Method::POST, NS, Some(body)).await;
    assert_edgekv_error(s, &r, 403, "EKV_1000");
    assert_eq!(r["detail"], "You do not have access to group 9223372036854775807.");

    // Nothing was stored: no namespace `huge`, `default` still in group 0, one group.
    let (s, _, r) = raw(c, Method::GET, &format!("{NS}/huge"), None).await;
    assert_edgekv_error(s, &r, 400, "EKV_9000");
    assert_eq!(raw(c, Method::GET, &format!("{NS}/default"), None).await.2["groupId"], 0);
    let (_, _, r) = raw(c, Method::GET, "/edgekv/v1/auth/groups", None).await;
    assert_eq!(r["groups"].as_array().map(Vec::len), Some(1), "{r}");
    app.server.shutdown().await;
}
