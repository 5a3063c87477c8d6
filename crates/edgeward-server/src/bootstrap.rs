//! First start and every start: the data directory and what lives in it.
//!
//! ```text
//! <data-dir>/            0700
//!   edgeward.db          SQLite database (WAL, 0600), unless `database.url` names PostgreSQL
//!   nonces/              EdgeGrid nonces of signed requests, a file per minute (SQLite only; 0700)
//!   keys/                0700
//!     token-signing.pem  Ed25519 key that signs token values (PKCS#8, 0600), made at the first
//!                        start on an empty database and added to it; afterwards the keys in the
//!                        database (sealed with data.key) are the ones used, by every server
//!     data.key           key that seals token values and uuids, client secrets, signing keys and
//!                        the token-ref index key (hex, 0600)
//!     data.key.next      while `edgeward keys rotate-data-key` runs: the new data key, which
//!                        seals from then on (data.key still opens what it sealed)
//!     data.key.old-<time>  the previous data key, kept by a completed rotation
//!   tls/cert.pem, tls/key.pem   self-signed certificate for 127.0.0.1/localhost (key 0600),
//!                        valid a year and made anew at a start within 30 days of its end
//!   edgerc               EdgeGrid credentials of the first administrator, section [default]
//!   admin-password       the `admin` user's one-time initial password (0600), written at the
//!                        first start on an empty database and removed when the password is
//!                        changed (`edgeward user set-password admin`)
//!   serve.lock           empty; every running server holds a shared flock(2) on it, and
//!                        `edgeward restore` an exclusive one (see [`lock_for_serving`])
//! ```
//! The first start on an empty database (no user, no API client) makes the `admin` user, with
//! every grant, and the administrator API client it owns, in one transaction
//! (`create_first_administrator`): servers starting together on one database make them once.
//! Everything is created once and reused. `edgerc` is written once, when its client is made, and
//! never rewritten by a server (an operator may point it at a load balancer, and a second server
//! on the directory must not re-point it); a start whose admin listener is elsewhere says so and
//! names `edgeward edgerc set-host`. This module is the only one of the server that touches files: it
//! also reads, once at start, the files the settings name outside the data directory (the
//! certificate and key an operator gives, the SMTP password and CA certificate, the webhook
//! secret, the metrics bearer token) and the host name, and passes their contents on.
#![allow(
    clippy::disallowed_methods,
    reason = "bootstrap is where the server touches files: the data directory (database, keys, certificate, edgerc) and, once at start, the files the settings name"
)]

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rand::Rng;

use chrono::{DateTime, Utc};
use edgeward_core::capability::Grants;
use edgeward_core::clock::{Clock, SystemClock};
use edgeward_core::names::ClientName;
use edgeward_core::notify::User;
use edgeward_core::store::{Account, ApiClient, Store, StoredSigningKey};
use edgeward_edgegrid::Credentials;
use edgeward_store::{PostgresOptions, PostgresStore, SqliteOptions, SqliteStore};

use crate::config::DatabaseConfig;
use crate::keys::{KeySnapshot, Sealer};
use edgeward_token::{DataKey, SigningKeyPair};

/// Why the data directory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// A file or directory operation failed.
    #[error("{what} {path}: {cause}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// The cause, said in the message (not a `source`: it would be said twice).
        cause: std::io::Error,
    },
    /// A key file exists but is not usable.
    #[error("{0}")]
    Key(String),
    /// The certificate could not be made or loaded.
    #[error("{0}")]
    Tls(String),
    /// The database refused to open or initialize.
    #[error("database: {0}")]
    Store(String),
    /// An administration command was pointed at a data directory that holds no installation.
    #[error(
        "{} holds no Edgeward installation ({} is missing): pass the --data-dir (and --database) of an installation, or start `edgeward serve --data-dir {}` once to make one",
        data_dir.display(),
        missing.display(),
        data_dir.display()
    )]
    NoInstallation {
        /// The data directory looked at.
        data_dir: PathBuf,
        /// The file that would be there.
        missing: PathBuf,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BootError + 'a {
    move |cause| BootError::Io { what, path: path.to_owned(), cause }
}

