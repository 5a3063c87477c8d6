//! `edgeward token …` and `edgeward bundle check`: token lifecycle from a terminal or CI, and
//! `edgekv_tokens.js` written right.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use edgeward_client::{Client, ClientError, Edgerc};
use edgeward_core::limits::MAX_REVOCATION_DELAY_DAYS;
use edgeward_core::names::NamespaceName;
use edgeward_core::permission::Permissions;
use edgeward_wire::{
    CreateTokenRequest, LenientBool, NamespacePairs, ScheduleRevocation, ScheduledRevocation, TokenObject, TokenState,
};

use crate::bundle::Target;
use crate::tokenfile::{Entry, PutOutcome, TokenFile};

/// How to reach the admin API.
#[derive(Args, Clone, Debug)]
pub struct Conn {
    /// The .edgerc file [default: ~/.edgerc]. Without --edgerc or --data-dir, AKAMAI_HOST,
    /// AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET and AKAMAI_ACCESS_TOKEN (AKAMAI_<SECTION>_…
    /// for other sections) take precedence over ~/.edgerc, as in Akamai's tools.
    #[arg(long, global = true)]
    pub edgerc: Option<PathBuf>,
    /// The .edgerc section.
    #[arg(long, global = true, default_value = "default")]
    pub section: String,
    /// Account switch key, appended to every request as Akamai's CLI does.
    #[arg(long, global = true)]
    pub accountkey: Option<String>,
    /// Extra CA certificate (PEM) to trust. A `tls/cert.pem` next to the .edgerc file (a local
    /// Edgeward data directory) is trusted without this.
    #[arg(long, global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// A local Edgeward's data directory: its edgerc (as --edgerc <data-dir>/edgerc) and its
    /// certificate.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

impl Conn {
    /// The data directory for the commands that work on it (`user set-password`): --data-dir,
    /// else EDGEWARD_DATA_DIR, else ./edgeward-data.
    pub fn data_dir_or_default(&self) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| std::env::var_os("EDGEWARD_DATA_DIR").filter(|v| !v.is_empty()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("edgeward-data"))
    }

    /// The connection flags as given (` --edgerc F`, ` --data-dir D`, ` --section S`), for the
    /// commands a message suggests: run as printed, they reach the same server.
    pub fn flags(&self) -> String {
        let mut out = String::new();
        match (&self.edgerc, &self.data_dir) {
            (Some(p), _) => out.push_str(&format!(" --edgerc {}", p.display())),
            (None, Some(d)) => out.push_str(&format!(" --data-dir {}", d.display())),
            (None, None) => {}
        }
        if self.section != "default" {
            out.push_str(&format!(" --section {}", self.section));
        }
        out
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Allow {
    Allow,
    Deny,
}

/// `edgeward token …`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token, optionally writing it into a token file or bundle.
    Create {
        /// The token's name.
        name: String,
        /// Namespaces and rights: `ns+rwd[,ns2+r]`.
        #[arg(long)]
        namespace: String,
        /// Valid on staging.
        #[arg(long, value_enum)]
        staging: Allow,
        /// Valid on production.
        #[arg(long, value_enum)]
        production: Allow,
        /// EdgeWorker IDs allowed to use it: `all` or `id,id`.
        #[arg(long, default_value = "all")]
        ewids: String,
        /// Expiry date (YYYY-MM-DD) for an expiring token; without it the token auto-refreshes.
        #[arg(long)]
        expiry: Option<String>,
        #[command(flatten)]
        save: Save,
    },
    /// List tokens with their kind, expiry or next refresh, and warnings.
    List {
        /// Include tokens that expired within the last 30 days.
        #[arg(long)]
        include_expired: bool,
        /// Also list revoked tokens still stored (with when, and their successor).
        #[arg(long)]
        include_revoked: bool,
    },
    /// Show (download) a token, optionally writing it into a token file or bundle.
    #[command(alias = "download")]
    Show {
        /// The token's name.
        name: String,
        #[command(flatten)]
        save: Save,
    },
    /// Refresh an auto-refreshing token now.
    Refresh {
        /// The token's name.
        name: String,
    },
    /// Revoke a token now (irreversible), or schedule its revocation on the server (--after,
    /// --at; carried out by the server even if this command is interrupted), or cancel a
    /// scheduled one (--cancel).
    Revoke {
        /// The token's name.
        name: String,
        /// Revoke it this long from now, on the server's clock (`10m`, `1h`, `2d`).
        #[arg(long, conflicts_with_all = ["at", "cancel"])]
        after: Option<String>,
        /// Revoke it at this RFC 3339 time, e.g. 2027-01-01T06:00:00Z.
        #[arg(long, conflicts_with = "cancel")]
        at: Option<String>,
        /// Cancel its scheduled revocation: it stays valid.
        #[arg(long)]
        cancel: bool,
    },
    /// Replace a token by a successor with the same scope, swap it into the token file, and
    /// revoke the old one when asked.
    Rotate {
        /// The token to replace.
        name: String,
        /// The successor's name.
        #[arg(long)]
        to: String,
        /// The successor's expiry (YYYY-MM-DD) [default: the old token's lifetime, from today].
        #[arg(long)]
        expiry: Option<String>,
        /// Revoke the old token this long after the successor is written (`0s`: now; `10m`,
        /// `1h`, `2d`: scheduled on the server, which carries it out; cancel with
        /// `token revoke OLD --cancel`).
        #[arg(long)]
        revoke_old_after: Option<String>,
        #[command(flatten)]
        save: Save,
    },
}

/// Where to write a token.
#[derive(Args, Clone, Debug, Default)]
pub struct Save {
    /// A directory (its edgekv_tokens.js), an edgekv_tokens.js path, or a .tgz EdgeWorkers bundle.
    #[arg(long)]
    pub save_path: Option<PathBuf>,
    /// Replace entries that already exist for the token's namespaces.
    #[arg(long, short = 'o')]
    pub overwrite: bool,
}

/// Build the client from flags, environment and .edgerc.
#[allow(
    clippy::disallowed_methods,
    reason = "the CLI trusts the certificate of the data directory next to the edgerc it uses"
)]
pub fn client(conn: &Conn) -> Result<Client> {
    let (edgerc, path) = credentials(conn)?;
    let ca = conn.ca_cert.clone().or_else(|| {
        let local = path.as_ref()?.parent()?.join("tls").join("cert.pem");
        local.exists().then_some(local)
    });
    Ok(Client::new(edgerc, ca.as_deref()).map_err(|e| anyhow!("{e}"))?.with_account_key(conn.accountkey.clone()))
}

