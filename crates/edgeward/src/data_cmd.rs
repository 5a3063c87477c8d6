//! `edgeward namespace …`, `edgeward group list`, `edgeward item …` and `edgeward initialize …`:
//! the account's data, as Akamai's `akamai edgekv` CLI manages it, through the admin API (the
//! typed client; the server checks the grants and audits each change as the API client's).
//!
//! Every argument is checked here before any request that changes the server: names by core's
//! rules, the network, the retention, the access group, the location, a JSON value, the file a
//! value comes from. A refused argument is a usage error (exit status 2) that says what is
//! allowed; the server's refusals are failed operations (exit status 1) with its EdgeKV error.
//! The network is a flag, `--network staging|production`, where Akamai's CLI takes a positional
//! `<environment>`: like the token commands' `--staging`/`--production`, it cannot be mistaken
//! for a namespace, and a namespace, group or item name never shifts places.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use edgeward_client::{Client, ClientError, ItemAt};
use edgeward_core::names::{AccessGroupId, GroupName, ItemName, NamespaceName, SandboxId};
use edgeward_core::namespace::{GeoLocation, Retention};
use edgeward_core::network::Network;
use edgeward_wire::{
    DataAccessPolicy, InitStatus, InitializeRequest, LenientBoolSer, LenientU64, NamespaceObject, ReauthorizeRequest,
    ScheduledDelete,
};

use crate::token_cmd::{api, client, parse_duration, Conn};
use crate::usage;

/// What `namespace --help` adds: the network flag and the lifecycle.
pub const NAMESPACE_HELP: &str = "\
Every namespace command names its network with --network staging|production (Akamai's
`akamai edgekv` takes it as a positional <environment>; here it is a flag, as the token commands'
--staging and --production are). `namespace list` without --network lists both networks.

A namespace name is 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-';
`default` exists on every account and cannot be created, changed or deleted. Retention is 0
(indefinite) or 1 to 3650 days: seconds (86400) or a duration (30d, 36h). `namespace delete`
schedules the deletion (the server's delay, or --at/--after); the namespace serves until then,
`namespace show` says when, and `namespace delete NS --cancel` keeps it.";

/// The network a command works on.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Net {
    /// The staging network.
    Staging,
    /// The production network.
    Production,
}

impl From<Net> for Network {
    fn from(n: Net) -> Self {
        match n {
            Net::Staging => Network::Staging,
            Net::Production => Network::Production,
        }
    }
}

/// `edgeward namespace …`.
#[derive(Subcommand, Debug)]
pub enum NamespaceCommand {
    /// List the namespaces of a network (of both without --network): retention, location and
    /// access group.
    List {
        /// staging or production [default: both].
        #[arg(long, value_enum, ignore_case = true)]
        network: Option<Net>,
    },
    /// Create a namespace (an identical one already there is no error).
    Create {
        /// The namespace's name: 1 to 32 of A-Z a-z 0-9 _ -, not starting with '-'.
        name: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// How long its items are kept: 0 (indefinitely), or 1 to 3650 days, as seconds (86400)
        /// or a duration (30d, 36h).
        #[arg(long)]
        retention: String,
        /// The access group it belongs to (0: the account group, which stands for every group).
        #[arg(long, default_value = "0")]
        group_id: String,
        /// Where its data is stored: US, EU, JP or GLOBAL (staging: US only) [default: US].
        #[arg(long)]
        geo_location: Option<String>,
    },
    /// Show a namespace, with its scheduled deletion if any.
    Show {
        /// The namespace's name.
        name: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
    },
    /// Change a namespace's retention or its access group (on every network where the namespace
    /// exists).
    Update {
        /// The namespace's name.
        name: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// The new retention: 0 (indefinitely), or 1 to 3650 days, as seconds or a duration.
        #[arg(long)]
        retention: Option<String>,
        /// The access group it moves to.
        #[arg(long)]
        group_id: Option<String>,
    },
    /// Schedule a namespace's deletion (at the server's delay, or --at/--after), or cancel it
    /// (--cancel). It serves until then; its items go with it.
    Delete {
        /// The namespace's name.
        name: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// Delete it at this RFC 3339 time, e.g. 2027-01-01T06:00:00Z.
        #[arg(long, conflicts_with_all = ["after", "cancel"])]
        at: Option<String>,
        /// Delete it this long from now, on the server's clock (`10m`, `1h`, `2d`).
        #[arg(long, conflicts_with = "cancel")]
        after: Option<String>,
        /// Cancel its scheduled deletion: it stays.
        #[arg(long)]
        cancel: bool,
    },
}

