//! The routers in-process: every row of `docs/status-codes.md` is answered by the admin or the
//! data-plane router, built from `AppState::new` over a prepared data directory and driven with
//! `tower::ServiceExt::oneshot` (no socket, no TLS).
//!
//! Each case names the row it covers by its section and words of the row, and the status, the
//! `errorCode` and (for authentication) the `detail` it must answer are read from that row of the
//! document, so the table and the routers cannot drift apart: a row without a case, a case that
//! names no row or two, and an answer that differs from its row all fail.
//!
//! The routers run on SQLite whatever backend the suite runs on: what is checked here is how
//! answers are chosen and shaped, which does not depend on the backend, and two cases (a row that
//! cannot be read, a database that cannot take a write) need SQLite's file to reach into.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::Router;
use chrono::{Duration, TimeZone, Utc};
use edgeward_client::{Client, Edgerc};
use edgeward_core::capability::Grants;
use edgeward_core::clock::ManualClock;
use edgeward_core::names::ClientName;
use edgeward_core::network::Network;
use edgeward_server::app::{admin_router, data_plane, DataPlane};
use edgeward_server::body::DeadlineBody;
use edgeward_server::notify::NotifyRuntime;
use edgeward_server::state::AppState;
use edgeward_server::{bootstrap, dataplane, server, ServeConfig};
use http::{HeaderMap, Request};
use tower::ServiceExt;

use crate::common::{cli_body, config_on_sqlite};

const STATUS_CODES: &str = include_str!("../../../../docs/status-codes.md");

const TOKENS: &str = "/edgekv/v1/tokens";
const NS: &str = "/edgekv/v1/networks/production/namespaces";
const ITEM: &str = "/api/v1/namespaces/default/groups/g/items/i";
/// The item value limit, and one character more.
const MAX_VALUE: usize = 262_144;

// --- the routers and how to call them ---------------------------------------------------------

/// The routers of one fresh data directory, and credentials to sign with.
struct Routers {
    state: AppState,
    admin: Router,
    data: DataPlane,
    clock: ManualClock,
    edgerc: Edgerc,
    signer: Client,
    _dir: tempfile::TempDir,
}

/// What a router answered.
struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.text)
    }
}

fn noon() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
}

async fn routers(tweak: fn(&mut ServeConfig)) -> Routers {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_on_sqlite(dir.path());
    tweak(&mut config);
    let clock = noon();
    let prepared = bootstrap::prepare(&config, &clock, "127.0.0.1:1".parse().unwrap()).await.unwrap();
    let notify = NotifyRuntime::new(&config.notify, "in-process").unwrap();
    let state = AppState::new(&prepared, &config, Arc::new(clock.clone()), Arc::new(clock.clone()), notify);
    server::catch_up(&state).await.unwrap();
    let admin = admin_router(state.clone(), None);
    let data = data_plane(
        state.clone(),
        dataplane::Listener { network: Network::Production, edgeworker_id: None, edgeworker_id_header: None },
    );
    let edgerc = Edgerc::load(&prepared.edgerc, "default").unwrap();
    let signer = Client::new(edgerc.clone(), None).unwrap().with_clock(Arc::new(clock.clone()));
    Routers { state, admin, data, clock, edgerc, signer, _dir: dir }
}

