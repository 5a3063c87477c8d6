//! Scheduled revocation: `token rotate --revoke-old-after` and `token revoke --after|--at` are
//! stored on the server and carried out by it, through restarts, once however many servers share
//! the database, unless cancelled (`token revoke --cancel`).
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;

/// Run a token command against the server the data directory's edgerc names.
fn token(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let rc = dir.join("edgerc");
    let mut all = vec!["token"];
    all.extend(args);
    all.extend(["--edgerc", rc.to_str().unwrap()]);
    cli(&all)
}

fn ok_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = token(dir, &a);
    assert_eq!(code, 0, "{args:?}\nstdout: {out}\nstderr: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn create(dir: &Path, name: &str) {
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    ok_json(
        dir,
        &[
            "create",
            name,
            "--namespace",
            "default+r",
            "--staging",
            "allow",
            "--production",
            "allow",
            "--expiry",
            &expiry,
        ],
    );
}

fn listed<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list["tokens"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name}: {list}"))
}

#[test]
fn a_scheduled_revocation_survives_a_restart_runs_once_on_two_servers_and_can_be_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let first = start(&dir);
    for name in ["old", "keep", "later"] {
        create(&dir, name);
    }

    // The rotation returns at once: the revocation is the server's, 30 minutes ahead.
    let j = ok_json(&dir, &["rotate", "old", "--to", "new", "--revoke-old-after", "30m"]);
    assert_eq!(j["oldRevoked"], false, "{j}");
    let revoke_at = j["oldRevokeAt"].as_str().expect("the scheduled time").to_owned();
    // One scheduled then cancelled; one scheduled at a time far ahead.
    let s = ok_json(&dir, &["revoke", "keep", "--after", "20m"]);
    assert_eq!(s["scheduledRevocation"]["revoked"], false, "{s}");
    ok_json(&dir, &["revoke", "keep", "--cancel"]);
    let far = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ok_json(&dir, &["revoke", "later", "--at", &far]);

    // Visible in the list and in show, in JSON and in the table.
    let list = ok_json(&dir, &["list"]);
    assert_eq!(
        (listed(&list, "old")["replacedBy"].as_str(), listed(&list, "old")["revokeAt"].as_str()),
        (Some("new"), Some(revoke_at.as_str()))
    );
    assert!(listed(&list, "keep")["revokeAt"].is_null(), "cancelled: {list}");
    assert_eq!(listed(&list, "later")["revokeAt"].as_str(), Some(far.as_str()));
    let (_, table, _) = token(&dir, &["list"]);
    assert!(table.contains(&format!("replaced by new, revocation scheduled at {revoke_at}")), "{table}");
    let (_, shown, _) = token(&dir, &["show", "old"]);
    assert!(
        shown.contains(&format!("Rotation:          replaced by new, revocation scheduled at {revoke_at}")),
        "{shown}"
    );

    // Refusals change nothing: usage errors (2) before any request, the server's (1) after.
    for (args, code) in [
        (&["revoke", "later", "--after", "5q"][..], 2),
        (&["revoke", "later", "--at", "tomorrow"][..], 2),
        (&["revoke", "later", "--after", "1h", "--cancel"][..], 2),
        (&["revoke", "later", "--after", "500d"][..], 1),
        (&["revoke", "ghost", "--after", "1h"][..], 1),
    ] {
        let (got, out, err) = token(&dir, args);
        assert_eq!(got, code, "{args:?}\n{out}\n{err}");
    }
    assert_eq!(listed(&ok_json(&dir, &["list"]), "later")["revokeAt"].as_str(), Some(far.as_str()));
    drop(first);

    // Two servers on the directory's database, their clocks an hour ahead: old's time has come
    // for both, keep's schedule was cancelled, later's is days away.
    let dev = ["--dev-clock-offset", "1h", "--allow-dev-clock"];
    let a = restart(&dir, &dev);
    let b = start_with(&dir, &dev);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, _, _) = token(&dir, &["show", "old"]);
        if code != 0 {
            break;
        }
        assert!(Instant::now() < deadline, "old was not revoked after the restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    let list = ok_json(&dir, &["list", "--include-revoked"]);
    let revoked = list["revoked"].as_array().unwrap();
    assert_eq!(revoked.len(), 1, "{list}");
    assert_eq!((revoked[0]["name"].as_str(), revoked[0]["replacedBy"].as_str()), (Some("old"), Some("new")));
    assert!(revoked[0]["revokedAt"].is_string());
    listed(&list, "keep");
    listed(&list, "later");
    let (_, table, _) = token(&dir, &["list", "--include-revoked"]);
    assert!(table.contains("replaced by new, revoked at"), "{table}");

    // Both servers ran their checks (each every few seconds); the revocation was done, and
    // audited, once.
    std::thread::sleep(Duration::from_secs(6));
    let (code, out, err) = cli(&["audit", "list", "--action", "token.revoke", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let records: serde_json::Value = serde_json::from_str(&out).unwrap();
    let by_maintenance: Vec<_> =
        records["records"].as_array().unwrap().iter().filter(|r| r["actor"] == "maintenance").collect();
    assert_eq!(by_maintenance.len(), 1, "{records}");
    assert_eq!(by_maintenance[0]["target"], "token/old");
    let log = format!("{}{}", a.log.lock().unwrap(), b.log.lock().unwrap());
    assert_eq!(log.matches("scheduled token revocation done").count(), 1, "{log}");
}

/// `token rotate --revoke-old-after` checks, before it creates the successor, everything that
/// would make the scheduling fail afterwards: a delay past the limit (a usage error, 2) and a
/// caller that may not revoke the old token (1). Either way no successor exists.
#[test]
fn a_rotation_that_could_not_schedule_the_revocation_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let _server = start(&dir);
    create(&dir, "old");

    let (code, out, err) = token(&dir, &["rotate", "old", "--to", "new", "--revoke-old-after", "500d"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("at most 400 days"), "{err}");

    // A client that may create and view tokens but not revoke them.
    let (code, _, err) =
        cli(&["apiclient", "create", "rotator", "--grants", "CREATE_TOKEN,VIEW_TOKEN", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        token(&dir, &["rotate", "old", "--to", "new", "--revoke-old-after", "1h", "--section", "rotator"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("may not revoke old (they lack the REVOKE_TOKEN grant") && err.contains("nothing was created"),
        "{err}"
    );

    let list = ok_json(&dir, &["list", "--include-revoked"]);
    let names: Vec<_> = list["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["old"], "{list}");
    assert!(listed(&list, "old")["revokeAt"].is_null(), "{list}");
}