#[allow(
    clippy::disallowed_methods,
    reason = "the CLI looks for the operator's ~/.edgerc to say what to pass when it is missing"
)]
fn credentials(conn: &Conn) -> Result<(Edgerc, Option<PathBuf>)> {
    let prefix = if conn.section == "default" {
        "AKAMAI_".to_owned()
    } else {
        format!("AKAMAI_{}_", conn.section.to_uppercase())
    };
    let var = |k: &str| std::env::var(format!("{prefix}{k}")).ok().filter(|v| !v.is_empty());
    // An explicit --edgerc or --data-dir wins; the variables win over ~/.edgerc.
    let explicit = conn.edgerc.is_some() || conn.data_dir.is_some();
    if let (false, Some(host), Some(ct), Some(cs), Some(at)) =
        (explicit, var("HOST"), var("CLIENT_TOKEN"), var("CLIENT_SECRET"), var("ACCESS_TOKEN"))
    {
        let text = format!("[s]\nhost = {host}\nclient_token = {ct}\nclient_secret = {cs}\naccess_token = {at}\n");
        return Ok((Edgerc::parse(&text, "s").map_err(|e| anyhow!("{prefix}* variables: {e}"))?, None));
    }
    let (path, given) = match (&conn.edgerc, &conn.data_dir) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(dir)) => (dir.join("edgerc"), true),
        (None, None) => (std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".edgerc"), false),
    };
    let edgerc = Edgerc::load(&path, &conn.section).map_err(|e| {
        // A --data-dir without its edgerc: no installation there, or one whose credentials are
        // elsewhere (a restore without keys); say which and what to run.
        if let (None, Some(dir), false) = (&conn.edgerc, &conn.data_dir, path.exists()) {
            return match edgeward_server::bootstrap::require_installation(dir, true) {
                Err(no_installation) => anyhow!("{no_installation}"),
                Ok(()) => anyhow!(
                    "{} holds an installation but no edgerc: pass --edgerc FILE, or make credentials with \
                     `edgeward apiclient create NAME --grants ALL --host ADDRESS --data-dir {}` (ADDRESS: where its \
                     admin API listens, e.g. 127.0.0.1:8443)",
                    dir.display(),
                    dir.display()
                ),
            };
        }
        // Without --edgerc, say where a local Edgeward keeps its credentials.
        if given || path.exists() {
            anyhow!("{e}")
        } else {
            anyhow!(
                "{e}; for a local Edgeward pass --edgerc <data-dir>/edgerc (e.g. --edgerc edgeward-data/edgerc), \
                 or set AKAMAI_HOST, AKAMAI_CLIENT_TOKEN, AKAMAI_CLIENT_SECRET and AKAMAI_ACCESS_TOKEN"
            )
        }
    })?;
    Ok((edgerc, Some(path)))
}

