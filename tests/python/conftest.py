"""Fixtures: the built `edgeward` binary serving a fresh data directory on 127.0.0.1:0."""

import os
import re
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests
from akamai.edgegrid import EdgeGridAuth, EdgeRc

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("EDGEWARD_BIN", ROOT / "target" / "debug" / "edgeward"))

# The backend these tests run on, as for the Rust suite: EDGEWARD_TEST_BACKEND=postgres gives each
# data directory a fresh PostgreSQL database of its own (created with psql on
# EDGEWARD_TEST_POSTGRES_URL), otherwise SQLite in the data directory.
BACKEND = os.environ.get("EDGEWARD_TEST_BACKEND") or "sqlite"
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"EDGEWARD_TEST_BACKEND={BACKEND!r}: expected sqlite or postgres")
ADMIN_URL = os.environ.get("EDGEWARD_TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
_databases = {}


def database_env(data_dir):
    """The environment for a binary working on `data_dir`: EDGEWARD_DATABASE set on PostgreSQL."""
    env = dict(os.environ)
    env.pop("EDGEWARD_DATABASE", None)
    if BACKEND == "postgres":
        key = str(Path(data_dir).resolve())
        if key not in _databases:
            name = "edgeward_test_" + uuid.uuid4().hex
            subprocess.run(["psql", ADMIN_URL, "-qc", f"CREATE DATABASE {name}"], check=True)
            _databases[key] = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        env["EDGEWARD_DATABASE"] = _databases[key]
    return env


def cli_env(args):
    """[database_env] for the --data-dir among a command's arguments (or the plain environment)."""
    args = [str(a) for a in args]
    if "--data-dir" in args:
        return database_env(args[args.index("--data-dir") + 1])
    return dict(os.environ)


class Server:
    def __init__(self, data_dir: Path, extra_args=()):
        if not BIN.exists():
            raise RuntimeError(f"{BIN} is missing: build it with `cargo build -p edgeward` first")
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--data-dir", str(data_dir), "--admin-addr", "127.0.0.1:0", "--data-addr", "127.0.0.1:0", *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=database_env(data_dir),
        )
        self.log = []
        ready = threading.Event()
        self.admin = None

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"admin_addr=(\S+)", line)
                if m and "admin API listening" in line:
                    self.admin = m.group(1)
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(30):
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        self.cert = str(data_dir / "tls" / "cert.pem")
        self.edgerc = EdgeRc(str(data_dir / "edgerc"))

    def session(self, section="default"):
        s = requests.Session()
        s.auth = EdgeGridAuth.from_edgerc(self.edgerc, section)
        return s

    def url(self, path):
        return f"https://{self.edgerc.get('default', 'host')}{path}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "data")
    yield s
    s.stop()