async fn answer<S>(router: &S, req: Request<Body>) -> Answer
where
    S: tower::Service<Request<Body>, Response = axum::response::Response, Error = std::convert::Infallible> + Clone,
{
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    Answer { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

impl Routers {
    /// A request to the admin router signed by `signer` (`body` as JSON).
    fn signed_by(&self, signer: &Client, method: &str, path: &str, body: Option<&str>) -> http::request::Builder {
        let auth = signer.authorization(method, path, body.unwrap_or("").as_bytes());
        Request::builder().method(method).uri(path).header("host", signer.host()).header("authorization", auth)
    }

    /// A request signed by the administrator (every grant).
    async fn admin(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.admin_as(&self.signer, method, path, body).await
    }

    async fn admin_as(&self, signer: &Client, method: &str, path: &str, body: Option<&str>) -> Answer {
        let mut req = self.signed_by(signer, method, path, body);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        answer(&self.admin, req.body(Body::from(body.unwrap_or("").to_owned())).unwrap()).await
    }

    /// A request signed by the administrator that must succeed.
    async fn ok(&self, method: &str, path: &str, body: Option<&str>) -> serde_json::Value {
        let a = self.admin(method, path, body).await;
        assert!((200..300).contains(&a.status), "{method} {path}: {a:?}");
        a.json()
    }

    /// An API client with no grant at all.
    async fn client_without_grants(&self) -> Client {
        let name = ClientName::parse("no-grants").unwrap();
        let st = &self.state;
        let creds =
            bootstrap::create_api_client(st.store.as_ref(), &st.data_key, name, Grants::new([]), None, &self.clock)
                .await
                .unwrap();
        let edgerc = Edgerc { credentials: creds, ..self.edgerc.clone() };
        Client::new(edgerc, None).unwrap().with_clock(Arc::new(self.clock.clone()))
    }

    /// The value of a new token valid on both networks for a week, with these permissions.
    async fn token(&self, name: &str, ns: &[(&str, &str)]) -> String {
        let t = self.ok("POST", TOKENS, Some(&cli_body(name, true, true, "2026-12-05", ns))).await;
        t["value"].as_str().unwrap().to_owned()
    }

    /// A data-plane call with `token` as `X-Akamai-EdgeDB-Auth` (none: no token).
    async fn data(&self, method: &str, path: &str, token: Option<&str>, body: Option<String>) -> Answer {
        let mut req = Request::builder().method(method).uri(path).header("host", "edge.example");
        if let Some(t) = token {
            req = req.header("x-akamai-edgedb-auth", t);
        }
        answer(&self.data, req.body(Body::from(body.unwrap_or_default())).unwrap()).await
    }

    /// A SQLite connection to the data directory's database, beside the server's own.
    fn database(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self._dir.path().join("edgeward.db")).unwrap()
    }
}

/// A body that never sends a byte.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

// --- the cases ---------------------------------------------------------------------------------

type Call = for<'a> fn(&'a Routers) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

#[derive(Clone, Copy)]
/// One call and the row of `docs/status-codes.md` it answers as.
struct Case {
    /// The `##` section of the row.
    section: &'static str,
    /// Words that, all together, appear in exactly one row of the section.
    row: &'static [&'static str],
    /// Settings of the data directory, when the case needs other than the defaults.
    tweak: fn(&mut ServeConfig),
    /// Sets up what the case needs, then makes the call whose answer is checked.
    call: Call,
    /// Words the row quotes that the answer's `detail` must begin with (`<…>` stands for any
    /// text, `…` for any text or none), when the row quotes what this answer says.
    says: Option<&'static str>,
}

impl Case {
    /// The case, whose answer must say `words` (quoted by its row).
    fn says(self, words: &'static str) -> Self {
        Self { says: Some(words), ..self }
    }
}

const EDGEKV: &str = "EdgeKV errors";
const GATEWAY: &str = "Authentication (gateway) errors";
const NAMESPACES: &str = "Namespaces and items (admin API)";
const DATA: &str = "Data plane";
const OWN: &str = "Edgeward's own endpoints (`/edgeward/v1/…`)";

fn defaults(_: &mut ServeConfig) {}

macro_rules! case {
    ($section:expr, [$($word:expr),+], $tweak:expr, |$r:ident| $body:expr) => {
        Case {
            section: $section,
            row: &[$($word),+],
            tweak: $tweak,
            call: |$r| Box::pin(async move { $body }),
            says: None,
        }
    };
    ($section:expr, [$($word:expr),+], |$r:ident| $body:expr) => {
        case!($section, [$($word),+], defaults, |$r| $body)
    };
}