/// Parse `ns+rwd[,ns2+r]`.
pub fn parse_namespaces(spec: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for part in spec.split(',') {
        let (ns, rights) = part
            .split_once('+')
            .ok_or_else(|| crate::usage!("--namespace: '{part}' is not ns+rights (for example default+rw)"))?;
        NamespaceName::parse(ns).map_err(|_| crate::usage!("--namespace: '{ns}' is not a valid namespace name"))?;
        let p = Permissions::parse_compact(rights).map_err(|_| {
            crate::usage!("--namespace: rights '{rights}' for {ns} must be letters from r, w, d without repeats")
        })?;
        if out.iter().any(|(n, _)| n == ns) {
            return Err(crate::usage!("--namespace: {ns} is given twice"));
        }
        out.push((ns.to_owned(), p.letters().into_iter().map(String::from).collect()));
    }
    Ok(out)
}

/// A token as `token list --json` prints it: the server's summary, plus the kind, the warning
/// and the lifecycle the table shows.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    #[serde(flatten)]
    token: &'a edgeward_wire::TokenSummary,
    kind: &'static str,
    warning: Option<String>,
    replaced_by: Option<&'a str>,
    revoke_at: Option<&'a str>,
}

/// Every stored token's lifecycle (successor, scheduled revocation); none from a server that
/// does not keep them (not an Edgeward), whose lists and tokens still show.
async fn token_states(c: &Client) -> Result<Vec<TokenState>> {
    match c.token_states().await {
        Ok(s) => Ok(s.tokens),
        Err(ClientError::Api { status: 404, .. }) => Ok(Vec::new()),
        Err(e) => Err(api(e)),
    }
}

/// What the list and `show` say of a token's lifecycle: its successor, its scheduled or done
/// revocation ("replaced by X, revoked at T").
fn lifecycle(state: Option<&TokenState>) -> String {
    state.map(TokenState::lifecycle).unwrap_or_default()
}

/// An API client's error, kept whole so that `--json` can report its status, EdgeKV code and
/// trace id (`json_error` in main.rs).
pub(crate) fn api(e: ClientError) -> anyhow::Error {
    if let ClientError::Transport { message, host } = &e {
        // What to pass, on the same line: the usual causes have a usual fix.
        if message.contains("UnknownIssuer") || message.contains("invalid peer certificate") {
            return anyhow!(
                "{e}; the server's certificate is not trusted here: pass --ca-cert <data-dir>/tls/cert.pem \
                 (a local Edgeward's certificate is trusted without it only when the edgerc is the one in its \
                 data directory)"
            );
        }
        if message.contains("Connection refused") {
            return anyhow!(
                "{e}; is Edgeward running at {host}? If it listens elsewhere now, point the edgerc at it with \
                 `edgeward edgerc set-host ADDRESS` (with the --edgerc FILE or --data-dir DIR given here)"
            );
        }
    }
    anyhow::Error::new(e)
}

/// Today on the server's clock (a development clock's, when one runs), which expiry warnings
/// count from; the local date when the server does not say (not an Edgeward).
pub(crate) async fn server_today(c: &Client) -> chrono::NaiveDate {
    c.status()
        .await
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s.server_time).ok())
        .map_or_else(|| crate::now().date_naive(), |t| t.date_naive())
}

/// Check a `--save-path` before anything changes on the server: the path is a directory, a
/// `.js` file in a directory or a bundle that exist; the file there, if any, reads as a token
/// file; and every namespace the token will be written under is free, or `overwrite` (or
/// `replaceable`, for rotation's predecessor) allows replacing its entry. The write itself is
/// [`save_token`], once the token exists.
fn check_save<'a>(
    path: &Path,
    namespaces: impl IntoIterator<Item = &'a str>,
    overwrite: bool,
    replaceable: impl Fn(&Entry) -> bool,
) -> Result<()> {
    let target = Target::resolve(path)?;
    let file = match target.load()? {
        Some(text) => {
            TokenFile::parse(&text).map_err(|e| anyhow!("{}: {e}; nothing was created", target.describe()))?
        }
        None => TokenFile::default(),
    };
    let conflicts: Vec<String> = namespaces
        .into_iter()
        .filter_map(|ns| {
            let entry = file.get(ns)?.entry?;
            (!overwrite && !replaceable(&entry))
                .then(|| format!("namespace {ns} (token {})", entry.name.as_deref().unwrap_or("unnamed")))
        })
        .collect();
    if !conflicts.is_empty() {
        bail!(
            "{}: entries already exist for {}; pass --overwrite to replace them (nothing was created)",
            target.describe(),
            conflicts.join(", ")
        );
    }
    Ok(())
}

