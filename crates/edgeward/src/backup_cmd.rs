//! `edgeward backup` and `edgeward restore`: a consistent copy of a SQLite installation taken
//! while its servers serve, and putting one back into a data directory. The file's format is
//! `backup_file`'s; the copy itself is `edgeward_store::backup`. PostgreSQL installations are
//! backed up with `pg_dump` (docs/operations.md).
//!
//! Everything is checked before anything is written: `backup` writes a temporary file beside
//! `--to` and renames it; `restore` builds the new data directory beside the target, checks it
//! opens (the database's integrity, its schema, and with the keys, that the data key opens the
//! signing keys), and only then renames it into place.
#![allow(
    clippy::disallowed_methods,
    reason = "the CLI reads the data directory and writes and reads the operator's backup files"
)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};

use crate::backup_file::{self as file, KeyFile, Manifest};
use crate::{say, usage, Database};
use edgeward_server::bootstrap;

/// The environment variable a passphrase may come from (not a flag: a flag's value shows in the
/// process list).
pub const PASSPHRASE_ENV: &str = "EDGEWARD_BACKUP_PASSPHRASE";

/// The key files a database cannot be opened without, when present in the data directory.
const NEEDED: &[&str] = &["keys/data.key", "keys/data.key.next"];
/// The other secrets and files of a data directory that `--include-keys` seals along: the first
/// administrator's credentials, the generated certificate, the seed signing key and the one-time
/// password, when present. Without them a restored server makes a new certificate, and an
/// administrator makes new credentials with `edgeward apiclient create`.
const ALSO: &[&str] = &["keys/token-signing.pem", "edgerc", "tls/cert.pem", "tls/key.pem", "admin-password"];

/// `edgeward backup`.
#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (a tar archive, see docs/operations.md); its directory must exist.
    #[arg(long)]
    to: PathBuf,
    /// The data directory of the installation (a server may be running on it).
    #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
    data_dir: PathBuf,
    /// Replace --to when it exists.
    #[arg(long)]
    overwrite: bool,
    /// Put the key files (keys/data.key, …), the edgerc and the certificate in the backup too,
    /// sealed with a passphrase (Argon2id, XChaCha20-Poly1305). Without it they are NOT in the
    /// backup: keep a copy of them apart.
    #[arg(long)]
    include_keys: bool,
    /// A file whose first line is the passphrase [else EDGEWARD_BACKUP_PASSPHRASE, else a prompt].
    #[arg(long, requires = "include_keys")]
    passphrase_file: Option<PathBuf>,
    /// Machine-readable JSON on stdout (errors too).
    #[arg(long)]
    pub json: bool,
}

/// `edgeward restore`.
#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file (made by `edgeward backup`).
    #[arg(long)]
    from: PathBuf,
    /// The data directory to restore into: new or empty, or with --force one that holds an
    /// installation (moved aside to <data-dir>.replaced-<time>, not deleted). No server may run on it.
    #[arg(long, env = "EDGEWARD_DATA_DIR")]
    data_dir: PathBuf,
    /// Restore over a data directory that holds an installation or other files.
    #[arg(long)]
    force: bool,
    /// A file whose first line is the passphrase of the backup's keys [else
    /// EDGEWARD_BACKUP_PASSPHRASE, else a prompt].
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Machine-readable JSON on stdout (errors too).
    #[arg(long)]
    pub json: bool,
}

/// The passphrase: from `--passphrase-file`, the environment, or the terminal (twice when
/// `confirm`). A usage error when there is none.
fn passphrase(file: Option<&Path>, confirm: bool) -> Result<String> {
    let phrase = if let Some(f) = file {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read --passphrase-file {}", f.display()))?;
        text.lines().next().unwrap_or("").to_owned()
    } else if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        p
    } else {
        let first = rpassword::prompt_password("Passphrase for the backup's keys: ").map_err(|_| {
            usage!("no passphrase: pass --passphrase-file FILE or set {PASSPHRASE_ENV} (there is no terminal to ask)")
        })?;
        if confirm {
            let again = rpassword::prompt_password("The same passphrase again: ")
                .map_err(|_| usage!("no passphrase: pass --passphrase-file FILE or set {PASSPHRASE_ENV}"))?;
            if again != first {
                return Err(usage!("the two passphrases differ; nothing was written"));
            }
        }
        first
    };
    if phrase.is_empty() {
        return Err(usage!("the passphrase is empty: pass --passphrase-file FILE or set {PASSPHRASE_ENV}"));
    }
    if confirm && phrase.chars().count() < file::MIN_PASSPHRASE_CHARS {
        return Err(usage!("the passphrase must be at least {} characters", file::MIN_PASSPHRASE_CHARS));
    }
    Ok(phrase)
}

