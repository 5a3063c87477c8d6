//! `edgeward keys`: the token-signing keys (rotate, list, retire) and the data key
//! (rotate-data-key) of a data directory's database, opened directly like `apiclient`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use edgeward_core::clock::{Clock, SystemClock};
use edgeward_server::keys::{self, KeyState};

/// The `keys` subcommands.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a new token-signing key: it signs every new token from now on, on every server
    /// (no restart). Older keys keep verifying until the last token they signed expires.
    Rotate {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// List the token-signing keys: kid, state (active, verifying, retired), live tokens signed.
    List {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retire a token-signing key at once (a compromised key): every token it signed is refused
    /// (401) on every server from then on. Without --yes, only says what that would break.
    Retire {
        /// The key id.
        kid: String,
        /// Retire it, breaking the live tokens it signed.
        #[arg(long)]
        yes: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Run a `keys` command.
pub async fn run(cmd: KeysCommand) -> Result<()> {
    let clock = SystemClock;
    match cmd {
        KeysCommand::Rotate { data_dir } => {
            let (store, data_key) = crate::open_store(&data_dir).await?;
            let before = keys::report(store.as_ref(), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let kid = keys::rotate(store.as_ref(), &data_key, clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Added token-signing key {kid}: it signs every new token from now on, on every server (within a second, no restart).");
            for k in before.iter().filter(|k| k.state != KeyState::Retired) {
                println!(
                    "Key {} keeps verifying its {} live token(s) until the last expires ({}); maintenance then retires it.",
                    k.kid,
                    k.live_tokens,
                    when(k.last_expiry)
                );
            }
        }
        KeysCommand::List { data_dir, json } => {
            let (store, _) = crate::open_store(&data_dir).await?;
            let report = keys::report(store.as_ref(), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<18} {:<10} {:<17} {:<17} {:>11}  LAST EXPIRY",
                "KID", "STATE", "CREATED", "RETIRED", "LIVE TOKENS"
            )?;
            for k in report {
                writeln!(
                    out,
                    "{:<18} {:<10} {:<17} {:<17} {:>11}  {}",
                    k.kid,
                    k.state.as_str(),
                    when(Some(k.created_at)),
                    when(k.retired_at),
                    k.live_tokens,
                    when(k.last_expiry)
                )?;
            }
        }
        KeysCommand::Retire { kid, yes, data_dir } => {
            let (store, data_key) = crate::open_store(&data_dir).await?;
            let report = keys::report(store.as_ref(), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(key) = report.iter().find(|k| k.kid == kid) else {
                bail!("there is no token-signing key {kid} (see `edgeward keys list`)");
            };
            if key.state == KeyState::Retired {
                println!("Token-signing key {kid} was already retired.");
                return Ok(());
            }
            let breaks = format!(
                "retiring token-signing key {kid} refuses at once, on every server, the {} live token(s) it signed{}: \
                 every edge function using one of them gets 401 until it is given a new token",
                key.live_tokens,
                key.last_expiry.map(|t| format!(" (the last would expire {})", when(Some(t)))).unwrap_or_default()
            );
            let active = if key.state == KeyState::Active {
                " It is the key that signs new tokens: a new key is added first to sign them."
            } else {
                ""
            };
            if !yes {
                bail!("{breaks}.{active} Nothing was changed; run again with --yes to retire it.");
            }
            let done =
                keys::retire(store.as_ref(), &data_key, &kid, clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(new) = &done.replaced_by {
                println!("Added token-signing key {new}, which signs new tokens from now on.");
            }
            println!(
                "Retired token-signing key {kid}: its {} live token(s) are refused from now on (on every server within \
                 a second). Create replacements with `edgeward token create` (or `token rotate`).",
                key.live_tokens
            );
            let local = data_dir.join("keys").join("token-signing.pem");
            if std::fs::read_to_string(&local)
                .ok()
                .and_then(|pem| edgeward_token::SigningKeyPair::from_pkcs8_pem(&pem).ok())
                .is_some_and(|k| k.kid() == kid)
            {
                println!(
                    "{} holds this key; the database's keys are the ones used, so it is no longer needed: delete it.",
                    local.display()
                );
            }
        }
    }
    Ok(())
}
