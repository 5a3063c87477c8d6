//! Edgeward's notification endpoints over HTTPS + EdgeGrid.

mod common;

use chrono::{Duration, Utc};
use common::*;
use edgeward_core::capability::Capability;
use reqwest::Method;

#[tokio::test]
async fn a_replaced_token_gets_no_more_notices() {
    let app = spawn_app().await;
    let c = &app.admin;
    let soon = (Utc::now().date_naive() + Duration::days(5)).to_string();
    let far = (Utc::now().date_naive() + Duration::days(90)).to_string();
    for (name, expiry) in [("old", soon.as_str()), ("new", far.as_str()), ("other", soon.as_str())] {
        let body = cli_body(name, true, true, expiry, &[("default", "r")]);
        assert_eq!(raw(c, Method::POST, "/edgekv/v1/tokens", Some(&body)).await.0, 200);
    }
    let dry = raw(c, Method::POST, "/edgeward/v1/notify/run?dryRun=true", None).await.2;
    assert_eq!(dry["due"].as_array().unwrap().len(), 2, "{dry}");

    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/old/replaced-by", Some(r#"{"name":"new"}"#)).await;
    assert_eq!(s, 204, "{r}");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"ghost"}"#)).await;
    assert_edgekv_error(s, &r, 404, "EKV_3000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"other"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"nom":"new"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let viewer = app.client_with("viewer", &[Capability::ViewToken]).await;
    let (s, _, r) =
        raw(&viewer, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"new"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");

    let run = raw(c, Method::POST, "/edgeward/v1/notify/run", None).await.2;
    let due: Vec<&str> = run["due"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(due, ["other"], "old was replaced: {run}");
    // Without MANAGE_NOTIFICATIONS the check cannot be run or read.
    for (m, p) in [(Method::POST, "/edgeward/v1/notify/run"), (Method::GET, "/edgeward/v1/notify/status")] {
        let (s, _, r) = raw(&viewer, m, p, None).await;
        assert_edgekv_error(s, &r, 400, "EKV_1002");
        assert!(r["detail"].as_str().unwrap().contains("MANAGE_NOTIFICATIONS"));
    }
    // Panel paging parameters are checked.
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/notifications?limit=0", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().starts_with("limit must be"), "{r}");
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/notifications", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().contains("belongs to no user"), "{r}");
    app.server.shutdown().await;
}
