//! `/metrics` on the built binary: admin and data-plane calls (refusals of several reasons among
//! them) show up as request-duration histograms per route template on both listeners, refusal
//! counters by reason, live tokens by kind and days to expiry, connection pools and build info;
//! and no token value, reference, name or namespace reaches a label.
#![allow(
    clippy::disallowed_methods,
    reason = "tests run real servers against the system time, in data directories they make"
)]

use std::path::Path;

use edgeward_client::{Client, Edgerc, Method};

use crate::common::*;

fn client(dir: &Path) -> Client {
    let edgerc = Edgerc::load(&dir.join("edgerc"), "default").unwrap();
    Client::new(edgerc, Some(&dir.join("tls/cert.pem"))).unwrap()
}

fn future_date(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// Create a token; its answer (value, uuid).
async fn create(
    c: &Client,
    name: &str,
    expiry: &str,
    staging_only: bool,
    ewids: &[&str],
    rights: &[&str],
) -> serde_json::Value {
    let body = serde_json::json!({
        "name": name, "allowOnProduction": !staging_only, "allowOnStaging": true,
        "restrictToEdgeWorkerIds": ewids, "expiry": expiry, "namespacePermissions": {"default": rights},
    });
    let resp = c.send(Method::POST, "/edgekv/v1/tokens", Some(&body)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "creating {name}");
    resp.json().await.unwrap()
}

/// The status of a data-plane call on the item `ns/g/i` with these headers.
async fn item(data: &str, method: reqwest::Method, ns: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("http://{data}/api/v1/namespaces/{ns}/groups/g/items/i"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if method == reqwest::Method::PUT {
        req = req.body("v");
    }
    req.send().await.unwrap().status().as_u16()
}

/// The value of the sample `series` (name and labels, exactly as exposed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn count(text: &str, listener: &str, route: &str, method: &str, class: &str) -> f64 {
    let series = format!(
        r#"edgeward_http_request_duration_seconds_count{{listener="{listener}",route="{route}",method="{method}",status_class="{class}"}}"#
    );
    sample(text, &series).unwrap_or(0.0)
}

const ITEM: &str = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}";

