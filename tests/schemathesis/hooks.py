"""Schemathesis hooks for Edgeward (loaded through SCHEMATHESIS_HOOKS by run.py).

- Admin API: every request schemathesis authenticates is signed with Akamai's official
  edgegrid-python (`akamai.edgegrid.EdgeGridAuth`) from the data directory's edgerc. The auth
  provider only marks a request as "to be signed" (a placeholder Authorization header); the
  signature is made by a `requests` auth object once the request is final (URL, query and body
  as sent), which is what EdgeGrid signs. A request whose Authorization header schemathesis
  removed or replaced (its `ignored_auth` check) is sent as it is, so it must be refused.
- Data plane: requests carry a real token value in X-Akamai-EdgeDB-Auth.
- Every HTTP request sent is counted (`requests.Session.send`) and the count written to
  EDGEWARD_ST_COUNT_FILE at exit.
"""

import atexit
import os
import sys
import time

import requests
import schemathesis
from akamai.edgegrid import EdgeGridAuth, EdgeRc

DOOR = os.environ["EDGEWARD_ST_DOOR"]  # "admin" or "data-plane"
COUNT_FILE = os.environ["EDGEWARD_ST_COUNT_FILE"]
PLACEHOLDER = "EG1-HMAC-SHA256 sign-me"

_sent = 0
_original_send = requests.Session.send


def _counting_send(self, request, **kwargs):
    global _sent
    _sent += 1
    started = time.monotonic()
    try:
        return _original_send(self, request, **kwargs)
    finally:
        elapsed = time.monotonic() - started
        if elapsed > 1:
            # A request this slow on a local server is worth a look (a timeout hit, a stall).
            print(f"slow request: {request.method} {request.url[:200]} took {elapsed:.1f} s", file=sys.stderr)


requests.Session.send = _counting_send


@atexit.register
def _write_count():
    with open(COUNT_FILE, "w") as f:
        f.write(str(_sent))


if DOOR == "admin":
    _edgegrid = EdgeGridAuth.from_edgerc(EdgeRc(os.environ["EDGEWARD_ST_EDGERC"]), "default")

    class _SignMarked(requests.auth.AuthBase):
        """Sign (EdgeGrid) a prepared request that carries the placeholder."""

        def __call__(self, r):
            if r.headers.get("Authorization") == PLACEHOLDER:
                del r.headers["Authorization"]
                return _edgegrid(r)
            return r

    _signer = _SignMarked()

    @schemathesis.auth()
    class EdgeGrid:
        def get(self, case, ctx):
            return PLACEHOLDER

        def set(self, case, data, ctx):
            case.headers = case.headers or {}
            case.headers["Authorization"] = data

    @schemathesis.hook
    def before_call(context, case, kwargs):
        kwargs["auth"] = _signer

else:
    TOKEN = os.environ["EDGEWARD_ST_TOKEN"]

    @schemathesis.auth()
    class EdgeDbAuth:
        def get(self, case, ctx):
            return TOKEN

        def set(self, case, data, ctx):
            case.headers = case.headers or {}
            case.headers["X-Akamai-EdgeDB-Auth"] = data
