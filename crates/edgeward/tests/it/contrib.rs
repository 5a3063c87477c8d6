//! The files under `contrib/` are accepted by the tools that read them: `systemd-analyze verify`
//! on the systemd unit (with `ExecStart` pointed at the binary under test, since verify wants the
//! program to exist). Fails when systemd-analyze is missing (`scripts/test` installs it).
#![allow(clippy::disallowed_methods, reason = "the test reads the unit and writes a copy for systemd-analyze")]

use std::path::Path;
use std::process::Command;

use crate::common::BIN;

#[test]
fn the_systemd_unit_verifies() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/edgeward.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains("ExecStart=/usr/local/bin/edgeward serve --data-dir /var/lib/edgeward"), "{text}");
    for hardening in [
        "DynamicUser=yes",
        "StateDirectory=edgeward",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "RestrictAddressFamilies=",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(text.contains(hardening), "contrib/edgeward.service lacks {hardening:?}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("edgeward.service");
    std::fs::write(&copy, text.replace("/usr/local/bin/edgeward", BIN)).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&copy).output().unwrap_or_else(|e| {
        panic!("systemd-analyze cannot run ({e}): install systemd (apt-get install systemd; scripts/test does)")
    });
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}
