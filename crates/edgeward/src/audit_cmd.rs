//! `edgeward audit list`: the audit trail of a data directory (or its PostgreSQL database),
//! newest first, with the same filters as `GET /edgeward/v1/audit`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Subcommand;

use edgeward_server::routes::audit::filter_from_query;

/// `edgeward audit …`.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// List audit records, newest first.
    List {
        /// Only this actor, e.g. `client:admin` or `command:root`.
        #[arg(long)]
        actor: Option<String>,
        /// Only this action (`token.create`), or every action on a resource (`token.`).
        #[arg(long)]
        action: Option<String>,
        /// Only this target (`token/marketing_ro`), or everything under one (`token/`).
        #[arg(long)]
        target: Option<String>,
        /// Only `success` or `failure`.
        #[arg(long)]
        outcome: Option<String>,
        /// At or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Only records older than this id (the `next` of a previous page).
        #[arg(long)]
        before: Option<i64>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON (`{"records": [...], "next": id}`).
        #[arg(long)]
        json: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
}

/// Run an `audit` command.
pub async fn run(cmd: AuditCommand, db: &crate::Database) -> Result<()> {
    let AuditCommand::List { actor, action, target, outcome, since, until, before, limit, json, data_dir } = cmd;
    let mut q = HashMap::new();
    for (key, value) in [
        ("actor", actor),
        ("action", action),
        ("target", target),
        ("outcome", outcome),
        ("since", since),
        ("until", until),
        ("before", before.map(|b| b.to_string())),
        ("limit", Some(limit.to_string())),
    ] {
        if let Some(v) = value {
            q.insert(key.to_owned(), v);
        }
    }
    // The API's own parser, so the command and the endpoint accept exactly the same filters; a
    // filter it refuses is a usage error (2).
    let filter = filter_from_query(&q).map_err(|e| crate::usage!("{}", e.to_string().trim_end_matches('.')))?;
    let (store, _) = db.open(&data_dir).await?;
    let records = store.audit_records(&filter).await.map_err(|e| anyhow!("{e}"))?;
    let next = (records.len() == filter.limit).then(|| records.last().map(|r| r.id)).flatten();
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::json!({ "records": records, "next": next }))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<8} {:<20} {:<24} {:<22} {:<8} {:<16} TARGET",
        "ID", "TIME", "ACTOR", "ACTION", "OUTCOME", "SOURCE"
    )?;
    for e in &records {
        let r = &e.record;
        let outcome = match &r.detail {
            Some(d) => format!("{} ({d})", r.outcome.as_str()),
            None => r.outcome.as_str().to_owned(),
        };
        writeln!(
            out,
            "{:<8} {:<20} {:<24} {:<22} {:<8} {:<16} {}",
            e.id,
            r.at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.actor,
            r.action,
            outcome,
            r.source,
            r.target
        )?;
    }
    if let Some(n) = next {
        writeln!(out, "(more: --before {n})")?;
    }
    Ok(())
}