/// What a prepared data directory provides.
#[derive(Clone)]
pub struct Prepared {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The account's CP code (fixed once the account is initialized, which `prepare` ensures).
    pub cpcode: String,
    /// Signing keys.
    pub keys: KeySnapshot,
    /// Sealing key (with any key still opening).
    pub data_key: DataKey,
    /// The store's token-ref data key, kept equal to the server's as it changes.
    pub data_key_cell: Option<edgeward_store::DataKeyCell>,
    /// Certificate (PEM) path.
    pub tls_cert: PathBuf,
    /// Key (PEM) path.
    pub tls_key: PathBuf,
    /// The certificate and key as read from `tls_cert` and `tls_key` at start.
    pub tls_pem: crate::tls::PemPair,
    /// The administrator's `edgerc` path.
    pub edgerc: PathBuf,
    /// Whether this start made the installation's first administrator (a new installation).
    pub first_start: bool,
    /// The shared lock on `serve.lock`, held as long as the server runs.
    pub serve_lock: Arc<fs::File>,
}

/// The file of a data directory that every server running on it holds a shared `flock(2)` on,
/// and that `edgeward restore` locks exclusively: a restore never replaces a directory a server
/// is using, and no server starts on a directory while it is restored. Several servers may share
/// a data directory (the shared lock lets them).
pub const SERVE_LOCK_FILE: &str = "serve.lock";

fn open_lock_file(dir: &Path) -> Result<fs::File, BootError> {
    let path = dir.join(SERVE_LOCK_FILE);
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io("cannot open", &path))
}

/// Take the shared lock a running server holds on `dir` (it exists): refused while
/// `edgeward restore` holds the exclusive one. The lock lasts as long as the file returned.
pub fn lock_for_serving(dir: &Path) -> Result<fs::File, BootError> {
    let file = open_lock_file(dir)?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(BootError::Key(format!(
            "{} is being restored (`edgeward restore` holds {}); start the server once the restore has finished",
            dir.display(),
            SERVE_LOCK_FILE
        ))),
        Err(e) => Err(io("cannot lock", &dir.join(SERVE_LOCK_FILE))(e.into())),
    }
}

/// Take the exclusive lock on the data directory `dir` (it exists), for `edgeward restore`:
/// `None` while a server runs on it (holds the shared lock). The lock lasts as long as the file
/// returned.
pub fn lock_exclusively(dir: &Path) -> Result<Option<fs::File>, BootError> {
    let file = open_lock_file(dir)?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(file)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(io("cannot lock", &dir.join(SERVE_LOCK_FILE))(e.into())),
    }
}

fn ensure_private_dir(p: &Path) -> Result<(), BootError> {
    fs::create_dir_all(p).map_err(io("cannot create", p))?;
    fs::set_permissions(p, fs::Permissions::from_mode(0o700)).map_err(io("cannot restrict", p))
}

/// Write a file readable by the owner only, atomically (temporary file, fsync, rename).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), BootError> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("cannot write", &tmp))?;
    f.write_all(contents).and_then(|_| f.sync_all()).map_err(io("cannot write", &tmp))?;
    fs::rename(&tmp, path).map_err(io("cannot write", path))
}

/// Open the database and the data key of an existing installation, for the administration
/// commands: SQLite in the data directory, or the PostgreSQL database of `db.url`, waiting up to
/// `db.connect_wait_secs` for PostgreSQL to answer. A data directory that holds no installation
/// (no `keys/data.key`; on SQLite, no `edgeward.db` either) is refused with the path looked at,
/// and nothing is created: only `edgeward serve` makes an installation.
/// That `data_dir` holds an installation: its data key, and (unless the database is elsewhere,
/// `external_database`) its SQLite database. The one test every administration command makes
/// before it reads or writes anything; only `serve` creates an installation.
pub fn require_installation(data_dir: &Path, external_database: bool) -> Result<(), BootError> {
    let key = data_dir.join("keys").join("data.key");
    let sqlite = data_dir.join("edgeward.db");
    let missing = if !key.is_file() {
        Some(key)
    } else if !external_database && !sqlite.is_file() {
        Some(sqlite)
    } else {
        None
    };
    match missing {
        Some(missing) => Err(BootError::NoInstallation { data_dir: data_dir.to_owned(), missing }),
        None => Ok(()),
    }
}