fn sha256_file(path: &Path) -> Result<(u64, Vec<u8>)> {
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut f, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((bytes, hasher.finalize().to_vec()))
}

fn tar_header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// The directory a path lives in (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `edgeward backup`.
pub async fn backup(args: BackupArgs, db: &Database) -> Result<()> {
    let BackupArgs { to, data_dir, overwrite, include_keys, passphrase_file, json } = args;
    // The target first: nothing is copied for a file that could not be written.
    let target_dir = parent_of(&to);
    if !target_dir.is_dir() {
        return Err(anyhow!(
            "--to {}: the directory {} does not exist; create it first or choose another path",
            to.display(),
            target_dir.display()
        ));
    }
    if to.is_dir() {
        return Err(anyhow!(
            "--to {} is a directory: give a file name, e.g. {}/edgeward.backup",
            to.display(),
            to.display()
        ));
    }
    if to.exists() && !overwrite {
        return Err(anyhow!("--to {} exists; pass --overwrite to replace it, or choose another path", to.display()));
    }
    // An installation first (the data key, whatever the database), then which kind it is.
    bootstrap::require_installation(&data_dir, true)?;
    if db.url().is_some() {
        bail!(
            "this installation's database is PostgreSQL: back it up with pg_dump, and keep its data directory's keys \
             apart (see docs/operations.md); `edgeward backup` copies SQLite installations"
        );
    }
    let database = data_dir.join(file::DATABASE);
    if !database.is_file() {
        bail!(
            "{} has keys but no {} : its database is PostgreSQL (pass its --database to other commands); back it up \
             with pg_dump, see docs/operations.md",
            data_dir.display(),
            file::DATABASE
        );
    }
    let phrase = if include_keys { Some(passphrase(passphrase_file.as_deref(), true)?) } else { None };
    let needed: Vec<String> = NEEDED.iter().filter(|f| data_dir.join(f).is_file()).map(|f| (*f).to_owned()).collect();
    let also: Vec<String> = ALSO.iter().filter(|f| data_dir.join(f).is_file()).map(|f| (*f).to_owned()).collect();

    let work = tempfile::Builder::new()
        .prefix(".edgeward-backup-")
        .tempdir_in(&target_dir)
        .with_context(|| format!("cannot write in {}", target_dir.display()))?;
    let copy = work.path().join(file::DATABASE);
    let created_at = crate::now();
    let (src, dst) = (database.clone(), copy.clone());
    let schema_version = tokio::task::spawn_blocking(move || edgeward_store::backup::sqlite_snapshot(&src, &dst))
        .await
        .context("the copy stopped")?
        .map_err(|e| anyhow!("{}", e.log_detail()))?;
    let (bytes, sha) = sha256_file(&copy)?;

    let mut sealed_files = Vec::new();
    let bundle = match &phrase {
        Some(phrase) => {
            let mut files = Vec::new();
            for rel in needed.iter().chain(&also) {
                let path = data_dir.join(rel);
                let contents = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let mode = fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o600);
                files.push(KeyFile { path: rel.clone(), mode, hex: hex::encode(contents) });
                sealed_files.push(rel.clone());
            }
            Some(file::seal_keys(&files, phrase, &sha).map_err(|e| anyhow!("{e}"))?)
        }
        None => None,
    };
    let manifest = Manifest {
        format: file::FORMAT.into(),
        format_version: file::FORMAT_VERSION,
        edgeward_version: env!("CARGO_PKG_VERSION").into(),
        created_at: created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        schema_version,
        database: file::DatabaseEntry { bytes, sha256: hex::encode(&sha) },
        keys: file::KeysEntry {
            needed: needed.clone(),
            included: bundle.is_some(),
            sealed_files: sealed_files.clone(),
        },
    };
    let mut manifest_json = serde_json::to_vec_pretty(&manifest)?;
    manifest_json.push(b'\n');

    let mtime = u64::try_from(created_at.timestamp()).unwrap_or(0);
    let out = tempfile::Builder::new()
        .prefix(".edgeward-backup-")
        .suffix(".tmp")
        .tempfile_in(&target_dir)
        .with_context(|| format!("cannot write in {}", target_dir.display()))?;
    let mut tar = tar::Builder::new(out);
    let write_err = || format!("cannot write {}", to.display());
    tar.append_data(&mut tar_header(len(&manifest_json), mtime), file::MANIFEST, manifest_json.as_slice())
        .with_context(write_err)?;
    let db_file = fs::File::open(&copy).with_context(|| format!("cannot read {}", copy.display()))?;
    tar.append_data(&mut tar_header(bytes, mtime), file::DATABASE, db_file).with_context(write_err)?;
    if let Some(bundle) = &bundle {
        tar.append_data(&mut tar_header(len(bundle), mtime), file::KEYS, bundle.as_slice()).with_context(write_err)?;
    }
    let out = tar.into_inner().with_context(write_err)?;
    out.as_file().sync_all().with_context(write_err)?;
    let persisted = if overwrite { out.persist(&to) } else { out.persist_noclobber(&to) };
    persisted.map_err(|e| anyhow!("cannot write {}: {}", to.display(), e.error))?;
    fs::File::open(&target_dir).and_then(|d| d.sync_all()).with_context(write_err)?;
    let size = fs::metadata(&to).map(|m| m.len()).unwrap_or(0);

    let mut text = format!(
        "Backed up {} (schema version {schema_version}, {bytes} bytes, one consistent snapshot at {}) to {} ({size} bytes).\n",
        database.display(),
        manifest.created_at,
        to.display()
    );
    if bundle.is_some() {
        text.push_str(&format!(
            "Sealed with your passphrase in the backup: {}. Without the passphrase they cannot be restored.",
            sealed_files.join(", ")
        ));
    } else {
        text.push_str(&format!(
            "NOT in the backup: the key files {} of {} (without them the database's tokens, client secrets and \
             signing keys cannot be opened), nor {}. Keep a copy of them apart from the backup, or pass \
             --include-keys to seal them into it with a passphrase.",
            needed.join(", "),
            data_dir.display(),
            if also.is_empty() { "anything else of the data directory".to_owned() } else { also.join(", ") }
        ));
    }
    say(
        json,
        serde_json::json!({ "backup": {
            "file": to.display().to_string(), "bytes": size, "createdAt": manifest.created_at,
            "schemaVersion": schema_version, "database": { "bytes": bytes, "sha256": manifest.database.sha256 },
            "keyFilesNeeded": needed, "keysIncluded": bundle.is_some(), "sealedFiles": sealed_files,
            "notIncluded": if bundle.is_some() { Vec::new() } else { needed.iter().chain(&also).cloned().collect() },
        }}),
        text,
    );
    Ok(())
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// A writer that hashes what it passes on.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What a backup file held, once read into a staging directory.
struct Unpacked {
    manifest: Manifest,
    /// The sealed key bundle, when the backup has one.
    keys: Option<Vec<u8>>,
}