/// The error of a save that failed after the token was made: the command that writes it.
fn saved_later(name: &str, path: &Path) -> String {
    format!(
        "token {name} was created but not saved; write it with `edgeward token show {name} --save-path {} --overwrite`",
        path.display()
    )
}

/// Write `t` into the token file at `path`; refused entries leave the file untouched.
fn save_token(
    path: &Path,
    t: &TokenObject,
    overwrite: bool,
    replaceable: impl Fn(&Entry) -> bool,
) -> Result<(String, Vec<(String, PutOutcome)>)> {
    let target = Target::resolve(path)?;
    let mut file = match target.load()? {
        Some(text) => {
            TokenFile::parse(&text).map_err(|e| anyhow!("{}: {e}; the file was left unchanged", target.describe()))?
        }
        None => TokenFile::default(),
    };
    let mut outcomes = Vec::new();
    let mut conflicts = Vec::new();
    for ns in t.namespace_permissions.keys() {
        let allow = overwrite || file.get(ns).and_then(|k| k.entry).is_some_and(|e| replaceable(&e));
        match file.put(ns, Entry::of(t), allow) {
            Ok(o) => outcomes.push((ns.clone(), o)),
            Err(existing) => conflicts.push(format!(
                "namespace {} (token {})",
                existing.namespace,
                existing.entry.and_then(|e| e.name).unwrap_or_else(|| "unnamed".into())
            )),
        }
    }
    if !conflicts.is_empty() {
        bail!(
            "{}: entries already exist for {}; pass --overwrite to replace them (the file was left unchanged)",
            target.describe(),
            conflicts.join(", ")
        );
    }
    if outcomes.iter().any(|(_, o)| *o != PutOutcome::Unchanged) {
        target.store(&file.render())?;
        note_dropped_comments(&target, &file);
    }
    Ok((target.describe(), outcomes))
}

/// Say (on stderr, so that --json output stays one object) which comments a rewrite could not
/// keep: those inside the token object. Those before the declaration and after the `export` are
/// kept.
fn note_dropped_comments(target: &Target, file: &TokenFile) {
    match file.dropped_comments() {
        0 => {}
        n => eprintln!(
            "note: {}: {n} comment{} inside the token object could not be kept (comments above the \
             declaration and below the export are kept)",
            target.describe(),
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn kind(t: &TokenObject) -> &'static str {
    if t.expiry.starts_with("9999") {
        "auto-refreshing"
    } else {
        "expiring"
    }
}

fn days_left(expiry: &str, today: chrono::NaiveDate) -> Option<i64> {
    let d: chrono::NaiveDate = expiry.parse().ok()?;
    (d.year_ce().1 < 9999).then(|| (d - today).num_days())
}

use chrono::Datelike as _;

fn warning(expiry: &str, today: chrono::NaiveDate) -> String {
    match days_left(expiry, today) {
        Some(d) if d < 0 => "EXPIRED".into(),
        Some(d) if d <= 30 => format!("expires in {d} day{}", if d == 1 { "" } else { "s" }),
        _ => String::new(),
    }
}

fn print_token(t: &TokenObject, today: chrono::NaiveDate) {
    println!("Token name:        {}", t.name);
    println!("Token uuid:        {}", t.uuid);
    println!("Kind:              {}", kind(t));
    println!("Issue date:        {}", t.issue_date);
    println!("Expiry date:       {}", if kind(t) == "expiring" { t.expiry.clone() } else { "INDEFINITE".into() });
    if kind(t) == "auto-refreshing" {
        println!("Latest refresh:    {}", t.latest_refresh_date.as_deref().unwrap_or("N/A"));
        println!("Next refresh:      {}", t.next_scheduled_refresh_date.as_deref().unwrap_or("N/A"));
    }
    println!("Activation status: {}", t.token_activation_status);
    println!("CP code:           {}", t.cpcode);
    println!("EdgeWorker IDs:    {}", t.restrict_to_edge_worker_ids.join(","));
    println!("Valid on staging:  {}", t.allow_on_staging);
    println!("Valid on production: {}", t.allow_on_production);
    for (ns, rights) in &t.namespace_permissions {
        println!("Namespace {ns}: {}", rights.join(""));
    }
    match t.usage.as_deref() {
        Some([]) => println!("Data-plane use:    none recorded"),
        Some(usage) => {
            for u in usage {
                println!(
                    "Used on {}: {} request{}, last {}",
                    u.network,
                    u.requests,
                    if u.requests == 1 { "" } else { "s" },
                    u.last_used
                );
            }
        }
        None => {}
    }
    let w = warning(&t.expiry, today);
    if !w.is_empty() {
        println!("WARNING: {w}; replace it with `edgeward token rotate {} --to <new name>`", t.name);
    }
}

/// Parse `0`, `30s`, `10m`, `1h`, `2d`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let refuse = || crate::usage!("'{s}' is not a duration such as 0s, 10m, 1h or 2d");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| refuse())?;
    let unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(refuse()),
    };
    Ok(Duration::from_secs(n.checked_mul(unit).ok_or_else(refuse)?))
}

