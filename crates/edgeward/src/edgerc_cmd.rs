//! `edgeward edgerc set-host`: the one way an `.edgerc`'s `host` changes once written. A server
//! writes a section when it makes its client and never touches it again (see
//! `edgeward_server::bootstrap`); this command is what an operator runs when the address
//! clients should use changes (a new port, a load balancer).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use edgeward_server::bootstrap;

/// `edgeward edgerc …`.
#[derive(Subcommand)]
pub enum EdgercCommand {
    /// Point a section of an .edgerc file at another host (and every other section that named
    /// the same address: the sections `apiclient create` added for the same server). Every other
    /// line, comments included, is kept.
    SetHost {
        /// The address clients should use: host or host:port, e.g. 127.0.0.1:8443 or
        /// lb.example.com.
        host: String,
        /// The section to change.
        #[arg(long, default_value = "default")]
        section: String,
        /// The data directory whose edgerc to change.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
        /// The .edgerc file to change [default: <data-dir>/edgerc].
        #[arg(long)]
        edgerc: Option<PathBuf>,
        /// Print the outcome (or the error) as JSON.
        #[arg(long)]
        json: bool,
    },
}

impl EdgercCommand {
    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        let Self::SetHost { json, .. } = self;
        *json
    }
}

/// A `host` an EdgeGrid client can use: a name or an address, with an optional port; no scheme,
/// path or spaces (a usage error says which).
pub(crate) fn check_host(host: &str) -> Result<&str> {
    let refuse = |why: &str| Err(crate::usage!("{host:?}: {why}; give host or host:port, e.g. 127.0.0.1:8443"));
    if host.is_empty() || host.len() > 260 {
        return refuse("not a host");
    }
    if host.contains("://") {
        return refuse("no scheme: an edgerc's host is always reached over HTTPS");
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@' | '[' | ']')) {
        if let Some(rest) = host.strip_prefix('[') {
            // An IPv6 address: [::1]:8443.
            if let Some((ip, port)) = rest.split_once(']') {
                if ip.parse::<std::net::Ipv6Addr>().is_ok()
                    && (port.is_empty() || port.strip_prefix(':').is_some_and(port_ok))
                {
                    return Ok(host);
                }
            }
        }
        return refuse("not a host");
    }
    match host.rsplit_once(':') {
        Some((name, _)) if name.contains(':') => refuse("an IPv6 address goes in brackets, e.g. [::1]:8443"),
        Some((name, port)) if name.is_empty() || !port_ok(port) => refuse("the port must be 1 to 65535"),
        _ => Ok(host),
    }
}

fn port_ok(port: &str) -> bool {
    port.parse::<u16>().is_ok_and(|p| p > 0)
}

#[allow(clippy::disallowed_methods, reason = "the command's job is to read and rewrite the edgerc file it is given")]
pub fn run(cmd: EdgercCommand) -> Result<()> {
    let EdgercCommand::SetHost { host, section, data_dir, edgerc, json } = cmd;
    let host = check_host(&host)?;
    let path = edgerc.unwrap_or_else(|| data_dir.join("edgerc"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    let Some(old) = bootstrap::section_host(&text, &section) else {
        bail!("{} has no [{section}] section with a host", path.display());
    };
    let outcome = |changed: bool| {
        serde_json::json!({ "edgerc": path.display().to_string(), "section": section, "host": host,
            "previousHost": old, "changed": changed })
    };
    if old == host {
        crate::say(json, outcome(false), format!("{}: [{section}] already names {host}.", path.display()));
        return Ok(());
    }
    let updated = bootstrap::with_host(&text, &section, host);
    // Through a symbolic link, to the file it names.
    let target = std::fs::canonicalize(&path).unwrap_or(path.clone());
    bootstrap::write_private(&target, updated.as_bytes())?;
    crate::say(
        json,
        outcome(true),
        format!("{}: [{section}] and every section that named {old} now name {host}.", path.display()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked() {
        for ok in ["127.0.0.1:8443", "lb.example.com", "lb.example.com:443", "[::1]:8443", "[::1]"] {
            assert!(check_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "https://lb.example.com",
            "lb.example.com/x",
            "a b",
            ":8443",
            "h:0",
            "h:99999",
            "h:x",
            "[zz]:1",
            "[::1]8443",
            "::1",
            "::1:8443",
            "h::1",
        ] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }
}
