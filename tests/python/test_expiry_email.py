"""The 1-day expiry e-mail: the built server sends it over SMTP to a real SMTP server (aiosmtpd,
started here), to active users with a confirmed address who may create the token, and to the
escalation contacts; nobody else gets it."""

import datetime
import email
import socket
import subprocess
import time
from email import policy

from aiosmtpd.controller import Controller

from conftest import BIN, Server, cli_env


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args):
    r = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60, env=cli_env(args))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_the_one_day_email_reaches_exactly_who_may_receive_it(tmp_path):
    handler = Collect()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    data = tmp_path / "data"
    config = tmp_path / "edgeward.toml"
    config.write_text(
        "[notify]\n"
        "mail_interval_secs = 1\n"
        "[notify.smtp]\n"
        f'host = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        'from = "Edgeward <edgeward@example.test>"\n'
    )
    server = Server(data, ["--config", str(config)])
    try:
        d = str(data)
        cli("user", "create", "ana", "--email", "ana@example.test", "--registered", "--grants", "CREATE_TOKEN", "--data-dir", d)
        cli("user", "create", "bo", "--email", "bo@example.test", "--registered", "--grants", "CREATE_TOKEN", "--data-dir", d)
        cli("user", "update", "bo", "--active", "false", "--data-dir", d)
        cli("user", "create", "cy", "--email", "cy@example.test", "--grants", "CREATE_TOKEN", "--data-dir", d)
        cli("user", "create", "dee", "--email", "dee@example.test", "--registered", "--grants", "VIEW_TOKEN", "--data-dir", d)
        cli("contact", "add", "oncall@example.test", "--name", "On call", "--data-dir", d)

        s, v = server.session(), server.cert
        tomorrow = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)).isoformat()
        body = {
            "name": "py_soon",
            "allowOnProduction": True,
            "allowOnStaging": True,
            "restrictToEwids": ["all"],
            "expiry": tomorrow,
            "namespacePermissions": {"default": ["r", "w"]},
        }
        r = s.post(server.url("/edgekv/v1/tokens"), json=body, verify=v)
        assert r.status_code == 200, r.text
        r = s.post(server.url("/edgeward/v1/notify/run"), verify=v)
        assert r.status_code == 200, r.text
        assert [d["thresholdDays"] for d in r.json()["due"]] == [1], r.text

        deadline = time.monotonic() + 20
        while len(handler.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # one more sender pass: nothing else may arrive
        recipients = sorted(rcpt for _, rcpts, _ in handler.messages for rcpt in rcpts)
        assert recipients == ["ana@example.test", "oncall@example.test"], "".join(server.log)
        for mail_from, rcpts, content in handler.messages:
            assert mail_from == "edgeward@example.test"
            msg = email.message_from_bytes(content, policy=policy.default)
            assert msg["Subject"] == f"Edgeward: access token py_soon expires on {tomorrow}"
            assert msg["To"].addresses[0].addr_spec == rcpts[0]
            assert msg.get_content_type() == "multipart/alternative"
            text = msg.get_body(preferencelist=("plain",)).get_content()
            html = msg.get_body(preferencelist=("html",)).get_content()
            assert f"py_soon: expires at the end of {tomorrow} (UTC); staging and production; namespaces default:rw" in text
            assert "edgeward token rotate py_soon --to py_soon_next" in text
            assert "<li>py_soon: expires" in html
        greetings = sorted(
            email.message_from_bytes(c, policy=policy.default).get_body(preferencelist=("plain",)).get_content().splitlines()[0]
            for _, _, c in handler.messages
        )
        assert greetings == ["Hello On call,", "Hello ana,"]

        status = s.get(server.url("/edgeward/v1/notify/status"), verify=v).json()
        assert status["email"] == "smtp" and status["emailsPending"] == 0 and status["emailsFailed"] == [], status
    finally:
        server.stop()
        smtp.stop()


def test_webhook_events_are_signed_and_a_receiver_can_verify_them(tmp_path):
    """A receiver written from the documented algorithm (HMAC-SHA256 over "<t>.<body>")."""
    import hashlib
    import hmac
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    secret = "whsec_test_0123456789abcdef"
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(secret + "\n")
    config = tmp_path / "edgeward.toml"
    # The scheduled check is owed from midnight on: it runs at the server's start, and the test
    # waits for it before making tokens, so that it cannot take some of them.
    config.write_text(
        '[notify]\nmail_interval_secs = 1\ncheck_time = "00:00"\n[notify.webhook]\n'
        f'url = "http://127.0.0.1:{httpd.server_port}/hook"\nsecret_file = "{secret_file}"\n'
    )
    server = Server(tmp_path / "data", ["--config", str(config)])
    try:
        s, v = server.session(), server.cert
        deadline = time.monotonic() + 20
        while not s.get(server.url("/edgeward/v1/notify/status"), verify=v).json()["runs"]:
            assert time.monotonic() < deadline, "the scheduled check did not run at start"
            time.sleep(0.1)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        for name, days in [("hook_1", 1), ("hook_6", 6), ("hook_7", 7)]:
            body = {
                "name": name,
                "allowOnProduction": True,
                "allowOnStaging": False,
                "restrictToEwids": ["all"],
                "expiry": (today + datetime.timedelta(days=days)).isoformat(),
                "namespacePermissions": {"default": ["r"]},
            }
            r = s.post(server.url("/edgekv/v1/tokens"), json=body, verify=v)
            assert r.status_code == 200, r.text
        r = s.post(server.url("/edgeward/v1/notify/run"), verify=v)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(received) == 2, "".join(server.log)
        events = []
        for headers, body in received:
            t, v1 = (part.split("=", 1)[1] for part in headers["edgeward-signature"].split(","))
            expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(v1, expected)
            assert abs(time.time() - int(t)) < 300
            assert headers["content-type"] == "application/json"
            event = json.loads(body)
            assert event["id"] == headers["edgeward-event-id"]
            assert event["type"] == "token.expiring"
            events.append(event)
        by_threshold = {e["thresholdDays"]: sorted(t["name"] for t in e["tokens"]) for e in events}
        assert by_threshold == {1: ["hook_1"], 7: ["hook_6", "hook_7"]}
        # A body changed in transit no longer verifies.
        headers, body = received[0]
        t = headers["edgeward-signature"].split(",")[0].split("=", 1)[1]
        forged = hmac.new(secret.encode(), f"{t}.".encode() + body.replace(b"hook", b"hack"), hashlib.sha256).hexdigest()
        assert forged != headers["edgeward-signature"].split("v1=")[1]
        status = s.get(server.url("/edgeward/v1/notify/status"), verify=v).json()
        assert status["webhook"] == "on" and status["webhooksPending"] == 0 and status["webhooksFailed"] == 0, status
    finally:
        server.stop()
        httpd.shutdown()
