//! `edgeward keys`: the token-signing keys (rotate, list, retire) and the data key
//! (rotate-data-key) of a data directory's database, opened directly like `apiclient`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use edgeward_core::audit::actions::KEY_ROTATE;
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
        /// Print the outcome (or the error) as one JSON object.
        #[arg(long)]
        json: bool,
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
        /// Print the outcome (or the error) as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Seal every sealed value (token values, client secrets, signing keys, ...) again under a new
    /// data key, in batches, while the servers keep running; resumable after a crash (run it
    /// again). The old key file is kept until the command reports completion.
    RotateDataKey {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// Values sealed again per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// Only write keys/data.key.next and stop, so it can be copied to servers that have data
        /// directories of their own before the values are sealed again.
        #[arg(long)]
        prepare: bool,
        /// Seconds to wait after announcing the new key, so that every server seals with it
        /// before the values are read (servers read the change feed every second).
        #[arg(long, default_value_t = 3)]
        settle_secs: u64,
        /// Test only: stop (and wait to be killed) after this many batches.
        #[arg(long, hide = true)]
        pause_after_batches: Option<u64>,
        /// Print the outcome (or the error) as one JSON object, without the progress lines.
        #[arg(long)]
        json: bool,
    },
}

impl KeysCommand {
    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        match self {
            Self::Rotate { json, .. }
            | Self::List { json, .. }
            | Self::Retire { json, .. }
            | Self::RotateDataKey { json, .. } => *json,
        }
    }
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Run a `keys` command.
#[allow(
    clippy::disallowed_methods,
    reason = "the CLI looks in the data directory's key file to tell the operator it may be deleted"
)]
pub async fn run(cmd: KeysCommand, db: &crate::Database) -> Result<()> {
    let clock = SystemClock;
    match cmd {
        KeysCommand::Rotate { data_dir, json } => {
            let (store, data_key) = db.open(&data_dir).await?;
            let before = keys::report(store.as_ref(), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let kid = crate::audited(
                store.as_ref(),
                KEY_ROTATE,
                "key/signing".into(),
                keys::rotate(store.as_ref(), &data_key, clock.now()),
            )
            .await?;
            let verifying: Vec<_> = before.iter().filter(|k| k.state != KeyState::Retired).collect();
            if json {
                let verifying: Vec<_> = verifying
                    .iter()
                    .map(|k| serde_json::json!({ "kid": k.kid, "liveTokens": k.live_tokens, "lastExpiry": k.last_expiry }))
                    .collect();
                println!("{}", serde_json::json!({ "added": kid, "stillVerifying": verifying }));
                return Ok(());
            }
            println!("Added token-signing key {kid}: it signs every new token from now on, on every server (within a second, no restart).");
            for k in verifying {
                println!(
                    "Key {} keeps verifying its {} live token(s) until the last expires ({}); maintenance then retires it.",
                    k.kid,
                    k.live_tokens,
                    when(k.last_expiry)
                );
            }
        }
        KeysCommand::List { data_dir, json } => {
            let (store, _) = db.open(&data_dir).await?;
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
        KeysCommand::Retire { kid, yes, data_dir, json } => {
            let (store, data_key) = db.open(&data_dir).await?;
            let report = keys::report(store.as_ref(), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(key) = report.iter().find(|k| k.kid == kid) else {
                // A refused change: the trail keeps it as a failure, as the admin API's do.
                let refused = format!("there is no token-signing key {kid} (see `edgeward keys list`)");
                let target = format!("key/signing/{kid}/retire");
                return crate::audited(store.as_ref(), KEY_ROTATE, target, async { Err::<(), _>(refused) }).await;
            };
            if key.state == KeyState::Retired {
                crate::say(
                    json,
                    serde_json::json!({ "retired": kid, "alreadyRetired": true }),
                    format!("Token-signing key {kid} was already retired."),
                );
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
            let done = crate::audited(
                store.as_ref(),
                KEY_ROTATE,
                format!("key/signing/{kid}/retire"),
                keys::retire(store.as_ref(), &data_key, &kid, clock.now()),
            )
            .await?;
            let local = data_dir.join("keys").join("token-signing.pem");
            let local_holds_it = std::fs::read_to_string(&local)
                .ok()
                .and_then(|pem| edgeward_token::SigningKeyPair::from_pkcs8_pem(&pem).ok())
                .is_some_and(|k| k.kid() == kid);
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "retired": kid,
                        "alreadyRetired": false,
                        "liveTokensRefused": key.live_tokens,
                        "added": done.replaced_by,
                        "keyFileToDelete": local_holds_it.then(|| local.display().to_string()),
                    })
                );
                return Ok(());
            }
            if let Some(new) = &done.replaced_by {
                println!("Added token-signing key {new}, which signs new tokens from now on.");
            }
            println!(
                "Retired token-signing key {kid}: its {} live token(s) are refused from now on (on every server within \
                 a second). Create replacements with `edgeward token create` (or `token rotate`).",
                key.live_tokens
            );
            if local_holds_it {
                println!(
                    "{} holds this key; the database's keys are the ones used, so it is no longer needed: delete it.",
                    local.display()
                );
            }
        }
        KeysCommand::RotateDataKey { data_dir, batch_size, prepare, settle_secs, pause_after_batches, json } => {
            let progress = Progress { json };
            rotate_data_key(db, &data_dir, batch_size, prepare, settle_secs, pause_after_batches, progress).await?
        }
    }
    Ok(())
}