/// `now` stamps what opening creates (the token-ref index key, once per database).
pub async fn open_store(
    data_dir: &Path,
    db: &DatabaseConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Arc<dyn Store>, DataKey), BootError> {
    require_installation(data_dir, db.url.is_some())?;
    open_store_with_cell(data_dir, db, now).await.map(|(s, k, _)| (s, k))
}

/// Open the database and the data key of a data directory, creating both if absent (what a
/// server's start does; [`open_store`] is the administration commands' way in), with the
/// store's [`DataKeyCell`] (what a server updates when it reads its key files again).
pub async fn open_store_with_cell(
    data_dir: &Path,
    db: &DatabaseConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Arc<dyn Store>, DataKey, edgeward_store::DataKeyCell), BootError> {
    let cell;
    ensure_private_dir(data_dir)?;
    let keys_dir = data_dir.join("keys");
    ensure_private_dir(&keys_dir)?;
    load_or_create_data_key(&keys_dir.join("data.key"))?;
    let data_key = load_data_keys(&keys_dir)?;
    let map_store = |e: edgeward_core::Error| BootError::Store(e.log_detail());
    let store: Arc<dyn Store> = match &db.url {
        None => {
            let path = data_dir.join("edgeward.db");
            let sqlite = SqliteStore::open(&path, SqliteOptions::default()).map_err(map_store)?;
            check_data_key(&sqlite, &data_key).await?;
            cell = Some(sqlite.open_references(&data_key, now).await.map_err(map_store)?);
            Arc::new(sqlite)
        }
        Some(url) => {
            let pg = connect_postgres(url, db).await?;
            check_data_key(&pg, &data_key).await?;
            cell = Some(pg.open_references(&data_key, now).await.map_err(map_store)?);
            Arc::new(pg)
        }
    };
    let cell = cell.ok_or_else(|| BootError::Store("token refs not opened".into()))?;
    Ok((store, data_key, cell))
}

/// A data directory new to this database would otherwise seal with a key of its own what the
/// other servers cannot open: refuse unless its data key opens the database's signing keys.
async fn check_data_key(store: &dyn Store, data_key: &DataKey) -> Result<(), BootError> {
    let stored = store.signing_keys().await.map_err(|e| BootError::Store(e.log_detail()))?;
    if let Some(k) = stored.first() {
        if data_key.open(&k.sealed_pkcs8, k.kid.as_bytes()).is_err() {
            return Err(wrong_data_key(&k.kid));
        }
    }
    Ok(())
}

fn wrong_data_key(kid: &str) -> BootError {
    BootError::Key(format!(
        "the database's token-signing key {kid} cannot be unsealed with this data directory's data key: every \
         server (and every administration command) on one database needs the same keys/data.key (and, while a \
         data-key rotation runs, keys/data.key.next)"
    ))
}

/// The data key file of a data directory's `keys/`.
pub const DATA_KEY_FILE: &str = "data.key";
/// The new data key while a rotation runs.
pub const NEXT_DATA_KEY_FILE: &str = "data.key.next";

fn read_data_key(path: &Path) -> Result<DataKey, BootError> {
    let text = fs::read_to_string(path).map_err(io("cannot read", path))?;
    let bytes =
        hex::decode(text.trim()).map_err(|_| BootError::Key(format!("{} is not a hex data key", path.display())))?;
    DataKey::from_bytes(&bytes).map_err(|e| BootError::Key(format!("{}: {e}", path.display())))
}

/// The data key of `keys_dir`: `data.key`, or while a rotation runs `data.key.next`, which then
/// seals, with `data.key` still opening.
pub fn load_data_keys(keys_dir: &Path) -> Result<DataKey, BootError> {
    let current = read_data_key(&keys_dir.join(DATA_KEY_FILE))?;
    let next = keys_dir.join(NEXT_DATA_KEY_FILE);
    if next.exists() {
        return Ok(read_data_key(&next)?.also_opening(&current));
    }
    Ok(current)
}