/// `edgeward group …`.
#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// List the groups of a namespace.
    List {
        /// The namespace.
        namespace: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// A sandbox's groups (staging only).
        #[arg(long)]
        sandbox_id: Option<String>,
    },
}

/// Where a value to write comes from: exactly one of these.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ValueSource {
    /// The value as text, stored as given.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: Option<String>,
    /// The value as JSON text: checked to be valid JSON before anything is sent, stored as given
    /// and sent as application/json.
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    json_value: Option<String>,
    /// The value is this file's content, byte for byte (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Like --file, the content checked to be valid JSON first and sent as application/json.
    #[arg(long, value_name = "FILE")]
    json_file: Option<PathBuf>,
}

/// `edgeward item …`.
#[derive(Subcommand, Debug)]
pub enum ItemCommand {
    /// List the item keys of a group.
    List {
        /// The namespace.
        namespace: String,
        /// The group.
        group: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// At most this many keys, 1 to 10000 [default: the server's, 100].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_items: Option<u32>,
        /// A sandbox's items (staging only).
        #[arg(long)]
        sandbox_id: Option<String>,
    },
    /// Print an item's value exactly as stored (raw on stdout, for pipes; --json wraps it).
    Read {
        /// The namespace.
        namespace: String,
        /// The group.
        group: String,
        /// The item's key.
        item: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// A sandbox's item (staging only).
        #[arg(long)]
        sandbox_id: Option<String>,
    },
    /// Write (create or replace) an item: from --text, --json-value, --file or --json-file.
    Write {
        /// The namespace (it must exist).
        namespace: String,
        /// The group (made by its first item).
        group: String,
        /// The item's key.
        item: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        #[command(flatten)]
        value: ValueSource,
        /// Write into a sandbox (staging only).
        #[arg(long)]
        sandbox_id: Option<String>,
    },
    /// Delete an item.
    Delete {
        /// The namespace.
        namespace: String,
        /// The group.
        group: String,
        /// The item's key.
        item: String,
        /// staging or production.
        #[arg(long, value_enum, ignore_case = true)]
        network: Net,
        /// A sandbox's item (staging only).
        #[arg(long)]
        sandbox_id: Option<String>,
    },
}

/// `edgeward initialize …` (Akamai's `akamai edgekv show status` and `akamai edgekv initialize`).
#[derive(Subcommand, Debug)]
pub enum InitializeCommand {
    /// Show whether the account is initialized, its CP code and data access policy.
    Status,
    /// Initialize the account (an Edgeward initializes its own at first start: this then says
    /// it already is).
    Run {
        /// Restrict data access to the Enhanced TLS network (for namespaces created afterwards)
        /// [default: true].
        #[arg(long)]
        restrict_data_access: Option<bool>,
        /// Let namespaces override the policy [default: false].
        #[arg(long)]
        allow_namespace_policy_override: Option<bool>,
    },
}

// ---- Arguments, checked before any request ----

fn namespace_name(s: &str) -> Result<NamespaceName> {
    NamespaceName::parse(s).map_err(|_| {
        usage!(
            "{s:?} is not a namespace name: a namespace name is 1 to {} characters of A-Z, a-z, 0-9, '_' and '-', \
             not starting with '-'",
            NamespaceName::MAX_LEN
        )
    })
}

/// A namespace that a command changes: any but `default`, which every account has as it is.
fn changeable_namespace(s: &str, what: &str) -> Result<NamespaceName> {
    let name = namespace_name(s)?;
    if name.as_str() == "default" {
        return Err(usage!("the default namespace exists on every account as it is: it cannot be {what}"));
    }
    Ok(name)
}

fn group_name(s: &str) -> Result<GroupName> {
    GroupName::parse(s).map_err(|_| {
        usage!(
            "{s:?} is not a group name: a group name is 1 to {} characters of A-Z, a-z, 0-9, '_' and '-'",
            GroupName::MAX_LEN
        )
    })
}

fn item_name(s: &str) -> Result<ItemName> {
    ItemName::parse(s).map_err(|_| {
        usage!(
            "{s:?} is not an item key: an item key is 1 to {} characters of A-Z, a-z, 0-9, '_' and '-'",
            ItemName::MAX_LEN
        )
    })
}

