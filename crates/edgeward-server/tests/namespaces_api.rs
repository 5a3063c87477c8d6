//! Namespaces, groups and items through the admin API.

mod common;

use common::*;
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

    // Delete: async answers 202, sync 200; default and unknown namespaces are refused.
    let (s, _, r) = raw(c, Method::DELETE, &format!("{NS}/blog"), None).await;
    assert_eq!(s, 202);
    assert!(r["scheduledDeleteTime"].as_str().unwrap().ends_with('Z'));
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