/// Start a data-key rotation: write a new `data.key.next` unless one is there (a rotation
/// resumed); returns the data key with it sealing and whether it was made now.
pub fn begin_data_key_rotation(keys_dir: &Path) -> Result<(DataKey, bool), BootError> {
    let next = keys_dir.join(NEXT_DATA_KEY_FILE);
    let made = !next.exists();
    if made {
        write_private(&next, format!("{}\n", hex::encode(DataKey::generate_bytes())).as_bytes())?;
        tracing::info!(path = %next.display(), "created the next data-encryption key");
    }
    Ok((load_data_keys(keys_dir)?, made))
}

/// Finish a data-key rotation once nothing is sealed with the old key: the old `data.key` is kept
/// as `data.key.old-<stamp>`, and `data.key.next` becomes `data.key` (a rename: at every moment
/// `data.key` holds a key that opens what the database holds). Returns the old key's new path.
pub fn finish_data_key_rotation(keys_dir: &Path, stamp: &str) -> Result<PathBuf, BootError> {
    let current = keys_dir.join(DATA_KEY_FILE);
    let next = keys_dir.join(NEXT_DATA_KEY_FILE);
    let old = keys_dir.join(format!("{DATA_KEY_FILE}.old-{stamp}"));
    let bytes = fs::read(&current).map_err(io("cannot read", &current))?;
    write_private(&old, &bytes)?;
    fs::rename(&next, &current).map_err(io("cannot rename", &next))?;
    fs::File::open(keys_dir).and_then(|d| d.sync_all()).map_err(io("cannot sync", keys_dir))?;
    Ok(old)
}

async fn connect_postgres(url: &str, db: &DatabaseConfig) -> Result<PostgresStore, BootError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(BootError::Store(format!(
            "unsupported database URL {}: give a postgres:// URL, or none for SQLite",
            db.describe()
        )));
    }
    let opts = PostgresOptions { max_connections: db.max_connections, ..PostgresOptions::default() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(db.connect_wait_secs);
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        match PostgresStore::connect(url, opts.clone()).await {
            Ok(store) => return Ok(store),
            Err(edgeward_core::Error::Unavailable(e)) if std::time::Instant::now() < deadline => {
                tracing::warn!(database = %db.describe(), error = %e, retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "PostgreSQL is not reachable yet; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
            }
            Err(e) => return Err(BootError::Store(format!("{}: {}", db.describe(), e.log_detail()))),
        }
    }
}

fn load_or_create_data_key(path: &Path) -> Result<DataKey, BootError> {
    if path.exists() {
        return read_data_key(path);
    }
    let bytes = DataKey::generate_bytes();
    write_private(path, format!("{}\n", hex::encode(bytes)).as_bytes())?;
    tracing::info!(path = %path.display(), "created the data-encryption key");
    DataKey::from_bytes(&bytes).map_err(|e| BootError::Key(e.to_string()))
}

fn load_or_create_signing_key(path: &Path) -> Result<SigningKeyPair, BootError> {
    if path.exists() {
        let pem = fs::read_to_string(path).map_err(io("cannot read", path))?;
        return SigningKeyPair::from_pkcs8_pem(&pem).map_err(|e| BootError::Key(format!("{}: {e}", path.display())));
    }
    let key = SigningKeyPair::generate();
    write_private(path, key.to_pkcs8_pem().as_bytes())?;
    tracing::info!(path = %path.display(), kid = key.kid(), "created the token-signing key");
    Ok(key)
}

