//! A PostgreSQL server of a test's own (initdb in a temporary directory, on a free port), which
//! the test may stop and start without disturbing the shared test server other tests use.
//! Needs PostgreSQL's server programs (`initdb`, `pg_ctl`): found under `/usr/lib/postgresql/*/bin`
//! or `EDGEWARD_TEST_PG_BIN`. As root, the cluster runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var("EDGEWARD_TEST_PG_BIN") {
        return PathBuf::from(d);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect())
        .unwrap_or_default();
    found.sort();
    found.pop().expect("PostgreSQL's server programs (initdb, pg_ctl): install postgresql or set EDGEWARD_TEST_PG_BIN")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Run a PostgreSQL program, as `postgres` when we are root (the server refuses to run as root):
/// what it printed when it fails.
fn try_run(bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let exe = bin.join(program);
    let out = if is_root() {
        Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
    } else {
        Command::new(&exe).args(args).output()
    }
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// [`try_run`], which must succeed.
fn run(bin: &Path, program: &str, args: &[&str]) {
    if let Err(failed) = try_run(bin, program, args) {
        panic!("{failed}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PrivatePostgres {
    /// initdb and start a server with trust authentication on 127.0.0.1.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap().success();
            assert!(ok, "chown the test cluster's directory to postgres");
        }
        let data = dir.path().join("cluster");
        run(&bin, "initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        let pg = Self { bin, data, _dir: dir, port: free_port() };
        pg.start_again();
        pg
    }

    /// The URL of database `postgres` on this server.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Start the (stopped) server again, on the same port, and wait until it accepts connections.
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=on",
            self.port,
            self.data.parent().unwrap().display()
        );
        let log = self.data.parent().unwrap().join("server.log");
        // Crash recovery on a loaded CI machine can take longer than pg_ctl's default minute.
        let data = self.data.to_str().unwrap();
        let args = ["-D", data, "-o", &opts, "-l", log.to_str().unwrap(), "-w", "-t", "300", "start"];
        if let Err(failed) = try_run(&self.bin, "pg_ctl", &args) {
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{failed}\nthe test cluster's log:\n{server_log}");
        }
    }

    /// Stop the server the hard way (`immediate`: no shutdown checkpoint, as in a crash); the next
    /// start recovers from the WAL.
    pub fn crash(&self) {
        run(&self.bin, "pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", self.data.to_str().unwrap_or(""), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
