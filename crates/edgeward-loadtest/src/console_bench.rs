//! `--console`: how fast the web console's pages are served with many tokens.
//!
//! Starts a real server, creates `--tokens` expiring tokens through the admin API (setup, not
//! measured) and one that expires in two days, runs the expiry check so the panel has a notice,
//! signs in as `admin` with the initial password and chooses a new one (the console's forced
//! change), then measures each page for `--seconds` over `--connections` connections, beside
//! `/healthz` over the same connections in the same run. The target is an absolute one: every
//! page's p99 under 20 ms.
#![allow(clippy::disallowed_methods, reason = "the load tool drives a real server in real time")]

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::{create_phase, drive, get_phase, start_server, verdict, Phase, Signer};

/// The target: a page's p99, in milliseconds.
const TARGET_P99_MS: f64 = 20.0;

fn browser(cert: &Path) -> Result<reqwest::Client> {
    let pem = std::fs::read(cert)?;
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
        .redirect(reqwest::redirect::Policy::none())
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()?)
}

/// The value of the `csrf` field of a page's first form.
fn csrf_of(page: &str) -> Result<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).context("the page has no form with a CSRF token")?;
    let rest = &page[at + marker.len()..];
    Ok(rest[..rest.find('"').context("an unterminated attribute")?].to_owned())
}

/// `name=value` of the session cookie a response sets.
fn session_cookie(resp: &reqwest::Response) -> Result<String> {
    let set = resp.headers().get(reqwest::header::SET_COOKIE).context("no session cookie was set")?.to_str()?;
    Ok(set.split(';').next().unwrap_or("").to_owned())
}

/// Sign in as `admin` with the initial password and choose a new one: the session cookie.
async fn sign_in(host: &str, data_dir: &Path, client: &reqwest::Client) -> Result<String> {
    let initial = std::fs::read_to_string(data_dir.join("admin-password"))?.trim().to_owned();
    let r = client
        .post(format!("https://{host}/sign-in"))
        .form(&[("name", "admin"), ("password", initial.as_str())])
        .send()
        .await?;
    if r.status() != 303 {
        bail!("sign-in answered {}", r.status());
    }
    let cookie = session_cookie(&r)?;
    let form = client.get(format!("https://{host}/account/password")).header("cookie", &cookie).send().await?;
    let csrf = csrf_of(&form.text().await?)?;
    let new = "a password chosen for the benchmark";
    let r = client
        .post(format!("https://{host}/account/password"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("current", initial.as_str()), ("new", new), ("confirm", new)])
        .send()
        .await?;
    if r.status() != 303 {
        bail!("the password change answered {}: {}", r.status(), r.text().await.unwrap_or_default());
    }
    session_cookie(&r)
}

/// GET `path` with the session for `seconds` on every client.
async fn page_phase(clients: &[reqwest::Client], host: &str, cookie: &str, path: &str, seconds: u64) -> Phase {
    let url = Arc::new(format!("https://{host}{path}"));
    let cookie = Arc::new(cookie.to_owned());
    drive(clients, Some(seconds), None, move |client, _, _| {
        let (url, cookie) = (url.clone(), cookie.clone());
        async move {
            let resp = client.get(url.as_str()).header("cookie", cookie.as_str()).send().await.ok()?;
            let ok = resp.status() == 200;
            let body = resp.bytes().await.ok()?;
            (ok && !body.is_empty()).then_some(true)
        }
    })
    .await
}

pub async fn run(
    bin: &Path,
    work: &Path,
    database: Option<&str>,
    tokens: usize,
    conns: usize,
    seconds: u64,
) -> Result<()> {
    println!("# edgeward-loadtest --console\n");
    println!(
        "- machine: {} cores; connections: {conns}; tokens: {tokens}; phase length: {seconds} s; database: {}",
        std::thread::available_parallelism()?,
        database.map_or("SQLite", |_| "PostgreSQL (a fresh database)")
    );
    let server = start_server(bin, &work.join("data"), None, database)?;
    let edgerc = edgeward_client::Edgerc::load(&server.data_dir.join("edgerc"), "default")?;
    let host = edgerc.host.clone();
    let signer = Signer { edgerc, settings: edgeward_edgegrid::Settings::default() };
    let cert = server.data_dir.join("tls/cert.pem");
    let clients: Vec<_> = (0..conns).map(|_| browser(&cert)).collect::<Result<_>>()?;

    let far = (chrono::Utc::now().date_naive() + chrono::Duration::days(90)).to_string();
    let created = create_phase(&clients, &signer, tokens, &far).await;
    if created.errors > 0 {
        bail!("{} of {tokens} tokens could not be created", created.errors);
    }
    let soon = (chrono::Utc::now().date_naive() + chrono::Duration::days(2)).to_string();
    let body = crate::create_body("expires_soon", &soon);
    crate::create_token(&clients[0], &signer, body).await?;
    let auth = signer.auth("POST", "/edgeward/v1/notify/run", b"");
    let run =
        clients[0].post(format!("https://{host}/edgeward/v1/notify/run")).header("authorization", auth).send().await?;
    if !run.status().is_success() {
        bail!("the expiry check answered {}", run.status());
    }
    let cookie = sign_in(&host, &server.data_dir, &clients[0]).await?;

    let pages = ["/panel", "/tokens", "/tokens/t1", "/tokens/new"];
    for path in pages {
        let check = page_phase(&clients[..1], &host, &cookie, path, 1).await;
        if check.latencies_us.is_empty() {
            bail!("GET {path} did not answer 200 with the session");
        }
    }
    // Alternate /healthz and the pages, twice, so drift hits them alike.
    let health = Arc::new(vec!["/healthz".to_owned()]);
    let half = (seconds / 2).max(1);
    let mut h = Phase::default();
    let mut measured: Vec<(&str, Phase)> = pages.iter().map(|p| (*p, Phase::default())).collect();
    for _ in 0..2 {
        h.absorb(get_phase(&clients, &signer, half, health.clone()).await);
        for (path, phase) in &mut measured {
            phase.absorb(page_phase(&clients, &host, &cookie, path, half).await);
        }
    }
    let (hr, h99) = (h.rate(), h.pct(0.99));
    println!("- /healthz over the same connections: {hr:.0}/s, p99 {h99:.2} ms, errors {}", h.errors);
    let mut all_met = true;
    for (path, mut phase) in measured {
        let (rate, p50, p99) = (phase.rate(), phase.pct(0.50), phase.pct(0.99));
        let met = p99 < TARGET_P99_MS && phase.errors == 0;
        all_met &= met;
        println!(
            "- GET {path} (signed in, {tokens} tokens): {rate:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms, errors {}; target p99 < {TARGET_P99_MS} ms: {}",
            phase.errors,
            verdict(met)
        );
    }
    println!("- every page under the target: {}", verdict(all_met));
    Ok(())
}