/// The token-signing keys every server on the database shares, kept in the database sealed with
/// the data key: the newest not retired signs, all keys not retired verify. When the database has
/// none yet, this data directory's key file (created if absent) is added; when every key is
/// retired, a new one is. Servers starting together on an empty database may each add theirs;
/// reading the keys back, they agree on the newest.
async fn shared_signing_keys(
    store: &dyn Store,
    data_key: &DataKey,
    key_file: &Path,
    clock: &dyn Clock,
) -> Result<KeySnapshot, BootError> {
    let map_store = |e: edgeward_core::Error| BootError::Store(e.log_detail());
    let mut stored = store.signing_keys().await.map_err(map_store)?;
    if stored.is_empty() {
        let local = load_or_create_signing_key(key_file)?;
        let sealed = data_key.seal(local.to_pkcs8_pem().as_bytes(), local.kid().as_bytes());
        let key = StoredSigningKey {
            kid: local.kid().to_owned(),
            sealed_pkcs8: sealed,
            created_at: clock.now(),
            retired_at: None,
        };
        store.add_signing_key(key).await.map_err(map_store)?;
        stored = store.signing_keys().await.map_err(map_store)?;
    } else if stored.iter().all(|k| k.retired_at.is_some()) {
        let (pair, key) = crate::keys::new_stored_key(&stored, data_key, clock.now());
        tracing::warn!(kid = pair.kid(), "every token-signing key is retired: added a new one");
        store.add_signing_key(key).await.map_err(map_store)?;
        stored = store.signing_keys().await.map_err(map_store)?;
    }
    crate::keys::snapshot_from(&stored, data_key)
        .map_err(BootError::Key)?
        .ok_or_else(|| BootError::Key("no token-signing key".into()))
}

/// A random 7-digit CP code.
pub fn new_cpcode() -> String {
    rand::thread_rng().gen_range(1_000_000..10_000_000u32).to_string()
}

fn random_token(prefix: &str) -> String {
    let mut r = rand::thread_rng();
    format!("{prefix}-{:016x}-{:016x}", r.gen::<u64>(), r.gen::<u64>())
}

/// Fresh credentials for an API client, the client, and its secret sealed with the data key.
fn new_api_client(
    data_key: &dyn Sealer,
    name: ClientName,
    grants: Grants,
    owner: Option<uuid::Uuid>,
    clock: &dyn Clock,
) -> (Credentials, ApiClient, Vec<u8>) {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill(&mut secret);
    let creds = Credentials {
        client_token: random_token("akab-ct"),
        access_token: random_token("akab-at"),
        client_secret: base64::engine::general_purpose::STANDARD.encode(secret),
    };
    let sealed = data_key.seal(creds.client_secret.as_bytes(), creds.client_token.as_bytes());
    let client = ApiClient {
        name,
        client_token: creds.client_token.clone(),
        access_token: creds.access_token.clone(),
        grants,
        enabled: true,
        created_at: clock.now(),
        owner,
    };
    (creds, client, sealed)
}

/// Create an API client with fresh credentials; the secret is sealed before it is stored.
pub async fn create_api_client(
    store: &dyn Store,
    data_key: &dyn Sealer,
    name: ClientName,
    grants: Grants,
    owner: Option<uuid::Uuid>,
    clock: &dyn Clock,
) -> Result<Credentials, edgeward_core::Error> {
    let (creds, client, sealed) = new_api_client(data_key, name, grants, owner, clock);
    store.insert_api_client(client, sealed).await?;
    Ok(creds)
}

/// The name of the first administrator, as a user and as an API client.
pub const ADMIN: &str = "admin";

/// The file of the data directory that holds the `admin` user's one-time initial password.
pub const ADMIN_PASSWORD_FILE: &str = "admin-password";

/// Remove the data directory's `admin-password` file, once the password it holds no longer
/// signs in; true when there was one.
pub fn remove_initial_password(data_dir: &Path) -> Result<bool, BootError> {
    let path = data_dir.join(ADMIN_PASSWORD_FILE);
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io("cannot remove", &path)(e)),
    }
}

