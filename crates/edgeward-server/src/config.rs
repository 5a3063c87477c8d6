//! The server's settings. Built by the binary from flags, `EDGEWARD_*` variables and an optional
//! TOML file; nothing in the server reads the environment itself.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use edgeward_core::limits::Limits;

/// EdgeGrid verification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdgeGridConfig {
    /// POST body bytes covered by the content hash.
    pub max_body: usize,
    /// Header names that clients are expected to sign.
    pub headers_to_sign: Vec<String>,
    /// Accepted distance between a request's timestamp and the server clock, in seconds.
    pub timestamp_window_secs: u64,
    /// Deprecated, no effect: nonces are always recorded durably (a signed request is accepted
    /// once, across restarts and servers sharing a database). Still accepted so that older
    /// configuration files keep working.
    pub shared_nonces: bool,
}

impl Default for EdgeGridConfig {
    fn default() -> Self {
        Self {
            max_body: edgeward_edgegrid::DEFAULT_MAX_BODY,
            headers_to_sign: Vec::new(),
            timestamp_window_secs: 120,
            shared_nonces: false,
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database` to share one PostgreSQL database among
    /// several servers; unset: SQLite in the data directory (`edgeward.db`).
    pub url: Option<String>,
    /// Most PostgreSQL connections this server opens.
    pub max_connections: u32,
    /// At start, how long to keep trying to reach PostgreSQL before giving up, in seconds.
    pub connect_wait_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: None, max_connections: 16, connect_wait_secs: 60 }
    }
}

impl DatabaseConfig {
    /// SQLite in the data directory, or PostgreSQL at `url`.
    pub fn with_url(url: Option<String>) -> Self {
        Self { url, ..Self::default() }
    }

    /// What to show of the database in logs and `config print`: the URL without its password.
    pub fn describe(&self) -> String {
        match &self.url {
            None => "SQLite (edgeward.db in the data directory)".to_owned(),
            Some(u) => redact_url(u),
        }
    }
}

/// A database URL with its password replaced by `***`.
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an unreadable database URL)".to_owned(),
    }
}

/// Everything `edgeward serve` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Where the keys, certificate and `edgerc` live, and the SQLite database unless
    /// `database.url` names PostgreSQL.
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// The admin API listener (HTTPS).
    pub admin_addr: SocketAddr,
    /// The data-plane listener.
    pub data_addr: SocketAddr,
    /// Bring-your-own certificate (PEM); with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// Bring-your-own private key (PEM); with `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Product limits.
    pub limits: Limits,
    /// EdgeGrid settings.
    pub edgegrid: EdgeGridConfig,
    /// Seconds between runs of the scheduled jobs (refresh, purge).
    pub job_interval_secs: u64,
    /// Milliseconds between reads of the change feed, through which writes made by other
    /// servers on the same database reach this server's caches (the bound on how late they are).
    pub change_poll_ms: u64,
    /// Seconds between a namespace delete (without `sync=true`) and the deletion itself;
    /// until then the deletion can be moved or cancelled.
    pub namespace_delete_delay_secs: u64,
    /// The data plane.
    pub data_plane: DataPlaneConfig,
    /// The daily expiry check.
    pub notify: crate::notify::NotifyConfig,
    /// The audit trail.
    pub audit: AuditConfig,
    /// Timeouts and connection limits of every listener.
    pub listeners: ListenersConfig,
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsConfig,
    /// The web console's sessions.
    pub console: ConsoleConfig,
    /// How the log is written (read by the binary, which sets up logging before the server).
    pub log: LogConfig,
}

/// How `edgeward serve` writes its log (to standard error; the level is `EDGEWARD_LOG`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Text lines for people, or JSON lines for log shippers.
    pub format: LogFormat,
}

/// The log's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text per event (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's
    /// fields, with the current span's.
    Json,
}