fn cases() -> Vec<Case> {
    vec![
        // EdgeKV errors: the token API and what every admin route shares.
        case!(EDGEKV, ["| 400 | `EKV_2000`", "token name"], |r| {
            r.admin("POST", TOKENS, Some(&cli_body("bad name!", true, true, "2026-12-05", &[("default", "r")]))).await
        })
        .says("Name contains invalid characters."),
        case!(EDGEKV, ["| 400 | `EKV_2000`", "a body that is not a JSON object"], |r| {
            r.admin("POST", TOKENS, Some("[null]")).await
        }),
        case!(EDGEKV, ["| 400 | `EKV_2000`", "a query flag"], |r| {
            r.admin("GET", "/edgekv/v1/tokens?includeExpired=yes", None).await
        }),
        case!(EDGEKV, ["| 400 | `EKV_2000`", "a repeated query parameter"], |r| {
            r.admin("GET", "/edgekv/v1/tokens?includeExpired=true&includeExpired=false", None).await
        }),
        case!(EDGEKV, ["| 400 | `EKV_1002`"], |r| {
            let c = r.client_without_grants().await;
            r.admin_as(&c, "GET", TOKENS, None).await
        })
        .says("That resource does not exist or you are missing the '<CAPABILITY>' permission for it."),
        case!(EDGEKV, ["| 400 | `EKV_3000`", "Refresh of an expiring token"], |r| {
            r.token("fixed", &[("default", "r")]).await;
            r.admin("POST", "/edgekv/v1/tokens/fixed/refresh", None).await
        })
        .says("… has a fixed expiry date and cannot be refreshed …"),
        case!(EDGEKV, ["| 404 | `EKV_3000`", "does not exist"], |r| r
            .admin("GET", "/edgekv/v1/tokens/nobody", None)
            .await)
        .says("Token with name <name> does not exist."),
        case!(EDGEKV, ["| 404 | `EKV_9000`", "Unknown path"], |r| r.admin("GET", "/edgekv/v1/nowhere", None).await),
        case!(EDGEKV, ["| 405 | `EKV_2000`"], |r| r.admin("PATCH", TOKENS, None).await),
        case!(EDGEKV, ["| 408 | `EKV_2000`"], |r| {
            let body = Body::new(DeadlineBody::new(Stalled, std::time::Duration::from_millis(20)));
            let req = r.signed_by(&r.signer, "POST", TOKENS, Some("{}")).header("content-type", "application/json");
            let req = req.body(body).unwrap();
            answer(&r.admin, req).await
        }),
        case!(EDGEKV, ["| 409 | `EKV_3000`"], |r| {
            r.token("twice", &[("default", "r")]).await;
            r.admin("POST", TOKENS, Some(&cli_body("twice", true, true, "2026-12-05", &[("default", "r")]))).await
        })
        .says("Token with name <name> is already stored."),
        case!(EDGEKV, ["| 410 | `EKV_3000`"], |r| {
            r.token("brief", &[("default", "r")]).await;
            r.clock.advance(Duration::days(8));
            r.admin("GET", "/edgekv/v1/tokens/brief", None).await
        })
        .says("Token has expired."),
        case!(EDGEKV, ["| 413 | `EKV_9000`", "Tokens-per-account"], |c| c.limits.max_tokens_per_account = 1, |r| {
            r.token("first", &[("default", "r")]).await;
            r.admin("POST", TOKENS, Some(&cli_body("second", true, true, "2026-12-05", &[("default", "r")]))).await
        }),
        case!(EDGEKV, ["| 415 | `EKV_2000`"], |r| {
            let body = cli_body("form", true, true, "2026-12-05", &[("default", "r")]);
            let req = r.signed_by(&r.signer, "POST", TOKENS, Some(&body));
            let req = req.header("content-type", "application/x-www-form-urlencoded");
            answer(&r.admin, req.body(Body::from(body)).unwrap()).await
        }),
        case!(EDGEKV, ["| 422 | `EKV_2001`"], |r| r.admin("POST", TOKENS, Some("{\"name\":")).await)
            .says("The JSON request body contained a syntax error or duplicate attributes."),
        case!(EDGEKV, ["| 500 | `EKV_0000`"], |r| {
            // A row the store cannot read: a retention that is not a number.
            r.database()
                .execute(
                    "UPDATE namespaces SET retention_seconds = 'forever' WHERE network = 'production' AND name = 'default'",
                    [],
                )
                .unwrap();
            r.admin("GET", &format!("{NS}/default"), None).await
        })
        .says("An internal error occurred."),
        case!(EDGEKV, ["| 503 | `EKV_0000`"], |r| {
            // Another process holds the database's write lock for longer than the server waits.
            let db = r.database();
            db.execute_batch("BEGIN EXCLUSIVE").unwrap();
            let a =
                r.admin("POST", TOKENS, Some(&cli_body("locked", true, true, "2026-12-05", &[("default", "r")]))).await;
            db.execute_batch("ROLLBACK").unwrap();
            a
        }),
        // Authentication, before any handler runs.
        case!(GATEWAY, ["The request is not signed"], |r| {
            answer(&r.admin, Request::get(TOKENS).header("host", r.signer.host()).body(Body::empty()).unwrap()).await
        }),
        case!(GATEWAY, ["The nonce must be"], |r| {
            let auth = r.signer.authorization("GET", TOKENS, b"");
            let (head, rest) = auth.split_once("nonce=").unwrap();
            let rest = rest.split_once(';').unwrap().1;
            let req = Request::get(TOKENS)
                .header("host", r.signer.host())
                .header("authorization", format!("{head}nonce=no_pe!;{rest}"));
            answer(&r.admin, req.body(Body::empty()).unwrap()).await
        }),
        case!(GATEWAY, ["Inactive client token"], |r| {
            let auth = r.signer.authorization("GET", TOKENS, b"");
            let forged = auth.replace(&r.edgerc.credentials.client_token, "akab-unknown-client-token");
            let req = Request::get(TOKENS).header("host", r.signer.host()).header("authorization", forged);
            answer(&r.admin, req.body(Body::empty()).unwrap()).await
        }),
        case!(GATEWAY, ["outside the accepted window"], |r| {
            let late = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap());
            let signer = Client::new(r.edgerc.clone(), None).unwrap().with_clock(Arc::new(late));
            r.admin_as(&signer, "GET", TOKENS, None).await
        }),
        case!(GATEWAY, ["The signature does not match"], |r| {
            let auth = r.signer.authorization("GET", TOKENS, b"");
            let req = Request::get("/edgekv/v1/tokens?includeExpired=true")
                .header("host", r.signer.host())
                .header("authorization", auth);
            answer(&r.admin, req.body(Body::empty()).unwrap()).await
        }),
        case!(GATEWAY, ["The nonce has already been used"], |r| {
            let auth = r.signer.authorization("GET", TOKENS, b"");
            let req = || Request::get(TOKENS).header("host", r.signer.host()).header("authorization", auth.clone());
            assert_eq!(answer(&r.admin, req().body(Body::empty()).unwrap()).await.status, 200);
            answer(&r.admin, req().body(Body::empty()).unwrap()).await
        }),
        // Namespaces and items through the admin API.
        case!(NAMESPACES, ["| 400 | `EKV_9000`"], |r| r.admin("GET", &format!("{NS}/nowhere/groups"), None).await)
            .says("The requested namespace does not exist."),
        case!(NAMESPACES, ["| 400 | `EKV_9000`"], |r| r
            .admin("GET", &format!("{NS}/default/groups/b%21d"), None)
            .await),
        case!(NAMESPACES, ["| 400 | `EKV_2000`", "Retention period must be specified"], |r| {
            r.admin("POST", NS, Some(r#"{"namespace":"shop","groupId":0}"#)).await
        })
        .says("Retention period must be specified."),
        case!(NAMESPACES, ["| 400 | `EKV_2000`", "a group id above 9223372036854775807"], |r| {
            r.admin("POST", NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":"9223372036854775808"}"#))
                .await
        })
        .says("The group id <id> is out of range: …"),
        case!(NAMESPACES, ["| 400 | `EKV_3000`", "reauthorize endpoint"], |r| {
            r.ok("POST", NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#)).await;
            r.admin("PUT", &format!("{NS}/shop"), Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":7}"#))
                .await
        })
        .says("groupId changes must be made through the reauthorize endpoint."),
        case!(NAMESPACES, ["| 400 | `EKV_1002`"], |r| {
            let c = r.client_without_grants().await;
            r.admin_as(&c, "GET", NS, None).await
        }),
        case!(
            NAMESPACES,
            ["| 400 | `EKV_3000`", "five minutes or less"],
            |c| c.namespace_delete_delay_secs = 60,
            |r| {
                r.ok("POST", NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#)).await;
                r.ok("DELETE", &format!("{NS}/shop"), None).await;
                r.admin("DELETE", &format!("{NS}/shop/status/scheduled-delete"), None).await
            }
        ),
        case!(NAMESPACES, ["| 403 | `EKV_1000`"], |r| r.admin("GET", "/edgekv/v1/auth/groups/4242", None).await)
            .says("You do not have access to group <id>."),
        case!(NAMESPACES, ["| 404 | `EKV_9000`", "No deletion is scheduled"], |r| {
            r.admin("GET", &format!("{NS}/default/status/scheduled-delete"), None).await
        })
        .says("No deletion is scheduled for namespace <ns>."),
        case!(NAMESPACES, ["| 404 | `EKV_9000`", "was not found in the database"], |r| {
            r.admin("GET", &format!("{NS}/default/groups/g/items/i"), None).await
        })
        .says("Item '<item>' or group '<group>' was not found in the database."),
        case!(NAMESPACES, ["| 409 | `EKV_3000`"], |r| {
            r.ok("POST", NS, Some(r#"{"namespace":"shop","retentionInSeconds":0,"groupId":0}"#)).await;
            r.admin("POST", NS, Some(r#"{"namespace":"shop","retentionInSeconds":86400,"groupId":0}"#)).await
        })
        .says("A namespace with the name <ns> already exists with a different configuration"),
        case!(NAMESPACES, ["| 413 | `EKV_9000`"], |r| {
            // The default namespace and 19 more make the 20 an account may have.
            for n in 1..20 {
                let body = format!(r#"{{"namespace":"ns{n}","retentionInSeconds":0,"groupId":0}}"#);
                r.ok("POST", NS, Some(&body)).await;
            }
            r.admin("POST", NS, Some(r#"{"namespace":"one_more","retentionInSeconds":0,"groupId":0}"#)).await
        })
        .says("Each account is allowed 20 namespaces. This limit has already been reached."),
        // The data plane.
        case!(DATA, ["| 200 |"], |r| {
            let t = r.token("rw", &[("default", "rw")]).await;
            assert_eq!(r.data("PUT", ITEM, Some(&t), Some("value".into())).await.status, 200);
            let a = r.data("GET", ITEM, Some(&t), None).await;
            assert_eq!(a.text, "value");
            a
        }),
        case!(DATA, ["| 400 | `EKV_9000`"], |r| {
            let t = r.token("r", &[("default", "r")]).await;
            r.data("GET", "/api/v1/namespaces/b%21d/groups/g/items/i", Some(&t), None).await
        }),
        case!(DATA, ["| 401 | `EKV_1001`"], |r| r.data("GET", ITEM, None, None).await),
        case!(DATA, ["| 401 | `EKV_1001`"], |r| r.data("GET", ITEM, Some("not-a-token"), None).await),
        case!(DATA, ["| 403 | `EKV_1000`"], |r| {
            let t = r.token("r", &[("default", "r")]).await;
            r.data("PUT", ITEM, Some(&t), Some("value".into())).await
        }),
        case!(DATA, ["| 404 | `EKV_9000`"], |r| {
            let t = r.token("r", &[("default", "r")]).await;
            r.data("GET", ITEM, Some(&t), None).await
        }),
        case!(DATA, ["| 413 | `EKV_9000`"], |r| {
            let t = r.token("w", &[("default", "w")]).await;
            r.data("PUT", ITEM, Some(&t), Some("x".repeat(MAX_VALUE + 1))).await
        })
        .says("Value cannot exceed 262144 characters."),
        // Edgeward's own endpoints.
        case!(OWN, ["| 400 | `EKV_1002`"], |r| {
            let c = r.client_without_grants().await;
            r.admin_as(&c, "GET", "/edgeward/v1/audit", None).await
        }),
        case!(OWN, ["| 400 | `EKV_2000`"], |r| r.admin("GET", "/edgeward/v1/audit?limit=0", None).await),
        case!(OWN, ["| 404 | `EKV_3000`"], |r| {
            r.admin("PATCH", "/edgeward/v1/users/nobody", Some(r#"{"active":false}"#)).await
        }),
        case!(OWN, ["| 409 | `EKV_3000`"], |r| {
            let ana = r#"{"name":"ana","grants":["CREATE_TOKEN"]}"#;
            r.ok("POST", "/edgeward/v1/users", Some(ana)).await;
            r.admin("POST", "/edgeward/v1/users", Some(ana)).await
        }),
        case!(OWN, ["| 400 | `EKV_2000`", "a role that does not exist"], |r| {
            r.admin("POST", "/edgeward/v1/users", Some(r#"{"name":"ana","roles":["ghost"]}"#)).await
        }),
        case!(OWN, ["| 400 | `EKV_3000`", "built-in role"], |r| {
            r.admin("DELETE", "/edgeward/v1/roles/viewer", None).await
        })
        .says("Role <name> is built in and cannot be changed or deleted; …"),
        case!(OWN, ["| 404 | `EKV_3000`"], |r| r.admin("GET", "/edgeward/v1/roles/ghost", None).await),
        case!(OWN, ["| 409 | `EKV_3000`"], |r| {
            r.ok("POST", "/edgeward/v1/roles", Some(r#"{"name":"releasers","grants":["CREATE_TOKEN"]}"#)).await;
            r.ok("POST", "/edgeward/v1/users", Some(r#"{"name":"ana","roles":["releasers"]}"#)).await;
            r.admin("DELETE", "/edgeward/v1/roles/releasers", None).await
        }),
    ]
}

// --- the document ------------------------------------------------------------------------------

/// One row of a table of `docs/status-codes.md`.
#[derive(Debug)]
struct Row {
    section: String,
    cells: Vec<String>,
    line: String,
}

fn document_rows() -> Vec<Row> {
    let mut section = String::new();
    let mut rows = Vec::new();
    for line in STATUS_CODES.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_owned();
        } else if line.starts_with('|') && !line.starts_with("|---") {
            let cells: Vec<String> = line.trim_matches('|').split(" | ").map(|c| c.trim().to_owned()).collect();
            if matches!(cells[0].as_str(), "Status" | "detail") {
                continue;
            }
            rows.push(Row { section: section.clone(), cells, line: line.to_owned() });
        }
    }
    rows
}

/// The one row `case` names.
fn row_of<'a>(rows: &'a [Row], case: &Case) -> &'a Row {
    let found: Vec<&Row> =
        rows.iter().filter(|r| r.section == case.section && case.row.iter().all(|w| r.line.contains(w))).collect();
    assert_eq!(found.len(), 1, "{} {:?} must name exactly one row: {found:#?}", case.section, case.row);
    found[0]
}

/// Text between backticks, without them.
fn unquoted(cell: &str) -> String {
    cell.replace('`', "")
}

/// Check `a` against `row`: the status and `errorCode` of an EdgeKV row (and its problem body), or
/// the 401 and `detail` of an authentication row.
fn check(row: &Row, case: &Case, a: &Answer) {
    let body = a.json();
    let trace = a.headers.get("x-trace-id").map(|v| v.to_str().unwrap().to_owned());
    assert!(trace.as_deref().is_some_and(|t| t.len() == 16), "every answer carries X-Trace-Id: {a:?}");
    if row.section == GATEWAY {
        assert_eq!(a.status, 401, "{row:?}: {a:?}");
        assert_eq!(body["type"], "https://problems.luna.akamaiapis.net/-/pep-authn/deny", "{a:?}");
        assert_eq!(body["title"], "Not authorized", "{a:?}");
        let detail = body["detail"].as_str().unwrap_or_default();
        let documented = unquoted(&row.cells[0]);
        let matches = documented.split(" / ").any(|d| detail.starts_with(d.trim_end_matches('…').trim_end()));
        assert!(matches, "detail {detail:?} is not the row's {documented:?}");
        return;
    }
    let status: u16 = row.cells[0].parse().unwrap();
    assert_eq!(a.status, status, "{row:?}: {a:?}");
    let code = unquoted(&row.cells[1]);
    if code == "–" {
        return;
    }
    assert_eq!(a.headers.get("content-type").unwrap(), "application/problem+json", "{a:?}");
    assert_eq!(body["status"], status, "{a:?}");
    assert_eq!(body["errorCode"], code.as_str(), "{a:?}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{a:?}");
    assert!(body["type"].as_str().unwrap().starts_with("/edgekv/error-types/"), "{a:?}");
    assert!(body["instance"].as_str().unwrap().starts_with("/edgekv/error-instances/"), "{a:?}");
    assert_eq!(body["additionalDetail"]["requestId"].as_str(), trace.as_deref(), "{a:?}");
    if let Some(words) = case.says {
        assert!(row.line.contains(&format!("`{words}`")), "the row quotes `{words}`: {row:?}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(saying(words).is_match(detail), "detail {detail:?} does not say `{words}`");
    }
}

/// What a row's quoted words match: `<…>` any text, `…` (with the spaces around it) any text or
/// none, the rest as written, from the detail's start.
fn saying(words: &str) -> regex::Regex {
    let words = words.replace(" …", "…").replace("… ", "…");
    let mut pattern = String::from("^");
    let mut rest = words.as_str();
    while let Some(at) = rest.find(['<', '…']) {
        pattern.push_str(&regex::escape(&rest[..at]));
        if rest[at..].starts_with('<') {
            pattern.push_str(".+?");
            rest = rest[at..].split_once('>').map_or("", |(_, after)| after);
        } else {
            pattern.push_str(".*?");
            rest = &rest[at + '…'.len_utf8()..];
        }
    }
    pattern.push_str(&regex::escape(rest));
    regex::Regex::new(&pattern).unwrap()
}

#[test]
fn every_row_of_the_status_table_has_a_case_and_every_case_one_row() {
    let rows = document_rows();
    assert!(rows.len() >= 40, "the tables were read: {} rows", rows.len());
    let cases = cases();
    for case in &cases {
        let row = row_of(&rows, case);
        if let Some(words) = case.says {
            assert!(row.line.contains(&format!("`{words}`")), "the row quotes `{words}`: {row:?}");
        }
    }
    let uncovered: Vec<&str> = rows
        .iter()
        .filter(|row| !cases.iter().any(|c| std::ptr::eq(row_of(&rows, c), *row)))
        .map(|row| row.line.as_str())
        .collect();
    assert!(uncovered.is_empty(), "rows of docs/status-codes.md without an in-process case: {uncovered:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_answers_as_its_row_says() {
    // Each case on a data directory of its own, in a task of its own: a failing case is reported
    // (its panic above) and the others still run.
    let runs: Vec<_> = cases()
        .into_iter()
        .map(|case| {
            let run = tokio::spawn(async move {
                let rows = document_rows();
                let row = row_of(&rows, &case);
                let r = routers(case.tweak).await;
                let a = (case.call)(&r).await;
                check(row, &case, &a);
            });
            (case, run)
        })
        .collect();
    let mut failed = Vec::new();
    for (case, run) in runs {
        if run.await.is_err() {
            failed.push(format!("{}: {:?}", case.section, case.row));
        }
    }
    assert!(failed.is_empty(), "cases that do not answer as their row says: {failed:#?}");
}