/// A scheduled revocation, as the server takes it, from a `--after` duration or an `--at` time
/// (a usage error when neither reads).
fn revocation_time(after: Option<&str>, at: Option<&str>) -> Result<ScheduleRevocation> {
    match (after, at) {
        (Some(d), None) => Ok(ScheduleRevocation {
            revoke_after_seconds: Some(parse_duration(d)?.as_secs()),
            ..ScheduleRevocation::default()
        }),
        (None, Some(t)) => {
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| crate::usage!("--at: '{t}' is not an RFC 3339 time such as 2027-01-01T06:00:00Z"))?;
            Ok(ScheduleRevocation { revoke_at: Some(t.to_owned()), ..ScheduleRevocation::default() })
        }
        _ => Err(crate::usage!("give --after or --at")),
    }
}

/// Before a rotation creates anything: the server can schedule `old`'s revocation (an Edgeward)
/// and says the caller may revoke it, so that `--revoke-old-after` cannot fail once the
/// successor exists.
async fn can_schedule_revocation(c: &Client, old: &TokenObject) -> Result<()> {
    let states = c.token_states().await.map_err(|e| match e {
        ClientError::Api { status: 404, .. } => {
            anyhow!("--revoke-old-after: this server does not schedule revocations (it is not an Edgeward); nothing was created")
        }
        e => api(e),
    })?;
    if !states.tokens.iter().any(|s| s.uuid == old.uuid && s.may_revoke) {
        return Err(anyhow!(
            "--revoke-old-after: these credentials may not revoke {} (they lack the REVOKE_TOKEN grant{}); nothing was created",
            old.name,
            if old.allow_on_production { "" } else { ", or REVOKE_STAGING_TOKEN" }
        ));
    }
    Ok(())
}

/// What a scheduled revocation's answer says, on stdout.
fn print_scheduled(r: &ScheduledRevocation, json: bool, conn: &Conn) {
    if json {
        println!("{}", json!({ "scheduledRevocation": r }));
    } else if r.revoked {
        println!("{} was revoked; edge calls with it now fail with 401.", r.name);
    } else {
        println!(
            "{} will be revoked at {} by the server (cancel with `edgeward token revoke {} --cancel{}`).",
            r.name,
            r.revoke_at,
            r.name,
            conn.flags()
        );
    }
}

fn saved_json(saved: &Option<(String, Vec<(String, PutOutcome)>)>) -> serde_json::Value {
    match saved {
        Some((path, outcomes)) => json!({
            "path": path,
            "namespaces": outcomes.iter().map(|(ns, o)| json!({"namespace": ns, "outcome": format!("{o:?}").to_lowercase()})).collect::<Vec<_>>(),
        }),
        None => serde_json::Value::Null,
    }
}

fn print_saved(saved: &Option<(String, Vec<(String, PutOutcome)>)>) {
    if let Some((path, outcomes)) = saved {
        let list: Vec<_> =
            outcomes.iter().map(|(ns, o)| format!("namespace-{ns} ({})", format!("{o:?}").to_lowercase())).collect();
        println!("Token file {path} was updated: {}.", list.join(", "));
    }
}

