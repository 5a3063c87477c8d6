//! The `edgeward token` and `edgeward bundle` commands, run as a user would: the built binary
//! against a real server on port 0, writing real token files and bundles.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::common::*;

struct Env {
    _tmp: tempfile::TempDir,
    server: Server,
    data: PathBuf,
    work: PathBuf,
}

fn setup() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = start(&data);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    Env { work, data, server, _tmp: tmp }
}

impl Env {
    fn edgerc(&self) -> String {
        self.data.join("edgerc").to_string_lossy().into_owned()
    }

    /// Run `edgeward token|bundle …` with this server's credentials.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        let rc = self.edgerc();
        all.extend(["--edgerc", rc.as_str()]);
        cli(&all)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}\nstdout: {out}\nstderr: {err}");
        out
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// A failure: non-zero exit and exactly one human line on stderr.
    fn fails(&self, args: &[&str], needle: &str) -> String {
        let (code, out, err) = self.run(args);
        assert_ne!(code, 0, "{args:?} should fail\nstdout: {out}");
        let lines: Vec<_> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {err}");
        assert!(lines[0].starts_with("error: ") && lines[0].contains(needle), "{args:?}: {err}");
        err
    }
}

fn date_in(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

fn read_tokens(path: &Path) -> serde_json::Value {
    // Import the file as an ES module with Node, the way edgekv.js does.
    let script = format!(
        "import {{ edgekv_access_tokens }} from '{}'; console.log(JSON.stringify(edgekv_access_tokens));",
        url_of(path)
    );
    let out = std::process::Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node is installed");
    assert!(out.status.success(), "node could not import {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn url_of(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

#[test]
fn token_commands_with_and_without_json() {
    let e = setup();
    let out =
        e.ok(&["token", "create", "auto1", "--namespace", "default+rwd", "--staging", "allow", "--production", "deny"]);
    assert!(out.contains("Created token auto1 (auto-refreshing)"), "{out}");
    let j = e.json(&[
        "token",
        "create",
        "exp1",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "allow",
        "--expiry",
        &date_in(10),
        "--ewids",
        "11,22",
    ]);
    assert_eq!(j["token"]["name"], "exp1");
    assert!(j["token"]["value"].as_str().unwrap().contains('.'));
    assert_eq!(j["token"]["restrictToEdgeWorkerIds"], serde_json::json!(["11", "22"]));

    let out = e.ok(&["token", "list"]);
    assert!(out.contains("auto1") && out.contains("auto-refreshing") && out.contains("exp1"), "{out}");
    assert!(out.contains("expires in 10 days"), "the warning column flags tokens within 30 days: {out}");
    let j = e.json(&["token", "list"]);
    assert_eq!(j["tokens"].as_array().unwrap().len(), 2);
    let by_name = |n: &str| j["tokens"].as_array().unwrap().iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(
        (by_name("exp1")["kind"].as_str(), by_name("exp1")["warning"].as_str()),
        (Some("expiring"), Some("expires in 10 days"))
    );
    assert_eq!(by_name("auto1")["kind"], "auto-refreshing");
    assert!(by_name("auto1")["warning"].is_null(), "no warning: null");

    let out = e.ok(&["token", "show", "exp1"]);
    assert!(out.contains("Token name:        exp1") && out.contains("WARNING"), "{out}");
    let j = e.json(&["token", "download", "auto1"]);
    assert_eq!(j["token"]["expiry"], "9999-12-31");

    let out = e.ok(&["token", "refresh", "auto1"]);
    assert!(out.contains("has been refreshed"), "{out}");
    let j = e.json(&["token", "refresh", "auto1"]);
    assert!(j["token"]["latestRefreshDate"].is_string());

    let out = e.ok(&["token", "revoke", "auto1"]);
    assert!(out.contains("was revoked"), "{out}");
    let j = e.json(&["token", "revoke", "exp1"]);
    assert_eq!(j["revoked"]["name"], "exp1");
    assert_eq!(e.json(&["token", "list"])["tokens"], serde_json::json!([]));
}

#[test]
fn every_error_is_one_line_and_a_nonzero_exit() {
    let e = setup();
    e.fails(&["token", "show", "nope"], "Token with name nope does not exist");
    e.ok(&["token", "create", "dup", "--namespace", "default+r", "--staging", "allow", "--production", "deny"]);
    e.fails(
        &["token", "create", "dup", "--namespace", "default+r", "--staging", "allow", "--production", "deny"],
        "already stored",
    );
    e.fails(
        &["token", "create", "x", "--namespace", "default", "--staging", "allow", "--production", "deny"],
        "not ns+rights",
    );
    e.fails(
        &["token", "create", "x", "--namespace", "default+rx", "--staging", "allow", "--production", "deny"],
        "rights 'rx'",
    );
    e.fails(
        &["token", "create", "x", "--namespace", "a+r,a+w", "--staging", "allow", "--production", "deny"],
        "given twice",
    );
    e.fails(
        &["token", "create", "x", "--namespace", "default+r", "--staging", "deny", "--production", "deny"],
        "cannot both be deny",
    );
    // Flag values refused after parsing are usage errors, like clap's own: exit status 2.
    for bad in [
        &["token", "create", "x", "--namespace", "default:r", "--staging", "allow", "--production", "deny"][..],
        &["token", "create", "x", "--namespace", "default+r", "--staging", "deny", "--production", "deny"][..],
        &["token", "create", "x", "--namespace", "default+rr", "--staging", "allow", "--production", "deny"][..],
    ] {
        assert_eq!(e.run(bad).0, 2, "{bad:?}");
    }
    // JSON mode reports the error on stdout too.
    let (code, out, _) = e.run(&["token", "show", "nope", "--json"]);
    assert_eq!(code, 1);
    let error = serde_json::from_str::<serde_json::Value>(&out).unwrap()["error"].clone();
    assert!(error["message"].as_str().unwrap().contains("does not exist"), "{error}");
    assert_eq!((error["status"].as_u64(), error["errorCode"].as_str()), (Some(404), Some("EKV_3000")), "{error}");
    assert_eq!(error["traceId"].as_str().map(str::len), Some(16), "{error}");

    // Missing grant: a view-only client.
    let (code, _, err) =
        cli(&["apiclient", "create", "viewer", "--grants", "VIEW_TOKEN", "--data-dir", e.data.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    e.fails(
        &[
            "token",
            "create",
            "y",
            "--namespace",
            "default+r",
            "--staging",
            "allow",
            "--production",
            "deny",
            "--section",
            "viewer",
        ],
        "missing the 'CREATE_TOKEN' permission",
    );

    // Server unreachable.
    let rc = std::fs::read_to_string(e.data.join("edgerc")).unwrap();
    let host_line = rc.lines().find(|l| l.starts_with("host")).unwrap().to_owned();
    let down = e.work.join("down.edgerc");
    std::fs::write(&down, rc.replace(&host_line, "host = 127.0.0.1:1")).unwrap();
    let (code, _, err) = cli(&["token", "list", "--edgerc", down.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.lines().count() == 1 && err.contains("cannot reach 127.0.0.1:1"), "{err}");

    // Bad TLS: the same credentials from a place with no tls/cert.pem beside them.
    let elsewhere = e.work.join("elsewhere.edgerc");
    std::fs::write(&elsewhere, &rc).unwrap();
    let (code, _, err) = cli(&["token", "list", "--edgerc", elsewhere.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.lines().count() == 1 && err.to_lowercase().contains("certificate"), "{err}");
    // …and fine once the certificate is given.
    let cert = e.data.join("tls/cert.pem");
    let (code, _, err) =
        cli(&["token", "list", "--edgerc", elsewhere.to_str().unwrap(), "--ca-cert", cert.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    // Malformed .edgerc.
    let bad = e.work.join("bad.edgerc");
    std::fs::write(&bad, "[default]\nhost = 127.0.0.1:1\n").unwrap();
    let (code, _, err) = cli(&["token", "list", "--edgerc", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.lines().count() == 1 && err.contains("lacks client_token"), "{err}");
    let (code, _, err) = cli(&["token", "list", "--edgerc", bad.to_str().unwrap(), "--section", "other"]);
    assert!(code == 1 && err.contains("no [other] section"), "{err}");
    // Usage errors exit 2.
    let (code, _, _) = cli(&["token", "create"]);
    assert_eq!(code, 2);
}

#[test]
fn token_files_are_written_merged_and_protected() {
    let e = setup();
    let dir = e.work.join("bundle");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let file = dir.join("edgekv_tokens.js");

    // New file in a directory; read back through Node.
    let out = e.ok(&[
        "token",
        "create",
        "a",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--save-path",
        d,
    ]);
    assert!(out.contains("was updated"), "{out}");
    let a = e.json(&["token", "show", "a"])["token"].clone();
    assert_eq!(read_tokens(&file), serde_json::json!({"namespace-default": {"name": "a", "reference": a["uuid"]}}));

    // Merge into a file that holds another namespace's entry: it is kept.
    std::fs::write(
        &file,
        "var edgekv_access_tokens = {\n  \"namespace-shop\": { \"name\": \"s\", \"reference\": \"22222222-2222-2222-2222-222222222222\" }\n};\nexport { edgekv_access_tokens };\n",
    )
    .unwrap();
    e.ok(&["token", "show", "a", "--save-path", d]);
    let tokens = read_tokens(&file);
    assert_eq!(tokens["namespace-shop"]["name"], "s", "other namespaces are kept");
    assert_eq!(tokens["namespace-default"]["reference"], a["uuid"]);

    // An entry for the same namespace from another token: refused without --overwrite.
    e.ok(&[
        "token",
        "create",
        "b",
        "--namespace",
        "default+rw",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--expiry",
        &date_in(20),
    ]);
    let before = std::fs::read(&file).unwrap();
    e.fails(&["token", "show", "b", "--save-path", d], "pass --overwrite");
    assert_eq!(std::fs::read(&file).unwrap(), before, "a refused write leaves the file as it was");
    e.ok(&["token", "show", "b", "--save-path", d, "--overwrite"]);
    let tokens = read_tokens(&file);
    let b = e.json(&["token", "show", "b"])["token"].clone();
    assert_eq!(
        tokens["namespace-default"],
        serde_json::json!({"name": "b", "value": b["value"]}),
        "replaced even though the token name differs"
    );
    assert_eq!(tokens["namespace-shop"]["name"], "s");
    // The same token again, by file path: nothing to overwrite, so it succeeds.
    e.ok(&["token", "show", "b", "--save-path", file.to_str().unwrap()]);

    // A file written by Akamai's CLI, with a bare key.
    let akamai = e.work.join("akamai");
    std::fs::create_dir_all(&akamai).unwrap();
    let akamai_file = akamai.join("edgekv_tokens.js");
    std::fs::write(
        &akamai_file,
        "var edgekv_access_tokens = {\n\"default\" : { \n\"name\": \"old\",\n\"reference\" : \"00000000-0000-0000-0000-000000000000\"\n},\n\"namespace-other\" : { \n\"name\": \"x\",\n\"reference\" : \"11111111-1111-1111-1111-111111111111\"\n}\n}\nexport { edgekv_access_tokens };",
    )
    .unwrap();
    e.fails(&["token", "show", "a", "--save-path", akamai.to_str().unwrap()], "namespace");
    e.ok(&["token", "show", "a", "--save-path", akamai.to_str().unwrap(), "--overwrite"]);
    let t = read_tokens(&akamai_file);
    assert!(t.get("default").is_none(), "the bare key became namespace-default: {t}");
    assert_eq!(t["namespace-default"]["name"], "a");
    assert_eq!(t["namespace-other"]["name"], "x");

    // A malformed file is left byte-for-byte unchanged, and the error says where.
    let broken_dir = e.work.join("broken");
    std::fs::create_dir_all(&broken_dir).unwrap();
    let broken = broken_dir.join("edgekv_tokens.js");
    let text = "var edgekv_access_tokens = {\n  \"namespace-x\": { \"name\": 'single' }\n}\nexport { edgekv_access_tokens };\n";
    std::fs::write(&broken, text).unwrap();
    let err = e.fails(&["token", "show", "a", "--save-path", broken_dir.to_str().unwrap()], "line 2");
    assert!(err.contains("left unchanged"), "{err}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), text);
}

fn make_bundle(path: &Path) -> Vec<(String, Vec<u8>, u32, u64)> {
    let members: Vec<(String, Vec<u8>, u32, u64)> = vec![
        ("bundle.json".into(), br#"{"edgeworker-version":"1.0","description":"shop"}"#.to_vec(), 0o644, 1_600_000_000),
        (
            "main.js".into(),
            b"import { EdgeKV } from './edgekv.js';\nexport function onClientRequest(r) {}\n".to_vec(),
            0o640,
            1_600_000_100,
        ),
        ("edgekv.js".into(), vec![b'x'; 5000], 0o600, 1_600_000_200),
        ("lib/util.js".into(), b"export const u = 1;\n".to_vec(), 0o755, 1_600_000_300),
    ];
    let f = std::fs::File::create(path).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::default()));
    for (name, data, mode, mtime) in &members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(*mtime);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
    members
}

fn read_bundle(path: &Path) -> Vec<(String, Vec<u8>, u32, u64)> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()));
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                data,
                e.header().mode().unwrap(),
                e.header().mtime().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_tgz_bundle_gets_its_token_file_and_keeps_every_other_member() {
    let e = setup();
    let tgz = e.work.join("shop.tgz");
    let original = make_bundle(&tgz);
    e.ok(&[
        "token",
        "create",
        "shop",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "allow",
        "--save-path",
        tgz.to_str().unwrap(),
    ]);
    let after = read_bundle(&tgz);
    assert_eq!(after.len(), original.len() + 1);
    assert_eq!(&after[..original.len()], &original[..], "other members: same order, bytes, modes and timestamps");
    let (name, data, _, _) = after.last().unwrap();
    assert_eq!(name, "edgekv_tokens.js");
    let extracted = e.work.join("edgekv_tokens.js");
    std::fs::write(&extracted, data).unwrap();
    assert_eq!(read_tokens(&extracted)["namespace-default"]["name"], "shop");
    // A second write replaces the member in place.
    e.ok(&[
        "token",
        "create",
        "shop2",
        "--namespace",
        "default+rw",
        "--staging",
        "allow",
        "--production",
        "allow",
        "--save-path",
        tgz.to_str().unwrap(),
        "--overwrite",
    ]);
    let again = read_bundle(&tgz);
    assert_eq!(again.len(), original.len() + 1);
    assert_eq!(&again[..original.len()], &original[..]);
    std::fs::write(&extracted, &again.last().unwrap().1).unwrap();
    assert_eq!(read_tokens(&extracted)["namespace-default"]["name"], "shop2");
}

#[test]
fn rotate_swaps_the_successor_in_and_revokes_the_old_token() {
    let e = setup();
    let tgz = e.work.join("app.tgz");
    make_bundle(&tgz);
    let t = tgz.to_str().unwrap();
    e.ok(&[
        "token",
        "create",
        "v1",
        "--namespace",
        "default+rw",
        "--staging",
        "allow",
        "--production",
        "allow",
        "--ewids",
        "7",
        "--expiry",
        &date_in(5),
        "--save-path",
        t,
    ]);
    let j = e.json(&["token", "rotate", "v1", "--to", "v2", "--save-path", t, "--revoke-old-after", "0s"]);
    assert_eq!(j["oldRevoked"], true);
    let v2 = &j["token"];
    assert_eq!(v2["namespacePermissions"], serde_json::json!({"default": ["r", "w"]}));
    assert_eq!(v2["restrictToEdgeWorkerIds"], serde_json::json!(["7"]));
    assert_eq!((v2["allowOnStaging"].as_bool(), v2["allowOnProduction"].as_bool()), (Some(true), Some(true)));
    assert_eq!(v2["expiry"], date_in(5), "the same lifetime, counted from today");
    e.fails(&["token", "show", "v1"], "does not exist");
    let (_, data, _, _) = read_bundle(&tgz).into_iter().find(|m| m.0 == "edgekv_tokens.js").unwrap();
    let f = e.work.join("rotated.js");
    std::fs::write(&f, data).unwrap();
    assert_eq!(read_tokens(&f)["namespace-default"], serde_json::json!({"name": "v2", "value": v2["value"]}));
    let out = e.ok(&["bundle", "check", t, "--warn-days", "2"]);
    assert!(out.contains("1 fine, 0 problems"), "{out}");
    // Without --revoke-old-after the old token stays valid.
    let j = e.json(&["token", "rotate", "v2", "--to", "v3"]);
    assert_eq!(j["oldRevoked"], false);
    e.ok(&["token", "show", "v2"]);
}

#[test]
fn bundle_check_fails_on_revoked_expiring_and_bare_entries_and_fixes_bare_keys() {
    let e = setup();
    let dir = e.work.join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    e.ok(&[
        "token",
        "create",
        "good",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "allow",
        "--save-path",
        d,
    ]);
    let out = e.ok(&["bundle", "check", d]);
    assert!(out.contains("1 fine, 0 problems"), "{out}");

    // Expiring inside the warning window.
    e.ok(&[
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
        &date_in(3),
        "--save-path",
        d,
        "--overwrite",
    ]);
    let missing = e.work.join("no-such-dir");
    e.fails(&["bundle", "check", missing.to_str().unwrap()], "no such file or directory");
    e.fails(&["bundle", "check", e.work.join("gone.js").to_str().unwrap()], "no such file or directory");
    let (code, out, _) = e.run(&["bundle", "check", d]);
    assert_eq!(code, 3, "problems found: its own exit status");
    assert!(out.contains("expiring") && out.contains("soon"), "{out}");
    let (code, _, _) = e.run(&["bundle", "check", d, "--warn-days", "2"]);
    assert_eq!(code, 0, "outside a 2-day window it passes");

    // Revoked.
    e.ok(&["token", "revoke", "soon"]);
    let (code, out, _) = e.run(&["bundle", "check", d, "--json"]);
    assert_eq!(code, 3);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["problems"][0]["problem"], "unknown-or-revoked", "{j}");

    // Bare keys (as Akamai's CLI writes them) are reported and fixed.
    let good = e.json(&["token", "show", "good"])["token"].clone();
    let bare = format!(
        "var edgekv_access_tokens = {{\n\"default\" : {{ \n\"name\": \"good\",\n\"reference\" : \"{}\"\n}}\n}}\nexport {{ edgekv_access_tokens }};",
        good["uuid"].as_str().unwrap()
    );
    let file = dir.join("edgekv_tokens.js");
    std::fs::write(&file, bare).unwrap();
    let (code, out, _) = e.run(&["bundle", "check", d]);
    assert_eq!(code, 3);
    assert!(out.contains("bare-key"), "{out}");
    let out = e.ok(&["bundle", "check", d, "--fix"]);
    assert!(out.contains("fixed") && out.contains("0 problems"), "{out}");
    assert_eq!(read_tokens(&file)["namespace-default"]["name"], "good");

    // A value filed under a namespace its token does not cover.
    let wrong = format!(
        "var edgekv_access_tokens = {{ \"namespace-shop\": {{ \"name\": \"good\", \"reference\": \"{}\" }} }};\nexport {{ edgekv_access_tokens }};",
        good["uuid"].as_str().unwrap()
    );
    std::fs::write(&file, wrong).unwrap();
    let (code, out, _) = e.run(&["bundle", "check", d]);
    assert_eq!(code, 3);
    assert!(out.contains("wrong-namespace"), "{out}");
}

#[test]
fn credentials_from_akamai_variables_and_an_account_key() {
    let e = setup();
    let rc = std::fs::read_to_string(e.data.join("edgerc")).unwrap();
    let get = |k: &str| rc.lines().find_map(|l| l.strip_prefix(&format!("{k} = "))).unwrap().to_owned();
    let cert = e.data.join("tls/cert.pem");
    let run = |extra: &[&str]| {
        std::process::Command::new(BIN)
            .args(["token", "list", "--json", "--ca-cert", cert.to_str().unwrap(), "--accountkey", "ACC-1:2-AB"])
            .args(extra)
            .env("HOME", e.data.join("no-home"))
            .env("AKAMAI_HOST", get("host"))
            .env("AKAMAI_CLIENT_TOKEN", get("client_token"))
            .env("AKAMAI_CLIENT_SECRET", get("client_secret"))
            .env("AKAMAI_ACCESS_TOKEN", get("access_token"))
            .output()
            .unwrap()
    };
    // The variables stand in for ~/.edgerc (absent here).
    let out = run(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["tokens"], serde_json::json!([]));
    // An explicit --edgerc wins over them: the file named is the one read.
    let out = run(&["--edgerc", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/nonexistent"), "{}", String::from_utf8_lossy(&out.stdout));
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn every_save_path_check_is_made_before_the_token_is_created() {
    let e = setup();
    let exists = |name: &str| e.run(&["token", "show", name]).0 == 0;
    let create = |name: &str, path: &str, extra: &[&str]| {
        let mut a = vec![
            "token",
            "create",
            name,
            "--namespace",
            "default+r",
            "--staging",
            "allow",
            "--production",
            "deny",
            "--save-path",
            path,
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };

    // A bundle that does not exist (a typo in its name) is refused, with a hint; nothing is made.
    let typo = e.work.join("shop-bundel.tgz");
    let c = create("n1", typo.to_str().unwrap(), &[]);
    e.fails(&args(&c), "no such bundle");
    assert!(!typo.exists() && !exists("n1"), "no archive made, no token created");
    // So is a file in a directory that does not exist, and a path that is none of the three.
    let c = create("n2", e.work.join("missing/edgekv_tokens.js").to_str().unwrap(), &[]);
    e.fails(&args(&c), "does not exist");
    let c = create("n3", e.work.join("notes.txt").to_str().unwrap(), &[]);
    e.fails(&args(&c), "not a directory, a .js file or a .tgz bundle");
    let nodir = format!("{}/", e.work.join("nodir").display());
    let c = create("n3", &nodir, &[]);
    e.fails(&args(&c), "no such directory");
    assert!(!e.work.join("nodir").exists() && !exists("n3"));
    // A corrupt bundle, and a token file that does not read.
    let corrupt = e.work.join("corrupt.tgz");
    std::fs::write(&corrupt, b"not gzip at all").unwrap();
    let c = create("n4", corrupt.to_str().unwrap(), &[]);
    e.fails(&args(&c), "corrupt.tgz");
    assert!(!exists("n2") && !exists("n3") && !exists("n4"), "none of them was created");

    // An entry for the namespace already there: refused before creation, so the hint works.
    let dir = e.work.join("ew");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    e.ok(&args(&create("first", d, &[])));
    let c = create("second", d, &[]);
    let err = e.fails(&args(&c), "pass --overwrite");
    assert!(err.contains("nothing was created"), "{err}");
    assert!(!exists("second"), "the refused save created nothing");
    e.ok(&args(&create("second", d, &["--overwrite"])));
    assert_eq!(read_tokens(&dir.join("edgekv_tokens.js"))["namespace-default"]["name"], "second");

    // Rotation checks its successor's save first too; the predecessor's own entry may be replaced.
    e.ok(&["token", "rotate", "second", "--to", "third", "--save-path", d]);
    assert_eq!(read_tokens(&dir.join("edgekv_tokens.js"))["namespace-default"]["name"], "third");
}

#[test]
fn without_credentials_the_error_says_where_a_local_edgeward_keeps_them() {
    let home = tempfile::tempdir().unwrap();
    let out =
        crate::common::command(&["token", "list"]).env("HOME", home.path()).env_remove("AKAMAI_HOST").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(".edgerc") && err.contains("--edgerc <data-dir>/edgerc"), "{err}");
}

#[test]
fn members_named_with_a_leading_dot_slash_keep_it() {
    let e = setup();
    let src = e.work.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("main.js"), "export function onClientRequest(r) {}\n").unwrap();
    std::fs::write(src.join("bundle.json"), r#"{"edgeworker-version":"1"}"#).unwrap();
    let tgz = e.work.join("dotted.tgz");
    let made = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(&src)
        .args(["./main.js", "./bundle.json"])
        .status()
        .unwrap();
    assert!(made.success());
    e.ok(&[
        "token",
        "create",
        "n",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--save-path",
        tgz.to_str().unwrap(),
    ]);
    let names: Vec<String> = read_bundle(&tgz).into_iter().map(|m| m.0).collect();
    assert_eq!(names, ["./main.js", "./bundle.json", "edgekv_tokens.js"], "the members keep their names");
}

#[test]
fn a_symlinked_bundle_is_written_through_its_link() {
    let e = setup();
    let real = e.work.join("real.tgz");
    make_bundle(&real);
    let link = e.work.join("current.tgz");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    e.ok(&[
        "token",
        "create",
        "n",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--save-path",
        link.to_str().unwrap(),
    ]);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    let members = read_bundle(&real);
    assert!(members.iter().any(|m| m.0 == "edgekv_tokens.js"), "the target holds the token file");
}

#[test]
fn an_edgekv_js_like_client_uses_a_token_file_written_by_the_cli() {
    let e = setup();
    let dir = e.work.join("ew");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/js/edgekv_like.mjs");
    let file = dir.join("edgekv_tokens.js");
    let base = format!("http://{}", e.server.data);
    let run = |extra: &[(&str, &str)]| {
        let mut c = std::process::Command::new("node");
        c.arg(&script).args([file.to_str().unwrap(), &base, "default", "g1"]);
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    for (name, expiry) in [("by_ref", None), ("by_value", Some(date_in(30)))] {
        let mut args = vec![
            "token",
            "create",
            name,
            "--namespace",
            "default+rwd",
            "--staging",
            "allow",
            "--production",
            "allow",
            "--save-path",
            d,
            "--overwrite",
        ];
        if let Some(x) = &expiry {
            args.extend(["--expiry", x.as_str()]);
        }
        e.ok(&args);
        let r = run(&[("EW_MISSING_NS", "shop")]);
        assert_eq!(r["getMissing"], serde_json::json!({"ok": true, "status": 404, "text": "fallback"}), "{name}: {r}");
        assert_eq!(r["putText"]["status"], 200, "{name}: {r}");
        assert_eq!(r["getText"]["text"], "hello edge");
        assert_eq!(r["putJson"]["status"], 200);
        assert_eq!(r["getJsonParsed"], serde_json::json!({"colour": "blue", "n": 3}));
        assert_eq!(r["delete"]["status"], 200);
        assert_eq!(r["getDeleted"], serde_json::json!({"ok": true, "status": 404, "text": "gone"}));
        assert!(r["missingNamespace"].as_str().unwrap().starts_with("MISSING ACCESS TOKEN"));
    }
    // After revocation the helper's calls fail with 401.
    e.ok(&["token", "revoke", "by_value"]);
    let r = run(&[]);
    assert_eq!(r["putText"]["ok"], false);
    assert_eq!(r["putText"]["status"], 401);
}

#[test]
fn administration_commands_are_audited_and_audit_list_reads_the_trail() {
    let e = setup();
    let d = e.data.to_str().unwrap();
    let (code, _, err) = cli(&["apiclient", "create", "robot", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&["apiclient", "disable", "robot", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = cli(&["apiclient", "delete", "nobody", "--data-dir", d]);
    assert_ne!(code, 0, "deleting a client that does not exist fails");
    e.ok(&["token", "create", "audited", "--namespace", "default+r", "--staging", "allow", "--production", "deny"]);

    let (code, out, err) = cli(&["audit", "list", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let page: serde_json::Value = serde_json::from_str(&out).unwrap();
    let records = page["records"].as_array().unwrap();
    let find = |action: &str, target: &str| -> Vec<&serde_json::Value> {
        records.iter().filter(|r| r["action"] == action && r["target"] == target).collect()
    };
    let created = find("apiclient.create", "apiclient/robot");
    assert_eq!(created.len(), 1, "{page:#}");
    assert!(created[0]["actor"].as_str().unwrap().starts_with("command:"), "{page:#}");
    assert_eq!(created[0]["source"], "local");
    assert_eq!(find("apiclient.update", "apiclient/robot").len(), 1, "{page:#}");
    let failed = find("apiclient.delete", "apiclient/nobody");
    assert_eq!((failed.len(), &failed[0]["outcome"]), (1, &serde_json::json!("failure")), "{page:#}");
    let token = find("token.create", "token/audited");
    assert_eq!(token.len(), 1, "{page:#}");
    assert!(token[0]["actor"].as_str().unwrap().starts_with("client:"), "{page:#}");

    // Filters, and the table form.
    let (code, out, err) = cli(&["audit", "list", "--action", "apiclient.", "--outcome", "success", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "a header and two records: {out}");
    let (code, _, err) = cli(&["audit", "list", "--since", "yesterday", "--data-dir", d]);
    assert_ne!(code, 0);
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn comments_in_a_token_file_are_kept_where_they_can_be_and_the_rest_is_said() {
    let e = setup();
    let dir = e.work.join("commented");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let file = dir.join("edgekv_tokens.js");
    std::fs::write(
        &file,
        "// Tokens of the shop EdgeWorker: rotate with `edgeward token rotate`.\nvar edgekv_access_tokens = {\n  // the shop's own namespace\n  \"namespace-shop\": { \"name\": \"s\", \"reference\": \"22222222-2222-2222-2222-222222222222\" }\n};\nexport { edgekv_access_tokens };\n/* generated by hand */\n",
    )
    .unwrap();
    let (code, _, err) = e.run(&[
        "token",
        "create",
        "c",
        "--namespace",
        "default+r",
        "--staging",
        "allow",
        "--production",
        "deny",
        "--save-path",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 comment inside the token object could not be kept"), "said on stderr: {err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("// Tokens of the shop EdgeWorker"), "{text}");
    assert!(text.ends_with("/* generated by hand */\n"), "{text}");
    let tokens = read_tokens(&file);
    assert_eq!(tokens["namespace-shop"]["name"], "s");
    assert_eq!(tokens["namespace-default"]["name"], "c");
}
