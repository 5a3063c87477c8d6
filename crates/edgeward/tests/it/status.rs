//! `edgeward status` (`whoami`), the server's clock behind the CLI's expiry warnings, and the
//! hints a connection error carries: what to pass when the certificate is not trusted or
//! nothing listens where the edgerc points.
#![allow(
    clippy::disallowed_methods,
    reason = "tests run real servers against the system time, in data directories they make and inspect"
)]

use crate::common::*;

#[test]
fn status_says_who_and_where_and_warnings_count_from_the_servers_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let _server = start_with(&dir, &["--dev-clock-offset", "2d", "--allow-dev-clock"]);
    let rc = dir.join("edgerc");
    let rc = rc.to_str().unwrap();

    let (code, out, err) = cli(&["status", "--json", "--edgerc", rc]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &j["status"];
    assert_eq!(s["schemaVersion"].as_u64(), Some(u64::from(edgeward_store::migrate::newest_version())));
    assert_eq!((s["caller"]["name"].as_str(), s["caller"]["kind"].as_str()), (Some("admin"), Some("client")));
    assert_eq!(s["caller"]["user"].as_str(), Some("admin"), "the first administrator's client is admin's");
    assert!(s["caller"]["grants"].as_array().unwrap().iter().any(|g| g == "CREATE_TOKEN"), "{s}");
    assert_eq!((s["developmentClock"].as_bool(), s["tokensUsed"].as_u64()), (Some(true), Some(0)));
    assert!(s["cpcode"].is_string() && s["soonestExpiry"].is_null(), "{s}");
    let server_today = chrono::DateTime::parse_from_rfc3339(s["serverTime"].as_str().unwrap()).unwrap().date_naive();
    assert!(server_today > chrono::Utc::now().date_naive(), "two days ahead");

    // A token expiring 5 days from the server's today: the warnings say 5 days, not 7.
    let expiry = (server_today + chrono::Duration::days(5)).to_string();
    let (code, _, err) = cli(&[
        "token",
        "create",
        "soon",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--expiry",
        &expiry,
        "--edgerc",
        rc,
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, list, _) = cli(&["token", "list", "--edgerc", rc]);
    assert!(list.contains("expires in 5 days"), "{list}");

    // The human form, under its alias.
    let (code, out, err) = cli(&["whoami", "--edgerc", rc]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "Server:",
        "schema",
        "DEVELOPMENT CLOCK",
        "Caller:",
        "client admin, acting for user admin",
        "Grants:",
        "Tokens:",
        "1 of 100000",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert!(out.contains(&format!("Soonest expiry: soon on {expiry} (in 5 days)")), "{out}");

    // A staging-only viewer sees the staging token's expiry but not the account's count (which
    // covers tokens it may not view); a revoked token no longer counts against the limit.
    let d = dir.to_str().unwrap();
    let (code, _, err) = cli(&["apiclient", "create", "stgview", "--grants", "VIEW_STAGING_TOKEN", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&["status", "--json", "--edgerc", rc, "--section", "stgview"]);
    assert_eq!(code, 0, "{err}");
    let s = serde_json::from_str::<serde_json::Value>(&out).unwrap()["status"].clone();
    assert!(s["tokensUsed"].is_null(), "{s}");
    assert_eq!(s["soonestExpiry"]["name"].as_str(), Some("soon"), "{s}");
    let (code, _, err) = cli(&["token", "revoke", "soon", "--edgerc", rc]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = cli(&["status", "--json", "--edgerc", rc]);
    let s = serde_json::from_str::<serde_json::Value>(&out).unwrap()["status"].clone();
    assert_eq!((s["tokensUsed"].as_u64(), s["soonestExpiry"].is_null()), (Some(0), true), "{s}");
}

#[test]
fn connection_errors_say_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = start(&dir);
    // An edgerc copied out of the data directory: its certificate is no longer found beside it.
    let copy = tmp.path().join("copied.edgerc");
    std::fs::copy(dir.join("edgerc"), &copy).unwrap();
    let copy = copy.to_str().unwrap();
    let (code, _, err) = cli(&["status", "--edgerc", copy]);
    assert_eq!(code, 1);
    assert!(err.contains("--ca-cert <data-dir>/tls/cert.pem") && err.lines().count() == 1, "{err}");
    let cert = dir.join("tls/cert.pem");
    let (code, _, err) = cli(&["status", "--edgerc", copy, "--ca-cert", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    // The same credentials from the AKAMAI_* variables.
    let creds = edgeward_client::Edgerc::load(&dir.join("edgerc"), "default").unwrap().credentials;
    let out = command(&["token", "list"])
        .env("AKAMAI_HOST", &server.admin)
        .env("AKAMAI_CLIENT_TOKEN", &creds.client_token)
        .env("AKAMAI_CLIENT_SECRET", &creds.client_secret)
        .env("AKAMAI_ACCESS_TOKEN", &creds.access_token)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--ca-cert"), "{err}");

    // Nothing listens where the edgerc points.
    let (code, _, err) = cli(&["edgerc", "set-host", "127.0.0.1:1", "--edgerc", copy]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&["status", "--edgerc", copy, "--ca-cert", cert.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("is Edgeward running at 127.0.0.1:1?") && err.contains("edgeward edgerc set-host"), "{err}");
}
