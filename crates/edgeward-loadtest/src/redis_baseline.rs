//! The data plane's second baseline: a `redis-server` of the load tool's own (Debian's
//! `/usr/bin/redis-server` by default), on a free loopback port, with a random password and no
//! persistence, in the run's work directory. Missing or failing to start is an error: the run
//! never goes on without it.
//!
//! Clients are the `redis` crate's tokio connections, one per load-generator worker and used by
//! that worker only, one command at a time (no pipelining), each authenticated once when it
//! connects, as `redis-benchmark -a` does. The report prints the load generator's own CPU per
//! request for every side (`data_plane` in main.rs), so the crate's client-side cost can be set
//! against reqwest's on the HTTP sides.
//!
//! Checked when this baseline was written (one short run, 32 connections, on a 2-core machine
//! shared with other work): the load generator spent 5.4 µs of CPU per Redis GET against
//! 16.1 µs per authorized HTTP GET of the cached item, and the tool's 179,270 Redis GETs/s were
//! above what `redis-benchmark -c 32 -P 1 --threads 1 GET hot` (C, one thread) measured against
//! the same kind of instance just after (150,466/s and 154,871/s). So the crate's client cost
//! does not hold Redis back relative to the HTTP sides: hand-written RESP is not needed.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    child: Child,
    /// Its process id (for its CPU time).
    pub pid: u32,
    /// `redis-server --version`, for the report.
    pub version: String,
    url: String,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisServer {
    /// Start `bin` in `work/redis` and wait until it answers an authenticated PING.
    pub async fn start(bin: &Path, work: &Path) -> Result<Self> {
        if !bin.exists() {
            bail!(
                "{} not found: the data-plane benchmark measures Redis as its second baseline and needs it \
                 (Debian: apt-get install redis-server; or pass --redis-server PATH)",
                bin.display()
            );
        }
        let version = Command::new(bin)
            .arg("--version")
            .output()
            .with_context(|| format!("cannot run {} --version", bin.display()))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        let dir = work.join("redis");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // A free port: bound by us, released, then given to Redis (a port 0 turns its TCP off).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        // The password goes in a configuration file inside the run's private work directory (a
        // temporary directory, mode 0700), not on the command line where `ps` would show it. Paths
        // are relative to the directory Redis runs in, so none needs quoting.
        let config = format!(
            "bind 127.0.0.1\nport {port}\nprotected-mode yes\nrequirepass {password}\nsave \"\"\nappendonly no\n\
             dir ./\nlogfile redis.log\ndaemonize no\n"
        );
        let mut f = std::fs::File::create(dir.join("redis.conf"))?;
        f.write_all(config.as_bytes())?;
        drop(f);
        let child = Command::new(bin)
            .arg("redis.conf")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id();
        let mut server = RedisServer { child, pid, version, url: format!("redis://:{password}@127.0.0.1:{port}/0") };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
                bail!("{} exited at start ({status}); its log:\n{log}", bin.display());
            }
            let ping = async {
                let mut c = server.connect().await?;
                redis::cmd("PING").query_async::<String>(&mut c).await.map_err(anyhow::Error::from)
            };
            match ping.await {
                Ok(_) => return Ok(server),
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("{} did not answer on 127.0.0.1:{port} within 10 s", bin.display())))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// A new connection, authenticated (AUTH) as it connects. No response timeout: reqwest's
    /// clients on the HTTP sides have none either, and a timer per command is client-side cost.
    pub async fn connect(&self) -> Result<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(self.url.as_str())?;
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        Ok(client.get_multiplexed_async_connection_with_config(&config).await?)
    }

    /// `n` connections, one per load-generator worker.
    pub async fn connections(&self, n: usize) -> Result<Vec<redis::aio::MultiplexedConnection>> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.connect().await?);
        }
        Ok(v)
    }

    /// SET every key to `value` (setup, not measured: pipelined in batches of 1,000).
    pub async fn fill(&self, keys: impl Iterator<Item = String>, value: &str) -> Result<usize> {
        let mut c = self.connect().await?;
        let (mut n, mut pipe) = (0usize, redis::pipe());
        for k in keys {
            pipe.set(k, value).ignore();
            n += 1;
            if n.is_multiple_of(1000) {
                pipe.query_async::<()>(&mut c).await?;
                pipe = redis::pipe();
            }
        }
        if !pipe.is_empty() {
            pipe.query_async::<()>(&mut c).await?;
        }
        let size: usize = redis::cmd("DBSIZE").query_async(&mut c).await?;
        if size != n {
            bail!("Redis holds {size} keys after {n} SETs");
        }
        Ok(n)
    }
}
