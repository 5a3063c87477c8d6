//! A typed client of the EdgeKV admin API that signs every request with EdgeGrid.
//!
//! Credentials come from an `.edgerc` section ([`Edgerc`]); the `AKAMAI_*` environment variables
//! are applied by the caller (the CLI), since only the binary reads the environment.

use std::path::Path;
use std::sync::Arc;

use edgeward_core::clock::{Clock, SystemClock};
use edgeward_core::network::Network;
use edgeward_edgegrid::{format_timestamp, Credentials, Settings, SignedRequest};
use edgeward_wire::{
    AccessGroupObject, AuditPage, CheckReport, ContactObject, CreateTokenRequest, InitStatus, InitializeRequest,
    MarkRead, MarkedRead, NamespaceList, NamespaceObject, NewRole, NoticeList, NotifyStatus, ReauthorizeRequest,
    ReplacedBy, RevokedToken, RoleChange, RoleObject, ScheduleRevocation, ScheduledDelete, ScheduledRevocation,
    ServerStatus, TokenList, TokenObject, TokenStates, UserChange, UserObject,
};
pub use reqwest::Method;

/// Why a call failed. `Display` is one line a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The `.edgerc` or the options are unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The server could not be reached, or TLS failed.
    #[error("cannot reach {host}: {message}")]
    Transport {
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error.
    #[error("{detail} (HTTP {status}{}{})", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), trace_id.as_deref().map(|t| format!(", trace id {t}")).unwrap_or_default())]
    Api {
        /// HTTP status.
        status: u16,
        /// `errorCode`, when present.
        code: Option<String>,
        /// `detail`.
        detail: String,
        /// `X-Trace-Id`.
        trace_id: Option<String>,
    },
    /// The server's answer was not what the API promises.
    #[error("unexpected response: {0}")]
    Decode(String),
}

/// One `.edgerc` section.
#[derive(Debug, Clone)]
pub struct Edgerc {
    /// `host`, e.g. `127.0.0.1:8443` (no scheme).
    pub host: String,
    /// The credentials.
    pub credentials: Credentials,
    /// `max_body` (default 131072).
    pub max_body: usize,
    /// `account_key`, if set.
    pub account_key: Option<String>,
}

impl Edgerc {
    /// Read `section` of the INI file at `path`.
    #[allow(
        clippy::disallowed_methods,
        reason = "EdgeGrid clients read their credentials from an .edgerc file, as Akamai's do"
    )]
    pub fn load(path: &Path, section: &str) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, section).map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))
    }

    /// Parse `section` of an INI text.
    pub fn parse(text: &str, section: &str) -> Result<Self, String> {
        let ini = ini::Ini::load_from_str(text).map_err(|e| format!("not a valid .edgerc file: {e}"))?;
        let s = ini.section(Some(section)).ok_or_else(|| {
            let names: Vec<String> = ini.sections().flatten().map(|n| format!("[{n}]")).collect();
            if names.is_empty() {
                format!("no [{section}] section (the file has no sections)")
            } else {
                format!("no [{section}] section; it has {}: pass --section NAME", names.join(", "))
            }
        })?;
        let get = |k: &str| s.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let need = |k: &str| get(k).ok_or_else(|| format!("[{section}] lacks {k}"));
        let host = need("host")?;
        let host = host.trim_start_matches("https://").trim_end_matches('/').to_owned();
        let max_body = match get("max_body").or_else(|| get("max-body")) {
            Some(v) => v.parse().map_err(|_| format!("[{section}] max_body is not a number"))?,
            None => edgeward_edgegrid::DEFAULT_MAX_BODY,
        };
        Ok(Self {
            host,
            credentials: Credentials {
                client_token: need("client_token")?,
                client_secret: need("client_secret")?,
                access_token: need("access_token")?,
            },
            max_body,
            account_key: get("account_key"),
        })
    }
}

/// The admin-API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    edgerc: Edgerc,
    settings: Settings,
    clock: Arc<dyn Clock>,
}

