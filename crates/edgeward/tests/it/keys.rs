//! `edgeward keys`: token-signing key rotation and retirement across two running servers on one
//! database (real binaries, real CLI), and the data-key rotation with a `kill -9` halfway.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use edgeward_client::{Client, Edgerc, Method};

use crate::common::*;

fn client(dir: &Path) -> Client {
    let edgerc = Edgerc::load(&dir.join("edgerc"), "default").unwrap();
    Client::new(edgerc, Some(&dir.join("tls/cert.pem"))).unwrap()
}

async fn create(c: &Client, name: &str) -> String {
    let expiry = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let body = serde_json::json!({
        "name": name, "allowOnProduction": true, "allowOnStaging": true, "restrictToEwids": ["all"],
        "expiry": expiry, "namespacePermissions": {"default": ["r", "w"]},
    });
    let resp = c.send(Method::POST, "/edgekv/v1/tokens", Some(&body)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let json: serde_json::Value = resp.json().await.unwrap();
    json["value"].as_str().unwrap().to_owned()
}

fn kid_of(value: &str) -> String {
    edgeward_token::header_kid(value).unwrap()
}

/// The data plane's answer to a write with `token`.
async fn put(data: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .put(format!("http://{data}/api/v1/namespaces/default/groups/g/items/i"))
        .header("X-Akamai-EdgeDB-Auth", token)
        .body("v")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn jwks_kids(admin: &str) -> Vec<String> {
    let http = reqwest::Client::builder().use_rustls_tls().danger_accept_invalid_certs(true).build().unwrap();
    let jwks: serde_json::Value =
        http.get(format!("https://{admin}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let mut kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

/// Wait (at most 15 s; the change feed is read every second) until `check` holds.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(15), "still not: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn keys_list(d: &str) -> Vec<serde_json::Value> {
    let (code, out, err) = cli(&["keys", "list", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<serde_json::Value>(&out).unwrap().as_array().unwrap().clone()
}

fn key_line<'a>(list: &'a [serde_json::Value], kid: &str) -> &'a serde_json::Value {
    list.iter().find(|k| k["kid"] == kid).unwrap_or_else(|| panic!("{kid} not listed: {list:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_and_retire_across_two_servers_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let a = start(&dir);
    let admin_a = client(&dir);
    let b = start(&dir);
    let admin_b = client(&dir);

    let before = create(&admin_a, "before").await;
    let old = kid_of(&before);
    assert_eq!(jwks_kids(&a.admin).await, vec![old.clone()]);

    let (code, out, err) = cli(&["keys", "rotate", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let new = out.split("Added token-signing key ").nth(1).unwrap().split(':').next().unwrap().to_owned();
    assert_ne!(new, old);
    let mut both = vec![old.clone(), new.clone()];
    both.sort();
    for admin in [&a.admin, &b.admin] {
        until("both servers publish both keys", || {
            let both = both.clone();
            async move { jwks_kids(admin).await == both }
        })
        .await;
    }
    // New tokens are signed with the new key on either server; old and new verify on both.
    let after_b = create(&admin_b, "after_b").await;
    let after_a = create(&admin_a, "after_a").await;
    assert_eq!((kid_of(&after_a), kid_of(&after_b)), (new.clone(), new.clone()));
    for data in [&a.data, &b.data] {
        for t in [&before, &after_a, &after_b] {
            assert_eq!(put(data, t).await, 200);
        }
    }
    let list = keys_list(d);
    assert_eq!(list.len(), 2);
    assert_eq!(
        (key_line(&list, &old)["state"].as_str(), key_line(&list, &old)["liveTokens"].as_u64()),
        (Some("verifying"), Some(1))
    );
    assert_eq!(
        (key_line(&list, &new)["state"].as_str(), key_line(&list, &new)["liveTokens"].as_u64()),
        (Some("active"), Some(2))
    );

    // Retiring without --yes says what it breaks and changes nothing.
    let (code, _, err) = cli(&["keys", "retire", &old, "--data-dir", d]);
    assert_ne!(code, 0);
    assert!(err.contains("1 live token(s)") && err.contains("401") && err.contains("--yes"), "{err}");
    assert_eq!(key_line(&keys_list(d), &old)["state"], "verifying");
    assert_eq!(put(&b.data, &before).await, 200);

    // Retired: its token is refused on both servers (which had its grant cached), the others not.
    let (code, out, err) = cli(&["keys", "retire", &old, "--yes", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("Retired token-signing key {old}")), "{out}");
    for data in [&a.data, &b.data] {
        until("the retired key's token is refused", || async { put(data, &before).await == 401 }).await;
        assert_eq!(put(data, &after_a).await, 200);
        assert_eq!(put(data, &after_b).await, 200);
    }
    for admin in [&a.admin, &b.admin] {
        until("the retired key leaves the JWKS", || async { jwks_kids(admin).await == vec![new.clone()] }).await;
    }
    let list = keys_list(d);
    assert_eq!(key_line(&list, &old)["state"], "retired");
    assert!(key_line(&list, &old)["retiredAt"].is_string());
    let (code, out, _) = cli(&["keys", "retire", &old, "--yes", "--data-dir", d]);
    assert!(code == 0 && out.contains("already retired"), "{out}");
    let (code, _, err) = cli(&["keys", "retire", "0000000000000000", "--yes", "--data-dir", d]);
    assert!(code != 0 && err.contains("no token-signing key"), "{err}");

    // Retiring the key that signs: a new one is added first, and signs from then on.
    let (code, out, err) = cli(&["keys", "retire", &new, "--yes", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let newest = out.split("Added token-signing key ").nth(1).unwrap().split(',').next().unwrap().to_owned();
    for data in [&a.data, &b.data] {
        until("the second retired key's tokens are refused", || async { put(data, &after_a).await == 401 }).await;
    }
    until("server B signs with the newest key", || async {
        let v = create(&admin_b, &format!("n{}", rand_suffix())).await;
        kid_of(&v) == newest
    })
    .await;
    let list = keys_list(d);
    assert_eq!(key_line(&list, &newest)["state"], "active");
    assert_eq!(key_line(&list, &new)["state"], "retired");

    // Each rotation and retirement left one record, retiring a key that does not exist a failure;
    // asking without --yes and retiring a retired key changed nothing and left none.
    let (code, out, err) = cli(&["audit", "list", "--action", "key.", "--json", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let page: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut seen: Vec<(String, String, String)> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(r["actor"].as_str().unwrap().starts_with("command:"), "{r}");
            let s = |f: &str| r[f].as_str().unwrap().to_owned();
            (s("action"), s("target"), s("outcome"))
        })
        .collect();
    seen.reverse();
    let record = |target: String, outcome: &str| ("key.rotate".to_owned(), target, outcome.to_owned());
    assert_eq!(
        seen,
        vec![
            record("key/signing".into(), "success"),
            record(format!("key/signing/{old}/retire"), "success"),
            record("key/signing/0000000000000000/retire".into(), "failure"),
            record(format!("key/signing/{new}/retire"), "success"),
        ],
        "{page:#}"
    );
    drop((a, b));
}

fn rand_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// Every token's value as the admin API returns it (opened from the database).
async fn values(c: &Client, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        out.push(c.get_token(n).await.unwrap_or_else(|e| panic!("{n}: {e:?}")).value.unwrap());
    }
    out
}

async fn clients_work(dir: &Path, sections: &[&str]) {
    for s in sections {
        let edgerc = Edgerc::load(&dir.join("edgerc"), s).unwrap();
        let c = Client::new(edgerc, Some(&dir.join("tls/cert.pem"))).unwrap();
        c.list_tokens(false).await.unwrap_or_else(|e| panic!("client {s}: {e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_key_rotation_killed_halfway_resumes_and_every_value_still_opens() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let server = start(&dir);
    let admin = client(&dir);
    let names = ["t1", "t2", "t3", "t4"];
    for n in names {
        create(&admin, n).await;
    }
    let before = values(&admin, &names).await;
    for s in ["ci1", "ci2"] {
        let (code, _, err) = cli(&["apiclient", "create", s, "--grants", "VIEW_TOKEN", "--data-dir", d]);
        assert_eq!(code, 0, "{err}");
    }
    let sections = ["default", "ci1", "ci2"];
    let (code, _, err) = cli(&["keys", "rotate", "--data-dir", d]);
    assert_eq!(code, 0, "{err}");
    let old_key = std::fs::read(dir.join("keys/data.key")).unwrap();

    // 4 token values + 3 client secrets + 2 signing keys, one per batch: killed after 3.
    let args = ["keys", "rotate-data-key", "--batch-size", "1", "--settle-secs", "0", "--data-dir", d];
    let mut run =
        command(&args).args(["--pause-after-batches", "3"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(run.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    loop {
        let line = lines.next().expect("the command prints its progress").unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("paused") {
            break;
        }
    }
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();
    assert!(seen.contains("batch 3: sealed 1 value(s)"), "{seen}");
    assert!(dir.join("keys/data.key.next").exists());
    assert_eq!(std::fs::read(dir.join("keys/data.key")).unwrap(), old_key, "the old key is kept until completion");

    // Halfway, the running server opens values sealed with either key and keeps working.
    assert_eq!(values(&admin, &names).await, before);
    clients_work(&dir, &sections).await;
    let mid = create(&admin, "mid").await;

    let (code, out, err) =
        cli(&["keys", "rotate-data-key", "--batch-size", "1", "--settle-secs", "0", "--data-dir", d]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Resuming") && out.contains("Done"), "{out}");
    let new_key = std::fs::read(dir.join("keys/data.key")).unwrap();
    assert_ne!(new_key, old_key);
    assert!(!dir.join("keys/data.key.next").exists());
    let kept: Vec<_> = std::fs::read_dir(dir.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("data.key.old-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), old_key);
    assert!(out.contains(kept[0].file_name().unwrap().to_str().unwrap()), "the output names the old key file: {out}");

    // Without a restart, and then after one with the new key only: nothing lost.
    assert_eq!(values(&admin, &names).await, before);
    assert_eq!(values(&admin, &["mid"]).await, vec![mid.clone()]);
    clients_work(&dir, &sections).await;
    drop(server);
    std::fs::remove_file(&kept[0]).unwrap();
    let server = restart(&dir, &[]);
    let admin = client(&dir);
    assert_eq!(values(&admin, &names).await, before, "every value opens with the new key alone");
    assert_eq!(values(&admin, &["mid"]).await, vec![mid.clone()]);
    clients_work(&dir, &sections).await;
    assert_eq!(jwks_kids(&server.admin).await.len(), 2, "both signing keys open");
    for t in before.iter().chain([&mid]) {
        assert_eq!(put(&server.data, t).await, 200);
    }
}