fn sandbox(raw: Option<&str>, network: Network) -> Result<Option<SandboxId>> {
    SandboxId::for_network(raw, network).map_err(|_| match raw {
        Some(_) if network == Network::Production => usage!("--sandbox-id: sandboxes exist on staging only"),
        _ => usage!(
            "--sandbox-id: {:?} is not a sandbox id: 1 to {} characters of A-Z, a-z, 0-9, '_' and '-'",
            raw.unwrap_or_default(),
            SandboxId::MAX_LEN
        ),
    })
}

/// Where an item command acts: its network, namespace, group, key and sandbox, each checked
/// before any request.
struct ItemPlace {
    network: Network,
    ns: NamespaceName,
    group: GroupName,
    item: ItemName,
    sandbox: Option<SandboxId>,
}

impl ItemPlace {
    fn parse(namespace: &str, group: &str, item: &str, network: Net, sandbox_id: Option<&str>) -> Result<Self> {
        let network = Network::from(network);
        let (ns, group, item) = (namespace_name(namespace)?, group_name(group)?, item_name(item)?);
        Ok(Self { network, ns, group, item, sandbox: sandbox(sandbox_id, network)? })
    }

    /// The item's group, as the client addresses it.
    fn at(&self) -> ItemAt<'_> {
        ItemAt {
            network: self.network,
            namespace: self.ns.as_str(),
            group: self.group.as_str(),
            sandbox: self.sandbox.as_ref().map(SandboxId::as_str),
        }
    }

    /// `--json` output naming the item; the command adds what it did.
    fn out(&self) -> ItemOut<'_> {
        ItemOut {
            network: Some(self.network),
            namespace: self.ns.as_str(),
            group: self.group.as_str(),
            item: self.item.as_str(),
            sandbox_id: self.sandbox.as_ref().map(SandboxId::as_str),
            ..ItemOut::default()
        }
    }

    /// The item as messages name it: "K in NS/GROUP on NETWORK[, sandbox S]".
    fn describe(&self) -> String {
        format!("{} in {}/{} on {}{}", self.item, self.ns, self.group, self.network, self.sandbox_words())
    }

    /// ", sandbox S" when there is one.
    fn sandbox_words(&self) -> String {
        self.sandbox.as_ref().map(|s| format!(", sandbox {}", s.as_str())).unwrap_or_default()
    }
}

/// `--retention`: `0`/`indefinite`, seconds or a duration, within EdgeKV's range.
fn retention(s: &str) -> Result<u64> {
    let allowed = "retention is 0 (indefinite) or 1 to 3650 days (86400 to 315360000 seconds), as seconds or a \
                   duration such as 30d or 36h";
    if s.trim().eq_ignore_ascii_case("indefinite") {
        return Ok(0);
    }
    let secs = parse_duration(s).map_err(|_| usage!("--retention: {s:?} is not a retention: {allowed}"))?.as_secs();
    Retention::parse(Some(secs))
        .map(Retention::seconds)
        .map_err(|_| usage!("--retention: {s} is {secs} seconds: {allowed}"))
}

fn group_id(s: &str) -> Result<AccessGroupId> {
    AccessGroupId::parse(s.trim()).map_err(|e| usage!("--group-id: {s:?}: {}", e.to_string().trim_end()))
}

/// An RFC 3339 time, for `--at`.
fn time(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| usage!("--at: {s:?} is not an RFC 3339 time such as 2027-01-01T06:00:00Z"))
}

/// A value read from the command line, a file or standard input, checked before it is sent:
/// within the size an item holds, and valid JSON when it is declared JSON.
struct Value {
    bytes: Vec<u8>,
    json: bool,
}