/// On an empty database: make the `admin` user (every grant, a random one-time password to be
/// changed at the first sign-in) and the administrator API client it owns, in one transaction;
/// then write the client's `edgerc` and the password's file, both 0600. Another server starting
/// on the same database at the same moment makes them instead, and this one writes nothing.
/// Returns whether this start made them.
async fn create_first_administrator(
    store: &dyn Store,
    data_key: &dyn Sealer,
    dir: &Path,
    edgerc: &Path,
    host: &str,
    clock: &dyn Clock,
) -> Result<bool, BootError> {
    let password = crate::password::random();
    let hash = crate::password::hash(&password).map_err(|e| BootError::Key(e.to_string()))?;
    let user = User {
        id: uuid::Uuid::new_v4(),
        name: ADMIN.into(),
        email: None,
        email_registered: false,
        active: true,
        grants: Grants::all(),
        roles: Vec::new(),
        created_at: clock.now(),
    };
    let name = ClientName::parse(ADMIN).expect("valid name");
    let (creds, client, sealed) = new_api_client(data_key, name, Grants::all(), Some(user.id), clock);
    match store.create_first_administrator(user, hash, client, sealed).await {
        Ok(true) => {
            write_private(edgerc, edgerc_section("default", host, &creds).as_bytes())?;
            tracing::info!(path = %edgerc.display(), "created the administrator API client; its EdgeGrid credentials are in this file");
            let file = dir.join(ADMIN_PASSWORD_FILE);
            write_private(&file, format!("{password}\n").as_bytes())?;
            tracing::info!(
                path = %file.display(),
                user = ADMIN,
                "created the administrator user, who owns the administrator API client; its one-time initial password is in this file: sign in to the web console with it as `admin` and choose your own (or run `edgeward user set-password admin`)"
            );
            Ok(true)
        }
        // Another server on the same database made them a moment ago; its data directory has
        // the edgerc and the password.
        Ok(false) | Err(edgeward_core::Error::AlreadyExists { .. }) => {
            tracing::info!(
                "the administrator user and API client were just created by another server on this database"
            );
            Ok(false)
        }
        Err(e) => Err(BootError::Store(e.log_detail())),
    }
}

/// The `host` value clients should use for a listener address.
pub fn edgerc_host(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        if addr.is_ipv4() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
        }
    } else {
        addr.ip()
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

/// An `.edgerc` section.
pub fn edgerc_section(section: &str, host: &str, c: &Credentials) -> String {
    format!(
        "[{section}]\nhost = {host}\nclient_token = {}\nclient_secret = {}\naccess_token = {}\n",
        c.client_token, c.client_secret, c.access_token
    )
}

/// The `host` of section `[section]` of an edgerc text, as written (no scheme is removed).
pub fn section_host(text: &str, section: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == format!("[{section}]");
        } else if inside {
            if let Some((k, v)) = t.split_once('=') {
                if k.trim() == "host" {
                    return Some(v.trim().to_owned());
                }
            }
        }
    }
    None
}

