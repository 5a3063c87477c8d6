"""Schemathesis over both OpenAPI documents against a real Edgeward server.

Starts the debug binary (`EDGEWARD_BIN`, default target/debug/edgeward) on a fresh data directory
with free ports (SQLite, or a fresh PostgreSQL database when EDGEWARD_TEST_BACKEND=postgres),
prepares what the examples name (a token for the data plane, items), then runs
`schemathesis run` on openapi/admin.json (HTTPS, the generated certificate, EdgeGrid-signed by
edgegrid-python) and on openapi/data-plane.json (a real token), each with positive and negative
data and every phase (examples, coverage, fuzzing, stateful). Every check that can fail on a
response is on: a 5xx, a response that does not match its schema, a status or content type the
document does not list, negative data accepted, an unsupported method answered, authentication
not enforced. Prints the number of requests sent; exits non-zero on any failure or error.

Usage: python tests/schemathesis/run.py [--max-examples N] [--seed N]
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from akamai.edgegrid import EdgeGridAuth, EdgeRc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(os.environ.get("EDGEWARD_BIN", ROOT / "target" / "debug" / "edgeward"))
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
])

sys.path.insert(0, str(ROOT / "tests" / "python"))
from conftest import database_env  # noqa: E402  (one way to get a fresh PostgreSQL database)


class Server:
    def __init__(self, data_dir: Path):
        if not BIN.exists():
            raise SystemExit(f"{BIN} is missing: build it with `cargo build -p edgeward` first")
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--data-dir", str(data_dir), "--admin-addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**database_env(data_dir), "EDGEWARD_LOG": os.environ.get("EDGEWARD_LOG", "warn,edgeward_server::server=info")},
        )
        self.log = []
        self.data_addr = None
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"data_addr=(\S+)", line)
                if m and "data plane listening" in line:
                    self.data_addr = m.group(1)
                if "admin API listening" in line and self.data_addr:
                    ready.set()
                if self.data_addr and any("admin API listening" in l for l in self.log):
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(60):
            self.stop()
            raise SystemExit("the server did not start:\n" + "".join(self.log))
        self.edgerc = data_dir / "edgerc"
        self.cert = data_dir / "tls" / "cert.pem"
        self.admin_host = EdgeRc(str(self.edgerc)).get("default", "host")

    def call(self, method, path, **kwargs):
        """One signed admin request; `verify=` on the call, as REQUESTS_CA_BUNDLE overrides a session's."""
        s = requests.Session()
        s.auth = EdgeGridAuth.from_edgerc(EdgeRc(str(self.edgerc)), "default")
        r = s.request(method, f"https://{self.admin_host}{path}", verify=str(self.cert), **kwargs)
        r.raise_for_status()
        return r

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def prepare(server: Server) -> str:
    """A token for the data plane's examples, and the items the examples name; its value."""
    server.call("POST", "/edgekv/v1/tokens", json={
        "name": "schemathesis",
        "expiry": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
        "allowOnProduction": True,
        "allowOnStaging": True,
        "namespacePermissions": {"default": ["r", "w", "d"]},
    })
    # What the documents' examples name: an auto-refreshing token, a user, a contact, an item.
    server.call("POST", "/edgekv/v1/tokens", json={
        "name": "my-token",
        "allowOnProduction": True,
        "allowOnStaging": True,
        "namespacePermissions": {"default": ["r"]},
    })
    server.call("POST", "/edgeward/v1/users", json={"name": "alice", "email": "alice@example.com", "grants": ["VIEW_NAMESPACE"]})
    server.call("POST", "/edgeward/v1/contacts", json={"email": "ops@example.com", "name": "Operations"})
    for network in ("production", "staging"):
        server.call("PUT", f"/edgekv/v1/networks/{network}/namespaces/default/groups/countries/items/greeting", data="hello")
    return server.call("GET", "/edgekv/v1/tokens/schemathesis").json()["value"]


def run_schemathesis(door: str, document: Path, url: str, env: dict, args) -> tuple[int, int, float]:
    count_file = Path(env["EDGEWARD_ST_WORK"]) / f"{door}.count"
    cmd = [
        str(SCHEMATHESIS), "run", str(document),
        "--url", url,
        "--checks", CHECKS,
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(args.max_examples),
        "--workers", "1",
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        "--no-color",
    ]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if door == "admin":
        cmd += ["--tls-verify", env["EDGEWARD_ST_CERT"]]
    print(f"==> schemathesis ({door}): {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    try:
        returncode = subprocess.run(
            cmd,
            timeout=args.timeout,
            env={**env, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE), "EDGEWARD_ST_DOOR": door,
                 "EDGEWARD_ST_COUNT_FILE": str(count_file)},
            cwd=env["EDGEWARD_ST_WORK"],
        ).returncode
    except subprocess.TimeoutExpired:
        print(f"==> schemathesis ({door}): did not finish within {args.timeout} s", flush=True)
        returncode = 1
    elapsed = time.monotonic() - started
    sent = int(count_file.read_text()) if count_file.exists() else 0
    print(f"==> schemathesis ({door}): exit {returncode}, {sent} requests sent in {elapsed:.0f} s", flush=True)
    return returncode, sent, elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--max-examples", type=int, default=int(os.environ.get("EDGEWARD_SCHEMATHESIS_MAX_EXAMPLES", "30")))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--only", choices=["admin", "data-plane"], default=None)
    p.add_argument("--timeout", type=int, default=240, help="seconds one document's run may take before it fails")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgeward-schemathesis-") as work:
        work = Path(work)
        server = Server(work / "data")
        failed = False
        total = 0
        try:
            token = prepare(server)
            env = {**os.environ, "EDGEWARD_ST_WORK": str(work), "EDGEWARD_ST_EDGERC": str(server.edgerc),
                   "EDGEWARD_ST_CERT": str(server.cert), "EDGEWARD_ST_TOKEN": token}
            doors = [("admin", ROOT / "openapi" / "admin.json", f"https://{server.admin_host}"),
                     ("data-plane", ROOT / "openapi" / "data-plane.json", f"http://{server.data_addr}")]
            for door, document, url in doors:
                if args.only and door != args.only:
                    continue
                code, sent, _ = run_schemathesis(door, document, url, env, args)
                total += sent
                failed |= code != 0 or sent == 0
            if server.proc.poll() is not None:
                print("the server exited during the run:\n" + "".join(server.log[-50:]), file=sys.stderr)
                failed = True
            panics = [line for line in server.log if "panicked" in line]
            if panics:
                print("the server panicked:\n" + "".join(panics), file=sys.stderr)
                failed = True
        finally:
            server.stop()
        print(f"==> schemathesis: {total} requests sent in all; {'FAILED' if failed else 'passed'}", flush=True)
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