/// Run a token command.
pub async fn run(cmd: TokenCommand, conn: &Conn) -> Result<()> {
    let c = client(conn)?;
    match cmd {
        TokenCommand::Create { name, namespace, staging, production, ewids, expiry, save } => {
            let ns = parse_namespaces(&namespace)?;
            if matches!((staging, production), (Allow::Deny, Allow::Deny)) {
                return Err(crate::usage!("--staging and --production cannot both be deny"));
            }
            let ewids: Vec<String> = ewids.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            let req = CreateTokenRequest {
                name,
                allow_on_production: LenientBool(matches!(production, Allow::Allow)),
                allow_on_staging: LenientBool(matches!(staging, Allow::Allow)),
                restrict_to_edge_worker_ids: Some(ewids),
                expiry,
                namespace_permissions: NamespacePairs(ns),
            };
            if let Some(p) = &save.save_path {
                check_save(p, req.namespace_permissions.0.iter().map(|(ns, _)| ns.as_str()), save.overwrite, |_| {
                    false
                })?;
            }
            let t = c.create_token(&req).await.map_err(api)?;
            let saved = match &save.save_path {
                Some(p) => Some(save_token(p, &t, save.overwrite, |_| false).with_context(|| saved_later(&t.name, p))?),
                None => None,
            };
            if conn.json {
                println!("{}", json!({"token": t, "saved": saved_json(&saved)}));
            } else {
                println!("Created token {} ({}).", t.name, kind(&t));
                print_token(&t, server_today(&c).await);
                print_saved(&saved);
            }
        }
        TokenCommand::List { include_expired, include_revoked } => {
            let list = c.list_tokens(include_expired).await.map_err(api)?;
            let states = token_states(&c).await?;
            let today = server_today(&c).await;
            let state_of = |uuid: &str| states.iter().find(|s| s.uuid == uuid);
            let kind_of = |t: &edgeward_wire::TokenSummary| {
                if t.expiry.starts_with("9999") {
                    "auto-refreshing"
                } else {
                    "expiring"
                }
            };
            let revoked: Vec<&TokenState> =
                if include_revoked { states.iter().filter(|s| s.state == "revoked").collect() } else { Vec::new() };
            if conn.json {
                // As the server sent it, plus what the table shows: the kind, the warning and the
                // lifecycle.
                let tokens: Vec<Listed> = list
                    .tokens
                    .iter()
                    .map(|t| Listed {
                        kind: kind_of(t),
                        warning: Some(warning(&t.expiry, today)).filter(|w| !w.is_empty()),
                        replaced_by: state_of(&t.uuid).and_then(|s| s.replaced_by.as_deref()),
                        revoke_at: state_of(&t.uuid).and_then(|s| s.revoke_at.as_deref()),
                        token: t,
                    })
                    .collect();
                if include_revoked {
                    println!("{}", json!({ "tokens": tokens, "revoked": revoked }));
                } else {
                    println!("{}", json!({ "tokens": tokens }));
                }
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .tokens
                .iter()
                .map(|t| {
                    let kind = kind_of(t);
                    let when = if kind == "expiring" {
                        t.expiry.clone()
                    } else {
                        format!("refresh {}", t.next_scheduled_refresh_date.as_deref().unwrap_or("N/A"))
                    };
                    let nets = match (t.allow_on_staging, t.allow_on_production) {
                        (true, true) => "both",
                        (true, false) => "staging",
                        _ => "production",
                    };
                    let ns: Vec<_> =
                        t.namespace_permissions.iter().map(|(n, r)| format!("{n}+{}", r.join(""))).collect();
                    vec![
                        t.name.clone(),
                        kind.to_owned(),
                        when,
                        nets.to_owned(),
                        ns.join(","),
                        lifecycle(state_of(&t.uuid)),
                        warning(&t.expiry, today),
                    ]
                })
                .collect();
            let headers = ["NAME", "KIND", "EXPIRY / NEXT REFRESH", "NETWORKS", "NAMESPACES", "ROTATION", "WARNING"];
            let mut out = std::io::stdout().lock();
            write!(out, "{}", crate::render::table(&headers, &rows))?;
            writeln!(out, "{} token{}.", list.tokens.len(), if list.tokens.len() == 1 { "" } else { "s" })?;
            if include_revoked {
                let rows: Vec<Vec<String>> =
                    revoked.iter().map(|s| vec![s.name.clone(), s.uuid.clone(), lifecycle(Some(s))]).collect();
                writeln!(out, "\nRevoked, still stored:")?;
                write!(out, "{}", crate::render::table(&["NAME", "UUID", "ROTATION"], &rows))?;
            }
        }
        TokenCommand::Show { name, save } => {
            let t = c.get_token_with_usage(&name).await.map_err(api)?;
            let states = token_states(&c).await?;
            let rotation = lifecycle(states.iter().find(|s| s.uuid == t.uuid));
            let saved = match &save.save_path {
                Some(p) => Some(save_token(p, &t, save.overwrite, |_| false)?),
                None => None,
            };
            if conn.json {
                let state = states.iter().find(|s| s.uuid == t.uuid);
                println!("{}", json!({"token": t, "saved": saved_json(&saved), "state": state}));
            } else {
                print_token(&t, server_today(&c).await);
                if !rotation.is_empty() {
                    println!("Rotation:          {rotation}");
                }
                print_saved(&saved);
            }
        }
        TokenCommand::Refresh { name } => {
            let t = c.refresh_token(&name).await.map_err(api)?;
            if conn.json {
                println!("{}", json!({"token": t}));
            } else {
                println!("Token \"{}\" has been refreshed.", t.name);
                print_token(&t, server_today(&c).await);
            }
        }
        TokenCommand::Revoke { name, after: None, at: None, cancel: false } => {
            let r = c.revoke_token(&name).await.map_err(api)?;
            if conn.json {
                println!("{}", json!({"revoked": r}));
            } else {
                println!("{} ({}) was revoked; edge calls with it now fail with 401.", r.name, r.uuid);
            }
        }
        TokenCommand::Revoke { name, cancel: true, .. } => {
            c.cancel_revocation(&name).await.map_err(api)?;
            if conn.json {
                println!("{}", json!({"cancelled": name}));
            } else {
                println!("{name} has no scheduled revocation now; it stays valid.");
            }
        }
        TokenCommand::Revoke { name, after, at, .. } => {
            let when = revocation_time(after.as_deref(), at.as_deref())?;
            let r = c.schedule_revocation(&name, &when).await.map_err(api)?;
            print_scheduled(&r, conn.json, conn);
        }
        TokenCommand::Rotate { name, to, expiry, revoke_old_after, save } => {
            let delay = revoke_old_after.as_deref().map(parse_duration).transpose()?;
            if delay.is_some_and(|d| d.as_secs() > MAX_REVOCATION_DELAY_DAYS as u64 * 86_400) {
                return Err(crate::usage!(
                    "--revoke-old-after: a revocation can be scheduled at most {MAX_REVOCATION_DELAY_DAYS} days ahead"
                ));
            }
            let old = c.get_token(&name).await.map_err(api)?;
            if delay.is_some() {
                can_schedule_revocation(&c, &old).await?;
            }
            let mut req = CreateTokenRequest::successor_of(&old, to, server_today(&c).await);
            if expiry.is_some() {
                req.expiry = expiry;
            }
            let is_old = {
                let (old_name, old_uuid, old_value) = (old.name.clone(), old.uuid.clone(), old.value.clone());
                move |e: &Entry| {
                    e.name.as_deref() == Some(old_name.as_str())
                        || e.reference.as_deref() == Some(old_uuid.as_str())
                        || (e.value.is_some() && e.value == old_value)
                }
            };
            if let Some(p) = &save.save_path {
                check_save(p, old.namespace_permissions.keys().map(String::as_str), save.overwrite, &is_old)?;
            }
            let new = c.create_token(&req).await.map_err(api)?;
            c.mark_replaced(&old.name, &new.name)
                .await
                .map_err(api)
                .with_context(|| format!("successor {} was created", new.name))?;
            let saved = match &save.save_path {
                Some(p) => {
                    Some(save_token(p, &new, save.overwrite, &is_old).with_context(|| saved_later(&new.name, p))?)
                }
                None => None,
            };
            // Revoked by the server, now or at its time: nothing here waits.
            let scheduled = match delay {
                Some(d) => {
                    let when = ScheduleRevocation { revoke_after_seconds: Some(d.as_secs()), ..Default::default() };
                    Some(c.schedule_revocation(&old.name, &when).await.map_err(api).with_context(|| {
                        format!(
                            "successor {} was created{}; revoke {} with `edgeward token revoke {} --after …`",
                            new.name,
                            if saved.is_some() { " and saved" } else { "" },
                            old.name,
                            old.name
                        )
                    })?)
                }
                None => None,
            };
            let revoked = scheduled.as_ref().is_some_and(|s| s.revoked);
            if conn.json {
                println!(
                    "{}",
                    json!({"old": old.name, "token": new, "saved": saved_json(&saved), "oldRevoked": revoked,
                        "oldRevokeAt": scheduled.as_ref().map(|s| &s.revoke_at)})
                );
            } else {
                println!("Rotated {} → {} (same namespaces, rights, networks and EdgeWorker IDs).", old.name, new.name);
                print_token(&new, server_today(&c).await);
                print_saved(&saved);
                if let Some(s) = scheduled.as_ref().filter(|s| !s.revoked) {
                    print_scheduled(s, false, conn);
                } else if revoked {
                    println!("{} was revoked.", old.name);
                } else {
                    println!(
                        "{} is still valid; revoke it with `edgeward token revoke {}` once the new bundle is live.",
                        old.name, old.name
                    );
                }
            }
        }
    }
    Ok(())
}

/// `edgeward bundle …`.
#[derive(Subcommand, Debug)]
pub enum BundleCommand {
    /// Check the tokens of a bundle before it ships; exits 3 on any problem.
    Check {
        /// A directory, an edgekv_tokens.js file, or a .tgz bundle.
        path: PathBuf,
        /// Warn about tokens expiring within this many days.
        #[arg(long, default_value_t = 30)]
        warn_days: i64,
        /// Rewrite bare namespace keys as `namespace-<ns>`.
        #[arg(long)]
        fix: bool,
    },
}

/// A problem `bundle check` found with one entry (one element of `problems` in its JSON).
#[derive(Debug, serde::Serialize)]
struct Problem {
    /// The namespace the entry is for.
    namespace: String,
    /// The key as written in the file.
    key: String,
    /// What is wrong: `bare-key`, `malformed`, `unknown-or-revoked`, `expired`, `wrong-namespace`,
    /// `stale-value`, `stale-reference` or `expiring`.
    problem: &'static str,
    /// One line a person can act on.
    detail: String,
}

/// Run `bundle check`; `Ok(false)` when problems were found.
#[allow(clippy::disallowed_methods, reason = "the CLI looks at the path `bundle check` is given")]
pub async fn check(cmd: BundleCommand, conn: &Conn) -> Result<bool> {
    let BundleCommand::Check { path, warn_days, fix } = cmd;
    // A path that is not there is said so, whatever it was meant to be.
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
    let target = if path.is_dir() || path.to_string_lossy().ends_with(".js") || path.to_string_lossy().ends_with("gz") {
        Target::resolve(&path)?
    } else {
        bail!("{}: not a directory, a .js file or a .tgz bundle", path.display());
    };
    let text =
        target.load()?.ok_or_else(|| anyhow!("{}: no {} found", target.describe(), crate::tokenfile::FILE_NAME))?;
    let mut file = TokenFile::parse(&text).map_err(|e| anyhow!("{}: {e}", target.describe()))?;
    let c = client(conn)?;
    let today = server_today(&c).await;
    let mut problems: Vec<Problem> = Vec::new();
    let mut ok_entries = 0;
    let mut report = |ns: &str, key: &str, kind: &'static str, detail: String| {
        problems.push(Problem { namespace: ns.to_owned(), key: key.to_owned(), problem: kind, detail });
    };
    let entries = file.entries();
    for k in &entries {
        if k.bare {
            report(
                &k.namespace,
                &k.key,
                "bare-key",
                format!("edgekv.js looks entries up under \"namespace-{}\"; run with --fix", k.namespace),
            );
        }
        let Some(e) = &k.entry else {
            report(&k.namespace, &k.key, "malformed", "the entry has neither value nor reference".into());
            continue;
        };
        let Some(name) = &e.name else {
            report(&k.namespace, &k.key, "malformed", "the entry has no token name".into());
            continue;
        };
        let t = match c.get_token(name).await {
            Ok(t) => t,
            Err(ClientError::Api { status: 404, .. }) => {
                report(
                    &k.namespace,
                    &k.key,
                    "unknown-or-revoked",
                    format!("token {name} does not exist or was revoked"),
                );
                continue;
            }
            Err(ClientError::Api { status: 410, .. }) => {
                report(&k.namespace, &k.key, "expired", format!("token {name} has expired"));
                continue;
            }
            Err(e) => return Err(api(e)),
        };
        let mut fine = true;
        if !t.namespace_permissions.contains_key(&k.namespace) {
            report(
                &k.namespace,
                &k.key,
                "wrong-namespace",
                format!("token {name} does not cover namespace {}", k.namespace),
            );
            fine = false;
        }
        match (&e.value, &e.reference) {
            (Some(v), _) if t.value.as_deref() != Some(v.as_str()) => {
                report(
                    &k.namespace,
                    &k.key,
                    "stale-value",
                    format!("the value filed for {name} is not the token's current value"),
                );
                fine = false;
            }
            (None, Some(r)) if *r != t.uuid => {
                report(
                    &k.namespace,
                    &k.key,
                    "stale-reference",
                    format!("the reference filed for {name} is not the token's uuid"),
                );
                fine = false;
            }
            (None, None) => {
                report(&k.namespace, &k.key, "malformed", "the entry has neither value nor reference".into());
                fine = false;
            }
            _ => {}
        }
        if let Some(d) = days_left(&t.expiry, today) {
            if d <= warn_days {
                report(&k.namespace, &k.key, "expiring", format!("token {name} expires on {} ({d} days)", t.expiry));
                fine = false;
            }
        }
        if fine && !k.bare {
            ok_entries += 1;
        }
    }
    let mut fixed = Vec::new();
    if fix {
        fixed = file.fix_bare_keys();
        if !fixed.is_empty() {
            target.store(&file.render())?;
            note_dropped_comments(&target, &file);
            problems.retain(|p| p.problem != "bare-key");
        }
    }
    let clean = problems.is_empty();
    if conn.json {
        println!(
            "{}",
            json!({"path": target.describe(), "entries": entries.len(), "ok": ok_entries, "problems": problems, "fixed": fixed})
        );
    } else {
        for ns in &fixed {
            println!("fixed: the entry for {ns} is now under \"namespace-{ns}\"");
        }
        for p in &problems {
            println!("{}: {}: {}", p.key, p.problem, p.detail);
        }
        println!(
            "{}: {} entr{}, {} fine, {} problem{}.",
            target.describe(),
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            ok_entries,
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
    }
    Ok(clean)
}
