//! `edgeward initialize`, `namespace`, `group` and `item`, run as a user would: the built binary
//! against a real server on port 0, walking the lifecycle Akamai's `akamai edgekv` CLI
//! documents (status, namespaces on both networks, retention and access group, items as text,
//! JSON, a file and standard input, scheduled deletion and its cancellation), and the arguments
//! refused before anything changes.
#![allow(
    clippy::disallowed_methods,
    reason = "tests run real servers against the system time, in data directories they make and inspect"
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;

use crate::common::*;

struct Env {
    _tmp: tempfile::TempDir,
    _server: Server,
    data: PathBuf,
    work: PathBuf,
}

fn setup() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = start(&data);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    Env { _tmp: tmp, _server: server, data, work }
}

impl Env {
    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--data-dir", self.data.to_str().unwrap()]);
        all
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        cli(&self.args(args))
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}\nstdout: {out}\nstderr: {err}");
        out
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{a:?}: {e}\n{out}"))
    }

    /// A refusal: `code`, one `error: ` line on stderr containing `needle`, nothing on stdout.
    fn refused(&self, code: i32, args: &[&str], needle: &str) {
        let (got, out, err) = self.run(args);
        assert_eq!(got, code, "{args:?}\nstdout: {out}\nstderr: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line on stderr: {err}");
        assert!(lines[0].starts_with("error: ") && lines[0].contains(needle), "{args:?}: {needle:?} in {err}");
    }

    /// The raw stdout of a successful command, byte for byte.
    fn bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = command(&self.args(args)).env_remove("AKAMAI_HOST").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    /// Run with `input` on standard input.
    fn with_stdin(&self, args: &[&str], input: &[u8]) -> (i32, String, String) {
        let mut child = command(&self.args(args))
            .env_remove("AKAMAI_HOST")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `(network, namespace)` of every namespace, as `namespace list --json` says.
    fn namespaces(&self) -> Vec<(String, String)> {
        let j = self.json(&["namespace", "list"]);
        j["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["network"].as_str().unwrap().to_owned(), n["namespace"].as_str().unwrap().to_owned()))
            .collect()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// `item write` and its arguments.
fn write_args<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["item", "write"];
    a.extend(rest);
    a
}

fn time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap().into()
}

#[test]
fn the_data_lifecycle_as_akamais_cli_documents_it() {
    let e = setup();

    // `akamai edgekv show status` / `initialize`: an Edgeward is initialized at first start.
    let out = e.ok(&["initialize", "status"]);
    assert!(out.contains("Account:      INITIALIZED (CP code ") && out.contains("Staging:      INITIALIZED"), "{out}");
    let status = e.json(&["initialize", "status"]);
    assert_eq!(status["accountStatus"], "INITIALIZED");
    let cpcode = status["cpcode"].as_str().unwrap().to_owned();
    assert!(status["initializedNow"].is_null(), "status does not say: {status}");
    let run = e.json(&["initialize", "run"]);
    assert_eq!((run["accountStatus"].as_str(), run["initializedNow"].as_bool()), (Some("INITIALIZED"), Some(false)));
    assert_eq!(run["cpcode"].as_str(), Some(cpcode.as_str()), "the same account");
    assert!(e.ok(&["initialize", "run"]).contains("The account was already initialized."));

    // Create on both networks.
    let out = e.ok(&["namespace", "create", "shop", "--network", "staging", "--retention", "30d"]);
    assert_eq!(out, "Created namespace shop on staging: retention 30 days, location US, access group 0.\n");
    let p =
        e.json(&["namespace", "create", "shop", "--network", "PRODUCTION", "--retention", "0", "--geo-location", "eu"]);
    assert_eq!(
        (p["network"].as_str(), p["namespace"].as_str(), p["retentionInSeconds"].as_u64()),
        (Some("production"), Some("shop"), Some(0))
    );
    assert_eq!((p["geoLocation"].as_str(), p["groupId"].as_u64()), (Some("EU"), Some(0)));

    // List: both networks, or one.
    assert_eq!(
        e.namespaces(),
        pairs(&[("staging", "default"), ("staging", "shop"), ("production", "default"), ("production", "shop")])
    );
    let staging = e.json(&["namespace", "list", "--network", "staging"]);
    let shop = &staging["namespaces"][1];
    assert_eq!((shop["namespace"].as_str(), shop["retentionInSeconds"].as_u64()), (Some("shop"), Some(2_592_000)));
    assert_eq!(staging["namespaces"].as_array().unwrap().len(), 2);
    let out = e.ok(&["namespace", "list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["NETWORK", "NAMESPACE", "RETENTION", "GEO", "GROUP"]);
    assert!(lines.contains(&"production  shop       indefinite  EU   0"), "{out}");
    assert!(lines.contains(&"staging     shop       30 days     US   0"), "{out}");
    assert_eq!(lines.last(), Some(&"4 namespaces."));

    // Show.
    let out = e.ok(&["namespace", "show", "shop", "--network", "staging"]);
    for want in ["Namespace:     shop", "Retention:     30 days (2592000 seconds)", "Deletion:      none scheduled"] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let shown = e.json(&["namespace", "show", "shop", "--network", "staging"]);
    assert_eq!((shown["groupId"].as_u64(), shown["geoLocation"].as_str()), (Some(0), Some("US")));
    assert!(shown["scheduledDeleteTime"].is_null() && shown.get("scheduledDeleteTime").is_some(), "{shown}");

    // Update: retention (this network) and access group (every network where it exists).
    let (code, _, err) =
        cli(&["accessgroup", "create", "4284", "--name", "Shop", "--data-dir", e.data.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let u = e.json(&["namespace", "update", "shop", "--network", "staging", "--retention", "172800"]);
    assert_eq!((u["retentionInSeconds"].as_u64(), u["groupId"].as_u64()), (Some(172_800), Some(0)));
    let out = e.ok(&["namespace", "update", "shop", "--network", "staging", "--group-id", "4284"]);
    assert!(out.contains("Namespace shop is now in access group 4284 (on every network where it exists)."), "{out}");
    let p = e.json(&["namespace", "show", "shop", "--network", "production"]);
    assert_eq!((p["groupId"].as_u64(), p["retentionInSeconds"].as_u64()), (Some(4284), Some(0)), "{p}");
    let s = e.json(&["namespace", "show", "shop", "--network", "staging"]);
    assert_eq!((s["groupId"].as_u64(), s["retentionInSeconds"].as_u64()), (Some(4284), Some(172_800)), "{s}");

    // Items: text, JSON, a file, standard input, a JSON file.
    let out = e.ok(&["item", "write", "shop", "countries", "DE", "--network", "staging", "--text", "Germany"]);
    assert_eq!(out, "Wrote DE in shop/countries on staging (7 bytes).\n");
    let json_value = r#"{ "name": "France",  "eu": true }"#;
    let w = e.json(&["item", "write", "shop", "countries", "FR", "--network", "staging", "--json-value", json_value]);
    assert_eq!((w["contentType"].as_str(), w["bytes"].as_u64()), (Some("application/json"), Some(33)), "{w}");
    assert!(w["message"].as_str().unwrap().starts_with("Item was upserted in KV store"), "{w}");
    // Bytes a terminal would not keep: no final newline, a CR, a tab, non-ASCII, a leading '-'.
    let file_bytes = "-line one\r\n\tlíne two €".as_bytes().to_vec();
    let file = e.work.join("value.txt");
    std::fs::write(&file, &file_bytes).unwrap();
    e.ok(&["item", "write", "shop", "pages", "home", "--network", "staging", "--file", file.to_str().unwrap()]);
    let stdin_bytes = b"from stdin\n\n".to_vec();
    let (code, out, err) =
        e.with_stdin(&["item", "write", "shop", "pages", "about", "--network", "staging", "--file", "-"], &stdin_bytes);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Wrote about in shop/pages on staging (12 bytes).\n");
    let json_file = e.work.join("config.json");
    std::fs::write(&json_file, "[1, 2, {\"three\": 3}]\n").unwrap();
    let out = e.ok(&[
        "item",
        "write",
        "shop",
        "config",
        "main",
        "--network",
        "staging",
        "--json-file",
        json_file.to_str().unwrap(),
    ]);
    assert!(out.ends_with("(21 bytes, JSON).\n"), "{out}");
    let (code, _, err) = e.with_stdin(
        &["item", "write", "shop", "config", "stdin", "--network", "staging", "--json-file", "-", "--json"],
        b"{\"a\":1}",
    );
    assert_eq!(code, 0, "{err}");

    // Groups and item keys.
    let g = e.json(&["group", "list", "shop", "--network", "staging"]);
    assert_eq!(g["groups"], serde_json::json!(["config", "countries", "pages"]), "{g}");
    assert_eq!(g["namespace"], "shop");
    let out = e.ok(&["group", "list", "shop", "--network", "staging"]);
    assert_eq!(out, "GROUP\nconfig\ncountries\npages\n3 groups in shop on staging.\n");
    let i = e.json(&["item", "list", "shop", "countries", "--network", "staging"]);
    assert_eq!((i["group"].as_str(), &i["items"]), (Some("countries"), &serde_json::json!(["DE", "FR"])), "{i}");
    let out = e.ok(&["item", "list", "shop", "pages", "--network", "staging"]);
    assert_eq!(out, "ITEM\nabout\nhome\n2 items in shop/pages on staging.\n");
    let one = e.ok(&["item", "list", "shop", "countries", "--network", "staging", "--max-items", "1"]);
    assert!(one.contains("1 item in shop/countries on staging.\nAt most 1 are listed"), "{one}");
    // Another network has its own groups.
    assert_eq!(e.json(&["group", "list", "shop", "--network", "production"])["groups"], serde_json::json!([]));

    // Read: exactly the bytes written, nothing added.
    assert_eq!(e.bytes(&["item", "read", "shop", "countries", "DE", "--network", "staging"]), b"Germany");
    assert_eq!(e.bytes(&["item", "read", "shop", "countries", "FR", "--network", "staging"]), json_value.as_bytes());
    assert_eq!(e.bytes(&["item", "read", "shop", "pages", "home", "--network", "staging"]), file_bytes);
    assert_eq!(e.bytes(&["item", "read", "shop", "pages", "about", "--network", "staging"]), stdin_bytes);
    assert_eq!(
        e.bytes(&["item", "read", "shop", "config", "main", "--network", "staging"]),
        b"[1, 2, {\"three\": 3}]\n"
    );
    let r = e.json(&["item", "read", "shop", "pages", "home", "--network", "staging"]);
    assert_eq!(r["value"].as_str().map(str::as_bytes), Some(&file_bytes[..]), "{r}");
    assert_eq!((r["bytes"].as_u64(), r["item"].as_str()), (u64::try_from(file_bytes.len()).ok(), Some("home")));

    // Delete an item.
    let out = e.ok(&["item", "delete", "shop", "countries", "DE", "--network", "staging"]);
    assert_eq!(out, "Deleted DE from shop/countries on staging.\n");
    let d = e.json(&["item", "delete", "shop", "countries", "FR", "--network", "staging"]);
    assert!(d["message"].as_str().unwrap().contains("marked for deletion"), "{d}");
    assert_eq!(e.json(&["item", "list", "shop", "countries", "--network", "staging"])["items"], serde_json::json!([]));
    e.refused(
        1,
        &["item", "read", "shop", "countries", "DE", "--network", "staging"],
        "was not found in the database. (HTTP 404, EKV_9000",
    );

    // Delete the namespace: scheduled, shown, moved, cancelled.
    let d = e.json(&["namespace", "delete", "shop", "--network", "staging"]);
    assert_eq!((d["cancelled"].as_bool(), d["namespace"].as_str()), (Some(false), Some("shop")), "{d}");
    let at = time(&d["scheduledDeleteTime"]);
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    assert!((at - in_a_day).num_seconds().abs() < 120, "the server's delay, a day: {at}");
    let shown = e.json(&["namespace", "show", "shop", "--network", "staging"]);
    assert_eq!(shown["scheduledDeleteTime"], d["scheduledDeleteTime"], "{shown}");
    let out = e.ok(&["namespace", "show", "shop", "--network", "staging"]);
    let scheduled = d["scheduledDeleteTime"].as_str().unwrap();
    assert!(
        out.contains(&format!(
            "Deletion:      scheduled at {scheduled} (cancel with `edgeward namespace delete shop --network staging --cancel --data-dir {}`)",
            e.data.display()
        )),
        "{out}"
    );
    // It serves until then.
    assert_eq!(e.bytes(&["item", "read", "shop", "pages", "about", "--network", "staging"]), stdin_bytes);
    let moved = e.json(&["namespace", "delete", "shop", "--network", "staging", "--after", "3d"]);
    let in_3_days = chrono::Utc::now() + chrono::Duration::days(3);
    assert!((time(&moved["scheduledDeleteTime"]) - in_3_days).num_seconds().abs() < 120, "{moved}");
    let out = e.ok(&["namespace", "delete", "shop", "--network", "staging", "--at", "2099-01-01T06:00:00Z"]);
    assert!(out.starts_with("Namespace shop on staging will be deleted at 2099-01-01T06:00:00.000Z"), "{out}");
    assert_eq!(
        e.json(&["namespace", "show", "shop", "--network", "staging"])["scheduledDeleteTime"],
        "2099-01-01T06:00:00.000Z"
    );
    let c = e.json(&["namespace", "delete", "shop", "--network", "staging", "--cancel"]);
    assert_eq!((c["cancelled"].as_bool(), c["scheduledDeleteTime"].is_null()), (Some(true), true), "{c}");
    assert!(e.json(&["namespace", "show", "shop", "--network", "staging"])["scheduledDeleteTime"].is_null());
    assert!(e.ok(&["namespace", "show", "shop", "--network", "staging"]).contains("Deletion:      none scheduled"));
    let out = e.ok(&["namespace", "delete", "shop", "--network", "production"]);
    assert!(out.contains("will be deleted at") && out.contains("--network production --cancel"), "{out}");
    let out = e.ok(&["namespace", "delete", "shop", "--network", "production", "--cancel"]);
    assert_eq!(out, "The deletion of namespace shop on production is cancelled: it stays.\n");
    assert_eq!(
        e.namespaces(),
        pairs(&[("staging", "default"), ("staging", "shop"), ("production", "default"), ("production", "shop")])
    );
}

#[test]
fn arguments_are_refused_before_anything_changes_and_the_servers_refusals_fail() {
    let e = setup();
    let only_default = pairs(&[("staging", "default"), ("production", "default")]);

    // Names, networks, retention, access group, location: usage errors (2), naming what is allowed.
    let names = "characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-'";
    let too_long = "n".repeat(33);
    for bad in ["bad.name", "bad name", "späti", too_long.as_str(), ""] {
        e.refused(2, &["namespace", "create", bad, "--network", "staging", "--retention", "30d"], names);
    }
    e.refused(
        2,
        &["namespace", "create", "default", "--network", "staging", "--retention", "0"],
        "the default namespace exists on every account as it is: it cannot be created",
    );
    for bad in ["5", "86399", "315360001", "11y", "d"] {
        e.refused(
            2,
            &["namespace", "create", "shop", "--network", "staging", "--retention", bad],
            "retention is 0 (indefinite) or 1 to 3650 days (86400 to 315360000 seconds)",
        );
    }
    e.refused(
        2,
        &["namespace", "create", "shop", "--network", "staging", "--retention", "1d", "--geo-location", "EU"],
        "--geo-location: The staging network only supports US location.",
    );
    e.refused(
        2,
        &["namespace", "create", "shop", "--network", "production", "--retention", "1d", "--geo-location", "MARS"],
        "one of US, EU, JP, GLOBAL",
    );
    e.refused(
        2,
        &["namespace", "create", "shop", "--network", "staging", "--retention", "1d", "--group-id", "x"],
        "--group-id: \"x\": The group id must be a whole number of zero or more.",
    );
    let (code, _, err) = e.run(&["namespace", "create", "shop", "--network", "mars", "--retention", "1d"]);
    assert!(code == 2 && err.contains("[possible values: staging, production]"), "{err}");
    let (code, _, err) = e.run(&["namespace", "create", "shop", "--retention", "1d"]);
    assert!(code == 2 && err.contains("--network <NETWORK>"), "{err}");
    // Under --json, a usage error is the error object too (no HTTP status), still exit 2.
    let (code, out, _) =
        e.run(&["namespace", "create", "bad.name", "--network", "staging", "--retention", "1d", "--json"]);
    assert_eq!(code, 2);
    let error = serde_json::from_str::<serde_json::Value>(&out).unwrap()["error"].clone();
    assert!(error["message"].as_str().unwrap().contains(names) && error["status"].is_null(), "{error}");
    assert_eq!(e.namespaces(), only_default, "nothing was created");

    e.ok(&["namespace", "create", "shop", "--network", "staging", "--retention", "1d"]);
    e.refused(2, &["namespace", "update", "shop", "--network", "staging"], "nothing to change");
    e.refused(2, &["namespace", "update", "shop", "--network", "staging", "--retention", "1"], "retention is 0");
    e.refused(
        2,
        &["namespace", "update", "default", "--network", "staging", "--retention", "2d"],
        "the retention of the default namespace cannot be changed",
    );
    e.refused(2, &["namespace", "delete", "default", "--network", "staging"], "it cannot be deleted");
    e.refused(2, &["namespace", "delete", "shop", "--network", "staging", "--at", "tomorrow"], "RFC 3339");
    e.refused(
        2,
        &["namespace", "delete", "shop", "--network", "staging", "--at", "2020-01-01T00:00:00Z"],
        "not in the future",
    );
    e.refused(2, &["namespace", "delete", "shop", "--network", "staging", "--after", "0s"], "more than 0");
    e.refused(2, &["namespace", "delete", "shop", "--network", "staging", "--after", "soon"], "not a duration");
    assert!(e.json(&["namespace", "show", "shop", "--network", "staging"])["scheduledDeleteTime"].is_null());

    // Items: names, sandbox, JSON, files, size; nothing is written.
    e.refused(2, &write_args(&["shop", "a.b", "k", "--network", "staging", "--text", "v"]), "is not a group name");
    e.refused(2, &write_args(&["shop", "g", "k/1", "--network", "staging", "--text", "v"]), "is not an item key");
    e.refused(2, &write_args(&["bad.ns", "g", "k", "--network", "staging", "--text", "v"]), "is not a namespace name");
    e.refused(
        2,
        &write_args(&["shop", "g", "k", "--network", "production", "--text", "v", "--sandbox-id", "sb"]),
        "--sandbox-id: sandboxes exist on staging only",
    );
    e.refused(
        2,
        &write_args(&["shop", "g", "k", "--network", "staging", "--json-value", "{\"a\": 1,}"]),
        "--json-value: not valid JSON (key must be a string at line 1 column 9); nothing was written",
    );
    let bad_json = e.work.join("bad.json");
    std::fs::write(&bad_json, "{'single': 'quotes'}").unwrap();
    let bad_json = bad_json.to_str().unwrap();
    e.refused(2, &write_args(&["shop", "g", "k", "--network", "staging", "--json-file", bad_json]), "not valid JSON");
    let (code, _, err) =
        e.with_stdin(&write_args(&["shop", "g", "k", "--network", "staging", "--json-file", "-"]), b"nope");
    assert!(code == 2 && err.contains("--json-file -: not valid JSON"), "{err}");
    let missing = e.work.join("missing.txt");
    e.refused(
        2,
        &write_args(&["shop", "g", "k", "--network", "staging", "--file", missing.to_str().unwrap()]),
        "cannot read it: No such file or directory",
    );
    let big = e.work.join("big.txt");
    std::fs::write(&big, "é".repeat(262_145)).unwrap();
    e.refused(
        2,
        &write_args(&["shop", "g", "k", "--network", "staging", "--file", big.to_str().unwrap()]),
        "Value cannot exceed 262144 characters. (it has 262145 characters); nothing was written",
    );
    let (code, _, err) =
        e.run(&write_args(&["shop", "g", "k", "--network", "staging", "--text", "a", "--json-value", "1"]));
    assert!(code == 2 && err.contains("cannot be used with"), "{err}");
    let (code, _, err) = e.run(&write_args(&["shop", "g", "k", "--network", "staging"]));
    assert!(code == 2 && err.contains("--text <TEXT>|--json-value <JSON>|--file <FILE>|--json-file <FILE>"), "{err}");
    let (code, _, err) = e.run(&["item", "list", "shop", "g", "--network", "staging", "--max-items", "0"]);
    assert!(code == 2 && err.contains("1..=10000"), "{err}");
    assert_eq!(e.json(&["group", "list", "shop", "--network", "staging"])["groups"], serde_json::json!([]));

    // The server's refusals: failed operations (1) with the EdgeKV error.
    let missing_ns = "The requested namespace does not exist. (HTTP 400, EKV_9000";
    e.refused(1, &["namespace", "show", "nope", "--network", "staging"], missing_ns);
    e.refused(1, &["namespace", "update", "nope", "--network", "staging", "--retention", "2d"], missing_ns);
    e.refused(1, &["group", "list", "nope", "--network", "staging"], missing_ns);
    e.refused(1, &["item", "list", "nope", "g", "--network", "staging"], missing_ns);
    e.refused(1, &["item", "write", "shop", "g", "k", "--network", "production", "--text", "v"], missing_ns);
    e.refused(1, &["item", "read", "shop", "g", "k", "--network", "staging"], "HTTP 404, EKV_9000");
    e.refused(1, &["item", "delete", "shop", "g", "k", "--network", "staging"], "HTTP 404, EKV_9000");
    e.refused(
        1,
        &["namespace", "delete", "shop", "--network", "staging", "--cancel"],
        "No deletion is scheduled for namespace shop. (HTTP 404",
    );
    e.refused(1, &["namespace", "delete", "nope", "--network", "staging"], "missing the 'DELETE_STAGING_NAMESPACE'");
    // An access group that does not exist is found out before the retention changes.
    e.refused(
        1,
        &["namespace", "update", "shop", "--network", "staging", "--retention", "3d", "--group-id", "77"],
        "nothing was changed: You do not have access to group 77. (HTTP 403, EKV_1000",
    );
    e.refused(
        1,
        &["namespace", "create", "other", "--network", "staging", "--retention", "1d", "--group-id", "77"],
        "group 77",
    );
    let shop = e.json(&["namespace", "show", "shop", "--network", "staging"]);
    assert_eq!((shop["retentionInSeconds"].as_u64(), shop["groupId"].as_u64()), (Some(86_400), Some(0)), "{shop}");
    // Under --json: the error object, with the HTTP status, the EdgeKV code and the trace id.
    for args in [
        &["namespace", "show", "nope", "--network", "staging", "--json"][..],
        &["item", "write", "nope", "g", "k", "--network", "staging", "--text", "v", "--json"][..],
        &["group", "list", "nope", "--network", "staging", "--json"][..],
    ] {
        let (code, out, _) = e.run(args);
        assert_eq!(code, 1, "{args:?}");
        let error = serde_json::from_str::<serde_json::Value>(&out).unwrap()["error"].clone();
        assert_eq!((error["status"].as_u64(), error["errorCode"].as_str()), (Some(400), Some("EKV_9000")), "{error}");
        // The server's words, after what the command was acting on.
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("nope") && message.contains("on staging: The requested namespace does not exist."),
            "{error}"
        );
        assert_eq!(error["traceId"].as_str().map(str::len), Some(16), "{error}");
    }
    let (code, out, _) = e.run(&["item", "read", "shop", "g", "k", "--network", "staging", "--json"]);
    let error = serde_json::from_str::<serde_json::Value>(&out).unwrap()["error"].clone();
    assert_eq!((code, error["status"].as_u64(), error["errorCode"].as_str()), (1, Some(404), Some("EKV_9000")));

    // A client that may only view: `namespace show` still works and says the deletion is unknown;
    // a change is refused by the server, naming the grant.
    let d = e.data.to_str().unwrap();
    let (code, _, err) =
        cli(&["apiclient", "create", "viewer", "--grants", "VIEW_NAMESPACE,READ_DATA", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let viewer = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--section", "viewer"]);
        e.run(&a)
    };
    let (code, out, err) = viewer(&["namespace", "show", "shop", "--network", "staging", "--json"]);
    assert_eq!(code, 0, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(shown["scheduledDeleteTime"].is_null(), "{shown}");
    assert!(shown["scheduledDeleteUnknown"].as_str().unwrap().contains("DELETE_NAMESPACE"), "{shown}");
    let (code, out, _) = viewer(&["namespace", "show", "shop", "--network", "staging"]);
    assert!(code == 0 && out.contains("Deletion:      unknown ("), "{out}");
    let (code, _, err) = viewer(&["namespace", "create", "other", "--network", "staging", "--retention", "1d"]);
    assert!(code == 1 && err.contains("permission"), "{err}");
    let (code, _, err) = viewer(&["item", "write", "shop", "g", "k", "--network", "staging", "--text", "v"]);
    assert!(code == 1 && err.contains("WRITE_DATA"), "{err}");
    assert_eq!(e.namespaces(), pairs(&[("staging", "default"), ("staging", "shop"), ("production", "default")]));
    assert_eq!(e.json(&["group", "list", "shop", "--network", "staging"])["groups"], serde_json::json!([]));
    // Listing groups and items needs READ_DATA alone, as the API does.
    let (code, _, err) = cli(&["apiclient", "create", "reader", "--grants", "READ_DATA", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    for args in [&["group", "list", "shop"][..], &["item", "list", "shop", "g"][..]] {
        let mut a = args.to_vec();
        a.extend(["--network", "staging", "--section", "reader"]);
        let (code, _, err) = e.run(&a);
        assert_eq!(code, 0, "{a:?}: {err}");
    }
}