/// The web console's sessions: how long one lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Minutes a session may go unused before it ends (the idle lifetime).
    pub idle_minutes: u32,
    /// Hours a session lasts however much it is used (the absolute lifetime).
    pub absolute_hours: u32,
}

/// The longest idle lifetime, in minutes (a day).
pub const MAX_IDLE_MINUTES: u32 = 24 * 60;
/// The longest absolute lifetime, in hours (30 days).
pub const MAX_ABSOLUTE_HOURS: u32 = 30 * 24;

impl ConsoleConfig {
    /// The lifetimes as durations (idle, absolute), refusing values out of range: 1 minute to a
    /// day idle, 1 hour to 30 days absolute.
    pub fn lifetimes(&self) -> Result<(chrono::Duration, chrono::Duration), String> {
        if !(1..=MAX_IDLE_MINUTES).contains(&self.idle_minutes) {
            return Err(format!("console.idle_minutes must be 1 to {MAX_IDLE_MINUTES}"));
        }
        if !(1..=MAX_ABSOLUTE_HOURS).contains(&self.absolute_hours) {
            return Err(format!("console.absolute_hours must be 1 to {MAX_ABSOLUTE_HOURS}"));
        }
        Ok((
            chrono::Duration::minutes(i64::from(self.idle_minutes)),
            chrono::Duration::hours(i64::from(self.absolute_hours)),
        ))
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { idle_minutes: 30, absolute_hours: 12 }
    }
}

/// Timeouts and the connection limit, applied to each listener (admin, data plane, metrics).
/// The defaults are far beyond what a working client needs, and close what a stalled one holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenersConfig {
    /// Seconds a connection has to send a complete request head (from its opening, the end of
    /// its TLS handshake, or the first byte of its next request).
    pub header_read_timeout_secs: u64,
    /// Seconds a keep-alive connection may stay open with no request.
    pub idle_timeout_secs: u64,
    /// Seconds a request body has to arrive, from when the server starts reading it (408 after).
    pub body_read_timeout_secs: u64,
    /// Seconds a TLS handshake may take (admin listener).
    pub tls_handshake_timeout_secs: u64,
    /// Most connections open at once on each listener; more wait until one closes.
    pub max_connections: usize,
}

impl Default for ListenersConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            body_read_timeout_secs: 30,
            tls_handshake_timeout_secs: 10,
            max_connections: 4096,
        }
    }
}

impl ListenersConfig {
    /// The limits, refusing zero values (a zero timeout would close every connection).
    pub fn limits(&self) -> Result<crate::listen::Limits, String> {
        let secs = |v: u64, what: &str| {
            if v == 0 {
                Err(format!("listeners.{what} must be at least 1"))
            } else {
                Ok(std::time::Duration::from_secs(v))
            }
        };
        if self.max_connections == 0 {
            return Err("listeners.max_connections must be at least 1".into());
        }
        Ok(crate::listen::Limits {
            header_read: secs(self.header_read_timeout_secs, "header_read_timeout_secs")?,
            idle: secs(self.idle_timeout_secs, "idle_timeout_secs")?,
            body_read: secs(self.body_read_timeout_secs, "body_read_timeout_secs")?,
            tls_handshake: secs(self.tls_handshake_timeout_secs, "tls_handshake_timeout_secs")?,
            max_connections: self.max_connections,
        })
    }
}

/// Protection of `/metrics` (open on the admin listener by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// A file holding a token (at least 16 bytes; surrounding whitespace ignored): `/metrics`
    /// then answers only requests with `Authorization: Bearer <token>`, others get 401.
    pub bearer_token_file: Option<PathBuf>,
    /// Serve `/metrics` on this address (plain HTTP, e.g. a private interface) instead of the
    /// admin listener.
    pub addr: Option<SocketAddr>,
}

/// The audit trail's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Days an audit record is kept; maintenance deletes older ones.
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { retention_days: edgeward_core::audit::DEFAULT_RETENTION_DAYS }
    }
}