/// Set `host` in section `[section]` of an edgerc text, and in every other section that named
/// the same server (the same old host: sections `apiclient create` added for this server). Every
/// other line, comments included, is kept as it was. Only `edgeward edgerc set-host` calls this:
/// a server never rewrites the file.
pub fn with_host(text: &str, section: &str, host: &str) -> String {
    let host_of =
        |line: &str| line.trim().split_once('=').filter(|(k, _)| k.trim() == "host").map(|(_, v)| v.trim().to_owned());
    let mut old = None;
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == format!("[{section}]");
        }
        if inside && old.is_none() {
            old = host_of(line);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == format!("[{section}]");
        }
        let same_server = old.is_some() && host_of(line) == old;
        if (inside || same_server) && host_of(line).is_some() {
            out.push_str(&format!("host = {host}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Prepare everything `serve` needs; `admin_addr` is the bound admin address.
pub async fn prepare(
    config: &crate::ServeConfig,
    clock: &dyn Clock,
    admin_addr: SocketAddr,
) -> Result<Prepared, BootError> {
    let dir = &config.data_dir;
    ensure_private_dir(dir)?;
    let serve_lock = Arc::new(lock_for_serving(dir)?);
    let (store, data_key, data_key_cell) = open_store_with_cell(dir, &config.database, clock.now()).await?;
    match &config.database.url {
        None => {
            tracing::info!(path = %dir.join("edgeward.db").display(), "database ready (SQLite, WAL, synchronous=FULL)")
        }
        Some(_) => tracing::info!(database = %config.database.describe(), "database ready (PostgreSQL)"),
    }
    let keys =
        shared_signing_keys(store.as_ref(), &data_key, &dir.join("keys").join("token-signing.pem"), clock).await?;
    tracing::info!(kid = keys.set.active().kid(), path = %dir.join("keys").display(), "token-signing and data keys loaded");

    let (tls_cert, tls_key) = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        (None, None) => ensure_self_signed(&dir.join("tls"), SystemClock.now())?,
        _ => return Err(BootError::Tls("give both --tls-cert and --tls-key, or neither".into())),
    };
    tracing::info!(cert = %tls_cert.display(), "TLS certificate");

    let map_store = |e: edgeward_core::Error| BootError::Store(e.log_detail());
    let (account, created) = store
        .initialize_account(Account {
            cpcode: new_cpcode(),
            initialized_at: clock.now(),
            restrict_data_access: true,
            allow_namespace_policy_override: false,
        })
        .await
        .map_err(map_store)?;
    if created {
        tracing::info!(cpcode = %account.cpcode, "initialized the account with the default namespace on both networks");
    }

    let edgerc = dir.join("edgerc");
    let host = edgerc_host(admin_addr);
    let no_clients = store.list_api_clients().await.map_err(map_store)?.is_empty();
    let mut first_start = false;
    if no_clients && store.list_users().await.map_err(map_store)?.is_empty() {
        first_start = create_first_administrator(store.as_ref(), &data_key, dir, &edgerc, &host, clock).await?;
    } else if no_clients {
        // An install with users but no API client (all of them deleted): a new administrator
        // client, as before there were users; its users are left as they are.
        let name = ClientName::parse(ADMIN).expect("valid name");
        match create_api_client(store.as_ref(), &data_key, name, Grants::all(), None, clock).await {
            Ok(creds) => {
                write_private(&edgerc, edgerc_section("default", &host, &creds).as_bytes())?;
                tracing::info!(path = %edgerc.display(), "created the administrator API client; its EdgeGrid credentials are in this file");
            }
            // Another server on the same database made it a moment ago; its edgerc has the credentials.
            Err(edgeward_core::Error::AlreadyExists { .. }) => {
                tracing::info!("the administrator API client was just created by another server on this database");
            }
            Err(e) => return Err(map_store(e)),
        }
    } else if edgerc.exists() {
        // Never rewritten: the operator may have pointed it elsewhere (a load balancer), and a
        // second server on this directory must not re-point it. Say when it names another address.
        let text = fs::read_to_string(&edgerc).map_err(io("cannot read", &edgerc))?;
        match section_host(&text, "default") {
            Some(named) if named != host => tracing::warn!(
                path = %edgerc.display(),
                edgerc_host = %named,
                %host,
                "the edgerc's [default] section names another address than this server's admin listener; if clients should reach this server there, run `edgeward edgerc set-host {host} --data-dir {}`",
                dir.display()
            ),
            _ => tracing::info!(path = %edgerc.display(), %host, "administrator credentials"),
        }
    } else {
        tracing::warn!(path = %edgerc.display(), "no edgerc file; create credentials with `edgeward apiclient create`");
    }
    let tls_pem = read_tls(&tls_cert, &tls_key)?;
    Ok(Prepared {
        store,
        cpcode: account.cpcode,
        keys,
        data_key,
        data_key_cell: Some(data_key_cell),
        tls_cert,
        tls_key,
        tls_pem,
        edgerc,
        first_start,
        serve_lock,
    })
}

/// The certificate and key of the admin listener, read from their files (the certificate
/// first); a file that cannot be read is named as `axum_server`'s loader named it.
fn read_tls(cert: &Path, key: &Path) -> Result<crate::tls::PemPair, BootError> {
    let read = |path: &Path| {
        fs::read(path).map_err(|e| {
            let cause = format!("failed to read from file `{}`: {e}", path.display());
            BootError::Tls(crate::tls::load_error(cert, key, cause))
        })
    };
    Ok(crate::tls::PemPair { cert: read(cert)?, key: read(key)? })
}

/// The text of the file `path` that the setting `setting` names; an error names both.
fn setting_text(setting: &str, path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{setting} {}: {e}", path.display()))
}

/// A secret from the file `path` that the setting `setting` names, without the line break an
/// editor leaves at its end.
fn setting_secret(setting: &str, path: &Path) -> Result<String, String> {
    Ok(setting_text(setting, path)?.trim_end_matches(['\r', '\n']).to_owned())
}

/// This machine's host name (for the server's identity in leases), or `edgeward` when it
/// cannot be read.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "edgeward".into())
}

/// The files `notify.smtp` names, read when they are used: the password when a user name is
/// set, the CA certificate when the connection is secured.
pub fn smtp_files(cfg: &crate::mail::SmtpConfig) -> Result<crate::mail::SmtpFiles, String> {
    let password = match (&cfg.username, &cfg.password_file) {
        (Some(_), Some(p)) => Some(setting_secret("notify.smtp.password_file", p)?),
        _ => None,
    };
    let ca_cert = match (&cfg.ca_cert, cfg.security) {
        (Some(ca), crate::mail::Security::Starttls | crate::mail::Security::Tls) => {
            Some(fs::read(ca).map_err(|e| format!("notify.smtp.ca_cert {}: {e}", ca.display()))?)
        }
        _ => None,
    };
    Ok(crate::mail::SmtpFiles { password, ca_cert })
}

/// The shared secret of `notify.webhook`, from its `secret_file`.
pub fn webhook_secret(cfg: &crate::webhook::WebhookConfig) -> Result<Vec<u8>, String> {
    Ok(setting_secret("notify.webhook.secret_file", &cfg.secret_file)?.into_bytes())
}

/// The token `/metrics` asks for, from `metrics.bearer_token_file` (surrounding whitespace
/// ignored); `None` when the setting is absent.
pub fn metrics_bearer(cfg: &crate::config::MetricsConfig) -> Result<Option<Arc<str>>, String> {
    let Some(p) = &cfg.bearer_token_file else { return Ok(None) };
    let text = setting_text("metrics.bearer_token_file", p)?;
    let token = text.trim();
    if token.len() < 16 || token.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err("metrics.bearer_token_file must hold a token of at least 16 printable characters".into());
    }
    Ok(Some(Arc::<str>::from(token)))
}

