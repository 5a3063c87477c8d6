//! `edgeward`: the one binary. `edgeward serve` runs the service; the other commands administer
//! it. Flags, environment variables and the configuration file are read here and in the commands'
//! modules, never in the library crates; `serve` hands the configuration to
//! `edgeward_server::server`, the server's composition root.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use edgeward_core::audit::actions;
use edgeward_core::capability::Grants;
use edgeward_core::clock::SystemClock;
use edgeward_core::names::{AccessGroupId, ClientName};
use edgeward_server::bootstrap;
use edgeward_server::config::LogFormat;
use edgeward_server::ServeConfig;

mod audit_cmd;
mod backup_cmd;
mod backup_file;
mod bundle;
mod data_cmd;
mod edgerc_cmd;
mod examples;
mod keys_cmd;
mod people;
mod render;
mod status_cmd;
mod token_cmd;
mod tokenfile;

const HELP_TAIL: &str = "\
Common flows:
  Create a token straight into an EdgeWorkers bundle:
    edgeward token create shop_ro --namespace shop+r --staging allow --production allow --save-path bundle.tgz
  Replace a token before it expires, swapping it into the bundle, and revoke the old one:
    edgeward token rotate shop_ro --to shop_ro_2 --save-path bundle.tgz --revoke-old-after 0s
  Check a bundle's tokens in CI (non-zero exit on any problem):
    edgeward bundle check bundle.tgz --warn-days 14
  Make a namespace and write an item (Akamai's `akamai edgekv` data commands):
    edgeward namespace create shop --network staging --retention 30d
    edgeward item write shop countries DE --network staging --text Germany

Credentials come from ~/.edgerc (--edgerc, --section) or the AKAMAI_* variables; a local
Edgeward's <data-dir>/edgerc works as is (--data-dir DIR for short), its certificate trusted
automatically. `edgeward status` says which server and account they reach, and as whom.

Exit status: 0 on success; 1 on any failure (an API error, an unreachable server, a token file
that cannot be read or written, a bundle check that could not run); 2 on a usage error,
including a flag value refused after parsing (--namespace default:r, both networks denied);
3 when bundle check ran and found problems.";

/// Edgeward: an EdgeKV-compatible key-value service for edge functions, built around access tokens.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = HELP_TAIL)]
struct Cli {
    /// The database: a postgres:// URL shared by several servers, or none for SQLite in the data
    /// directory. For `serve`, overrides the configuration file's `database.url`.
    #[arg(long, global = true, env = "EDGEWARD_DATABASE", hide_env_values = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// The database the administration commands work on: the `--database` given (none or empty:
/// SQLite in the data directory).
pub(crate) struct Database {
    url: Option<String>,
}

impl Database {
    fn new(url: Option<String>) -> Self {
        Self { url: url.filter(|u| !u.is_empty()) }
    }

    /// The PostgreSQL URL, when one was given.
    pub(crate) fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Open the store and the data key of a data directory on this database.
    pub(crate) async fn open(
        &self,
        data_dir: &Path,
    ) -> Result<(Arc<dyn edgeward_core::store::Store>, edgeward_token::DataKey)> {
        let db = edgeward_server::DatabaseConfig::with_url(self.url.clone());
        Ok(bootstrap::open_store(data_dir, &db, now()).await?)
    }
}

/// A flag's value refused after parsing (`--namespace default:r`, both networks denied…): a
/// usage error like clap's own, exit status 2. Made with [`usage!`].
#[derive(Debug)]
pub(crate) struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// `bundle check` found problems: exit status 3, told apart from a check that could not run.
#[derive(Debug)]
pub(crate) struct BundleProblems;

impl std::fmt::Display for BundleProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the bundle check found problems")
    }
}

impl std::error::Error for BundleProblems {}

/// A [`Usage`] error as an `anyhow::Error`, from `format!` arguments.
macro_rules! usage {
    ($($arg:tt)*) => {
        anyhow::Error::new(crate::Usage(format!($($arg)*)))
    };
}
pub(crate) use usage;

/// An API client's name from the command line; a refusal says what a name may hold (a usage
/// error).
fn client_name(name: &str) -> Result<ClientName> {
    ClientName::parse(name).map_err(|e| {
        usage!(
            "{name:?}: {} An API client's name is 1 to {} letters, digits, '_' and '-', not starting with '-'.",
            e.to_string().trim_end(),
            ClientName::MAX_LEN
        )
    })
}