impl Client {
    /// A client for `edgerc`, trusting the system's roots plus `ca_cert` (PEM) when given.
    #[allow(clippy::disallowed_methods, reason = "the CA certificate the caller names is read when the client is made")]
    pub fn new(edgerc: Edgerc, ca_cert: Option<&Path>) -> Result<Self, ClientError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("edgeward/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60));
        if let Some(path) = ca_cert {
            let pem =
                std::fs::read(path).map_err(|e| ClientError::Config(format!("cannot read {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ClientError::Config(format!("{} is not a PEM certificate: {e}", path.display())))?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let http = b.build().map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))?;
        let settings = Settings { max_body: edgerc.max_body, headers_to_sign: Vec::new() };
        Ok(Self { http, edgerc, settings, clock: Arc::new(SystemClock) })
    }

    /// Sign with another clock's time (tests of clock skew).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Append `accountSwitchKey` to every request.
    pub fn with_account_key(mut self, key: Option<String>) -> Self {
        if key.is_some() {
            self.edgerc.account_key = key;
        }
        self
    }

    /// The host this client talks to.
    pub fn host(&self) -> &str {
        &self.edgerc.host
    }

    /// The request target for `path` (`/edgekv/v1/...`), with `accountSwitchKey` appended
    /// unencoded, as Akamai's CLI does.
    pub fn target(&self, path: &str) -> String {
        match &self.edgerc.account_key {
            Some(k) => format!("{path}{}accountSwitchKey={k}", if path.contains('?') { '&' } else { '?' }),
            None => path.to_owned(),
        }
    }

    /// The `Authorization` header for a request, with a fresh nonce.
    pub fn authorization(&self, method: &str, target: &str, body: &[u8]) -> String {
        let req = SignedRequest { method, host: &self.edgerc.host, target, headers: &[], body };
        let ts = format_timestamp(self.clock.now());
        self.edgerc.credentials.authorization(&req, &self.settings, &ts, &uuid::Uuid::new_v4().to_string())
    }

    /// Send a signed request and return the raw response.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ClientError> {
        let body = body.map(|b| (serde_json::to_vec(b).expect("JSON serializes"), "application/json"));
        self.send_bytes(method, path, body).await
    }

    /// Send a signed request whose body (if any) is `bytes` of the given content type.
    async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<reqwest::Response, ClientError> {
        let target = self.target(path);
        let bytes = body.as_ref().map(|(b, _)| b.as_slice()).unwrap_or_default();
        let auth = self.authorization(method.as_str(), &target, bytes);
        let url = format!("https://{}{}", self.edgerc.host, target);
        let mut req = self.http.request(method, url).header("authorization", auth).header("accept", "application/json");
        if let Some((bytes, content_type)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        req.send()
            .await
            .map_err(|e| ClientError::Transport { host: self.edgerc.host.clone(), message: error_chain(&e) })
    }

    /// Send a signed request; the answer's status and body, whatever the status, and the error
    /// the status would make.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<Exchange, ClientError> {
        let resp = self.send_bytes(method, path, body).await?;
        let status = resp.status();
        let trace_id = resp.headers().get("x-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport { host: self.edgerc.host.clone(), message: error_chain(&e) })?
            .to_vec();
        let error = (!status.is_success()).then(|| {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let detail = v["detail"]
                .as_str()
                .or_else(|| v["errors"][0]["detail"].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
            ClientError::Api {
                status: status.as_u16(),
                code: v["errorCode"].as_str().map(str::to_owned),
                detail,
                trace_id,
            }
        });
        Ok(Exchange { status: status.as_u16(), bytes, error })
    }

    /// Send a signed request; the body of a successful answer, or the server's error.
    async fn answer(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, ClientError> {
        let body = body.map(|b| (serde_json::to_vec(b).expect("JSON serializes"), "application/json"));
        self.exchange(method, path, body).await?.success()
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let bytes = self.answer(method, path, body).await?;
        decode(&bytes)
    }

    /// A request whose success has no body (204).
    async fn call_no_content(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), ClientError> {
        self.answer(method, path, body).await.map(drop)
    }

    /// `GET /edgeward/v1/notifications`: the notification panel of the client's user.
    pub async fn notifications(&self, limit: u32, before: Option<i64>) -> Result<NoticeList, ClientError> {
        let mut path = format!("/edgeward/v1/notifications?limit={limit}");
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        self.call(Method::GET, &path, None).await
    }

    /// `POST /edgeward/v1/notifications/read` (no ids: all).
    pub async fn mark_notifications_read(&self, ids: &[i64]) -> Result<MarkedRead, ClientError> {
        let body = json_body(&MarkRead { ids: ids.to_vec() });
        self.call(Method::POST, "/edgeward/v1/notifications/read", Some(&body)).await
    }

    /// `POST /edgeward/v1/tokens/{name}/replaced-by`: `successor` replaces `name`.
    pub async fn mark_replaced(&self, name: &str, successor: &str) -> Result<(), ClientError> {
        let path = format!("/edgeward/v1/tokens/{name}/replaced-by");
        let body = json_body(&ReplacedBy { name: successor.to_owned() });
        self.call_no_content(Method::POST, &path, Some(&body)).await
    }

    /// `GET /edgeward/v1/status`: the server, the account and the caller.
    pub async fn status(&self) -> Result<ServerStatus, ClientError> {
        self.call(Method::GET, "/edgeward/v1/status", None).await
    }

    /// `GET /edgeward/v1/tokens`: every stored token the caller may view, with its lifecycle.
    pub async fn token_states(&self) -> Result<TokenStates, ClientError> {
        self.call(Method::GET, "/edgeward/v1/tokens", None).await
    }

    /// `PUT /edgeward/v1/tokens/{name}/scheduled-revocation`: revoke `name` later (or now).
    pub async fn schedule_revocation(
        &self,
        name: &str,
        when: &ScheduleRevocation,
    ) -> Result<ScheduledRevocation, ClientError> {
        let path = format!("/edgeward/v1/tokens/{}/scheduled-revocation", path_segment(name));
        self.call(Method::PUT, &path, Some(&json_body(when))).await
    }

    /// `DELETE /edgeward/v1/tokens/{name}/scheduled-revocation`: cancel a scheduled revocation.
    pub async fn cancel_revocation(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/edgeward/v1/tokens/{}/scheduled-revocation", path_segment(name));
        self.call_no_content(Method::DELETE, &path, None).await
    }

    /// `POST /edgeward/v1/notify/run`: run the expiry check now.
    pub async fn run_expiry_check(&self, dry_run: bool) -> Result<CheckReport, ClientError> {
        self.call(Method::POST, &format!("/edgeward/v1/notify/run?dryRun={dry_run}"), None).await
    }

    /// `GET /edgeward/v1/notify/status`: the latest runs of the expiry check.
    pub async fn expiry_check_status(&self) -> Result<NotifyStatus, ClientError> {
        self.call(Method::GET, "/edgeward/v1/notify/status", None).await
    }

    /// `GET /edgeward/v1/users`.
    pub async fn list_users(&self) -> Result<Vec<UserObject>, ClientError> {
        self.call(Method::GET, "/edgeward/v1/users", None).await
    }

    /// `POST /edgeward/v1/users`: add a user.
    pub async fn create_user(&self, user: &UserObject) -> Result<UserObject, ClientError> {
        self.call(Method::POST, "/edgeward/v1/users", Some(&json_body(user))).await
    }

    /// `PATCH /edgeward/v1/users/{name}`: change a user.
    pub async fn update_user(&self, name: &str, change: &UserChange) -> Result<UserObject, ClientError> {
        let path = format!("/edgeward/v1/users/{}", path_segment(name));
        self.call(Method::PATCH, &path, Some(&json_body(change))).await
    }

    /// `GET /edgeward/v1/roles`: the built-in roles, then the custom ones.
    pub async fn list_roles(&self) -> Result<Vec<RoleObject>, ClientError> {
        self.call(Method::GET, "/edgeward/v1/roles", None).await
    }

    /// `GET /edgeward/v1/roles/{name}`: one role.
    pub async fn role(&self, name: &str) -> Result<RoleObject, ClientError> {
        self.call(Method::GET, &format!("/edgeward/v1/roles/{}", path_segment(name)), None).await
    }

    /// `POST /edgeward/v1/roles`: add a custom role.
    pub async fn create_role(&self, role: &NewRole) -> Result<RoleObject, ClientError> {
        self.call(Method::POST, "/edgeward/v1/roles", Some(&json_body(role))).await
    }

    /// `PUT /edgeward/v1/roles/{name}`: change a custom role's description or grants.
    pub async fn update_role(&self, name: &str, change: &RoleChange) -> Result<RoleObject, ClientError> {
        let path = format!("/edgeward/v1/roles/{}", path_segment(name));
        self.call(Method::PUT, &path, Some(&json_body(change))).await
    }

    /// `DELETE /edgeward/v1/roles/{name}`: delete a custom role nobody holds.
    pub async fn delete_role(&self, name: &str) -> Result<(), ClientError> {
        self.call_no_content(Method::DELETE, &format!("/edgeward/v1/roles/{}", path_segment(name)), None).await
    }

    /// `GET /edgeward/v1/contacts`: the escalation contacts.
    pub async fn list_contacts(&self) -> Result<Vec<ContactObject>, ClientError> {
        self.call(Method::GET, "/edgeward/v1/contacts", None).await
    }

    /// `POST /edgeward/v1/contacts`: add (or rename) an escalation contact.
    pub async fn put_contact(&self, contact: &ContactObject) -> Result<ContactObject, ClientError> {
        self.call(Method::POST, "/edgeward/v1/contacts", Some(&json_body(contact))).await
    }

    /// `DELETE /edgeward/v1/contacts/{email}`: remove an escalation contact.
    pub async fn remove_contact(&self, email: &str) -> Result<(), ClientError> {
        self.call_no_content(Method::DELETE, &format!("/edgeward/v1/contacts/{}", path_segment(email)), None).await
    }

    /// `GET /edgeward/v1/audit`: a page of the audit trail. `query` holds the filters as the
    /// endpoint names them (`actor`, `action`, `target`, `outcome`, `since`, `until`, `before`,
    /// `limit`).
    pub async fn audit(&self, query: &[(&str, &str)]) -> Result<AuditPage, ClientError> {
        let mut path = String::from("/edgeward/v1/audit");
        for (i, (k, v)) in query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(&path_segment(k));
            path.push('=');
            path.push_str(&path_segment(v));
        }
        self.call(Method::GET, &path, None).await
    }

    /// `POST /tokens`.
    pub async fn create_token(&self, req: &CreateTokenRequest) -> Result<TokenObject, ClientError> {
        self.call(Method::POST, "/edgekv/v1/tokens", Some(&json_body(req))).await
    }

    /// `GET /tokens`.
    pub async fn list_tokens(&self, include_expired: bool) -> Result<TokenList, ClientError> {
        let path = if include_expired { "/edgekv/v1/tokens?includeExpired=true" } else { "/edgekv/v1/tokens" };
        self.call(Method::GET, path, None).await
    }

    /// `GET /tokens/{name}`.
    pub async fn get_token(&self, name: &str) -> Result<TokenObject, ClientError> {
        self.call(Method::GET, &format!("/edgekv/v1/tokens/{}", path_segment(name)), None).await
    }

    /// `GET /tokens/{name}?includeUsage=true` (Edgeward): the token with its data-plane usage.
    pub async fn get_token_with_usage(&self, name: &str) -> Result<TokenObject, ClientError> {
        self.call(Method::GET, &format!("/edgekv/v1/tokens/{}?includeUsage=true", path_segment(name)), None).await
    }

    /// `DELETE /tokens/{name}`.
    pub async fn revoke_token(&self, name: &str) -> Result<RevokedToken, ClientError> {
        self.call(Method::DELETE, &format!("/edgekv/v1/tokens/{}", path_segment(name)), None).await
    }

    /// `POST /tokens/{name}/refresh`.
    pub async fn refresh_token(&self, name: &str) -> Result<TokenObject, ClientError> {
        self.call(Method::POST, &format!("/edgekv/v1/tokens/{}/refresh", path_segment(name)), None).await
    }

    /// `GET /initialize`: the account's initialization status; a never-initialized account's
    /// too (`UNINITIALIZED`, which EdgeKV answers with 404 and the same body).
    pub async fn initialize_status(&self) -> Result<InitStatus, ClientError> {
        let x = self.exchange(Method::GET, "/edgekv/v1/initialize", None).await?;
        if x.status == 404 {
            if let Ok(status) = serde_json::from_slice::<InitStatus>(&x.bytes) {
                return Ok(status);
            }
        }
        decode(&x.success()?)
    }

    /// `PUT /initialize`: initialize the account (`policy`: the data access policy of the
    /// namespaces created afterwards; none: the server's default). The status, and whether this
    /// call initialized it (201) or it already was (200).
    pub async fn initialize(&self, policy: Option<&InitializeRequest>) -> Result<(InitStatus, bool), ClientError> {
        let body = policy.map(|p| (serde_json::to_vec(p).expect("the wire types serialize"), "application/json"));
        let x = self.exchange(Method::PUT, "/edgekv/v1/initialize", body).await?;
        let created = x.status == 201;
        Ok((decode(&x.success()?)?, created))
    }

    /// `GET /networks/{network}/namespaces?details=true`: every namespace of a network, in full.
    pub async fn list_namespaces(&self, network: Network) -> Result<NamespaceList, ClientError> {
        self.call(Method::GET, &format!("{}?details=true", namespaces_path(network)), None).await
    }

    /// `POST /networks/{network}/namespaces`: create a namespace.
    pub async fn create_namespace(
        &self,
        network: Network,
        namespace: &NamespaceObject,
    ) -> Result<NamespaceObject, ClientError> {
        self.call(Method::POST, &namespaces_path(network), Some(&json_body(namespace))).await
    }

    /// `GET /networks/{network}/namespaces/{ns}`: one namespace.
    pub async fn namespace(&self, network: Network, ns: &str) -> Result<NamespaceObject, ClientError> {
        self.call(Method::GET, &namespace_path(network, ns), None).await
    }

    /// `PUT /networks/{network}/namespaces/{ns}`: change a namespace's retention (the body names
    /// the namespace; its group and location, when given, must be the ones it has).
    pub async fn update_namespace(
        &self,
        network: Network,
        namespace: &NamespaceObject,
    ) -> Result<NamespaceObject, ClientError> {
        let path = namespace_path(network, &namespace.namespace);
        self.call(Method::PUT, &path, Some(&json_body(namespace))).await
    }

    /// `GET /auth/groups/{id}`: one access group (EdgeKV's 403 for one the caller cannot see,
    /// or that does not exist).
    pub async fn access_group(&self, id: u64) -> Result<AccessGroupObject, ClientError> {
        self.call(Method::GET, &format!("/edgekv/v1/auth/groups/{id}"), None).await
    }

    /// `PUT /auth/namespaces/{ns}`: move a namespace to another access group, on every network
    /// where it exists.
    pub async fn reauthorize_namespace(
        &self,
        ns: &str,
        to: &ReauthorizeRequest,
    ) -> Result<ReauthorizeRequest, ClientError> {
        let path = format!("/edgekv/v1/auth/namespaces/{}", path_segment(ns));
        self.call(Method::PUT, &path, Some(&json_body(to))).await
    }

    /// `DELETE /networks/{network}/namespaces/{ns}`: schedule the namespace's deletion at the
    /// server's delay (a namespace already scheduled keeps its time); when it will happen.
    pub async fn delete_namespace(&self, network: Network, ns: &str) -> Result<ScheduledDelete, ClientError> {
        self.call(Method::DELETE, &namespace_path(network, ns), None).await
    }

    /// `GET …/namespaces/{ns}/status/scheduled-delete`: when the namespace's deletion is
    /// scheduled, or `None` when it is not (EdgeKV's 404).
    pub async fn scheduled_delete(&self, network: Network, ns: &str) -> Result<Option<ScheduledDelete>, ClientError> {
        let x = self.exchange(Method::GET, &scheduled_delete_path(network, ns), None).await?;
        if x.status == 404 {
            return Ok(None);
        }
        decode(&x.success()?).map(Some)
    }

    /// `PUT …/namespaces/{ns}/status/scheduled-delete`: schedule (or move) the namespace's
    /// deletion to a time.
    pub async fn schedule_delete(
        &self,
        network: Network,
        ns: &str,
        at: &ScheduledDelete,
    ) -> Result<ScheduledDelete, ClientError> {
        self.call(Method::PUT, &scheduled_delete_path(network, ns), Some(&json_body(at))).await
    }

    /// `DELETE …/namespaces/{ns}/status/scheduled-delete`: cancel the namespace's deletion.
    pub async fn cancel_delete(&self, network: Network, ns: &str) -> Result<(), ClientError> {
        self.call_no_content(Method::DELETE, &scheduled_delete_path(network, ns), None).await
    }

    /// `GET …/namespaces/{ns}/groups`: the group names of a namespace; empty when it has none
    /// (EdgeKV's 404 "There are no groups.").
    pub async fn groups(&self, network: Network, ns: &str, sandbox: Option<&str>) -> Result<Vec<String>, ClientError> {
        let path = with_sandbox(format!("{}/groups", namespace_path(network, ns)), sandbox);
        let x = self.exchange(Method::GET, &path, None).await?;
        if x.status == 404 {
            return Ok(Vec::new());
        }
        decode(&x.success()?)
    }

    /// `GET …/groups/{group}`: the item keys of a group, at most `max_items` (the server's
    /// default when `None`); empty when it has none (EdgeKV's 404).
    pub async fn item_keys(&self, at: &ItemAt<'_>, max_items: Option<u32>) -> Result<Vec<String>, ClientError> {
        let mut path = format!("{}/groups/{}", namespace_path(at.network, at.namespace), path_segment(at.group));
        if let Some(m) = max_items {
            path.push_str(&format!("?maxItems={m}"));
        }
        let x = self.exchange(Method::GET, &with_sandbox(path, at.sandbox), None).await?;
        if x.status == 404 {
            return Ok(Vec::new());
        }
        decode(&x.success()?)
    }

    /// `GET …/items/{item}`: an item's value, byte for byte as stored.
    pub async fn read_item(&self, at: &ItemAt<'_>, item: &str) -> Result<Vec<u8>, ClientError> {
        self.exchange(Method::GET, &at.item_path(item), None).await?.success()
    }

    /// `PUT …/items/{item}`: write an item's value (sent as `content_type`, `application/json`
    /// or `text/plain`); the server's confirmation.
    pub async fn write_item(
        &self,
        at: &ItemAt<'_>,
        item: &str,
        value: Vec<u8>,
        content_type: &str,
    ) -> Result<String, ClientError> {
        let x = self.exchange(Method::PUT, &at.item_path(item), Some((value, content_type))).await?;
        Ok(String::from_utf8_lossy(&x.success()?).into_owned())
    }

    /// `DELETE …/items/{item}`: delete an item; the server's confirmation.
    pub async fn remove_item(&self, at: &ItemAt<'_>, item: &str) -> Result<String, ClientError> {
        let x = self.exchange(Method::DELETE, &at.item_path(item), None).await?;
        Ok(String::from_utf8_lossy(&x.success()?).into_owned())
    }
}

/// A group of items, as the admin API's item paths name it.
#[derive(Debug, Clone, Copy)]
pub struct ItemAt<'a> {
    /// The network.
    pub network: Network,
    /// The namespace.
    pub namespace: &'a str,
    /// The group.
    pub group: &'a str,
    /// `sandboxId` (staging only), if any.
    pub sandbox: Option<&'a str>,
}

impl ItemAt<'_> {
    fn item_path(&self, item: &str) -> String {
        let path = format!(
            "{}/groups/{}/items/{}",
            namespace_path(self.network, self.namespace),
            path_segment(self.group),
            path_segment(item)
        );
        with_sandbox(path, self.sandbox)
    }
}

/// An answer: its status, its body, and the error it is when the status is not a success.
struct Exchange {
    status: u16,
    bytes: Vec<u8>,
    error: Option<ClientError>,
}

impl Exchange {
    /// The body of a success, or the server's error.
    fn success(self) -> Result<Vec<u8>, ClientError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.bytes),
        }
    }
}