impl Value {
    #[allow(clippy::disallowed_methods, reason = "the CLI reads the file a value to write comes from")]
    fn read(source: ValueSource) -> Result<Self> {
        let from_file = |path: &Path, flag: &str| -> Result<Vec<u8>> {
            if path == Path::new("-") {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|e| usage!("{flag} -: cannot read standard input: {e}; nothing was written"))?;
                return Ok(bytes);
            }
            std::fs::read(path)
                .map_err(|e| usage!("{flag} {}: cannot read it: {e}; nothing was written", path.display()))
        };
        let (bytes, json, what) = match source {
            ValueSource { text: Some(t), .. } => (t.into_bytes(), false, "--text".to_owned()),
            ValueSource { json_value: Some(j), .. } => (j.into_bytes(), true, "--json-value".to_owned()),
            ValueSource { file: Some(f), .. } => (from_file(&f, "--file")?, false, format!("--file {}", f.display())),
            ValueSource { json_file: Some(f), .. } => {
                (from_file(&f, "--json-file")?, true, format!("--json-file {}", f.display()))
            }
            _ => return Err(usage!("give the value: --text, --json-value, --file or --json-file")),
        };
        if json {
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
                .map_err(|e| usage!("{what}: not valid JSON ({e}); nothing was written"))?;
        }
        edgeward_server::items::check_value(&bytes).map_err(|e| {
            usage!("{what}: {} (it has {}); nothing was written", e.to_string().trim_end(), size(&bytes))
        })?;
        Ok(Self { bytes, json })
    }

    fn content_type(&self) -> &'static str {
        if self.json {
            "application/json"
        } else {
            "text/plain;charset=utf-8"
        }
    }
}

/// A value's size as the limit counts it: characters, or bytes when it is not UTF-8.
fn size(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{} characters", s.chars().count()),
        Err(_) => format!("{} bytes", bytes.len()),
    }
}

// ---- What the commands print ----

/// A namespace as the commands print it under `--json`: the API's object with its network (and,
/// for `show`, its scheduled deletion).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceOut<'a> {
    network: Network,
    #[serde(flatten)]
    namespace: &'a NamespaceObject,
    /// `show` only: the time its deletion is scheduled for, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_delete_time: Option<Option<String>>,
    /// `show` only: why the scheduled deletion could not be read (the caller's grants).
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_delete_unknown: Option<String>,
}

impl<'a> NamespaceOut<'a> {
    fn of(network: Network, namespace: &'a NamespaceObject) -> Self {
        Self { network, namespace, scheduled_delete_time: None, scheduled_delete_unknown: None }
    }
}

/// `namespace list --json`.
#[derive(Serialize)]
struct NamespacesOut<'a> {
    namespaces: Vec<NamespaceOut<'a>>,
}

/// `namespace delete --json`: the deletion's time, or null once cancelled.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletionOut<'a> {
    network: Network,
    namespace: &'a str,
    scheduled_delete_time: Option<String>,
    cancelled: bool,
}

/// `group list --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupsOut<'a> {
    network: Network,
    namespace: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_id: Option<&'a str>,
    groups: &'a [String],
}

/// `item list --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemsOut<'a> {
    network: Network,
    namespace: &'a str,
    group: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_id: Option<&'a str>,
    items: &'a [String],
}

/// `item read|write|delete --json`: the item, and what was read, written or deleted.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ItemOut<'a> {
    network: Option<Network>,
    namespace: &'a str,
    group: &'a str,
    item: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_id: Option<&'a str>,
    /// read: the value, when it is UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    /// read: the value in hexadecimal, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    value_hex: Option<String>,
    /// read and write: the value's length in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<usize>,
    /// write: the content type it was sent as.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
    /// write and delete: the server's confirmation.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// `initialize status|run --json`: the API's status, and (run) whether this call initialized it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitOut<'a> {
    #[serde(flatten)]
    status: &'a InitStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    initialized_now: Option<bool>,
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{}", serde_json::to_string(value)?).context("cannot write the output")
}

fn say(text: &str) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{text}").context("cannot write the output")
}

/// A retention for people: `indefinite`, `30 days`, or seconds.
fn retention_text(secs: u64) -> String {
    match secs {
        0 => "indefinite".to_owned(),
        s if s % 86_400 == 0 => format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" }),
        s => format!("{s} seconds"),
    }
}

fn seconds_of(n: &NamespaceObject) -> Option<u64> {
    n.retention_in_seconds.map(|r| r.0)
}

fn print_namespace(network: Network, n: &NamespaceObject) -> Result<()> {
    let retention = match seconds_of(n) {
        Some(0) => "indefinite (0 seconds)".to_owned(),
        Some(s) => format!("{} ({s} seconds)", retention_text(s)),
        None => "-".to_owned(),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "Namespace:     {}", n.namespace)?;
    writeln!(out, "Network:       {network}")?;
    writeln!(out, "Retention:     {retention}")?;
    writeln!(out, "Geo location:  {}", n.geo_location.as_deref().unwrap_or("-"))?;
    writeln!(out, "Access group:  {}", n.group_id.map_or_else(|| "-".to_owned(), |g| g.0.to_string()))?;
    Ok(())
}