#[tokio::test]
async fn admin_and_data_plane_calls_refusals_and_tokens_show_on_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = start(&dir);
    let c = client(&dir);

    // Admin calls: four creations, a listing, a revocation, a 404.
    let rw = create(&c, "rw_week", &future_date(10), false, &["all"], &["r", "w"]).await;
    let ro = create(&c, "ro_tomorrow", &future_date(1), false, &["all"], &["r"]).await;
    let staging = create(&c, "staging_only", &future_date(60), true, &["all"], &["r"]).await;
    let worker = create(&c, "one_worker", &future_date(60), false, &["4242"], &["r"]).await;
    let auto = create(&c, "auto_ref", "", false, &["all"], &["r"]).await;
    let gone = create(&c, "gone", &future_date(60), false, &["all"], &["r"]).await;
    assert_eq!(c.list_tokens(false).await.unwrap().tokens.len(), 6);
    c.revoke_token("gone").await.unwrap();
    assert!(c.get_token("nothing_here").await.is_err());

    // Data-plane calls: two allowed, an item not found, and one refusal of each reason tried.
    let data = server.data.as_str();
    let value = |t: &serde_json::Value| t["value"].as_str().unwrap().to_owned();
    let (rw, ro, staging, worker, gone) = (value(&rw), value(&ro), value(&staging), value(&worker), value(&gone));
    let auth = |v: &str| [("X-Akamai-EdgeDB-Auth", v.to_owned())];
    use reqwest::Method as M;
    let call = |m: M, ns: &'static str, h: Vec<(&'static str, String)>| async move {
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        item(data, m, ns, &h).await
    };
    assert_eq!(call(M::PUT, "default", auth(&rw).to_vec()).await, 200);
    assert_eq!(call(M::GET, "default", auth(&ro).to_vec()).await, 200);
    assert_eq!(call(M::DELETE, "default", auth(&rw).to_vec()).await, 403, "wrong_right");
    assert_eq!(call(M::GET, "default", vec![]).await, 401, "missing");
    assert_eq!(
        call(M::GET, "default", vec![("X-Akamai-EdgeDB-Auth-Ref", "not-a-uuid".into())]).await,
        401,
        "malformed"
    );
    assert_eq!(call(M::GET, "default", auth("not.a.token").to_vec()).await, 401, "invalid");
    assert_eq!(call(M::GET, "default", auth(&gone).to_vec()).await, 401, "revoked");
    assert_eq!(call(M::GET, "marketing", auth(&ro).to_vec()).await, 403, "wrong_namespace");
    assert_eq!(call(M::GET, "default", auth(&staging).to_vec()).await, 403, "wrong_network");
    assert_eq!(call(M::GET, "default", auth(&worker).to_vec()).await, 403, "wrong_edgeworker");
    assert_eq!(call(M::GET, "default", auth(&worker).to_vec()).await, 403, "wrong_edgeworker, again");
    let reference = auto["uuid"].as_str().unwrap().to_owned();
    assert_eq!(call(M::DELETE, "default", vec![("X-Akamai-EdgeDB-Auth-Ref", reference.clone())]).await, 403);

    let http = reqwest::Client::builder().use_rustls_tls().danger_accept_invalid_certs(true).build().unwrap();
    let resp = http.get(format!("https://{}/metrics", server.admin)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();

    // Request durations per route template, on both listeners.
    assert_eq!(count(&text, "admin", "/edgekv/v1/tokens", "POST", "2xx"), 6.0, "{text}");
    assert_eq!(count(&text, "admin", "/edgekv/v1/tokens", "GET", "2xx"), 1.0);
    assert_eq!(count(&text, "admin", "/edgekv/v1/tokens/{name}", "DELETE", "2xx"), 1.0);
    assert_eq!(count(&text, "admin", "/edgekv/v1/tokens/{name}", "GET", "4xx"), 1.0);
    assert_eq!(count(&text, "data", ITEM, "PUT", "2xx"), 1.0);
    assert_eq!(count(&text, "data", ITEM, "GET", "2xx"), 1.0);
    assert_eq!(count(&text, "data", ITEM, "GET", "4xx"), 8.0);
    assert_eq!(count(&text, "data", ITEM, "DELETE", "4xx"), 2.0);
    let bucket = format!(
        r#"edgeward_http_request_duration_seconds_bucket{{le="+Inf",listener="data",route="{ITEM}",method="GET",status_class="4xx"}}"#
    );
    assert_eq!(sample(&text, &bucket), Some(8.0), "{text}");

    // Refusals by reason.
    for (reason, n) in [
        ("missing", 1.0),
        ("malformed", 1.0),
        ("invalid", 1.0),
        ("revoked", 1.0),
        ("wrong_namespace", 1.0),
        ("wrong_network", 1.0),
        ("wrong_edgeworker", 2.0),
        ("wrong_right", 2.0),
        ("expired", 0.0),
    ] {
        let series = format!(r#"edgeward_dataplane_refusals_total{{reason="{reason}"}}"#);
        assert_eq!(sample(&text, &series), Some(n), "{series} in:\n{text}");
    }

    // Live tokens: the revoked one is not counted; tomorrow's ends within 1 to 2 days.
    for (kind, days, n) in [
        ("auto_refreshing", "never", 1.0),
        ("expiring", "0-1", 0.0),
        ("expiring", "1-7", 1.0),
        ("expiring", "7-30", 1.0),
        ("expiring", "30+", 2.0),
    ] {
        let series = format!(r#"edgeward_live_tokens{{kind="{kind}",days_to_expiry="{days}"}}"#);
        assert_eq!(sample(&text, &series), Some(n), "{series} in:\n{text}");
    }
    assert_eq!(sample(&text, "edgeward_tokens_created_total"), Some(6.0));

    // Build, uptime and the database's pools.
    let build = format!(r#"edgeward_build_info{{version="{}"}}"#, env!("CARGO_PKG_VERSION"));
    assert_eq!(sample(&text, &build), Some(1.0), "{text}");
    assert!(sample(&text, "edgeward_uptime_seconds").is_some_and(|s| s >= 0.0));
    assert!(sample(&text, "edgeward_start_time_seconds").is_some_and(|s| s > 1.7e9));
    if edgeward_store::testing::database_for_dir(&dir).is_none() {
        assert_eq!(sample(&text, r#"edgeward_db_connections_max{backend="sqlite",pool="write"}"#), Some(1.0));
        assert!(sample(&text, r#"edgeward_db_connections_max{backend="sqlite",pool="read"}"#).is_some_and(|n| n >= 1.0));
        assert_eq!(sample(&text, r#"edgeward_db_writer_queue{backend="sqlite"}"#), Some(0.0), "{text}");
    } else {
        assert!(
            sample(&text, r#"edgeward_db_connections_max{backend="postgres",pool="main"}"#).is_some_and(|n| n >= 1.0)
        );
        assert!(sample(&text, r#"edgeward_db_connections{backend="postgres",pool="main",state="idle"}"#).is_some());
    }

    // Nothing a client chose is a label: no token value, reference or name, no namespace.
    for secret in [&rw, &ro, &gone, &reference] {
        assert!(!text.contains(secret.as_str()), "a token value or reference reached /metrics");
    }
    for name in ["rw_week", "ro_tomorrow", "marketing", "nothing_here", "not-a-uuid"] {
        assert!(!text.contains(name), "{name} reached /metrics:\n{text}");
    }
}
