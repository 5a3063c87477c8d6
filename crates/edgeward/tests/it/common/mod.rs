//! Shared by the binary's tests: start `edgeward serve` on port 0 and run CLI commands.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_edgeward");

/// A command running the binary on the backend the suite runs on: with `EDGEWARD_DATABASE` set
/// to the PostgreSQL database of the `--data-dir` among `args` (one per data directory), when
/// `EDGEWARD_TEST_BACKEND=postgres`.
pub fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    let dir = args.iter().skip_while(|a| a.as_ref() != "--data-dir").nth(1);
    if let Some(url) = dir.and_then(|d| edgeward_store::testing::database_for_dir(Path::new(d.as_ref()))) {
        c.env("EDGEWARD_DATABASE", url);
    }
    c
}

pub struct Server {
    pub child: Child,
    pub admin: String,
    pub data: String,
    pub log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(dir: &Path) -> Server {
    start_with(dir, &[])
}

/// [`start`] with more `serve` arguments.
pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
    spawn_server(command(&[std::ffi::OsStr::new("serve"), "--data-dir".as_ref(), dir.as_os_str()]), extra)
}

/// [`start_with`] on SQLite in `dir`, whatever backend the suite runs on (for what only SQLite
/// has: `edgeward backup` and `restore`).
pub fn start_on_sqlite(dir: &Path, extra: &[&str]) -> Server {
    let mut c = Command::new(BIN);
    c.arg("serve").arg("--data-dir").arg(dir).env_remove("EDGEWARD_DATABASE");
    spawn_server(c, extra)
}

/// [`cli`] on SQLite, whatever backend the suite runs on.
pub fn cli_on_sqlite(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).env_remove("EDGEWARD_DATABASE").env_remove("AKAMAI_HOST").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn spawn_server(mut command: Command, extra: &[&str]) -> Server {
    let mut child = command
        .args(["--admin-addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0"])
        .args(extra)
        .env("EDGEWARD_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("admin API listening") {
                if let Some(addr) = line.split("admin_addr=").nth(1) {
                    let _ = tx.send(("admin", addr.split_whitespace().next().unwrap_or("").to_owned()));
                }
            }
            if line.contains("data plane listening") {
                if let Some(addr) = line.split("data_addr=").nth(1) {
                    let _ = tx.send(("data", addr.split_whitespace().next().unwrap_or("").to_owned()));
                }
            }
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    // Owned by a `Server` from here on: a server that never says it listens is killed when the
    // panic below drops it, not left running after the test.
    let mut server = Server { child, admin: String::new(), data: String::new(), log };
    while server.admin.is_empty() || server.data.is_empty() {
        let (which, addr) = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no listening line; log:\n{}", server.log.lock().unwrap()));
        if which == "admin" {
            server.admin = addr;
        } else {
            server.data = addr;
        }
    }
    server
}

/// Start a server on a data directory that a server ran on before, and point the directory's
/// edgerc at it (`edgeward edgerc set-host`, as an operator would after a restart on another
/// port: a server never rewrites the file).
pub fn restart(dir: &Path, extra: &[&str]) -> Server {
    let server = start_with(dir, extra);
    let (code, _, err) = cli(&["edgerc", "set-host", &server.admin, "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "edgerc set-host: {err}");
    server
}

/// Run the CLI; returns (exit code, stdout, stderr).
pub fn cli(args: &[&str]) -> (i32, String, String) {
    let out = command(args).env_remove("AKAMAI_HOST").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