/// The server's time (a development clock's, when one runs), which `--after` counts from; this
/// machine's when the server does not say (not an Edgeward).
async fn server_now(c: &Client) -> chrono::DateTime<chrono::Utc> {
    c.status()
        .await
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s.server_time).ok())
        .map_or_else(crate::now, |t| t.with_timezone(&chrono::Utc))
}

fn cancel_hint(name: &str, network: Network, conn: &Conn) -> String {
    format!("edgeward namespace delete {name} --network {network} --cancel{}", conn.flags())
}

// ---- The commands ----

/// `edgeward namespace …`.
pub async fn namespace(cmd: NamespaceCommand, conn: &Conn) -> Result<()> {
    match cmd {
        NamespaceCommand::List { network } => {
            let networks: Vec<Network> = match network {
                Some(n) => vec![n.into()],
                None => Network::ALL.to_vec(),
            };
            let c = client(conn)?;
            let mut lists = Vec::new();
            for net in networks {
                lists.push((net, c.list_namespaces(net).await.map_err(api)?.namespaces));
            }
            let all: Vec<NamespaceOut> =
                lists.iter().flat_map(|(net, list)| list.iter().map(|n| NamespaceOut::of(*net, n))).collect();
            if conn.json {
                return print_json(&NamespacesOut { namespaces: all });
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|o| {
                    let n = o.namespace;
                    vec![
                        o.network.to_string(),
                        n.namespace.clone(),
                        seconds_of(n).map_or_else(|| "-".to_owned(), retention_text),
                        n.geo_location.clone().unwrap_or_else(|| "-".to_owned()),
                        n.group_id.map_or_else(|| "-".to_owned(), |g| g.0.to_string()),
                    ]
                })
                .collect();
            let mut out = std::io::stdout().lock();
            write!(out, "{}", crate::render::table(&["NETWORK", "NAMESPACE", "RETENTION", "GEO", "GROUP"], &rows))?;
            writeln!(out, "{} namespace{}.", rows.len(), if rows.len() == 1 { "" } else { "s" })?;
        }
        NamespaceCommand::Create { name, network, retention: r, group_id: g, geo_location } => {
            let network = Network::from(network);
            let name = changeable_namespace(&name, "created")?;
            let seconds = retention(&r)?;
            let group = group_id(&g)?;
            let geo = GeoLocation::parse(geo_location.as_deref(), network)
                .map_err(|e| usage!("--geo-location: {}", e.to_string().trim_end()))?;
            let c = client(conn)?;
            let req = NamespaceObject {
                namespace: name.to_string(),
                retention_in_seconds: Some(LenientU64(seconds)),
                geo_location: Some(geo.as_str().to_owned()),
                group_id: Some(LenientU64(group.get())),
                data_access_policy: None,
            };
            let n = c.create_namespace(network, &req).await.map_err(api)?;
            if conn.json {
                return print_json(&NamespaceOut::of(network, &n));
            }
            say(&format!(
                "Created namespace {} on {network}: retention {}, location {}, access group {}.",
                n.namespace,
                seconds_of(&n).map_or_else(|| "-".to_owned(), retention_text),
                n.geo_location.as_deref().unwrap_or("-"),
                n.group_id.map_or_else(|| "-".to_owned(), |g| g.0.to_string()),
            ))?;
        }
        NamespaceCommand::Show { name, network } => {
            let network = Network::from(network);
            let name = namespace_name(&name)?;
            let c = client(conn)?;
            let n = c
                .namespace(network, name.as_str())
                .await
                .map_err(api)
                .with_context(|| format!("namespace {name} on {network}"))?;
            // Reading the deletion needs DELETE_NAMESPACE: without it, say so rather than fail.
            let (at, unknown) = match c.scheduled_delete(network, name.as_str()).await {
                Ok(at) => (at.map(|s| s.scheduled_delete_time), None),
                Err(e @ ClientError::Api { .. }) => (None, Some(e.to_string())),
                Err(e) => return Err(api(e)),
            };
            if conn.json {
                let out = NamespaceOut {
                    scheduled_delete_time: Some(at),
                    scheduled_delete_unknown: unknown,
                    ..NamespaceOut::of(network, &n)
                };
                return print_json(&out);
            }
            print_namespace(network, &n)?;
            let deletion = match (at, unknown) {
                (Some(at), _) => {
                    format!("scheduled at {at} (cancel with `{}`)", cancel_hint(name.as_str(), network, conn))
                }
                (None, None) => "none scheduled".to_owned(),
                (None, Some(why)) => format!("unknown ({why})"),
            };
            say(&format!("Deletion:      {deletion}"))?;
        }
        NamespaceCommand::Update { name, network, retention: r, group_id: g } => {
            let network = Network::from(network);
            let name = namespace_name(&name)?;
            let seconds = r.as_deref().map(retention).transpose()?;
            let group = g.as_deref().map(group_id).transpose()?;
            if seconds.is_none() && group.is_none() {
                return Err(usage!("nothing to change: give --retention, --group-id or both"));
            }
            if seconds.is_some() && name.as_str() == "default" {
                return Err(usage!("the retention of the default namespace cannot be changed"));
            }
            let c = client(conn)?;
            // A namespace or an access group that is not there is said so before anything changes.
            let current = c
                .namespace(network, name.as_str())
                .await
                .map_err(api)
                .with_context(|| format!("namespace {name} on {network}"))?;
            if let Some(group) = group {
                c.access_group(group.get()).await.map_err(api).context("nothing was changed")?;
            }
            if let Some(seconds) = seconds {
                // The group and location as they are, as Akamai's CLI sends them.
                let change = NamespaceObject {
                    retention_in_seconds: Some(LenientU64(seconds)),
                    data_access_policy: None,
                    ..current.clone()
                };
                c.update_namespace(network, &change).await.map_err(api)?;
            }
            if let Some(group) = group {
                c.reauthorize_namespace(name.as_str(), &ReauthorizeRequest { group_id: LenientU64(group.get()) })
                    .await
                    .map_err(api)
                    .with_context(|| {
                        if seconds.is_some() {
                            "the retention was changed, the access group was not"
                        } else {
                            "the access group was not changed"
                        }
                    })?;
            }
            let n = c
                .namespace(network, name.as_str())
                .await
                .map_err(api)
                .with_context(|| format!("namespace {name} on {network}"))?;
            if conn.json {
                return print_json(&NamespaceOut::of(network, &n));
            }
            if group.is_some() {
                say(&format!(
                    "Namespace {name} is now in access group {} (on every network where it exists).",
                    n.group_id.map_or_else(|| "-".to_owned(), |g| g.0.to_string())
                ))?;
            }
            if seconds.is_some() {
                say(&format!(
                    "Namespace {name} on {network} now keeps its items for {}.",
                    seconds_of(&n).map_or_else(|| "-".to_owned(), retention_text)
                ))?;
            }
            print_namespace(network, &n)?;
        }
        NamespaceCommand::Delete { name, network, at, after, cancel } => {
            let network = Network::from(network);
            let name = changeable_namespace(&name, "deleted")?;
            let at = at.as_deref().map(time).transpose()?;
            let after = after.as_deref().map(parse_duration).transpose()?;
            if after.is_some_and(|d| d.is_zero()) {
                return Err(usage!("--after: give a delay of more than 0 (e.g. 10m, 1h, 2d)"));
            }
            let c = client(conn)?;
            if cancel {
                c.cancel_delete(network, name.as_str())
                    .await
                    .map_err(api)
                    .with_context(|| format!("namespace {name} on {network}"))?;
                if conn.json {
                    let out =
                        DeletionOut { network, namespace: name.as_str(), scheduled_delete_time: None, cancelled: true };
                    return print_json(&out);
                }
                return say(&format!("The deletion of namespace {name} on {network} is cancelled: it stays."));
            }
            let when = match (at, after) {
                (Some(at), _) => {
                    let now = server_now(&c).await;
                    if at <= now {
                        return Err(usage!(
                            "--at: {} is not in the future (the server's time is {})",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ));
                    }
                    Some(at)
                }
                (None, Some(d)) => {
                    let d = chrono::Duration::from_std(d).map_err(|_| usage!("--after: too long a delay"))?;
                    Some(server_now(&c).await + d)
                }
                (None, None) => None,
            };
            let scheduled = match when {
                Some(t) => {
                    let body =
                        ScheduledDelete { scheduled_delete_time: t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string() };
                    c.schedule_delete(network, name.as_str(), &body)
                        .await
                        .map_err(api)
                        .with_context(|| format!("namespace {name} on {network}"))?
                }
                None => c
                    .delete_namespace(network, name.as_str())
                    .await
                    .map_err(api)
                    .with_context(|| format!("namespace {name} on {network}"))?,
            };
            if conn.json {
                let out = DeletionOut {
                    network,
                    namespace: name.as_str(),
                    scheduled_delete_time: Some(scheduled.scheduled_delete_time),
                    cancelled: false,
                };
                return print_json(&out);
            }
            say(&format!(
                "Namespace {name} on {network} will be deleted at {}, with its items; it serves until then \
                 (cancel with `{}`).",
                scheduled.scheduled_delete_time,
                cancel_hint(name.as_str(), network, conn)
            ))?;
        }
    }
    Ok(())
}