/// How the data-plane listener stands for the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataPlaneConfig {
    /// The network this listener serves (`staging` or `production`).
    pub network: edgeward_core::network::Network,
    /// A second listener serving staging, when `network` is production.
    pub staging_addr: Option<SocketAddr>,
    /// Treat every request as coming from this EdgeWorker ID.
    pub edgeworker_id: Option<String>,
    /// Take the caller's EdgeWorker ID from this request header (trust it only behind a proxy
    /// that sets it). Off by default.
    pub edgeworker_id_header: Option<String>,
    /// Memory for cached item values, in MiB (0 turns the cache off).
    pub item_cache_mb: u64,
    /// Threads serving the data-plane listeners' connections, each with a runtime of its own
    /// (see [`crate::workers`]); unset or `0`: the main runtime serves them, as it serves the
    /// admin API (the default: on two shared cores the threads measured no faster, see
    /// BENCHMARKS.md).
    pub threads: Option<usize>,
}

/// The most data-plane threads (`data_plane.threads`).
pub const MAX_DATA_PLANE_THREADS: usize = 256;

impl DataPlaneConfig {
    /// How many data-plane threads to start (0: none, the main runtime serves the data plane),
    /// refusing more than [`MAX_DATA_PLANE_THREADS`]. Unset: 0.
    pub fn threads(&self) -> Result<usize, String> {
        match self.threads {
            Some(n) if n > MAX_DATA_PLANE_THREADS => {
                Err(format!("data_plane.threads must be 0 to {MAX_DATA_PLANE_THREADS}"))
            }
            Some(n) => Ok(n),
            None => Ok(0),
        }
    }
}

impl Default for DataPlaneConfig {
    fn default() -> Self {
        Self {
            network: edgeward_core::network::Network::Production,
            staging_addr: None,
            edgeworker_id: None,
            edgeworker_id_header: None,
            item_cache_mb: 64,
            threads: None,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("edgeward-data"),
            database: DatabaseConfig::default(),
            admin_addr: "127.0.0.1:8443".parse().expect("valid address"),
            data_addr: "127.0.0.1:8080".parse().expect("valid address"),
            tls_cert: None,
            tls_key: None,
            limits: Limits::default(),
            edgegrid: EdgeGridConfig::default(),
            job_interval_secs: 3600,
            change_poll_ms: 1_000,
            namespace_delete_delay_secs: 86_400,
            data_plane: DataPlaneConfig::default(),
            notify: crate::notify::NotifyConfig::default(),
            audit: AuditConfig::default(),
            listeners: ListenersConfig::default(),
            metrics: MetricsConfig::default(),
            console: ConsoleConfig::default(),
            log: LogConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_parses_and_matches_the_defaults() {
        let text = include_str!("../../../docs/edgeward.example.toml");
        let parsed: ServeConfig = toml::from_str(text).expect("docs/edgeward.example.toml parses");
        assert_eq!(parsed, ServeConfig::default(), "the example documents the defaults");
    }

    #[test]
    fn console_lifetimes_out_of_range_are_refused() {
        let c = |idle_minutes, absolute_hours| ConsoleConfig { idle_minutes, absolute_hours }.lifetimes();
        assert!(c(30, 12).is_ok());
        assert_eq!(c(0, 12).unwrap_err(), "console.idle_minutes must be 1 to 1440");
        assert_eq!(c(30, 4_000_000_000).unwrap_err(), "console.absolute_hours must be 1 to 720");
    }

    #[test]
    fn data_plane_threads_out_of_range_are_refused() {
        let t = |threads| DataPlaneConfig { threads, ..DataPlaneConfig::default() }.threads();
        assert_eq!(t(Some(0)), Ok(0));
        assert_eq!(t(Some(256)), Ok(256));
        assert_eq!(t(Some(257)).unwrap_err(), "data_plane.threads must be 0 to 256");
        assert_eq!(t(None), Ok(0), "unset: the main runtime");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<ServeConfig>("data_dri = \"x\"").is_err());
    }
}