fn damaged(from: &Path, what: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{} is not an intact Edgeward backup: {what}; nothing was restored", from.display())
}

/// Read the backup `from`: its manifest (checked first), the database into `staging` (its size
/// and SHA-256 checked), the key bundle into memory.
fn unpack(from: &Path, staging: &Path) -> Result<Unpacked> {
    let f = fs::File::open(from).with_context(|| format!("cannot read --from {}", from.display()))?;
    let mut archive = tar::Archive::new(f);
    let mut entries = archive.entries().map_err(|e| damaged(from, e))?;
    let not_backup =
        || anyhow!("{} is not an Edgeward backup (made by `edgeward backup`); nothing was restored", from.display());
    let mut first = entries.next().ok_or_else(not_backup)?.map_err(|_| not_backup())?;
    if first.path().map_err(|_| not_backup())?.as_os_str() != file::MANIFEST {
        return Err(not_backup());
    }
    let mut text = String::new();
    first.by_ref().take(1 << 16).read_to_string(&mut text).map_err(|_| not_backup())?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|_| not_backup())?;
    if manifest.format != file::FORMAT {
        return Err(not_backup());
    }
    if manifest.format_version > file::FORMAT_VERSION {
        bail!(
            "{} is an Edgeward backup of format {}, newer than this Edgeward reads ({}): restore it with Edgeward {} or later",
            from.display(),
            manifest.format_version,
            file::FORMAT_VERSION,
            manifest.edgeward_version
        );
    }
    let newest = edgeward_store::migrate::newest_version();
    if manifest.schema_version > newest {
        bail!(
            "{} holds schema version {}, newer than this Edgeward knows ({newest}): restore it with Edgeward {} or later",
            from.display(),
            manifest.schema_version,
            manifest.edgeward_version
        );
    }
    let mut keys = None;
    let mut database = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(from, e))?;
        let name = entry.path().map_err(|e| damaged(from, e))?.to_string_lossy().into_owned();
        if name == file::DATABASE && database.is_none() {
            let path = staging.join(file::DATABASE);
            let out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = Hashing { inner: out, hasher: Sha256::new() };
            let n = std::io::copy(&mut entry, &mut out).map_err(|e| damaged(from, e))?;
            out.inner.sync_all().with_context(|| format!("cannot write {}", path.display()))?;
            database = Some((n, hex::encode(out.hasher.finalize())));
        } else if name == file::KEYS && keys.is_none() && manifest.keys.included {
            let mut bundle = Vec::new();
            entry.by_ref().take(1 << 20).read_to_end(&mut bundle).map_err(|e| damaged(from, e))?;
            keys = Some(bundle);
        } else {
            return Err(damaged(from, format!("unexpected member {name:?}")));
        }
    }
    match database {
        Some((n, sha)) if n == manifest.database.bytes && sha == manifest.database.sha256 => {}
        Some(_) => return Err(damaged(from, "the database's size or SHA-256 is not the manifest's")),
        None => return Err(damaged(from, "the database is missing")),
    }
    if manifest.keys.included && keys.is_none() {
        return Err(damaged(from, "its keys are missing"));
    }
    Ok(Unpacked { manifest, keys })
}

