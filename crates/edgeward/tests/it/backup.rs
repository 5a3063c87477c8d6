//! `edgeward backup` and `restore` on the real binary: a backup taken while a writer keeps
//! writing items and creating tokens through the real API holds every write acknowledged before
//! it began, and a server started on its restore serves them with the old tokens; the refusals
//! (an existing file, no installation, a wrong passphrase, a damaged file, an installation or a
//! running server in the way, PostgreSQL); and the start banner in JSON log lines.
//! On SQLite whatever backend the suite runs on: backup and restore are SQLite's.
#![allow(
    clippy::disallowed_methods,
    reason = "tests run real servers against the system time, in data directories they make and inspect"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgeward_client::{Client, Edgerc, Method};

use crate::common::*;

const PASSPHRASE: &str = "a long enough backup passphrase";

fn client(dir: &Path) -> Client {
    let edgerc = Edgerc::load(&dir.join("edgerc"), "default").unwrap();
    Client::new(edgerc, Some(&dir.join("tls/cert.pem"))).unwrap()
}

/// Create an expiring token (read and write on `default`, both networks); its value.
async fn create_token(c: &Client, name: &str) -> Result<String, String> {
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let body = serde_json::json!({
        "name": name, "allowOnProduction": true, "allowOnStaging": true, "restrictToEwids": ["all"],
        "expiry": expiry, "namespacePermissions": {"default": ["r", "w"]},
    });
    let resp = c.send(Method::POST, "/edgekv/v1/tokens", Some(&body)).await.map_err(|e| e.to_string())?;
    if resp.status().as_u16() != 200 {
        return Err(format!("status {}", resp.status()));
    }
    let json: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    Ok(json["value"].as_str().unwrap().to_owned())
}

fn item_url(data: &str, item: &str) -> String {
    format!("http://{data}/api/v1/namespaces/default/groups/backup/items/{item}")
}

