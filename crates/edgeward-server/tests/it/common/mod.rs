//! Test harness: a real server on 127.0.0.1:0 with a fresh data directory, and clients for it.

#![allow(dead_code)]
#![allow(
    clippy::disallowed_methods,
    reason = "test support reads the servers' certificates and finds PostgreSQL's programs for a private server"
)]

pub mod console;
pub mod private_postgres;

use std::sync::Arc;

use edgeward_client::{Client, Edgerc};
use edgeward_core::capability::{Capability, Grants};
use edgeward_core::clock::{Clock, ManualClock, SystemClock};
use edgeward_core::names::ClientName;
use edgeward_server::{bootstrap, RunningServer, ServeConfig};

pub struct TestApp {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub admin: Client,
    pub clock: Arc<dyn Clock>,
}

/// A server configuration on `dir`, on the backend the suite runs on (`EDGEWARD_TEST_BACKEND`):
/// SQLite in `dir`, or a PostgreSQL database of its own (the same one for every start on `dir`).
/// The administrator's credentials from a server's data directory, addressed to that server's own
/// admin listener: the edgerc names the host it was written with (the directory's first server),
/// which a restart on port 0 or a second server in the directory does not change.
pub fn edgerc_of(server: &RunningServer) -> Edgerc {
    let mut edgerc = Edgerc::load(&server.prepared.edgerc, "default").unwrap();
    edgerc.host = bootstrap::edgerc_host(server.admin_addr);
    edgerc
}

pub fn config(dir: &std::path::Path) -> ServeConfig {
    ServeConfig {
        data_dir: dir.to_owned(),
        database: edgeward_server::DatabaseConfig::with_url(edgeward_store::testing::database_for_dir(dir)),
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        data_addr: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    }
}

/// A server configuration on `dir` with SQLite, whatever backend the suite runs on (for tests
/// that choose their database themselves).
pub fn config_on_sqlite(dir: &std::path::Path) -> ServeConfig {
    ServeConfig {
        data_dir: dir.to_owned(),
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        data_addr: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, Arc::new(SystemClock)).await
}

pub async fn spawn_app_at(clock: ManualClock) -> TestApp {
    spawn_app_with(|_| {}, Arc::new(clock)).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut ServeConfig), clock: Arc<dyn Clock>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    tweak(&mut cfg);
    let server = edgeward_server::spawn(cfg, clock.clone()).await.expect("server starts");
    let edgerc = edgerc_of(&server);
    let admin = Client::new(edgerc, Some(&server.prepared.tls_cert)).unwrap().with_clock(clock.clone());
    TestApp { server, dir, admin, clock }
}

impl TestApp {
    /// A new API client with these grants.
    pub async fn client_with(&self, name: &str, grants: &[Capability]) -> Client {
        let st = &self.server.state;
        let creds = bootstrap::create_api_client(
            st.store.as_ref(),
            &st.data_key,
            ClientName::parse(name).unwrap(),
            Grants::new(grants.iter().copied()),
            None,
            self.clock.as_ref(),
        )
        .await
        .unwrap();
        let edgerc =
            Edgerc { host: self.admin.host().to_owned(), credentials: creds, max_body: 131_072, account_key: None };
        Client::new(edgerc, Some(&self.server.prepared.tls_cert)).unwrap().with_clock(self.clock.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.admin.host(), path)
    }

    /// A plain HTTPS client that trusts the server's certificate.
    pub fn plain_http(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.server.prepared.tls_cert).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap()
    }
}

/// Send a signed JSON request (raw body) and return status, trace id and JSON body.
pub async fn raw(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Option<String>, serde_json::Value) {
    raw_with(client, method, path, body, None).await
}

pub async fn raw_with(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
    override_auth: Option<String>,
) -> (u16, Option<String>, serde_json::Value) {
    let (status, headers, json) = raw_full(client, method, path, body, override_auth).await;
    (status, headers.get("x-trace-id").map(|v| v.to_str().unwrap().to_owned()), json)
}

/// Like [`raw_with`], with every response header.
pub async fn raw_full(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
    override_auth: Option<String>,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let bytes = body.unwrap_or("").as_bytes().to_vec();
    let auth = override_auth.unwrap_or_else(|| client.authorization(method.as_str(), path, &bytes));
    let http = reqwest::Client::builder().use_rustls_tls().danger_accept_invalid_certs(true).build().unwrap();
    let mut req = http.request(method, format!("https://{}{}", client.host(), path)).header("authorization", auth);
    if body.is_some() {
        req = req.header("content-type", "application/json").body(bytes);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = resp.text().await.unwrap();
    if status >= 400 {
        assert_eq!(ct, "application/problem+json", "errors are problem+json: {text}");
    }
    (status, headers, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// The text of a signed request's successful answer, decoded into its `edgeward_wire` shape,
/// which must write it back byte for byte: a field the server renames, adds or drops without the
/// shape the client reads changing too fails here.
pub async fn exact<T: serde::Serialize + serde::de::DeserializeOwned>(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> T {
    let resp = client.send(method.clone(), path, body).await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    let typed: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
    assert_eq!(serde_json::to_string(&typed).unwrap(), text, "{method} {path}: what the client reads");
    typed
}

/// The body the Akamai CLI sends for `create token`.
pub fn cli_body(name: &str, staging: bool, production: bool, expiry: &str, ns: &[(&str, &str)]) -> String {
    let perms: serde_json::Map<String, serde_json::Value> = ns
        .iter()
        .map(|(n, p)| (n.to_string(), serde_json::json!(p.chars().map(|c| c.to_string()).collect::<Vec<_>>())))
        .collect();
    serde_json::json!({
        "name": name, "allowOnProduction": production, "allowOnStaging": staging,
        "restrictToEwids": ["all"], "expiry": expiry, "namespacePermissions": perms,
    })
    .to_string()
}

pub fn assert_edgekv_error(status: u16, body: &serde_json::Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["status"], want_status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    assert!(body["type"].as_str().unwrap().starts_with("/edgekv/error-types/"), "{body}");
    assert!(body["instance"].as_str().unwrap().starts_with("/edgekv/error-instances/"), "{body}");
    assert_eq!(body["additionalDetail"]["requestId"].as_str().unwrap().len(), 16, "{body}");
}

/// A data-plane GET of `path` with `token` as `X-Akamai-EdgeDB-Auth`: status and body.
pub async fn data_get(addr: std::net::SocketAddr, path: &str, token: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .header("X-Akamai-EdgeDB-Auth", token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}