/// What the data directory to restore into holds.
enum Target {
    /// Nothing there yet.
    Absent,
    /// A directory with nothing in it (but a serve.lock).
    Empty,
    /// An installation, or other files: replaced only with --force.
    Occupied(&'static str),
}

fn target_state(dir: &Path) -> Result<Target> {
    if !dir.exists() {
        return Ok(Target::Absent);
    }
    if !dir.is_dir() {
        return Err(anyhow!("--data-dir {} is a file, not a directory", dir.display()));
    }
    if dir.join(NEEDED[0]).exists() || dir.join(file::DATABASE).exists() {
        return Ok(Target::Occupied("holds an installation"));
    }
    let mut others = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if others.any(|e| e.map(|e| e.file_name() != bootstrap::SERVE_LOCK_FILE).unwrap_or(true)) {
        return Ok(Target::Occupied("holds other files"));
    }
    Ok(Target::Empty)
}

fn private_dirs(root: &Path, rel: &Path) -> Result<()> {
    let mut dir = root.to_owned();
    for part in rel.parent().into_iter().flat_map(|p| p.components()) {
        dir.push(part);
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    Ok(())
}

/// `edgeward restore`.
pub async fn restore(args: RestoreArgs, db: &Database) -> Result<()> {
    let RestoreArgs { from, data_dir, force, passphrase_file, json } = args;
    if db.url().is_some() {
        bail!(
            "--database names PostgreSQL: restore its pg_dump with pg_restore and copy the data directory's keys back \
             (see docs/operations.md); `edgeward restore` restores SQLite installations"
        );
    }
    if !from.is_file() {
        return Err(anyhow!("--from {}: no such file", from.display()));
    }
    let state = target_state(&data_dir)?;
    if let (Target::Occupied(what), false) = (&state, force) {
        return Err(anyhow!(
            "--data-dir {} {what}; restore into a new or empty directory, or pass --force to move it aside \
             (to {}.replaced-<time>) and restore in its place",
            data_dir.display(),
            data_dir.display()
        ));
    }
    // Held until the new directory is in place: no server starts on the old one meanwhile.
    let _lock = match state {
        Target::Absent => None,
        _ => match bootstrap::lock_exclusively(&data_dir)? {
            Some(lock) => Some(lock),
            None => bail!(
                "a server is running on {} (it holds {}): stop every server on it first",
                data_dir.display(),
                data_dir.join(bootstrap::SERVE_LOCK_FILE).display()
            ),
        },
    };
    let parent = parent_of(&data_dir);
    if !parent.is_dir() {
        return Err(anyhow!("--data-dir {}: the directory {} does not exist", data_dir.display(), parent.display()));
    }
    let staging = tempfile::Builder::new()
        .prefix(".edgeward-restore-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", staging.path().display()))?;
    let Unpacked { manifest, keys } = unpack(&from, staging.path())?;
    let db_path = staging.path().join(file::DATABASE);
    let checked = tokio::task::spawn_blocking({
        let p = db_path.clone();
        move || edgeward_store::backup::check_copy(&p)
    })
    .await
    .context("the check stopped")?
    .map_err(|e| damaged(&from, e.log_detail()))?;
    if checked != manifest.schema_version {
        return Err(damaged(&from, "the database's schema version is not the manifest's"));
    }
    let sha = hex::decode(&manifest.database.sha256).map_err(|e| damaged(&from, e))?;
    // keys/ is there either way (0700), for the key files to be restored or copied back into.
    private_dirs(staging.path(), Path::new("keys/data.key"))?;
    let mut restored = Vec::new();
    if let Some(bundle) = &keys {
        let phrase = passphrase(passphrase_file.as_deref(), false)?;
        let files = file::open_keys(bundle, &phrase, &sha).map_err(|e| anyhow!("{e}; nothing was restored"))?;
        for f in files {
            let rel = Path::new(&f.path);
            if rel.is_absolute() || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
                return Err(damaged(&from, format!("a key file outside the data directory: {:?}", f.path)));
            }
            private_dirs(staging.path(), rel)?;
            let path = staging.path().join(rel);
            let contents = hex::decode(&f.hex).map_err(|e| damaged(&from, e))?;
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(f.mode & 0o700)
                .open(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            out.write_all(&contents)
                .and_then(|_| out.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            restored.push(f.path);
        }
        // The restored installation opens as `serve` opens it: the data key opens the signing
        // keys (an older schema is brought up to date on the way).
        let (store, _) = db.open(staging.path()).await.context("the restored installation does not open")?;
        drop(store);
    }

    let stamp = crate::now().format("%Y%m%dT%H%M%SZ");
    let mut moved_aside = None;
    match state {
        Target::Absent => {}
        Target::Empty => {
            let lock = data_dir.join(bootstrap::SERVE_LOCK_FILE);
            if lock.exists() {
                fs::remove_file(&lock).with_context(|| format!("cannot remove {}", lock.display()))?;
            }
            fs::remove_dir(&data_dir).with_context(|| format!("cannot replace the empty {}", data_dir.display()))?;
        }
        Target::Occupied(_) => {
            let mut aside = data_dir.as_os_str().to_owned();
            aside.push(format!(".replaced-{stamp}"));
            let aside = PathBuf::from(aside);
            fs::rename(&data_dir, &aside).with_context(|| format!("cannot move {} aside", data_dir.display()))?;
            moved_aside = Some(aside);
        }
    }
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, &data_dir) {
        bail!(
            "cannot move the restored directory {} to {}: {e}{}",
            staged.display(),
            data_dir.display(),
            moved_aside
                .as_ref()
                .map(|a| format!(" (the previous directory is at {})", a.display()))
                .unwrap_or_default()
        );
    }
    fs::File::open(&parent).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync {}", parent.display()))?;

    let dir = data_dir.display();
    let mut text = format!(
        "Restored {} (taken at {}, schema version {}) into {dir}.\n",
        from.display(),
        manifest.created_at,
        manifest.schema_version
    );
    if let Some(a) = &moved_aside {
        text.push_str(&format!("The previous directory is kept at {}.\n", a.display()));
    }
    if restored.is_empty() {
        text.push_str(&format!(
            "The backup holds no keys: copy {} of the original data directory into {dir} (same paths, mode 0600) \
             before starting a server (a server started without them makes a new data key, which does not open \
             the database, and refuses to start: then copy them over it). The administrator's edgerc and the \
             certificate (tls/) were not in the backup either: copy them too to keep the same credentials and \
             certificate, or, once a server runs, make credentials with `edgeward apiclient create NAME --grants ALL \
             --host ADDRESS --data-dir {dir}`.\n",
            manifest.keys.needed.join(", ")
        ));
    } else {
        text.push_str(&format!("Keys and files restored: {}.\n", restored.join(", ")));
    }
    text.push_str(&format!("Next: edgeward serve --data-dir {dir}"));
    say(
        json,
        serde_json::json!({ "restore": {
            "from": from.display().to_string(), "dataDir": dir.to_string(), "createdAt": manifest.created_at,
            "schemaVersion": manifest.schema_version, "restoredFiles": restored,
            "keyFilesToCopy": if keys.is_some() { Vec::new() } else { manifest.keys.needed.clone() },
            "movedAside": moved_aside.map(|a| a.display().to_string()),
        }}),
        text,
    );
    Ok(())
}