/// A success's body in its wire shape.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

fn namespaces_path(network: Network) -> String {
    format!("/edgekv/v1/networks/{}/namespaces", network.as_str())
}

fn namespace_path(network: Network, ns: &str) -> String {
    format!("{}/{}", namespaces_path(network), path_segment(ns))
}

fn scheduled_delete_path(network: Network, ns: &str) -> String {
    format!("{}/status/scheduled-delete", namespace_path(network, ns))
}

/// `path` with `sandboxId` added to its query, when there is one.
fn with_sandbox(path: String, sandbox: Option<&str>) -> String {
    match sandbox {
        Some(s) => format!("{path}{}sandboxId={}", if path.contains('?') { '&' } else { '?' }, path_segment(s)),
        None => path,
    }
}

/// A request body as JSON (the wire types always serialize).
fn json_body<T: serde::Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).expect("the wire types serialize")
}

/// Percent-encode a path segment (names are validated by the server; this keeps odd input from
/// changing the path).
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edgerc_sections() {
        let t = "[default]\nhost = https://127.0.0.1:8443/\nclient_token = ct\nclient_secret = cs=\naccess_token = at\nmax_body = 2048\n";
        let e = Edgerc::parse(t, "default").unwrap();
        assert_eq!(
            (e.host.as_str(), e.max_body, e.credentials.client_secret.as_str()),
            ("127.0.0.1:8443", 2048, "cs=")
        );
        assert!(Edgerc::parse(t, "other").unwrap_err().contains("no [other] section"));
        assert!(Edgerc::parse("[default]\nhost = h\n", "default").unwrap_err().contains("client_token"));
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }
}
