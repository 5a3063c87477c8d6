//! The built `edgeward` binary: first start, restart after `kill -9`, secrets at rest and in
//! logs, and the `apiclient` commands.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use edgeward_client::{Client, ClientError, Edgerc, Method};

use crate::common::*;

fn client(dir: &Path, section: &str) -> Client {
    let edgerc = Edgerc::load(&dir.join("edgerc"), section).unwrap();
    Client::new(edgerc, Some(&dir.join("tls/cert.pem"))).unwrap()
}

fn token_body(name: &str, expiry: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "allowOnProduction": true, "allowOnStaging": true, "restrictToEwids": ["all"],
        "expiry": expiry, "namespacePermissions": {"default": ["r", "w"]},
    })
}

async fn create(c: &Client, name: &str, expiry: &str) -> Result<serde_json::Value, ClientError> {
    let resp = c.send(Method::POST, "/edgekv/v1/tokens", Some(&token_body(name, expiry))).await?;
    let status = resp.status().as_u16();
    let json: serde_json::Value = resp.json().await.map_err(|e| ClientError::Decode(e.to_string()))?;
    if status != 200 {
        return Err(ClientError::Api {
            status,
            code: json["errorCode"].as_str().map(str::to_owned),
            detail: json["detail"].as_str().unwrap_or_default().to_owned(),
            trace_id: None,
        });
    }
    Ok(json)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn future_date(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

#[tokio::test]
async fn first_start_prepares_everything_and_a_restart_after_kill_9_reuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut first = start(&dir);
    let on_sqlite = edgeward_store::testing::database_for_dir(&dir).is_none();
    if on_sqlite {
        assert!(dir.join("edgeward.db").exists(), "edgeward.db exists");
    }
    for f in ["keys/token-signing.pem", "keys/data.key", "tls/cert.pem", "tls/key.pem", "edgerc"] {
        assert!(dir.join(f).exists(), "{f} exists");
    }
    assert_eq!(mode(&dir), 0o700);
    for f in ["keys/token-signing.pem", "keys/data.key", "tls/key.pem", "edgerc"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f} is owner-only");
    }
    let edgerc = std::fs::read_to_string(dir.join("edgerc")).unwrap();
    assert!(edgerc.contains(&format!("host = {}", first.admin)), "{edgerc}");
    let key_before = std::fs::read(dir.join("keys/token-signing.pem")).unwrap();
    let c = client(&dir, "default");
    let init = c.initialize_status().await.unwrap();
    let created = create(&c, "durable", &future_date(30)).await.unwrap();

    // kill -9 right after the 200: the token must survive.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let second = start(&dir);
    assert_eq!(std::fs::read(dir.join("keys/token-signing.pem")).unwrap(), key_before, "the signing key is reused");
    // The edgerc is not rewritten: the restart on another port says so and names the command.
    assert_eq!(std::fs::read_to_string(dir.join("edgerc")).unwrap(), edgerc, "a restart leaves the edgerc alone");
    let log = second.log.lock().unwrap().clone();
    assert!(log.contains(&format!("edgeward edgerc set-host {}", second.admin)), "{log}");
    let (code, out, err) = cli(&["edgerc", "set-host", &second.admin, "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("now name {}", second.admin)), "{out}");
    assert_eq!(mode(&dir.join("edgerc")), 0o600, "still owner-only");
    let c = client(&dir, "default");
    assert_eq!(c.initialize_status().await.unwrap().cpcode, init.cpcode, "the account is reused");
    let got = c.get_token("durable").await.unwrap();
    assert_eq!(got.uuid, created["uuid"].as_str().unwrap());
    assert_eq!(got.value.as_deref(), created["value"].as_str(), "the same value, signed by the same key");
}

/// A server writes the edgerc once and never rewrites it: what an operator wrote (a load
/// balancer's name, comments, sections of their own) survives restarts and a second server on
/// the same directory; only `edgeward edgerc set-host` changes a host, and it keeps the rest.
#[tokio::test]
async fn a_hand_edited_edgerc_survives_restarts_and_a_second_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let first = start(&dir);
    let written = std::fs::read_to_string(dir.join("edgerc")).unwrap();
    drop(first);
    let edited = format!(
        "; edited by the operator\n{}\n[mine]\nhost = other.example.com\nclient_token = a\nclient_secret = b\naccess_token = c\n",
        written.replace(&bootstrap_host(&written), "lb.example.com:443")
    );
    std::fs::write(dir.join("edgerc"), &edited).unwrap();
    let again = start(&dir);
    let second = start(&dir);
    assert_eq!(std::fs::read_to_string(dir.join("edgerc")).unwrap(), edited, "neither server touched it");
    assert!(again.log.lock().unwrap().contains("edgerc set-host"), "the restart says where the file points");

    // The explicit command: a bad host is a usage error and changes nothing; a good one changes
    // [default] only (the operator's other section named another host) and keeps the comment.
    for bad in ["https://lb.example.com", "lb example", "lb.example.com:0"] {
        let (code, _, err) = cli(&["edgerc", "set-host", bad, "--data-dir", d]);
        assert_eq!(code, 2, "{bad}: {err}");
    }
    let (code, _, err) = cli(&["edgerc", "set-host", "h:1", "--section", "nope", "--data-dir", d]);
    assert_eq!((code, err.contains("no [nope] section")), (1, true), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("edgerc")).unwrap(), edited);
    let (code, _, err) = cli(&["edgerc", "set-host", &second.admin, "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let now = std::fs::read_to_string(dir.join("edgerc")).unwrap();
    assert!(now.starts_with("; edited by the operator\n"), "{now}");
    assert!(now.contains(&format!("host = {}", second.admin)) && now.contains("host = other.example.com"), "{now}");
    let c = client(&dir, "default");
    c.initialize_status().await.expect("the set host reaches the second server");

    // `apiclient create` checks its section before making a client.
    let (code, _, err) =
        cli(&["apiclient", "create", "ci", "--grants", "VIEW_TOKEN", "--section", "mine", "--data-dir", d]);
    assert_eq!((code, err.contains("already has a [mine] section")), (2, true), "{err}");
    let (_, list, _) = cli(&["apiclient", "list", "--data-dir", d]);
    assert!(!list.contains("ci "), "no client was made: {list}");
}

/// The `host` of an edgerc text's `[default]` section.
fn bootstrap_host(edgerc: &str) -> String {
    Edgerc::parse(edgerc, "default").unwrap().host
}

#[tokio::test]
async fn token_values_and_secrets_are_neither_stored_in_clear_nor_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = start(&dir);
    let c = client(&dir, "default");
    // Beyond the 30-day notice: an expiry notice lists a due expiring token's uuid (its value's
    // `jti`, no credential: docs/security.md), and the server's scheduled check may run at any
    // moment of this test.
    let t = create(&c, "secret1", &future_date(45)).await.unwrap();
    let value = t["value"].as_str().unwrap().to_owned();
    let _ = c.get_token("secret1").await.unwrap();
    // An auto-refreshing token's uuid is its reference: a bearer credential too.
    let auto = create(&c, "auto1", "").await.unwrap();
    let reference = auto["uuid"].as_str().unwrap().to_owned();
    c.refresh_token("auto1").await.unwrap();
    c.revoke_token("auto1").await.unwrap();
    let secret = Edgerc::load(&dir.join("edgerc"), "default").unwrap().credentials.client_secret;
    let signature = value.rsplit('.').next().unwrap().to_owned();
    let mut db = Vec::new();
    match edgeward_store::testing::database_for_dir(&dir) {
        None => {
            for f in ["edgeward.db", "edgeward.db-wal"] {
                if let Ok(bytes) = std::fs::read(dir.join(f)) {
                    db.extend(bytes);
                }
            }
        }
        // Everything PostgreSQL holds for this server, as pg_dump writes it.
        Some(url) => {
            let out = std::process::Command::new("pg_dump").args(["--data-only", &url]).output().expect("pg_dump runs");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            db = out.stdout;
        }
    }
    // Raw, or hex-encoded as pg_dump writes bytea.
    let contains = |hay: &[u8], needle: &str| {
        let hex = hex::encode(needle);
        hay.windows(needle.len()).any(|w| w == needle.as_bytes()) || hay.windows(hex.len()).any(|w| w == hex.as_bytes())
    };
    assert!(contains(&db, "secret1"), "the check can see plaintext rows (token names are not secret)");
    assert!(!contains(&db, &signature), "the token value is sealed at rest");
    assert!(!contains(&db, &secret), "the client secret is sealed at rest");
    for uuid in [&reference, t["uuid"].as_str().unwrap()] {
        assert!(!contains(&db, uuid), "token uuids (references) are sealed at rest, rows keyed by token ref");
        assert!(!contains(&db, &uuid.replace('-', "")), "nor as bare hex");
    }
    // The admin user's initial password is kept as its Argon2id hash only.
    let password = std::fs::read_to_string(dir.join("admin-password")).unwrap().trim_end().to_owned();
    assert!(!contains(&db, &password), "no password is stored");
    // A hash, not the migration's comment that shows its form.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$";
    assert!(contains(&db, hash), "its hash is");
    let log = server.log.lock().unwrap().clone();
    let leaked: Vec<&str> = log.lines().filter(|l| l.contains(&password) || l.contains(hash)).collect();
    assert!(leaked.is_empty(), "neither the password nor its hash is logged: {leaked:#?}");
    assert!(log.contains("token created"), "debug logging was on: {log}");
    assert!(log.contains("token refreshed") && log.contains("token revoked"), "{log}");
    for needle in [&value, &signature, &secret, &reference] {
        assert!(!log.contains(needle.as_str()), "a secret reached the log");
    }
}

fn run_cli(args: &[&str]) -> (bool, String) {
    let out = command(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn apiclient_commands_create_list_disable_enable_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let _server = start(&dir);
    let d = dir.to_str().unwrap();
    let (ok, out) = run_cli(&["apiclient", "create", "ci", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    assert!(ok, "{out}");
    let ci = client(&dir, "ci");
    assert!(ci.list_tokens(false).await.is_ok());
    match create(&ci, "nope", "").await {
        Err(ClientError::Api { status: 400, code: Some(code), .. }) => assert_eq!(code, "EKV_1002"),
        other => panic!("a view-only client cannot create: {other:?}"),
    }
    let (ok, out) = run_cli(&["apiclient", "list", "--data-dir", d]);
    assert!(ok && out.contains("ci") && out.contains("VIEW_TOKEN") && out.contains("admin"), "{out}");
    // The columns line up whatever the names: every row's client token starts where the header's does.
    let lines: Vec<&str> = out.lines().collect();
    let at = lines[0].find("CLIENT TOKEN").expect("a header");
    assert!(lines[0].contains("OWNER"), "{out}");
    assert!(lines[1..].iter().all(|l| l[at..].starts_with("akab-")), "{out}");
    let (ok, out) = run_cli(&["apiclient", "disable", "ci", "--data-dir", d]);
    assert!(ok, "{out}");
    assert!(matches!(ci.list_tokens(false).await, Err(ClientError::Api { status: 401, .. })), "disabled at once");
    let (ok, _) = run_cli(&["apiclient", "enable", "ci", "--data-dir", d]);
    assert!(ok);
    assert!(ci.list_tokens(false).await.is_ok());
    let (ok, _) = run_cli(&["apiclient", "delete", "ci", "--data-dir", d]);
    assert!(ok);
    assert!(matches!(ci.list_tokens(false).await, Err(ClientError::Api { status: 401, .. })));
    let (ok, out) = run_cli(&["apiclient", "create", "x", "--grants", "NOT_A_GRANT", "--data-dir", d]);
    assert!(!ok && out.contains("unknown capability") && out.contains("the capabilities are CREATE_TOKEN"), "{out}");
    let (ok, out) = run_cli(&["apiclient", "delete", "ghost", "--data-dir", d]);
    assert!(!ok && out.contains("does not exist"), "{out}");
}

#[tokio::test]
async fn accessgroup_commands_are_seen_by_the_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let _server = start(&dir);
    let d = dir.to_str().unwrap();
    let admin = client(&dir, "default");
    let group = |id: u64| {
        let admin = admin.clone();
        async move {
            let r =
                admin.send(edgeward_client::Method::GET, &format!("/edgekv/v1/auth/groups/{id}"), None).await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    assert_eq!(group(4284).await.0, 403);
    let (ok, out) = run_cli(&["accessgroup", "create", "4284", "--name", "Shop team", "--data-dir", d]);
    assert!(ok, "{out}");
    let (status, body) = group(4284).await;
    assert_eq!((status, body["groupName"].as_str()), (200, Some("Shop team")), "{body}");
    let (ok, out) = run_cli(&["accessgroup", "list", "--data-dir", d]);
    assert!(ok && out.contains("Account Group") && out.contains("4284") && out.contains("Shop team"), "{out}");
    let (ok, out) = run_cli(&["accessgroup", "create", "4284", "--name", "Again", "--data-dir", d]);
    assert!(!ok && out.contains("already exists"), "{out}");
    for (args, says) in [
        (&["accessgroup", "create", "0", "--name", "x"][..], "account group"),
        (&["accessgroup", "create", "5", "--name", " "][..], "--name"),
        (&["accessgroup", "delete", "0"][..], "cannot be deleted"),
        (&["accessgroup", "delete", "77"][..], "group 77"),
        (&["accessgroup", "create", "9223372036854775808", "--name", "Huge"][..], "out of range"),
        (&["accessgroup", "delete", "9223372036854775808"][..], "out of range"),
    ] {
        let mut args = args.to_vec();
        args.extend(["--data-dir", d]);
        let (ok, out) = run_cli(&args);
        assert!(!ok && out.contains(says), "{args:?}: {out}");
    }
    let (ok, out) = run_cli(&["accessgroup", "list", "--data-dir", d]);
    assert!(ok && !out.contains("Huge") && !out.contains("922337203685477580"), "{out}");
    let (ok, out) = run_cli(&["accessgroup", "delete", "4284", "--data-dir", d]);
    assert!(ok, "{out}");
    assert_eq!(group(4284).await.0, 403);
}

#[test]
fn accessgroup_refuses_an_id_above_i64_max_before_opening_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let (ok, out) = run_cli(&["accessgroup", "create", "9223372036854775808", "--name", "Huge", "--data-dir", d]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("The group id 9223372036854775808 is out of range: a group id is a whole number from 0 to 9223372036854775807."),
        "{out}"
    );
    assert!(!dir.exists(), "nothing was opened or created");
    let (ok, out) = run_cli(&["accessgroup", "create", "9223372036854775807", "--name", "Largest", "--data-dir", d]);
    assert!(!out.contains("out of range"), "the largest id is in range: {ok} {out}");
}

#[test]
fn migrate_applies_the_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let newest = edgeward_store::migrate::newest_version();
    // A data directory with no installation is refused, and nothing is made there: only
    // `serve` makes an installation.
    let (ok, out) = run_cli(&["migrate", "--data-dir", d]);
    assert!(!ok && out.contains("holds no Edgeward installation") && out.contains(d), "{out}");
    assert!(!dir.join("keys").exists() && !dir.join("edgeward.db").exists(), "nothing was created");
    // Every administration command, whether it opens the database or calls the API with the
    // directory's edgerc: the same refusal (1), naming the directory, and nothing made there.
    let b = tmp.path().join("b.backup");
    let b = b.to_str().unwrap();
    for args in [
        &["apiclient", "list"][..],
        &["apiclient", "create", "ci", "--grants", "ALL"][..],
        &["accessgroup", "list"][..],
        &["accessgroup", "create", "42", "--name", "Shop"][..],
        &["keys", "list"][..],
        &["keys", "rotate"][..],
        &["audit", "list"][..],
        &["backup", "--to", b][..],
        &["user", "list"][..],
        &["user", "create", "ana"][..],
        &["token", "list"][..],
        &["namespace", "list"][..],
        &["status"][..],
    ] {
        let mut all = args.to_vec();
        all.extend(["--data-dir", d]);
        let (code, _, err) = cli(&all);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(&format!("{d} holds no Edgeward installation")), "{args:?}: {err}");
        assert!(!dir.exists(), "{args:?} made {d}");
    }
    drop(start(&dir));
    let (ok, out) = run_cli(&["migrate", "--data-dir", d]);
    assert!(ok && out.contains(&format!("schema version {newest}, up to date")), "{out}");
    // A schema newer than the build is refused by the store itself (edgeward-store's
    // `a_schema_newer_than_the_build_is_refused`).
}

#[test]
fn completions_are_printed_for_each_shell_and_an_unknown_shell_is_a_usage_error() {
    for (shell, marker) in [("bash", "_edgeward()"), ("zsh", "#compdef edgeward"), ("fish", "complete -c edgeward")] {
        let (code, out, err) = cli(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker) && out.contains("token") && out.contains("bundle"), "{shell}: {out}");
    }
    let (code, _, err) = cli(&["completions", "nosh"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("possible values: bash"), "{err}");
}

#[test]
fn config_print_hides_the_database_password() {
    let (ok, out) =
        run_cli(&["config", "print", "--database", "postgres://edgeward:hunter2@db.internal:5432/edgeward"]);
    assert!(ok, "{out}");
    assert!(out.contains("postgres://edgeward:***@db.internal:5432/edgeward"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}

/// `--json` is taken by every command that prints something, and its output (or, on a failure,
/// the `{"error": …}` object) parses.
#[test]
fn every_command_speaks_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let _server = start(&dir);
    let json = |args: &[&str]| -> (i32, serde_json::Value) {
        let (code, out, err) = cli(args);
        let v = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}\n{err}"));
        (code, v)
    };
    let rc = dir.join("edgerc");
    let rc = rc.to_str().unwrap();
    for args in [
        &["apiclient", "list", "--json", "--data-dir", d][..],
        &["accessgroup", "create", "42", "--name", "Shop", "--json", "--data-dir", d][..],
        &["accessgroup", "list", "--json", "--data-dir", d][..],
        &["accessgroup", "delete", "42", "--json", "--data-dir", d][..],
        &["migrate", "--json", "--data-dir", d][..],
        &["config", "print", "--json", "--data-dir", d][..],
        &["openapi", "--json"][..],
        &["keys", "list", "--json", "--data-dir", d][..],
        &["audit", "list", "--json", "--data-dir", d][..],
        &["user", "list", "--json", "--edgerc", rc][..],
        &["role", "list", "--json", "--edgerc", rc][..],
        &["contact", "list", "--json", "--edgerc", rc][..],
        &["notify", "status", "--json", "--edgerc", rc][..],
        &["token", "list", "--json", "--edgerc", rc][..],
        &["status", "--json", "--edgerc", rc][..],
        &["initialize", "status", "--json", "--edgerc", rc][..],
        &["namespace", "list", "--json", "--edgerc", rc][..],
        &["namespace", "show", "default", "--network", "staging", "--json", "--edgerc", rc][..],
        &["group", "list", "default", "--network", "staging", "--json", "--edgerc", rc][..],
        &["item", "list", "default", "g", "--network", "staging", "--json", "--edgerc", rc][..],
    ] {
        let (code, _) = json(args);
        assert_eq!(code, 0, "{args:?}");
    }
    let (code, v) = json(&["apiclient", "create", "ci", "--grants", "VIEW_TOKEN", "--json", "--data-dir", d]);
    assert_eq!((code, v["apiClient"]["section"].as_str()), (0, Some("ci")), "{v}");
    let (_, v) = json(&["apiclient", "list", "--json", "--data-dir", d]);
    assert!(v["apiClients"].as_array().unwrap().iter().any(|c| c["name"] == "ci" && c["owner"].is_null()), "{v}");
    let (code, v) = json(&["apiclient", "disable", "ci", "--json", "--data-dir", d]);
    assert_eq!((code, v["apiClient"]["enabled"].as_bool()), (0, Some(false)), "{v}");
    let (_, v) = json(&["migrate", "--json", "--data-dir", d]);
    assert_eq!(v["schemaVersion"].as_u64(), Some(u64::from(edgeward_store::migrate::newest_version())));
    // Failures: the error object on stdout, the exit status as without --json.
    let (code, v) = json(&["apiclient", "delete", "ghost", "--json", "--data-dir", d]);
    assert!(code == 1 && v["error"]["message"].is_string(), "{v}");
    let (code, v) = json(&["accessgroup", "delete", "77", "--json", "--data-dir", d]);
    assert!(code == 1 && v["error"]["message"].is_string(), "{v}");
    // Refused while parsing (clap's own usage errors): the same object, exit 2.
    for args in
        [&["token", "lst", "--json"][..], &["namespace", "create", "shop", "--network", "stagging", "--json"][..]]
    {
        let (code, v) = json(args);
        assert!(code == 2 && v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{args:?}: {v}");
    }
    let (code, v) = json(&["keys", "retire", "nokey", "--json", "--data-dir", d]);
    assert!(code == 1 && v["error"]["message"].as_str().unwrap().contains("no token-signing key"), "{v}");
    let (code, v) = json(&["audit", "list", "--since", "yesterday", "--json", "--data-dir", d]);
    assert!(code == 2 && v["error"]["message"].is_string(), "{v}");

    // The commands that change keys and the edgerc say what they did, as one object.
    let (code, v) = json(&["keys", "rotate", "--json", "--data-dir", d]);
    assert_eq!((code, v["stillVerifying"].as_array().map(Vec::len)), (0, Some(1)), "{v}");
    let added = v["added"].as_str().unwrap().to_owned();
    let (code, v) = json(&["keys", "retire", &added, "--yes", "--json", "--data-dir", d]);
    assert_eq!(
        (code, v["retired"].as_str(), v["liveTokensRefused"].as_u64()),
        (0, Some(added.as_str()), Some(0)),
        "{v}"
    );
    assert!(v["added"].is_string(), "the active key retired: a new one signs: {v}");
    let (code, v) = json(&["keys", "rotate-data-key", "--settle-secs", "0", "--json", "--data-dir", d]);
    assert_eq!((code, v["prepared"].as_bool()), (0, Some(false)), "{v}");
    assert!(v["resealed"].as_u64().unwrap() > 0 && v["oldKeyKept"].is_string(), "{v}");
    let (code, v) = json(&["edgerc", "set-host", "lb.example.com:443", "--section", "ci", "--json", "--data-dir", d]);
    assert_eq!((code, v["changed"].as_bool(), v["host"].as_str()), (0, Some(true), Some("lb.example.com:443")), "{v}");
    let (code, v) = json(&["edgerc", "set-host", "h:0", "--json", "--data-dir", d]);
    assert!(code == 2 && v["error"]["message"].as_str().unwrap().contains("port"), "{v}");
}

/// A command whose output is piped into `head` ends quietly when the pipe closes (SIGPIPE, as
/// for any Unix tool), without a panic message.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::io::Read as _;
    let mut child = std::process::Command::new(BIN)
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is dropped here: the pipe is closed with most of the script unread.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert!(!out.status.success() || err.is_empty(), "{:?} {err}", out.status);
}