/// The generated certificate of `tls_dir` (`cert.pem`, `key.pem`), made if absent and made anew
/// when [`crate::tls::needs_renewal`] at `now`. `now` is real time (TLS clients check the
/// certificate against theirs), not a development clock. Only for the generated certificate: a
/// certificate the operator configured is never replaced.
pub fn ensure_self_signed(tls_dir: &Path, now: DateTime<Utc>) -> Result<(PathBuf, PathBuf), BootError> {
    fs::create_dir_all(tls_dir).map_err(io("cannot create", tls_dir))?;
    let (cert, key) = (tls_dir.join("cert.pem"), tls_dir.join("key.pem"));
    let renew = match (cert.exists() && key.exists(), fs::read(&cert)) {
        (true, Ok(pem)) => crate::tls::needs_renewal(&pem, now),
        _ => true,
    };
    if renew {
        let (c, k) = crate::tls::self_signed(now).map_err(BootError::Tls)?;
        write_private(&key, k.as_bytes())?;
        // Public, but replaced atomically like the key so a crash leaves a matching pair or the old one.
        write_private(&cert, c.as_bytes())?;
        fs::set_permissions(&cert, fs::Permissions::from_mode(0o644)).map_err(io("cannot write", &cert))?;
        tracing::info!(path = %cert.display(), days = crate::tls::SELF_SIGNED_DAYS,
            "made a self-signed TLS certificate for 127.0.0.1 and localhost");
    }
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_replaced_in_its_section_only() {
        let t = "[default]\nhost = 127.0.0.1:1\nclient_token = a\n[other]\nhost = x:2\n";
        assert_eq!(
            with_host(t, "default", "127.0.0.1:9"),
            "[default]\nhost = 127.0.0.1:9\nclient_token = a\n[other]\nhost = x:2\n"
        );
    }

    #[test]
    fn unspecified_addresses_become_loopback() {
        assert_eq!(edgerc_host("0.0.0.0:8443".parse().unwrap()), "127.0.0.1:8443");
        let text = "[default]\nhost = 127.0.0.1:1\n[ci]\nhost = 127.0.0.1:1\n[prod]\nhost = edge.example.com\n";
        assert_eq!(
            with_host(text, "default", "127.0.0.1:2"),
            "[default]\nhost = 127.0.0.1:2\n[ci]\nhost = 127.0.0.1:2\n[prod]\nhost = edge.example.com\n",
            "sections for this server follow it; others are left alone"
        );
    }
}