/// `edgeward group …`.
pub async fn group(cmd: GroupCommand, conn: &Conn) -> Result<()> {
    let GroupCommand::List { namespace, network, sandbox_id } = cmd;
    let network = Network::from(network);
    let ns = namespace_name(&namespace)?;
    let sandbox = sandbox(sandbox_id.as_deref(), network)?;
    let c = client(conn)?;
    // A namespace that is not there is the server's error (400); its 404 is "no groups".
    let groups = c
        .groups(network, ns.as_str(), sandbox.as_ref().map(SandboxId::as_str))
        .await
        .map_err(api)
        .with_context(|| format!("namespace {ns} on {network}"))?;
    if conn.json {
        let sandbox_id = sandbox.as_ref().map(SandboxId::as_str);
        return print_json(&GroupsOut { network, namespace: ns.as_str(), sandbox_id, groups: &groups });
    }
    let rows: Vec<Vec<String>> = groups.iter().map(|g| vec![g.clone()]).collect();
    let mut out = std::io::stdout().lock();
    write!(out, "{}", crate::render::table(&["GROUP"], &rows))?;
    writeln!(out, "{} group{} in {ns} on {network}.", rows.len(), if rows.len() == 1 { "" } else { "s" })?;
    Ok(())
}

/// `edgeward item …`.
pub async fn item(cmd: ItemCommand, conn: &Conn) -> Result<()> {
    match cmd {
        ItemCommand::List { namespace, group, network, max_items, sandbox_id } => {
            let network = Network::from(network);
            let (ns, group) = (namespace_name(&namespace)?, group_name(&group)?);
            let sandbox = sandbox(sandbox_id.as_deref(), network)?;
            let c = client(conn)?;
            let at = ItemAt {
                network,
                namespace: ns.as_str(),
                group: group.as_str(),
                sandbox: sandbox.as_ref().map(SandboxId::as_str),
            };
            // A namespace that is not there is the server's error (400); its 404 is "no items".
            let keys = c.item_keys(&at, max_items).await.map_err(api)?;
            if conn.json {
                let out = ItemsOut {
                    network,
                    namespace: ns.as_str(),
                    group: group.as_str(),
                    sandbox_id: at.sandbox,
                    items: &keys,
                };
                return print_json(&out);
            }
            let rows: Vec<Vec<String>> = keys.iter().map(|k| vec![k.clone()]).collect();
            let mut out = std::io::stdout().lock();
            write!(out, "{}", crate::render::table(&["ITEM"], &rows))?;
            writeln!(
                out,
                "{} item{} in {ns}/{group} on {network}.",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )?;
            let limit = max_items.unwrap_or(100);
            if u32::try_from(rows.len()).is_ok_and(|n| n >= limit) {
                writeln!(out, "At most {limit} are listed: --max-items (up to 10000) lists more.")?;
            }
        }
        ItemCommand::Read { namespace, group, item, network, sandbox_id } => {
            let place = ItemPlace::parse(&namespace, &group, &item, network, sandbox_id.as_deref())?;
            let c = client(conn)?;
            let value =
                c.read_item(&place.at(), place.item.as_str()).await.map_err(api).with_context(|| place.describe())?;
            if conn.json {
                let text = std::str::from_utf8(&value).ok();
                let out = ItemOut {
                    value: text,
                    value_hex: text.is_none().then(|| hex::encode(&value)),
                    bytes: Some(value.len()),
                    ..place.out()
                };
                return print_json(&out);
            }
            // As stored: no line end added, nothing decoded.
            let mut out = std::io::stdout().lock();
            out.write_all(&value).and_then(|()| out.flush()).context("cannot write the value")?;
        }
        ItemCommand::Write { namespace, group, item, network, value, sandbox_id } => {
            let place = ItemPlace::parse(&namespace, &group, &item, network, sandbox_id.as_deref())?;
            let value = Value::read(value)?;
            let c = client(conn)?;
            let (len, content_type) = (value.bytes.len(), value.content_type());
            let message = c
                .write_item(&place.at(), place.item.as_str(), value.bytes, content_type)
                .await
                .map_err(api)
                .with_context(|| place.describe())?;
            if conn.json {
                let out = ItemOut {
                    bytes: Some(len),
                    content_type: Some(content_type),
                    message: Some(&message),
                    ..place.out()
                };
                return print_json(&out);
            }
            let ItemPlace { network, ns, group, item, .. } = &place;
            say(&format!(
                "Wrote {item} in {ns}/{group} on {network}{} ({len} byte{}{}).",
                place.sandbox_words(),
                if len == 1 { "" } else { "s" },
                if value.json { ", JSON" } else { "" }
            ))?;
        }
        ItemCommand::Delete { namespace, group, item, network, sandbox_id } => {
            let place = ItemPlace::parse(&namespace, &group, &item, network, sandbox_id.as_deref())?;
            let c = client(conn)?;
            let message =
                c.remove_item(&place.at(), place.item.as_str()).await.map_err(api).with_context(|| place.describe())?;
            if conn.json {
                return print_json(&ItemOut { message: Some(&message), ..place.out() });
            }
            let ItemPlace { network, ns, group, item, .. } = &place;
            say(&format!("Deleted {item} from {ns}/{group} on {network}{}.", place.sandbox_words()))?;
        }
    }
    Ok(())
}