async fn token_names(c: &Client) -> Vec<String> {
    let resp = c.send(Method::GET, "/edgekv/v1/tokens", None).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let json: serde_json::Value = resp.json().await.unwrap();
    json["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// What the writer had acknowledged, each with the instant of its acknowledgement.
#[derive(Default)]
struct Acked {
    items: Vec<(Instant, String, String)>,
    tokens: Vec<(Instant, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writing_holds_every_write_acknowledged_before_it_began() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = start_on_sqlite(&dir, &[]);
    let admin = client(&dir);
    let value = create_token(&admin, "writer").await.unwrap();
    let passphrase_file = tmp.path().join("passphrase");
    std::fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).unwrap();

    // The writer: an item through the data plane, then a token through the admin API, again and
    // again; each acknowledged write recorded with its instant.
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (acked, stop, data, value) = (acked.clone(), stop.clone(), server.data.clone(), value.clone());
        let admin = client(&dir);
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let (item, body) = (format!("i{n}"), format!("value {n}"));
                let put = http
                    .put(item_url(&data, &item))
                    .header("X-Akamai-EdgeDB-Auth", &value)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                if put.status().as_u16() == 200 {
                    acked.lock().unwrap().items.push((Instant::now(), item, body));
                }
                let name = format!("t{n}");
                if create_token(&admin, &name).await.is_ok() {
                    acked.lock().unwrap().tokens.push((Instant::now(), name));
                }
            }
        })
    };
    // Let some writes land first, then back up while the writer goes on.
    while acked.lock().unwrap().items.len() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = tmp.path().join("edgeward.backup");
    let began = Instant::now();
    let (code, out, err) = cli_on_sqlite(&[
        "backup",
        "--to",
        file.to_str().unwrap(),
        "--include-keys",
        "--passphrase-file",
        passphrase_file.to_str().unwrap(),
        "--json",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let ended = Instant::now();
    // The writer goes on a little after the backup, then stops.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["backup"]["keysIncluded"], true, "{v}");
    assert_eq!(v["backup"]["keyFilesNeeded"], serde_json::json!(["keys/data.key"]), "{v}");
    assert!(!out.contains(PASSPHRASE) && !err.contains(PASSPHRASE));

    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let during = acked.items.iter().filter(|(t, ..)| *t >= began && *t <= ended).count()
        + acked.tokens.iter().filter(|(t, _)| *t >= began && *t <= ended).count();
    let before_items: Vec<_> = acked.items.iter().filter(|(t, ..)| *t < began).collect();
    let before_tokens: Vec<_> = acked.tokens.iter().filter(|(t, _)| *t < began).collect();
    assert!(before_items.len() >= 10 && !before_tokens.is_empty());
    eprintln!(
        "acknowledged before the backup: {} items, {} tokens; during it: {during} writes",
        before_items.len(),
        before_tokens.len()
    );

    // Restore into a new directory while the first server still serves, and serve it.
    let restored = tmp.path().join("restored");
    let (code, out, err) = cli_on_sqlite(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--passphrase-file",
        passphrase_file.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Keys and files restored: keys/data.key"), "{out}");
    drop(server);
    let second = start_on_sqlite(&restored, &[]);
    let (code, _, err) =
        cli_on_sqlite(&["edgerc", "set-host", &second.admin, "--data-dir", restored.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    // The token made before the backup still authorizes on the data plane (the keys came back),
    // and every item acknowledged before the backup began is there.
    let http = reqwest::Client::new();
    for (_, item, body) in &before_items {
        let resp = http.get(item_url(&second.data, item)).header("X-Akamai-EdgeDB-Auth", &value).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{item}");
        assert_eq!(resp.text().await.unwrap(), *body);
    }
    let names = token_names(&client(&restored)).await;
    for (_, name) in &before_tokens {
        assert!(names.contains(name), "token {name} acknowledged before the backup is missing");
    }
    // And the restored server takes writes.
    let put = http
        .put(item_url(&second.data, "after"))
        .header("X-Akamai-EdgeDB-Auth", &value)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_refuse_what_they_cannot_do_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let server = start_on_sqlite(&dir, &[]);
    let passphrase_file = tmp.path().join("passphrase");
    std::fs::write(&passphrase_file, PASSPHRASE).unwrap();
    let pf = passphrase_file.to_str().unwrap();
    let file = tmp.path().join("b.backup");
    let f = file.to_str().unwrap();
    let json = |args: &[&str]| -> (i32, serde_json::Value) {
        let (code, out, err) = cli_on_sqlite(args);
        let v = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}\n{err}"));
        (code, v)
    };

    // A backup without keys says which key files it does not hold.
    let (code, out, err) = cli_on_sqlite(&["backup", "--to", f, "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("NOT in the backup: the key files keys/data.key"), "{out}");
    let first = std::fs::read(&file).unwrap();

    // An existing file: a usage error, the file unchanged; --overwrite replaces it.
    let (code, v) = json(&["backup", "--to", f, "--json", "--data-dir", d]);
    assert_eq!(code, 2, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("pass --overwrite"), "{v}");
    assert_eq!(std::fs::read(&file).unwrap(), first);
    let (code, _, err) = cli_on_sqlite(&["backup", "--to", f, "--overwrite", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    // A directory that does not exist, and a data directory with no installation.
    let (code, _, err) = cli_on_sqlite(&["backup", "--to", "/nonexistent-dir/b.backup", "--data-dir", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    let empty = tmp.path().join("empty");
    let (code, v) = json(&["backup", "--to", "x.backup", "--json", "--data-dir", empty.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("holds no Edgeward installation"), "{v}");
    assert!(!empty.exists(), "nothing was created");
    // PostgreSQL is pg_dump's.
    let (code, _, err) = cli_on_sqlite(&[
        "backup",
        "--to",
        "x.backup",
        "--database",
        "postgres://postgres@127.0.0.1:5432/none",
        "--data-dir",
        d,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pg_dump") && err.contains("docs/operations.md"), "{err}");
    // A passphrase too short for a new backup.
    let short = tmp.path().join("short");
    std::fs::write(&short, "short").unwrap();
    let sealed = tmp.path().join("sealed.backup");
    let (code, _, err) = cli_on_sqlite(&[
        "backup",
        "--to",
        sealed.to_str().unwrap(),
        "--include-keys",
        "--passphrase-file",
        short.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!sealed.exists());
    let (code, _, err) = cli_on_sqlite(&[
        "backup",
        "--to",
        sealed.to_str().unwrap(),
        "--include-keys",
        "--passphrase-file",
        pf,
        "--data-dir",
        d,
    ]);
    assert_eq!(code, 0, "{err}");

    // Restore: over an installation without --force (a usage error), over a running server even
    // with --force (refused), then with a wrong passphrase, from a damaged file, from a file
    // that is no backup: each changes nothing.
    let (code, _, err) = cli_on_sqlite(&["restore", "--from", f, "--data-dir", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds an installation"), "{err}");
    let (code, _, err) = cli_on_sqlite(&["restore", "--from", f, "--force", "--data-dir", d]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a server is running on"), "{err}");
    drop(server);

    let target = tmp.path().join("target");
    let t = target.to_str().unwrap();
    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase at all").unwrap();
    let (code, v) = json(&[
        "restore",
        "--from",
        sealed.to_str().unwrap(),
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "--json",
        "--data-dir",
        t,
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("passphrase does not open"), "{v}");
    let mut damaged = std::fs::read(&file).unwrap();
    let at = damaged.len() / 2;
    damaged[at..at + 64].fill(0x5A);
    let bad = tmp.path().join("damaged.backup");
    std::fs::write(&bad, &damaged).unwrap();
    let (code, _, err) = cli_on_sqlite(&["restore", "--from", bad.to_str().unwrap(), "--data-dir", t]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an intact Edgeward backup"), "{err}");
    let (code, _, err) = cli_on_sqlite(&["restore", "--from", pf, "--data-dir", t]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not an Edgeward backup"), "{err}");
    assert!(!target.exists(), "a refused restore writes nothing");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with(".edgeward-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Without keys in the backup, restore says which key files to copy back; with --force over
    // the stopped installation, the old directory is moved aside, not deleted.
    let (code, out, err) = cli_on_sqlite(&["restore", "--from", f, "--force", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("copy keys/data.key of the original data directory"), "{out}");
    let aside = out.split("The previous directory is kept at ").nth(1).unwrap().split(".\n").next().unwrap();
    assert!(Path::new(aside).join("keys/data.key").is_file(), "{out}");
    assert!(dir.join("edgeward.db").is_file() && !dir.join("keys/data.key").exists());
    // keys/ is made (0700) for the key files to be copied into.
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(dir.join("keys")).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::copy(Path::new(aside).join("keys/data.key"), dir.join("keys/data.key")).unwrap();
    let (code, v) = json(&["keys", "list", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "the restored database opens with the copied key: {v}");
}

/// Start `serve` with `args` and collect its standard error until `until` is seen (30 s at most).
fn serve_until(dir: &Path, args: &[&str], until: &str) -> String {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--admin-addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("EDGEWARD_DATABASE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = String::new();
    while !log.contains(until) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains(until), "no {until:?} in:\n{log}");
    log
}

#[test]
fn a_json_log_start_prints_json_lines_with_the_banner_and_no_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let log = serve_until(&dir, &["--log-format", "json"], "next: ");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    let banner: Vec<&str> =
        lines.iter().filter(|l| l["target"] == "edgeward::banner").map(|l| l["message"].as_str().unwrap()).collect();
    assert!(banner[0].starts_with("Edgeward made a new installation in"), "{banner:?}");
    assert!(banner.iter().any(|m| m.contains(&dir.join("edgerc").display().to_string())), "{banner:?}");
    assert!(banner.iter().any(|m| m.contains("next: `edgeward status --data-dir")), "{banner:?}");
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()));
    // Paths only: neither the administrator's secret nor the one-time password is logged.
    let edgerc = std::fs::read_to_string(dir.join("edgerc")).unwrap();
    let secret = edgerc.lines().find_map(|l| l.strip_prefix("client_secret = ")).unwrap();
    let password = std::fs::read_to_string(dir.join("admin-password")).unwrap();
    assert!(!log.contains(secret) && !log.contains(password.trim()));

    // A later start says it in one line (text, the default format; EDGEWARD_LOG_FORMAT too).
    let log = serve_until(&dir, &[], "Edgeward is serving");
    assert!(!log.contains("new installation"), "{log}");
}
