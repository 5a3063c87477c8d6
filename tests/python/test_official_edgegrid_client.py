"""Akamai's official EdgeGrid library for Python (edgegrid-python) signs requests that Edgeward accepts."""

import datetime

# `verify=` is given on every call: requests lets REQUESTS_CA_BUNDLE override a session's verify.


def cli_body(name, expiry=""):
    return {
        "name": name,
        "allowOnProduction": False,
        "allowOnStaging": True,
        "restrictToEwids": ["all"],
        "expiry": expiry,
        "namespacePermissions": {"default": ["r", "w", "d"]},
    }


def test_token_lifecycle_with_edgegrid_python(server):
    s, v = server.session(), server.cert
    r = s.post(server.url("/edgekv/v1/tokens"), json=cli_body("py_auto"), verify=v)
    assert r.status_code == 200, r.text
    assert r.headers["X-Trace-Id"]
    auto = r.json()
    assert auto["expiry"] == "9999-12-31" and "value" not in auto

    expiry = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    r = s.post(server.url("/edgekv/v1/tokens"), json=cli_body("py_exp", expiry), verify=v)
    assert r.status_code == 200, r.text
    assert r.json()["value"].count(".") == 2

    # Query strings (including an unencoded accountSwitchKey) are signed as sent.
    r = s.get(server.url("/edgekv/v1/tokens?includeExpired=true&accountSwitchKey=ACC-1:2-AB"), verify=v)
    assert r.status_code == 200, r.text
    assert [t["name"] for t in r.json()["tokens"]] == ["py_auto", "py_exp"]

    r = s.get(server.url("/edgekv/v1/tokens/py_exp"), verify=v)
    assert r.status_code == 200 and r.json()["uuid"]

    r = s.post(server.url("/edgekv/v1/tokens/py_auto/refresh"), verify=v)
    assert r.status_code == 200, r.text
    assert r.json()["namespacePermissions"] == {"default": ["r", "w", "d"]}

    r = s.post(server.url("/edgekv/v1/tokens"), json=cli_body("py_auto"), verify=v)
    assert r.status_code == 409
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["errorCode"] == "EKV_3000"

    r = s.delete(server.url("/edgekv/v1/tokens/py_auto"), verify=v)
    assert r.status_code == 200 and r.json() == {"name": "py_auto", "uuid": auto["uuid"]}

    r = s.put(server.url("/edgekv/v1/initialize"), verify=v)
    assert r.status_code == 200 and r.json()["accountStatus"] == "INITIALIZED"


def test_a_wrong_secret_is_refused(server):
    server.edgerc.set("default", "client_secret", "bm90LXRoZS1yaWdodC1zZWNyZXQtYXQtYWxsLW5vcGU=")
    s = server.session()
    r = s.get(server.url("/edgekv/v1/tokens"), verify=server.cert)
    assert r.status_code == 401
    assert r.json()["detail"] == "The signature does not match"