fn print_status(s: &InitStatus) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let cpcode = s.cpcode.as_deref().map(|c| format!(" (CP code {c})")).unwrap_or_default();
    writeln!(out, "Account:      {}{cpcode}", s.account_status)?;
    writeln!(out, "Production:   {}", s.production_status)?;
    writeln!(out, "Staging:      {}", s.staging_status)?;
    if let Some(p) = &s.data_access_policy {
        writeln!(
            out,
            "Data access:  {}; namespaces {} override it",
            if p.restrict_data_access.0 { "restricted to the Enhanced TLS network" } else { "unrestricted" },
            if p.allow_namespace_policy_override.0 { "may" } else { "may not" }
        )?;
    }
    Ok(())
}

/// `edgeward initialize …`.
pub async fn initialize(cmd: InitializeCommand, conn: &Conn) -> Result<()> {
    let c = client(conn)?;
    match cmd {
        InitializeCommand::Status => {
            let s = c.initialize_status().await.map_err(api)?;
            if conn.json {
                return print_json(&InitOut { status: &s, initialized_now: None });
            }
            print_status(&s)?;
            if s.account_status == "UNINITIALIZED" {
                say("Initialize it with `edgeward initialize run`.")?;
            }
        }
        InitializeCommand::Run { restrict_data_access, allow_namespace_policy_override } => {
            let policy = (restrict_data_access.is_some() || allow_namespace_policy_override.is_some()).then(|| {
                InitializeRequest {
                    data_access_policy: Some(DataAccessPolicy {
                        restrict_data_access: LenientBoolSer(restrict_data_access.unwrap_or(true)),
                        allow_namespace_policy_override: LenientBoolSer(
                            allow_namespace_policy_override.unwrap_or(false),
                        ),
                    }),
                }
            });
            let (s, created) = c.initialize(policy.as_ref()).await.map_err(api)?;
            if s.account_status == "UNINITIALIZED" {
                bail!("the account is still UNINITIALIZED: initialization failed, try again");
            }
            if conn.json {
                return print_json(&InitOut { status: &s, initialized_now: Some(created) });
            }
            let said = match (created, s.account_status.as_str()) {
                (true, "INITIALIZED") => "The account was initialized.",
                (false, "INITIALIZED") => "The account was already initialized.",
                _ => "The account's initialization is in progress; `edgeward initialize status` says when it is done.",
            };
            say(said)?;
            print_status(&s)?;
        }
    }
    Ok(())
}