/// Where `rotate-data-key` says what it does: its lines on stdout, or (with --json) nothing
/// until the one object at the end.
#[derive(Clone, Copy)]
struct Progress {
    json: bool,
}

impl Progress {
    fn line(self, text: std::fmt::Arguments<'_>) {
        if !self.json {
            println!("{text}");
            let _ = std::io::stdout().flush();
        }
    }
}

async fn rotate_data_key(
    db: &crate::Database,
    data_dir: &std::path::Path,
    batch_size: usize,
    prepare: bool,
    settle_secs: u64,
    pause_after_batches: Option<u64>,
    progress: Progress,
) -> Result<()> {
    use edgeward_core::store::Change;
    use edgeward_server::bootstrap;
    if batch_size == 0 {
        return Err(crate::usage!("--batch-size must be at least 1"));
    }
    let clock = SystemClock;
    let (store, _) = db.open(data_dir).await?;
    let keys_dir = data_dir.join("keys");
    let next = keys_dir.join(bootstrap::NEXT_DATA_KEY_FILE);
    let (key, made) = bootstrap::begin_data_key_rotation(&keys_dir)?;
    let id = hex::encode(key.id());
    if made {
        progress.line(format_args!("Wrote the new data key {id} to {}.", next.display()));
    } else {
        progress.line(format_args!("Resuming the rotation to data key {id} ({}).", next.display()));
    }
    progress.line(format_args!(
        "Servers with data directories of their own need this file in their keys/ too: copy it there before the \
         values are sealed again (`--prepare` stops here); servers sharing this data directory need nothing."
    ));
    // Servers read their key files again and seal with the new key from then on.
    store.announce(Change::DataKey(id.clone()), clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if prepare {
        crate::say(
            progress.json,
            serde_json::json!({ "dataKey": id, "prepared": true, "nextKeyFile": next.display().to_string() }),
            "Prepared. Run `edgeward keys rotate-data-key` again (without --prepare) to seal every value again.".into(),
        );
        return Ok(());
    }
    if settle_secs > 0 {
        tokio::time::sleep(std::time::Duration::from_secs(settle_secs)).await;
    }
    let mut batches = 0u64;
    let mut total = 0u64;
    // Passes until one finds nothing left: a server still sealing with the old key during a pass
    // leaves values the next pass takes.
    let bad = loop {
        let (resealed, bad) = keys::reseal_pass(store.as_ref(), &key, batch_size, |b| {
            batches += 1;
            total += b.resealed;
            progress.line(format_args!(
                "batch {batches}: sealed {} value(s) of {} again ({total} in all)",
                b.resealed, b.column
            ));
            if pause_after_batches.is_some_and(|n| batches >= n) {
                progress.line(format_args!("paused after {batches} batch(es)"));
                loop {
                    std::thread::park();
                }
            }
            true
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if resealed == 0 || !bad.is_empty() {
            break bad;
        }
    };
    if !bad.is_empty() {
        bail!(
            "{} value(s) open with neither keys/data.key nor keys/data.key.next, and were left as they are: {}. The \
             rotation is not complete; keys/data.key is kept.",
            bad.len(),
            bad.join(", ")
        );
    }
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let old = bootstrap::finish_data_key_rotation(&keys_dir, &stamp)?;
    crate::audited(
        store.as_ref(),
        KEY_ROTATE,
        format!("key/data/{id}"),
        store.announce(Change::DataKey(id.clone()), clock.now()),
    )
    .await?;
    if progress.json {
        println!(
            "{}",
            serde_json::json!({ "dataKey": id, "prepared": false, "resealed": total, "oldKeyKept": old.display().to_string() })
        );
        return Ok(());
    }
    println!(
        "Done: every sealed value is now sealed with data key {id} ({total} sealed again), which is keys/data.key."
    );
    println!("The old key is kept as {}: delete it once no backup made before this rotation is needed.", old.display());
    println!(
        "Servers with data directories of their own: replace their keys/data.key with the new one and remove their \
         keys/data.key.next (until then they keep working: data.key.next seals, data.key opens)."
    );
    Ok(())
}
