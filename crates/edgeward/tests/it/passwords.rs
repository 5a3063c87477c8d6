//! `edgeward user set-password`: the first start's `admin` user gets a password of the
//! operator's choosing; a refused password changes nothing.
#![allow(
    clippy::disallowed_methods,
    reason = "the test reads the data directory the server it starts writes, and the system time"
)]

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use crate::common::*;

/// Run the CLI with `stdin` on its standard input; returns (exit code, stdout, stderr).
fn cli_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The admin user's stored password (hash, must change), read as the commands read the store.
fn stored(dir: &Path) -> (String, bool) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = edgeward_server::DatabaseConfig::with_url(edgeward_store::testing::database_for_dir(dir));
        let (store, _) = edgeward_server::bootstrap::open_store(dir, &db, chrono::Utc::now()).await.unwrap();
        let p = store.user_password("admin").await.unwrap().expect("the admin user exists");
        (p.hash.expect("a password"), p.must_change)
    })
}

#[test]
fn set_password_refuses_a_bad_password_and_replaces_the_initial_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let server = start(&dir);
    let file = dir.join("admin-password");
    let initial = std::fs::read_to_string(&file).unwrap().trim_end().to_owned();
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains(&format!("path={}", file.display())), "the start-up log names the file: {log}");
    assert!(!log.contains(&initial), "the log never holds the password");
    let (hash, must_change) = stored(&dir);
    assert!(must_change && edgeward_server::password::verify(&initial, Some(&hash)));

    // Too short, too long, or for nobody: refused, and nothing changes.
    let set = |name: &str, input: &str| {
        cli_stdin(&["user", "set-password", name, "--password-stdin", "--data-dir", d], input)
    };
    let (code, _, err) = set("admin", "eleven char\n");
    assert!(code != 0 && err.contains("at least 12 characters") && err.contains("nothing was changed"), "{err}");
    let (code, _, err) = set("admin", &format!("{}\n", "x".repeat(1025)));
    assert!(code != 0 && err.contains("at most 1024 characters"), "{err}");
    let (code, _, err) = set("ghost", "a long enough password\n");
    assert!(code != 0 && err.contains("ghost"), "{err}");
    assert_eq!(stored(&dir), (hash.clone(), true));
    assert!(file.exists());

    // A good one: set, no longer to be changed, the initial password's file gone.
    let (code, out, err) = set("admin", "correct horse battery staple\r\n");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("The password of admin is set.") && out.contains("Removed"), "{out}");
    assert!(!file.exists(), "the initial password's file is removed");
    let (new_hash, must_change) = stored(&dir);
    assert!(!must_change);
    assert!(
        edgeward_server::password::verify("correct horse battery staple", Some(&new_hash)),
        "the line ending is not part of it"
    );
    assert!(!edgeward_server::password::verify(&initial, Some(&new_hash)), "the initial password no longer signs in");

    // Audited, naming the user and never the password or its hash.
    let (code, out, err) = cli(&["audit", "list", "--action", "user.set_password", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let records: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let records = records["records"].as_array().unwrap();
    let outcomes: Vec<(&str, &str)> =
        records.iter().map(|r| (r["target"].as_str().unwrap(), r["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, [("user/admin", "success"), ("user/ghost", "failure")], "{out}");
    assert!(!out.contains("correct horse") && !out.contains("argon2"), "{out}");

    // Another user's password: set, and nothing else is removed.
    let (code, _, err) = cli(&["user", "create", "ana", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = set("ana", "another long password\n");
    assert!(code == 0 && !out.contains("Removed"), "{out}");
    drop(server);
}