/// The time, for the administration commands: the system clock, the one place they read it.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    edgeward_core::clock::Clock::now(&edgeward_core::clock::SystemClock)
}

/// Who runs an administration command, as the audit trail names them.
pub(crate) fn operator() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Run an administration command's change as audited (see `edgeward_server::audit::command`).
pub(crate) async fn audited<T, E: std::fmt::Display>(
    store: &dyn edgeward_core::store::Store,
    action: &'static str,
    target: String,
    f: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    edgeward_server::audit::command(store, &operator(), action, target, now(), f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: the admin API (HTTPS, EdgeGrid) and the data plane.
    Serve(ServeArgs),
    /// Manage the API clients (EdgeGrid credentials and their grants) of a data directory.
    #[command(subcommand)]
    Apiclient(ApiClientCommand),
    /// Manage the access groups (`groupId`) that namespaces are authorized to.
    #[command(subcommand)]
    Accessgroup(AccessGroupCommand),
    /// Read the audit trail: who changed what, when and from where.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Expiry notices: the notification panel, and the daily check.
    Notify {
        #[command(subcommand)]
        cmd: people::NotifyCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Manage the people told about expiring tokens (through the admin API; `set-password` on
    /// the data directory).
    User {
        #[command(subcommand)]
        cmd: people::UserCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Manage the roles (named sets of grants) that users hold.
    #[command(after_help = people::ROLE_EXAMPLES)]
    Role {
        #[command(subcommand)]
        cmd: people::RoleCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Manage the escalation contacts told about every expiring token.
    Contact {
        #[command(subcommand)]
        cmd: people::ContactCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Namespaces of a network: list, create, show, update (retention, access group) and delete
    /// (scheduled, or cancelled).
    #[command(alias = "ns", after_help = data_cmd::NAMESPACE_HELP)]
    Namespace {
        #[command(subcommand)]
        cmd: data_cmd::NamespaceCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// The groups of a namespace.
    Group {
        #[command(subcommand)]
        cmd: data_cmd::GroupCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Items: list a group's keys; read, write and delete values.
    Item {
        #[command(subcommand)]
        cmd: data_cmd::ItemCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// The account's initialization: show it (status) or initialize it (run).
    #[command(alias = "init")]
    Initialize {
        #[command(subcommand)]
        cmd: data_cmd::InitializeCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Which server the credentials reach: its version, schema and clock, the account, who you
    /// are and your grants, tokens used of the limit and the soonest expiry.
    #[command(alias = "whoami")]
    Status {
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Create, list, show, refresh, revoke and rotate access tokens.
    Token {
        #[command(subcommand)]
        cmd: token_cmd::TokenCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Check the tokens in an EdgeWorkers bundle or token file.
    Bundle {
        #[command(subcommand)]
        cmd: token_cmd::BundleCommand,
        #[command(flatten)]
        conn: token_cmd::Conn,
    },
    /// Rotate and retire the token-signing keys; rotate the data key.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Copy a SQLite installation's database, consistently, while its servers serve (its keys
    /// only with --include-keys, sealed with a passphrase). Exit 2 when --to cannot be written.
    Backup(backup_cmd::BackupArgs),
    /// Restore a backup into a new or empty data directory (--force: over an installation, which
    /// is moved aside). Checks the whole file before writing anything; refused while a server
    /// runs on the directory.
    Restore(backup_cmd::RestoreArgs),
    /// Apply the database migrations of a data directory (a server does this at start too) and
    /// print the schema version.
    Migrate {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Print the OpenAPI document of the admin API (or, with --data-plane, of the data plane).
    Openapi {
        /// The data plane's document instead of the admin API's.
        #[arg(long)]
        data_plane: bool,
        /// Accepted for symmetry: the document is JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Change an .edgerc file's host (a server writes a section once and never rewrites it).
    #[command(subcommand)]
    Edgerc(edgerc_cmd::EdgercCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell), e.g.
    /// `edgeward completions bash > /etc/bash_completion.d/edgeward`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// A TOML configuration file (flags and EDGEWARD_* variables override it).
    #[arg(long, env = "EDGEWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Where the database, keys, certificate and edgerc live [default: ./edgeward-data].
    #[arg(long, env = "EDGEWARD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Admin API listener (HTTPS) [default: 127.0.0.1:8443].
    #[arg(long, env = "EDGEWARD_ADMIN_ADDR")]
    admin_addr: Option<SocketAddr>,
    /// Data-plane listener [default: 127.0.0.1:8080].
    #[arg(long, env = "EDGEWARD_DATA_ADDR")]
    data_addr: Option<SocketAddr>,
    /// Your own TLS certificate (PEM), instead of the generated self-signed one.
    #[arg(long, env = "EDGEWARD_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "EDGEWARD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Tokens per account (expired tokens still listed count).
    #[arg(long, env = "EDGEWARD_MAX_TOKENS")]
    max_tokens: Option<u64>,
    /// Accepted clock distance of EdgeGrid-signed requests, in seconds [default: 120].
    #[arg(long, env = "EDGEWARD_TIMESTAMP_WINDOW")]
    timestamp_window: Option<u64>,
    /// Development only: run the server's clock this far ahead of (or, negative, behind) the
    /// system clock, e.g. 7d, 36h, -2d. Needs --allow-dev-clock.
    #[arg(long, allow_hyphen_values = true, requires = "allow_dev_clock", conflicts_with = "dev_frozen_time")]
    dev_clock_offset: Option<String>,
    /// Development only: freeze the server's clock at this RFC 3339 time. Needs --allow-dev-clock.
    #[arg(long, requires = "allow_dev_clock")]
    dev_frozen_time: Option<String>,
    /// Allow a development clock. Never on a server whose tokens matter: expiry, refresh and
    /// notices follow the development clock.
    #[arg(long)]
    allow_dev_clock: bool,
    /// The log's format on standard error: text lines, or JSON lines for log shippers
    /// [default: text; the configuration file's log.format]. The level is EDGEWARD_LOG.
    #[arg(long, env = "EDGEWARD_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,
}

/// `--log-format`'s values (the configuration's `log.format`).
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormatArg {
    /// One line of text per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// The clock `serve` runs on: the system clock, or a development clock when explicitly allowed.
fn serve_clock(args: &ServeArgs) -> Result<Arc<dyn edgeward_core::clock::Clock>> {
    use edgeward_core::clock::{ManualClock, OffsetClock};
    if let Some(offset) = &args.dev_clock_offset {
        let (neg, body) = offset.strip_prefix('-').map_or((false, offset.as_str()), |b| (true, b));
        let (n, unit) = body.split_at(body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len()));
        let n: i64 = n.parse().map_err(|_| crate::usage!("--dev-clock-offset: expected e.g. 7d, 36h or -2d"))?;
        let d = match unit {
            "d" => chrono::Duration::days(n),
            "h" => chrono::Duration::hours(n),
            "m" => chrono::Duration::minutes(n),
            "s" | "" => chrono::Duration::seconds(n),
            _ => bail!("--dev-clock-offset: the unit must be d, h, m or s"),
        };
        let d = if neg { -d } else { d };
        tracing::warn!(
            offset = %offset,
            now = %(now() + d),
            "DEVELOPMENT CLOCK: this server's time is offset from the system clock; token expiry, refresh and notices follow it"
        );
        return Ok(Arc::new(OffsetClock(d)));
    }
    if let Some(t) = &args.dev_frozen_time {
        let t = chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| crate::usage!("--dev-frozen-time: expected an RFC 3339 time, e.g. 2027-01-01T06:00:00Z"))?
            .with_timezone(&chrono::Utc);
        tracing::warn!(now = %t, "DEVELOPMENT CLOCK: this server's time is frozen; token expiry, refresh and notices follow it");
        return Ok(Arc::new(ManualClock::new(t)));
    }
    Ok(Arc::new(SystemClock))
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the configuration `serve` would use, as TOML (or JSON with --json).
    Print {
        #[command(flatten)]
        args: ServeArgs,
        /// JSON instead of TOML.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApiClientCommand {
    /// Create an API client and append its credentials to an .edgerc file.
    Create {
        /// The client's name.
        name: String,
        /// Comma-separated grants, e.g. CREATE_TOKEN,VIEW_TOKEN,REVOKE_TOKEN (or ALL).
        #[arg(long)]
        grants: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
        /// The .edgerc file to write the section to [default: <data-dir>/edgerc].
        #[arg(long)]
        edgerc: Option<PathBuf>,
        /// The section name [default: the client's name].
        #[arg(long)]
        section: Option<String>,
        /// The host clients should use [default: the host of <data-dir>/edgerc's [default]].
        #[arg(long)]
        host: Option<String>,
        /// The user the client belongs to (its notification panel is theirs).
        #[arg(long)]
        owner: Option<String>,
    },
    /// List the API clients.
    List {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Disable a client: its requests are refused from the next one on.
    Disable {
        /// The client's name.
        name: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Enable a disabled client.
    Enable {
        /// The client's name.
        name: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Delete a client.
    Delete {
        /// The client's name.
        name: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AccessGroupCommand {
    /// Add an access group.
    Create {
        /// The group's id (a whole number from 1 to 9223372036854775807; 0 is the account group).
        #[arg(value_parser = group_id)]
        id: AccessGroupId,
        /// Its name.
        #[arg(long)]
        name: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// List the access groups.
    List {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
    /// Remove an access group that no namespace belongs to.
    Delete {
        /// The group's id.
        #[arg(value_parser = group_id)]
        id: AccessGroupId,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Machine-readable JSON on stdout (errors too).
        #[arg(long)]
        json: bool,
    },
}

impl ApiClientCommand {
    /// Whether --json was given.
    fn json(&self) -> bool {
        match self {
            Self::Create { json, .. }
            | Self::List { json, .. }
            | Self::Disable { json, .. }
            | Self::Enable { json, .. }
            | Self::Delete { json, .. } => *json,
        }
    }
}

impl AccessGroupCommand {
    /// Whether --json was given.
    fn json(&self) -> bool {
        match self {
            Self::Create { json, .. } | Self::List { json, .. } | Self::Delete { json, .. } => *json,
        }
    }
}

/// An access group id argument, refused (before anything is opened) when out of range.
fn group_id(s: &str) -> std::result::Result<AccessGroupId, String> {
    AccessGroupId::parse(s).map_err(|e| e.to_string())
}

async fn accessgroup(cmd: AccessGroupCommand, db: &Database) -> Result<()> {
    use edgeward_core::store::AccessGroup;
    match cmd {
        AccessGroupCommand::Create { id, name, data_dir, json } => {
            if id == AccessGroupId::ACCOUNT {
                bail!("group 0 is the account group and always exists");
            }
            let name = edgeward_core::names::DisplayName::parse(&name)
                .map(String::from)
                .map_err(|_| crate::usage!("--name must be 1 to 128 printable characters"))?;
            let (store, _) = db.open(&data_dir).await?;
            audited(
                store.as_ref(),
                actions::ACCESS_GROUP_CREATE,
                format!("accessgroup/{id}"),
                store.create_access_group(AccessGroup { group_id: id, name: name.clone() }, now()),
            )
            .await?;
            say(
                json,
                serde_json::json!({ "accessGroup": { "groupId": id.to_string(), "name": name } }),
                format!("Created access group {id} ({name})."),
            );
        }
        AccessGroupCommand::List { data_dir, json } => {
            let (store, _) = db.open(&data_dir).await?;
            let groups = store.list_access_groups().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let rows: Vec<Vec<String>> = groups.iter().map(|g| vec![g.group_id.to_string(), g.name.clone()]).collect();
            if json {
                let listed: Vec<serde_json::Value> = groups
                    .iter()
                    .map(|g| serde_json::json!({ "groupId": g.group_id.to_string(), "name": g.name }))
                    .collect();
                println!("{}", serde_json::json!({ "accessGroups": listed }));
            } else {
                write!(std::io::stdout().lock(), "{}", render::table(&["GROUP ID", "NAME"], &rows))?;
            }
        }
        AccessGroupCommand::Delete { id, data_dir, json } => {
            let (store, _) = db.open(&data_dir).await?;
            audited(
                store.as_ref(),
                actions::ACCESS_GROUP_DELETE,
                format!("accessgroup/{id}"),
                store.delete_access_group(id),
            )
            .await?;
            say(json, serde_json::json!({ "deleted": id.to_string() }), format!("Deleted access group {id}."));
        }
    }
    Ok(())
}

/// mimalloc: the server allocates many small short-lived objects per request across threads,
/// where it costs measurably less than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KNOWN_ENV: &[&str] = &[
    "EDGEWARD_CONFIG",
    "EDGEWARD_DATA_DIR",
    "EDGEWARD_DATABASE",
    "EDGEWARD_ADMIN_ADDR",
    "EDGEWARD_DATA_ADDR",
    "EDGEWARD_TLS_CERT",
    "EDGEWARD_TLS_KEY",
    "EDGEWARD_MAX_TOKENS",
    "EDGEWARD_TIMESTAMP_WINDOW",
    "EDGEWARD_LOG",
    "EDGEWARD_LOG_FORMAT",
    backup_cmd::PASSPHRASE_ENV,
];

#[allow(clippy::disallowed_methods, reason = "the CLI reads the configuration file `serve --config` names")]
fn serve_config(args: &ServeArgs, db: &Database) -> Result<ServeConfig> {
    let mut c = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{} is not a valid Edgeward configuration", p.display()))?
        }
        None => ServeConfig::default(),
    };
    if let Some(v) = &args.data_dir {
        c.data_dir = v.clone();
    }
    if let Some(v) = db.url() {
        c.database.url = Some(v.to_owned());
    }
    if let Some(v) = args.admin_addr {
        c.admin_addr = v;
    }
    if let Some(v) = args.data_addr {
        c.data_addr = v;
    }
    if args.tls_cert.is_some() {
        c.tls_cert = args.tls_cert.clone();
        c.tls_key = args.tls_key.clone();
    }
    if let Some(v) = args.max_tokens {
        c.limits.max_tokens_per_account = v;
    }
    if let Some(v) = args.timestamp_window {
        c.edgegrid.timestamp_window_secs = v;
    }
    if let Some(v) = args.log_format {
        c.log.format = match v {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    Ok(c)
}

fn init_logging(format: LogFormat) {
    // PostgreSQL's NOTICEs (`relation … already exists, skipping` at each start's migrations) are
    // not news: warnings and up unless EDGEWARD_LOG asks for them.
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDGEWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // One object per line: the event's fields (its message included) at the top level, with
        // the current span's fields (a request's id) under `span`.
        LogFormat::Json => log.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("EDGEWARD_") && !KNOWN_ENV.contains(&k.as_str()) {
            tracing::warn!(variable = %k, "unknown EDGEWARD_ environment variable ignored");
        }
    }
}

/// The log target of the start banner.
const BANNER: &str = "edgeward::banner";

/// Say, once the server serves, where it listens, where the administrator's credentials are and
/// what to run next: at length on the start that made the installation, in one line on later
/// starts. Paths only, never a secret.
#[allow(clippy::disallowed_methods, reason = "the banner says whether the edgerc is there")]
fn banner(server: &edgeward_server::server::RunningServer, data_dir: &Path) {
    let dir = data_dir.display();
    let admin = format!("https://{}/", bootstrap::edgerc_host(server.admin_addr));
    let data = format!("http://{}/", bootstrap::edgerc_host(server.data_addr));
    let edgerc = server.prepared.edgerc.display();
    let next = format!("edgeward status --data-dir {dir}");
    if !server.prepared.first_start {
        if server.prepared.edgerc.exists() {
            tracing::info!(target: BANNER, "Edgeward is serving: admin API and console {admin}, data plane {data}; administrator credentials in {edgerc}; try `{next}`");
        } else {
            tracing::info!(target: BANNER, "Edgeward is serving: admin API and console {admin}, data plane {data}; no {edgerc}: make credentials with `edgeward apiclient create NAME --grants ALL --host {} --data-dir {dir}`", bootstrap::edgerc_host(server.admin_addr));
        }
        return;
    }
    let password = data_dir.join(bootstrap::ADMIN_PASSWORD_FILE);
    tracing::info!(target: BANNER, "Edgeward made a new installation in {dir}: database, keys, certificate and the first administrator");
    tracing::info!(target: BANNER, "  admin API (EdgeGrid) and web console: {admin} (self-signed unless you gave --tls-cert: {dir}/tls/cert.pem)");
    tracing::info!(target: BANNER, "  data plane: {data}api/v1/namespaces/default/groups/GROUP/items/ITEM");
    tracing::info!(target: BANNER, "  administrator credentials (EdgeGrid, section [default]): {edgerc}");
    tracing::info!(target: BANNER, "  the console's user `admin` signs in once with the password in {}, then chooses their own", password.display());
    tracing::info!(target: BANNER, "  back up {dir}/keys/data.key apart from the database: without it nothing sealed can be opened (docs/operations.md)");
    tracing::info!(target: BANNER, "  next: `{next}`, then `edgeward token create NAME --namespace default+r --staging allow --production deny --data-dir {dir}`");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[allow(
    clippy::disallowed_methods,
    reason = "the CLI reads the admin listener's address from the data directory's edgerc"
)]
fn default_host(data_dir: &Path) -> Option<String> {
    bootstrap::section_host(&std::fs::read_to_string(data_dir.join("edgerc")).ok()?, "default")
}

#[allow(clippy::disallowed_methods, reason = "the CLI reads the edgerc it adds the new client's section to")]
async fn apiclient(cmd: ApiClientCommand, db: &Database) -> Result<()> {
    match cmd {
        ApiClientCommand::Create { name, grants, data_dir, json, edgerc, section, host, owner } => {
            let name = client_name(&name)?;
            let grants = if grants.eq_ignore_ascii_case("all") {
                Grants::all()
            } else {
                Grants::parse_list(&grants).map_err(|e| crate::usage!("--grants: {e}"))?
            };
            // The installation first: a host is no use for a directory that holds none.
            bootstrap::require_installation(&data_dir, db.url().is_some())?;
            let host = match host.or_else(|| default_host(&data_dir)) {
                Some(h) => edgerc_cmd::check_host(&h)?.to_owned(),
                None => bail!(
                    "cannot tell the server's host ({} has no edgerc to take it from): give --host, the address the \
                     server's admin API listens on (e.g. --host 127.0.0.1:8443)",
                    data_dir.display()
                ),
            };
            // The file and section are checked before the client is made: a client whose
            // credentials could not be written would be one nobody can use.
            let path = edgerc.unwrap_or_else(|| data_dir.join("edgerc"));
            let section = section.unwrap_or_else(|| name.to_string());
            let mut existing = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => bail!("cannot read {}: {e}", path.display()),
            };
            if existing.lines().any(|l| l.trim() == format!("[{section}]")) {
                return Err(crate::usage!(
                    "{} already has a [{section}] section; choose another --section",
                    path.display()
                ));
            }
            let (store, key) = db.open(&data_dir).await?;
            let owner = match owner {
                Some(o) => Some(people::user_by_name(store.as_ref(), &o).await?.id),
                None => None,
            };
            let creds = audited(
                store.as_ref(),
                actions::API_CLIENT_CREATE,
                format!("apiclient/{name}"),
                bootstrap::create_api_client(store.as_ref(), &key, name.clone(), grants.clone(), owner, &SystemClock),
            )
            .await?;
            if !existing.is_empty() && !existing.ends_with('\n') {
                existing.push('\n');
            }
            existing.push_str(&bootstrap::edgerc_section(&section, &host, &creds));
            bootstrap::write_private(&path, existing.as_bytes())?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "apiClient": { "name": name.as_str(), "grants": grants.to_list(),
                        "edgerc": path.display().to_string(), "section": section } })
                );
            } else {
                println!(
                    "Created API client {name} with grants {}; credentials in {} section [{section}].",
                    grants.to_list(),
                    path.display()
                );
            }
        }
        ApiClientCommand::List { data_dir, json } => {
            let (store, _) = db.open(&data_dir).await?;
            let clients = store.list_api_clients().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let users = store.list_users().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let owner = |id: Option<uuid::Uuid>| {
                id.map_or_else(
                    || "-".to_owned(),
                    |id| users.iter().find(|u| u.id == id).map_or_else(|| id.to_string(), |u| u.name.clone()),
                )
            };
            let rows: Vec<Vec<String>> = clients
                .iter()
                .map(|c| {
                    vec![
                        c.name.to_string(),
                        if c.enabled { "enabled" } else { "disabled" }.to_owned(),
                        owner(c.owner),
                        c.client_token.clone(),
                        c.grants.to_list(),
                    ]
                })
                .collect();
            let mut out = std::io::stdout().lock();
            if json {
                let listed: Vec<serde_json::Value> = clients
                    .iter()
                    .map(|c| {
                        serde_json::json!({ "name": c.name.as_str(), "enabled": c.enabled, "owner": c.owner.map(|o| owner(Some(o))),
                            "clientToken": c.client_token, "grants": c.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>() })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::json!({ "apiClients": listed }))?;
            } else {
                write!(out, "{}", render::table(&["NAME", "STATUS", "OWNER", "CLIENT TOKEN", "GRANTS"], &rows))?;
            }
        }
        ApiClientCommand::Disable { name, data_dir, json } => set_enabled(db, &data_dir, &name, false, json).await?,
        ApiClientCommand::Enable { name, data_dir, json } => set_enabled(db, &data_dir, &name, true, json).await?,
        ApiClientCommand::Delete { name, data_dir, json } => {
            let name = client_name(&name)?;
            let (store, _) = db.open(&data_dir).await?;
            audited(
                store.as_ref(),
                actions::API_CLIENT_DELETE,
                format!("apiclient/{name}"),
                store.delete_api_client(&name),
            )
            .await?;
            say(json, serde_json::json!({ "deleted": name.as_str() }), format!("Deleted API client {name}."));
        }
    }
    Ok(())
}

async fn set_enabled(db: &Database, data_dir: &Path, name: &str, enabled: bool, json: bool) -> Result<()> {
    let name = ClientName::parse(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (store, _) = db.open(data_dir).await?;
    audited(
        store.as_ref(),
        actions::API_CLIENT_UPDATE,
        format!("apiclient/{name}"),
        store.set_api_client_enabled(&name, enabled),
    )
    .await?;
    say(
        json,
        serde_json::json!({ "apiClient": { "name": name.as_str(), "enabled": enabled } }),
        format!("API client {name} is now {}.", if enabled { "enabled" } else { "disabled" }),
    );
    Ok(())
}

/// A command's outcome on stdout: `value` with --json, else the sentence.
pub(crate) fn say(json: bool, value: serde_json::Value, sentence: String) {
    if json {
        println!("{value}");
    } else {
        println!("{sentence}");
    }
}

/// With `--json`, a failure is also printed on stdout, as one object: the message, and for an
/// answer of the server its HTTP status, EdgeKV error code and trace id (null otherwise).
fn json_error<T>(json: bool, result: Result<T>) -> Result<T> {
    if let (Err(e), true) = (&result, json) {
        let api = e.chain().find_map(|c| match c.downcast_ref::<edgeward_client::ClientError>() {
            Some(edgeward_client::ClientError::Api { status, code, trace_id, .. }) => Some((*status, code, trace_id)),
            _ => None,
        });
        println!(
            "{}",
            serde_json::json!({ "error": {
                "message": format!("{e:#}"),
                "status": api.map(|a| a.0),
                "errorCode": api.and_then(|a| a.1.clone()),
                "traceId": api.and_then(|a| a.2.clone()),
            }})
        );
    }
    result
}

/// `edgeward migrate`: apply the migrations and say the schema version, before and after.
async fn migrate(db: &Database, data_dir: &Path, json: bool) -> Result<()> {
    let newest = edgeward_store::migrate::newest_version();
    let (what, before) = match db.url() {
        None => {
            let db_file = data_dir.join("edgeward.db");
            let v = edgeward_store::migrate::database_version(&db_file)
                .map_err(|e| anyhow::anyhow!("{}", e.log_detail()))?;
            (db_file.display().to_string(), v)
        }
        Some(url) => {
            let v = edgeward_store::postgres_database_version(url)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.log_detail()))?;
            (edgeward_server::config::redact_url(url), v)
        }
    };
    if before > newest {
        bail!("{what} has schema version {before}, newer than this Edgeward build knows ({newest}); upgrade Edgeward");
    }
    db.open(data_dir).await?;
    let sentence = if before == newest {
        format!("{what}: schema version {newest}, up to date.")
    } else {
        format!("{what}: schema version {before} → {newest}.")
    };
    say(
        json,
        serde_json::json!({ "database": what, "schemaVersionBefore": before, "schemaVersion": newest }),
        sentence,
    );
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    let db = &Database::new(cli.database);
    match cli.command {
        Command::Serve(args) => {
            let config = serve_config(&args, db)?;
            init_logging(config.log.format);
            let clock = serve_clock(&args)?;
            let data_dir = config.data_dir.clone();
            let server =
                edgeward_server::server::spawn_with_request_clock(config, clock, Arc::new(SystemClock)).await?;
            banner(&server, &data_dir);
            server.run_until(shutdown_signal()).await;
        }
        Command::Apiclient(cmd) => {
            let json = cmd.json();
            json_error(json, apiclient(cmd, db).await)?
        }
        Command::Accessgroup(cmd) => {
            let json = cmd.json();
            json_error(json, accessgroup(cmd, db).await)?
        }
        Command::Keys(cmd) => {
            let json = cmd.json();
            json_error(json, keys_cmd::run(cmd, db).await)?
        }
        Command::Audit(cmd) => {
            let audit_cmd::AuditCommand::List { json, .. } = cmd;
            json_error(json, audit_cmd::run(cmd, db).await)?
        }
        Command::User { cmd, conn } => json_error(conn.json, people::user(cmd, &conn, db).await)?,
        Command::Notify { cmd, conn } => json_error(conn.json, people::notify(cmd, &conn).await)?,
        Command::Role { cmd, conn } => json_error(conn.json, people::role(cmd, &conn).await)?,
        Command::Contact { cmd, conn } => json_error(conn.json, people::contact(cmd, &conn).await)?,
        Command::Token { cmd, conn } => json_error(conn.json, token_cmd::run(cmd, &conn).await)?,
        Command::Namespace { cmd, conn } => json_error(conn.json, data_cmd::namespace(cmd, &conn).await)?,
        Command::Group { cmd, conn } => json_error(conn.json, data_cmd::group(cmd, &conn).await)?,
        Command::Item { cmd, conn } => json_error(conn.json, data_cmd::item(cmd, &conn).await)?,
        Command::Initialize { cmd, conn } => json_error(conn.json, data_cmd::initialize(cmd, &conn).await)?,
        Command::Status { conn } => json_error(conn.json, status_cmd::run(&conn).await)?,
        Command::Bundle { cmd, conn } => {
            if !json_error(conn.json, token_cmd::check(cmd, &conn).await)? {
                return Err(anyhow::Error::new(BundleProblems));
            }
        }
        Command::Backup(args) => json_error(args.json, backup_cmd::backup(args, db).await)?,
        Command::Restore(args) => json_error(args.json, backup_cmd::restore(args, db).await)?,
        Command::Migrate { data_dir, json } => json_error(json, migrate(db, &data_dir, json).await)?,
        Command::Edgerc(cmd) => {
            let json = cmd.json();
            json_error(json, edgerc_cmd::run(cmd))?
        }
        Command::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli, "edgeward", &mut script);
            // Written by us, so a closed pipe (`| head`) ends it quietly, as it does `cat`.
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the script")?,
            }
        }
        Command::Openapi { data_plane, json: _ } => {
            use edgeward_server::openapi::{document_text_of, Door};
            print!("{}", document_text_of(if data_plane { Door::DataPlane } else { Door::Admin }))
        }
        Command::Config(ConfigCommand::Print { args, json }) => {
            let mut config = json_error(json, serve_config(&args, db))?;
            config.database.url = config.database.url.as_deref().map(edgeward_server::config::redact_url);
            if json {
                println!("{}", serde_json::to_string_pretty(&config)?);
                return Ok(());
            }
            print!("{}", toml::to_string_pretty(&config)?);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let parsed = examples::with_examples(<Cli as clap::CommandFactory>::command())
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // A usage error under --json is also one JSON object on stdout, as every other error
            // is; --help and --version print as they are.
            let is_error = !matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if is_error && std::env::args_os().any(|a| a == "--json") {
                // The error's first paragraph (clap's tip and usage follow a blank line).
                let rendered = e.render().to_string();
                let first: Vec<&str> = rendered.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
                let message = first.join(" ").trim_start_matches("error: ").to_owned();
                println!(
                    "{}",
                    serde_json::json!({ "error": { "message": message, "status": null, "errorCode": null, "traceId": null } })
                );
            }
            e.exit()
        }
    };
    // A command's output piped into `head` ends it quietly when the pipe closes, as for any Unix
    // tool (Rust ignores SIGPIPE, so every later print would panic). Not `serve`: a client that
    // hangs up must never stop the server.
    if !matches!(cli.command, Command::Serve(_)) {
        sigpipe::reset();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.chain().any(|c| c.is::<Usage>()) {
                ExitCode::from(2)
            } else if e.chain().any(|c| c.is::<BundleProblems>()) {
                ExitCode::from(3)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
