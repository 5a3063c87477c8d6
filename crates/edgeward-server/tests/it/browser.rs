//! The console in a real browser: headless Chromium (Debian's `chromium`), driven through
//! ChromeDriver (WebDriver, `fantoccini`), against a real server on the suite's backend. Each
//! test is one browser session walking one flow through the real pages: fields found by their
//! ids, typed into, clicked, and the text read back.
//!
//! Chromium trusts the server's self-signed certificate by the SHA-256 of its public key
//! (`--ignore-certificate-errors-spki-list`), not by ignoring certificate errors. When
//! `EDGEWARD_CONSOLE_SCREENSHOTS` names a directory, each flow saves a PNG of each page it
//! visits there, under a stable name (`scripts/console-screenshots` takes those of
//! `docs/console.md`). Without `chromium` and `chromedriver` the tests fail, saying what to
//! install: they never skip.
//!
//! The flows of the token pages (`token_pages_…`) are written against the pages' HTML contract
//! (ids `tokens`, `token-NAME`, `create-link`, `create-form`, `FIELD-error`, `token-value`,
//! `token-entry`, `download`, forms `refresh`, `rotate`, `revoke`).

#![allow(
    clippy::disallowed_methods,
    reason = "the tests read the server's certificate and initial password, find the browser's programs, write screenshots and the downloaded token file, as the administrator would"
)]

use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::TimeZone as _;
use edgeward_core::capability::{Capability, Grants};
use edgeward_core::clock::{Clock, ManualClock};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::common::{cli_body, raw, spawn_app_at, TestApp};

/// The browser window, fixed so that screenshots are alike from run to run.
const WINDOW: (u32, u32) = (1280, 900);
/// The longest any page, element or program is waited for.
const PATIENCE: Duration = Duration::from_secs(20);
/// The environment variable naming the directory screenshots go to.
const SCREENSHOTS: &str = "EDGEWARD_CONSOLE_SCREENSHOTS";
/// The session cookie (`console::session::COOKIE`).
const SESSION_COOKIE: &str = "__Host-edgeward-session";

/// A clock before the day's check time that stays there: the server's own scheduled expiry
/// check is not owed, so only the check a test runs delivers notices (see `notify_api.rs`).
fn before_the_check_time() -> ManualClock {
    ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap())
}

/// The path of `name` on `PATH`, or a failure that says what to install.
fn program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: the console's browser tests need Debian's `chromium` and \
                 `chromium-driver` packages (`apt-get install chromium chromium-driver`, or run scripts/test, \
                 which installs them)"
            )
        })
}

/// The base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo: what Chromium's
/// `--ignore-certificate-errors-spki-list` names.
fn spki_hash(pem: &[u8]) -> String {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).expect("the server's certificate is PEM");
    let cert = pem.parse_x509().expect("the server's certificate parses");
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(cert.tbs_certificate.subject_pki.raw))
}

