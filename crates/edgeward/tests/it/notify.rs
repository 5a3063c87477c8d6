//! Expiry notices end to end: the built server, a user and their API client made with the CLI,
//! tokens created with the CLI, time moved with the development clock, and the panel read back
//! with `edgeward notify`.
#![allow(
    clippy::disallowed_methods,
    reason = "tests run real servers against the system time, and wait for the server process they start to run its check"
)]

use crate::common::*;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn the_panel_shows_notices_as_the_development_clock_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let edgerc = dir.join("edgerc");
    let e = edgerc.to_str().unwrap();
    let today = chrono::Utc::now().date_naive();
    let soon = (today + chrono::Days::new(20)).to_string();
    let later = (today + chrono::Days::new(60)).to_string();
    // Frozen before the day's check time: the server's own scheduled check is not owed, so only
    // the checks this test runs decide what is due (a dry run reports exactly what is undelivered).
    let before_the_check = format!("{today}T05:00:00Z");
    let server = start_with(&dir, &["--allow-dev-clock", "--dev-frozen-time", &before_the_check]);

    let ok = |args: &[&str]| {
        let (code, out, err) = cli(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    ok(&[
        "user",
        "create",
        "ana",
        "--email",
        "ana@example.com",
        "--registered",
        "--grants",
        "CREATE_TOKEN,VIEW_TOKEN,MANAGE_NOTIFICATIONS",
        "--data-dir",
        d,
    ]);
    ok(&["user", "create", "viewer", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    let users = ok(&["user", "list", "--data-dir", d]);
    assert!(users.contains("ana") && users.contains("ana@example.com") && users.contains("viewer"), "{users}");
    ok(&["contact", "add", "oncall@example.com", "--name", "On call", "--data-dir", d]);
    assert!(ok(&["contact", "list", "--data-dir", d]).contains("oncall@example.com"));
    ok(&[
        "apiclient",
        "create",
        "ana_cli",
        "--grants",
        "CREATE_TOKEN,VIEW_TOKEN,MANAGE_NOTIFICATIONS",
        "--owner",
        "ana",
        "--data-dir",
        d,
    ]);
    let (code, _, err) =
        cli(&["apiclient", "create", "x", "--grants", "VIEW_TOKEN", "--owner", "nobody", "--data-dir", d]);
    assert!(code != 0 && err.contains("user nobody does not exist"), "{err}");
    fn with<'a>(args: &[&'a str], e: &'a str) -> Vec<&'a str> {
        let mut a = args.to_vec();
        a.extend(["--edgerc", e, "--section", "ana_cli"]);
        a
    }
    let as_ana = |args: &[&str]| -> Vec<String> { with(args, e).into_iter().map(str::to_owned).collect() };
    let ok_owned = |args: Vec<String>| ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for (name, expiry) in [("soon", soon.as_str()), ("later", later.as_str())] {
        ok_owned(as_ana(&[
            "token",
            "create",
            name,
            "--namespace",
            "default+r",
            "--staging",
            "allow",
            "--production",
            "allow",
            "--expiry",
            expiry,
        ]));
    }

    // Today: `soon` is 20 days out (the 30-day notice); a dry run first changes nothing.
    let dry = json(&ok_owned(as_ana(&["notify", "run", "--dry-run", "--json"])));
    assert_eq!(dry["due"][0]["name"], "soon", "{dry}");
    assert_eq!(json(&ok_owned(as_ana(&["notify", "list", "--json"])))["unread"], 0);
    let run = json(&ok_owned(as_ana(&["notify", "run", "--json"])));
    assert_eq!((run["due"].as_array().unwrap().len(), run["notices"].as_u64()), (1, Some(2)), "ana and admin: {run}");
    let text = ok_owned(as_ana(&["notify", "list"]));
    assert!(
        text.contains("1 unread") && text.contains(&format!("Access token soon expires on {soon} (30-day notice)")),
        "{text}"
    );
    assert!(text.contains("default:r") && text.contains("last used never"), "{text}");
    // The administrator's client belongs to the first start's admin user, who is told too.
    let admin = json(&ok(&["notify", "list", "--json", "--edgerc", e]));
    assert_eq!(admin["unread"], 1, "{admin}");
    // A client created without an owner has no panel, and a clear error.
    ok(&["apiclient", "create", "nobody_cli", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    let (code, _, err) = cli(&["notify", "list", "--edgerc", e, "--section", "nobody_cli"]);
    assert!(code != 0 && err.contains("belongs to no user"), "{err}");
    drop(server);

    // The development clock must be allowed explicitly.
    let (code, _, err) = cli(&["serve", "--data-dir", d, "--dev-clock-offset", "14d"]);
    assert!(code != 0 && err.contains("--allow-dev-clock"), "{err}");

    // Two weeks later at noon (frozen): the server catches up on the day's check at start, and
    // `soon` (6 days left) gets its 7-day notice.
    let frozen = format!("{}T12:00:00Z", today + chrono::Days::new(14));
    let server = restart(&dir, &["--allow-dev-clock", "--dev-frozen-time", &frozen]);
    assert!(server.log.lock().unwrap().contains("DEVELOPMENT CLOCK"));
    let mut panel = serde_json::Value::Null;
    for _ in 0..100 {
        panel = json(&ok_owned(as_ana(&["notify", "list", "--json"])));
        if panel["notifications"].as_array().is_some_and(|n| n.len() == 2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let notices = panel["notifications"].as_array().unwrap_or_else(|| panic!("{panel}"));
    assert_eq!(notices.len(), 2, "{panel}");
    assert_eq!(notices[0]["subject"], format!("Access token soon expires on {soon} (7-day notice)"));
    assert_eq!(notices[0]["tokens"][0]["allowOnStaging"], true);
    assert_eq!(panel["unread"], 2);
    let status = json(&ok_owned(as_ana(&["notify", "status", "--json"])));
    assert!(
        status["runs"].as_array().unwrap().iter().any(|r| r["checkDay"] == (today + chrono::Days::new(14)).to_string()),
        "the catch-up run is recorded: {status}"
    );
    let text = ok_owned(as_ana(&["notify", "status"]));
    assert!(
        text.contains("Daily at 06:00 UTC; thresholds [30,7,1] days") && text.contains("E-mail: off (0 queued)"),
        "{text}"
    );
    // A second check the same day tells nothing new; marking read empties the unread count.
    assert_eq!(json(&ok_owned(as_ana(&["notify", "run", "--json"])))["notices"], 0);
    assert_eq!(json(&ok_owned(as_ana(&["notify", "read", "--json"])))["marked"], 2);
    assert_eq!(json(&ok_owned(as_ana(&["notify", "list", "--json"])))["unread"], 0);
    // Without the grant, running the check is refused.
    ok(&["apiclient", "create", "viewer_cli", "--grants", "VIEW_TOKEN", "--owner", "viewer", "--data-dir", d]);
    let (code, _, err) = cli(&["notify", "run", "--edgerc", e, "--section", "viewer_cli"]);
    assert!(code != 0 && err.contains("MANAGE_NOTIFICATIONS"), "{err}");
    let viewer = json(&ok(&["notify", "list", "--json", "--edgerc", e, "--section", "viewer_cli"]));
    assert_eq!(viewer["notifications"], serde_json::json!([]), "no CREATE_TOKEN: told nothing");
}