/// A ChromeDriver process on a free loopback port, in a process group of its own: dropping it
/// kills the group (the driver and any Chromium it started), even when a test panics.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    async fn start() -> Self {
        let exe = program("chromedriver");
        // A free port is asked of the system, then given to ChromeDriver; another process may take
        // it in between, so a driver that exits at once is started again on another.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(&exe)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("{} could not be started: {e}", exe.display()));
            let mut driver = Self { child, port };
            let status = format!("http://127.0.0.1:{port}/status");
            let deadline = Instant::now() + PATIENCE;
            loop {
                if driver.child.try_wait().unwrap().is_some() {
                    break; // exited (the port was taken): another port
                }
                if let Ok(r) = reqwest::get(&status).await {
                    if r.status().is_success() {
                        return driver;
                    }
                }
                assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within {PATIENCE:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("chromedriver exited at start three times (is another one running on its ports?)")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: ChromeDriver and the Chromium processes it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One headless Chromium session on the console of `app`.
struct Browser {
    c: Client,
    base: String,
    /// Where screenshots go, if anywhere.
    shots: Option<PathBuf>,
    // Dropped after the client: the driver, then Chromium's profile directory.
    _driver: ChromeDriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn open(app: &TestApp) -> Self {
        let chromium = program("chromium");
        let driver = ChromeDriver::start().await;
        let profile = tempfile::tempdir().unwrap();
        let pem = std::fs::read(&app.server.prepared.tls_cert).unwrap();
        let mut args = vec![
            "--headless=new".to_owned(),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--ignore-certificate-errors-spki-list={}", spki_hash(&pem)),
            "--force-device-scale-factor=1".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=en-US".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // This machine's network is closed: no background calls to Google's hosts.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
        ];
        // Chromium's sandbox refuses to run as root (CI's containers); as anyone else it stays on.
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            args.push("--no-sandbox".to_owned());
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| panic!("Chromium could not be started through chromedriver: {e}"));
        let shots = std::env::var_os(SCREENSHOTS).map(PathBuf::from);
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
        }
        Self { c, base: app.url(""), shots, _driver: driver, _profile: profile }
    }

    /// End the session (Chromium quits); the driver is killed when `self` drops.
    async fn close(self) {
        self.c.clone().close().await.unwrap();
    }

    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// The path of the page shown.
    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// The element matching `css`, waited for.
    async fn find(&self, css: &str) -> Element {
        match self.c.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no `{css}` on {} within {PATIENCE:?} ({e}); the page says:\n{}",
                self.path().await,
                self.page_text().await
            ),
        }
    }

    /// The text of the page shown (for failure messages).
    async fn page_text(&self) -> String {
        let text = self.c.execute("return document.body ? document.body.innerText : '';", vec![]).await;
        text.ok().and_then(|t| t.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Whether the page shown has an element matching `css` (not waited for: ask once the page is
    /// known to be loaded).
    async fn has(&self, css: &str) -> bool {
        !self.c.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Type `value` into the field `css`, after clearing it.
    async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Tick or untick the checkbox `css`.
    async fn check(&self, css: &str, on: bool) {
        let b = self.find(css).await;
        if b.is_selected().await.unwrap() != on {
            b.click().await.unwrap();
        }
    }

    /// Mark the page shown, so that [`Browser::next_page`] can tell when another replaced it.
    async fn mark(&self) {
        self.c.execute("window.edgewardTestOld = true;", vec![]).await.unwrap();
    }

    /// Wait until the page marked by [`Browser::mark`] is replaced by another, fully loaded.
    async fn next_page(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = self
                .c
                .execute("return window.edgewardTestOld !== true && document.readyState === 'complete';", vec![])
                .await;
            if ready.is_ok_and(|v| v == Value::Bool(true)) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page within {PATIENCE:?} (still {})", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Click `css` (a link or a submit button) and wait for the page it leads to.
    async fn click(&self, css: &str) {
        let target = self.find(css).await;
        self.mark().await;
        target.click().await.unwrap();
        self.next_page().await;
    }

    /// Post a form the page does not offer, as a person could with the browser's tools: to
    /// `action`, with `fields`; then wait for the answer's page.
    async fn post(&self, action: &str, fields: &[(&str, &str)]) {
        let fields: serde_json::Map<String, Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        self.mark().await;
        self.c
            .execute(
                "const [action, fields] = arguments;
                 const f = document.createElement('form');
                 f.method = 'post';
                 f.action = action;
                 for (const [name, value] of Object.entries(fields)) {
                   const i = document.createElement('input');
                   i.type = 'hidden'; i.name = name; i.value = value;
                   f.appendChild(i);
                 }
                 document.body.appendChild(f);
                 f.submit();",
                vec![json!(action), Value::Object(fields)],
            )
            .await
            .unwrap();
        self.next_page().await;
    }

    /// The `action` of the form `css`, as a path (a form without one posts to its page).
    async fn action_of(&self, css: &str) -> String {
        let form = self.find(css).await;
        match form.attr("action").await.unwrap().filter(|a| !a.is_empty()) {
            Some(a) => a,
            None => self.path().await,
        }
    }

    /// Sign in through the sign-in page (whatever page follows is left to the caller).
    async fn sign_in(&self, name: &str, password: &str) {
        self.goto("/sign-in").await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("main form button[type=submit]").await;
    }

    /// Sign out with the navigation's button.
    async fn sign_out(&self) {
        self.click("form.sign-out button[type=submit]").await;
        assert_eq!(self.path().await, "/sign-in");
    }

    /// Save the page shown as `<screenshots>/<name>.png`, when screenshots are asked for.
    async fn shot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// The browser's session cookie, `name=value`, for requests the browser would make itself.
    async fn session_cookie(&self) -> String {
        let c = self.c.get_named_cookie(SESSION_COOKIE).await.unwrap();
        format!("{}={}", c.name(), c.value())
    }
}

fn initial_password(app: &TestApp) -> String {
    std::fs::read_to_string(app.dir.path().join("admin-password")).unwrap().trim().to_owned()
}

/// Give `name` a password of their own (not to be changed at the next sign-in).
async fn set_password(app: &TestApp, name: &str, password: &str) {
    let hash = edgeward_server::password::hash(password).unwrap();
    app.server.state.store.set_user_password(name, hash, false).await.unwrap();
}

/// A token through the admin API, on staging, reading `default`.
async fn create_token(app: &TestApp, name: &str, expiry: &str) {
    let body = cli_body(name, true, false, expiry, &[("default", "r")]);
    let (s, _, r) = raw(&app.admin, Method::POST, "/edgekv/v1/tokens", Some(&body)).await;
    assert_eq!(s, 200, "{r}");
}

/// Whether the token `name` is live (the API retrieves it; a revoked one is not found).
async fn token_is_live(app: &TestApp, name: &str) -> bool {
    let (s, _, r) = raw(&app.admin, Method::GET, &format!("/edgekv/v1/tokens/{name}"), None).await;
    assert!(s == 200 || s == 404, "{s} {r}");
    s == 200
}

/// `edgekv_access_tokens` of a token file, imported by Node as an ES module, the way `edgekv.js`
/// imports it.
fn import_with_node(file: &Path) -> Value {
    let script = format!(
        "import {{ edgekv_access_tokens }} from 'file://{}'; console.log(JSON.stringify(edgekv_access_tokens));",
        file.display()
    );
    let out = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node is installed (scripts/test installs it)");
    assert!(out.status.success(), "node could not import {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The first start's sign-in and its forced password change, the expiry check's notice on the
/// panel with the unread count, a form whose CSRF token was taken out, and a deactivated
/// user's open session.
#[tokio::test]
async fn first_sign_in_password_change_panel_notice_csrf_and_deactivation() {
    let clock = before_the_check_time();
    let in_two_days = (clock.now().date_naive() + chrono::Duration::days(2)).to_string();
    let app = spawn_app_at(clock).await;
    create_token(&app, "checkout_edge", &in_two_days).await;
    let (s, _, run) = raw(&app.admin, Method::POST, "/edgeward/v1/notify/run", None).await;
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["due"][0]["name"], "checkout_edge", "{run}");

    let b = Browser::open(&app).await;
    b.goto("/").await;
    b.find("#name").await;
    assert_eq!(b.path().await, "/sign-in", "no session: the sign-in page");
    b.shot("sign-in").await;

    b.sign_in("admin", "not the password").await;
    assert_eq!(b.text("#sign-in-error").await, "The name or the password is not right.");
    assert_eq!(b.find("#name").await.prop("value").await.unwrap().as_deref(), Some("admin"), "the name is kept");
    b.shot("sign-in-error").await;

    // The initial password works once, and only to choose another.
    let initial = initial_password(&app);
    b.sign_in("admin", &initial).await;
    assert_eq!(b.path().await, "/account/password", "a given password must be changed first");
    b.goto("/panel").await;
    assert_eq!(b.path().await, "/account/password", "nothing else before that");
    b.shot("password-change").await;
    b.fill("#current", &initial).await;
    b.fill("#new", "a long new password").await;
    b.fill("#confirm", "a long new password, but another").await;
    b.click("main form button[type=submit]").await;
    assert_eq!(b.text("#password-error").await, "The two new passwords differ.");
    b.fill("#current", &initial).await;
    b.fill("#new", "a long new password").await;
    b.fill("#confirm", "a long new password").await;
    b.click("main form button[type=submit]").await;
    assert_eq!(b.path().await, "/panel");
    assert!(!app.dir.path().join("admin-password").exists(), "the initial password's file is removed");

    // The check's notice, unread.
    assert_eq!(b.text("#unread").await, "1");
    let notices = b.c.find_all(Locator::Css("article.notice")).await.unwrap();
    assert_eq!(notices.len(), 1);
    let notice = notices[0].text().await.unwrap();
    assert!(notice.contains("checkout_edge") && notice.contains(&in_two_days), "{notice}");
    assert!(notice.contains("2 days"), "the time left: {notice}");
    assert!(b.has("article.notice.unread").await);
    b.shot("panel").await;
    b.click("#mark-all-read").await;
    assert_eq!(b.text("#unread").await, "0");
    assert!(!b.has("article.notice.unread").await, "read now");

    // People: the users, roles, contacts and API clients, with their forms.
    let role =
        r#"{"name":"auditors","description":"Read tokens and the audit trail.","grants":["VIEW_TOKEN","VIEW_AUDIT"]}"#;
    assert_eq!(raw(&app.admin, Method::POST, "/edgeward/v1/roles", Some(role)).await.0, 201);
    let contact = r#"{"email":"ops@example.com","name":"Operations desk"}"#;
    assert_eq!(raw(&app.admin, Method::POST, "/edgeward/v1/contacts", Some(contact)).await.0, 200);
    b.click("nav a[href='/people']").await;
    assert_eq!(b.path().await, "/people");
    assert!(b.text("#user-admin").await.contains("every capability"));
    assert!(b.has("#role-edit-auditors").await && !b.has("#role-edit-administrator").await);
    b.shot("people").await;

    // A form whose CSRF token was taken out (by script in the page, as an attacker's page could
    // not) is refused, and the session goes on.
    b.c.execute("document.querySelector('form.sign-out input[name=csrf]').value = '';", vec![]).await.unwrap();
    b.click("form.sign-out button[type=submit]").await;
    let message = b.text("#message").await;
    assert!(message.contains("out of date or was sent from another site"), "{message}");
    b.shot("refused").await;
    b.goto("/panel").await;
    assert_eq!((b.path().await, b.text("#unread").await), ("/panel".to_owned(), "0".to_owned()), "still signed in");

    // Deactivated while signed in: the next page is the sign-in page.
    app.server
        .state
        .store
        .update_user("admin", edgeward_core::notify::UserUpdate { active: Some(false), ..Default::default() })
        .await
        .unwrap();
    b.goto("/panel").await;
    b.find("#name").await;
    assert_eq!(b.path().await, "/sign-in");
    b.close().await;
    app.server.shutdown().await;
}

/// Waits for the token pages. Create through the form (a bad name first, refused by its field),
/// the token page, `edgekv_tokens.js` downloaded with the browser's session and imported by
/// Node, a rotation that keeps the old token and one that revokes it as asked, and a revocation
/// that needs the token's name typed.
#[tokio::test]
async fn token_pages_create_download_rotate_and_revoke() {
    let clock = before_the_check_time();
    let in_a_month = (clock.now().date_naive() + chrono::Duration::days(30)).to_string();
    let app = spawn_app_at(clock).await;
    set_password(&app, "admin", "the administrator's password").await;
    create_token(&app, "batch_job", &in_a_month).await;

    let b = Browser::open(&app).await;
    b.sign_in("admin", "the administrator's password").await;
    assert_eq!(b.path().await, "/panel");
    b.goto("/tokens").await;
    b.find("table#tokens").await;
    assert!(b.has("#token-batch_job").await);
    assert!(b.has("a#download-all").await);
    b.click("a#create-link").await;
    assert_eq!(b.path().await, "/tokens/new");
    b.find("form#create-form").await;
    b.shot("token-create").await;

    // A name the rules refuse: said next to its field, and nothing is created.
    b.fill("#create-form [name=name]", "web app!").await;
    b.check("#create-form [name=staging]", true).await;
    b.fill("#create-form [name=namespaces]", "default:rw").await;
    b.click("#create").await;
    let error = b.text("p.field-error#name-error").await;
    assert!(!error.is_empty());
    b.shot("token-create-error").await;

    // Right this time: an expiring token (the date set by script: a date field's typing is the
    // browser's locale's), on staging.
    b.fill("#create-form [name=name]", "web_app").await;
    b.check("#create-form [name=staging]", true).await;
    b.check("#create-form [name=production]", false).await;
    b.fill("#create-form [name=namespaces]", "default:rw").await;
    b.c.execute("document.querySelector('#create-form [name=expiry]').value = arguments[0];", vec![json!(in_a_month)])
        .await
        .unwrap();
    b.click("#create").await;
    assert_eq!(b.path().await, "/tokens/web_app");
    let value = b.text("pre#token-value").await;
    assert_eq!(value.split('.').count(), 3, "a compact JWS: {value}");
    let entry = b.text("pre#token-entry").await;
    assert!(entry.contains(&value) && entry.contains("namespace-default"), "{entry}");
    assert!(token_is_live(&app, "web_app").await);
    b.shot("token").await;

    // The download, with the browser's own session: the file edge code imports.
    let link = b.find("a#download").await.attr("href").await.unwrap().unwrap();
    assert_eq!(link, "/tokens/web_app/edgekv_tokens.js");
    let r = app.plain_http().get(app.url(&link)).header("cookie", b.session_cookie().await).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers().get("content-disposition").unwrap().to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment") && disposition.contains("edgekv_tokens.js"), "{disposition}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edgekv_tokens.js");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let tokens = import_with_node(&file);
    assert_eq!(tokens["namespace-default"]["name"], "web_app", "{tokens}");
    assert_eq!(tokens["namespace-default"]["value"], value.as_str(), "{tokens}");

    // Rotate without asking for the old one's revocation: both live.
    b.goto("/tokens/batch_job").await;
    b.fill("#rotate [name=new_name]", "batch_job_v2").await;
    b.check("#rotate [name=revoke_old]", false).await;
    b.click("#rotate [type=submit]").await;
    assert!(token_is_live(&app, "batch_job").await && token_is_live(&app, "batch_job_v2").await);

    // Rotate, asking for it: the old one is revoked.
    b.goto("/tokens/web_app").await;
    b.shot("token-rotate").await;
    b.fill("#rotate [name=new_name]", "web_app_v2").await;
    b.check("#rotate [name=revoke_old]", true).await;
    b.click("#rotate [type=submit]").await;
    assert!(token_is_live(&app, "web_app_v2").await, "the new token");
    assert!(!token_is_live(&app, "web_app").await, "the old one, revoked as asked");
    b.goto("/tokens").await;
    b.find("table#tokens").await;
    assert!(b.has("#token-web_app_v2").await);
    let old_row = b.text("#token-web_app").await;
    assert!(old_row.contains("revoked"), "the list shows the old token revoked: {old_row}");
    b.shot("tokens").await;

    // Revoke: only with the token's name typed.
    b.goto("/tokens/web_app_v2").await;
    b.fill("#revoke [name=confirm]", "web_app").await;
    let disabled =
        b.c.execute("return document.querySelector('#revoke [type=submit]').disabled;", vec![]).await.unwrap();
    assert_eq!(
        disabled,
        Value::Bool(true),
        "another name does not confirm it (the server refuses it too: console_tokens)"
    );
    assert!(token_is_live(&app, "web_app_v2").await);
    b.fill("#revoke [name=confirm]", "web_app_v2").await;
    b.click("#revoke [type=submit]").await;
    assert!(!token_is_live(&app, "web_app_v2").await, "revoked");
    b.goto("/tokens").await;
    b.find("table#tokens").await;
    let row = b.text("#token-web_app_v2").await;
    assert!(row.contains("revoked"), "{row}");
    b.close().await;
    app.server.shutdown().await;
}

/// Waits for the token pages. A user with `VIEW_TOKEN` alone sees the tokens but no create,
/// refresh, rotate or revoke control, and the same forms posted directly (with the user's
/// own CSRF token, to the actions the administrator's pages post to) change nothing.
#[tokio::test]
async fn token_pages_a_viewer_sees_no_controls_and_its_posts_are_refused() {
    let clock = before_the_check_time();
    let in_a_month = (clock.now().date_naive() + chrono::Duration::days(30)).to_string();
    let app = spawn_app_at(clock.clone()).await;
    set_password(&app, "admin", "the administrator's password").await;
    create_token(&app, "shared_cache", &in_a_month).await;
    let viewer = edgeward_core::notify::User {
        id: uuid::Uuid::new_v4(),
        name: "vera".into(),
        email: None,
        email_registered: false,
        active: true,
        grants: Grants::new([Capability::ViewToken]),
        roles: Vec::new(),
        created_at: clock.now(),
    };
    app.server.state.store.create_user(viewer).await.unwrap();
    set_password(&app, "vera", "vera's own long password").await;

    // Where the administrator's forms post.
    let b = Browser::open(&app).await;
    b.sign_in("admin", "the administrator's password").await;
    b.goto("/tokens/new").await;
    let create = b.action_of("form#create-form").await;
    b.goto("/tokens/shared_cache").await;
    let rotate = b.action_of("form#rotate").await;
    let revoke = b.action_of("form#revoke").await;
    b.sign_out().await;

    b.sign_in("vera", "vera's own long password").await;
    assert_eq!(b.path().await, "/panel");
    assert!(!b.has("nav a[href='/tokens/new']").await, "no create link in the navigation");
    b.goto("/tokens").await;
    b.find("table#tokens").await;
    assert!(b.has("#token-shared_cache").await);
    assert!(!b.has("#create-link").await, "no create link on the tokens page");
    b.shot("tokens-viewer").await;
    b.goto("/tokens/shared_cache").await;
    b.find("h1").await;
    for control in ["form#refresh", "form#rotate", "form#revoke"] {
        assert!(!b.has(control).await, "{control} is offered to a viewer");
    }
    b.shot("token-viewer").await;

    let csrf = b.find("form.sign-out input[name=csrf]").await.prop("value").await.unwrap().unwrap();
    b.post(&create, &[("csrf", &csrf), ("name", "vera_made"), ("staging", "on"), ("namespaces", "default:r")]).await;
    assert!(b.has("#message").await, "the refusal page");
    assert!(!token_is_live(&app, "vera_made").await, "not created");
    b.post(&rotate, &[("csrf", &csrf), ("new_name", "vera_rotated"), ("revoke_old", "on")]).await;
    assert!(b.has("#message").await, "the refusal page");
    assert!(!token_is_live(&app, "vera_rotated").await && token_is_live(&app, "shared_cache").await, "not rotated");
    b.post(&revoke, &[("csrf", &csrf), ("confirm", "shared_cache")]).await;
    assert!(b.has("#message").await, "the refusal page");
    assert!(token_is_live(&app, "shared_cache").await, "not revoked");
    b.shot("refused-viewer").await;
    b.close().await;
    app.server.shutdown().await;
}

/// The namespaces, an item edited through its form, the audit trail that records it, and the
/// account page with the expiry check's health.
#[tokio::test]
async fn namespaces_an_item_edit_the_audit_trail_and_the_account() {
    let clock = before_the_check_time();
    let app = spawn_app_at(clock).await;
    set_password(&app, "admin", "the administrator's password").await;
    let item = "/edgekv/v1/networks/production/namespaces/default/groups/countries/items/DE";
    let (s, _, r) = raw(&app.admin, Method::PUT, item, Some("\"Germany\"")).await;
    assert!((200..300).contains(&s), "{s} {r}");

    let b = Browser::open(&app).await;
    b.sign_in("admin", "the administrator's password").await;
    b.goto("/namespaces").await;
    b.find("table#namespaces-production").await;
    b.shot("namespaces").await;
    b.goto("/namespaces/production/default/groups/countries/items/DE").await;
    assert!(b.text("#item-value").await.contains("Germany"));
    b.fill("#item-edit [name=value]", "Deutschland").await;
    b.click("#item-edit [type=submit]").await;
    assert!(b.text("#item-value").await.contains("Deutschland"), "the edit is read back");
    b.shot("item").await;
    let (s, _, r) = raw(&app.admin, Method::GET, item, None).await;
    assert_eq!(s, 200);
    assert!(r.to_string().contains("Deutschland"), "the API reads the console's edit: {r}");

    b.goto("/audit").await;
    let trail = b.text("table#audit").await;
    assert!(trail.contains("user:admin") && trail.contains("item.write"), "{trail}");
    b.shot("audit").await;

    b.goto("/account").await;
    assert_eq!(b.text("#cpcode").await, app.server.state.cpcode);
    b.find("#health").await;
    b.shot("account").await;
    b.close().await;
    app.server.shutdown().await;
}
