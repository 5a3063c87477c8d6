"""Token values verify against Edgeward's JWKS with a standard JOSE library (joserfc), and any
tampering makes verification fail."""

import base64
import datetime
import json

import pytest
import requests
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@pytest.fixture
def value_and_keys(server):
    expiry = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    body = {
        "name": "jose",
        "allowOnProduction": True,
        "allowOnStaging": True,
        "restrictToEdgeWorkerIds": ["101", "202"],
        "expiry": expiry,
        "namespacePermissions": {"default": ["r", "w"]},
    }
    r = server.session().post(server.url("/edgekv/v1/tokens"), json=body, verify=server.cert)
    assert r.status_code == 200, r.text
    jwks = requests.get(server.url("/.well-known/jwks.json"), verify=server.cert).json()
    return r.json(), KeySet.import_key_set(jwks), expiry


def test_value_verifies_against_the_jwks(value_and_keys):
    token, keys, expiry = value_and_keys
    decoded = jwt.decode(token["value"], keys, algorithms=["EdDSA"])
    claims = decoded.claims
    assert decoded.header["alg"] == "EdDSA"
    assert claims["jti"] == token["uuid"]
    assert claims["namespace-default"] == ["r", "w"]
    assert claims["env"] == ["s", "p"]
    assert claims["ewids"] == "101,202"
    assert claims["cpc"] == token["cpcode"]
    end = datetime.datetime.fromisoformat(expiry + "T23:59:59+00:00")
    assert claims["exp"] == int(end.timestamp())


@pytest.mark.parametrize("part", [0, 1, 2])
def test_tampering_with_any_part_fails(value_and_keys, part):
    token, keys, _ = value_and_keys
    parts = token["value"].split(".")
    if part == 0:
        header = json.loads(unb64url(parts[0]))
        header["typ"] = "JOSE"
        parts[0] = b64url(json.dumps(header).encode())
    elif part == 1:
        claims = json.loads(unb64url(parts[1]))
        claims["namespace-default"] = ["r", "w", "d"]
        parts[1] = b64url(json.dumps(claims).encode())
    else:
        sig = bytearray(unb64url(parts[2]))
        sig[0] ^= 0x01
        parts[2] = b64url(bytes(sig))
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(".".join(parts), keys, algorithms=["EdDSA"])


def test_a_value_signed_by_another_key_fails(value_and_keys):
    from joserfc.jwk import OKPKey

    token, keys, _ = value_and_keys
    header = json.loads(unb64url(token["value"].split(".")[0]))
    rogue = OKPKey.generate_key("Ed25519")
    forged = jws.serialize_compact({"alg": "EdDSA", "kid": header["kid"]}, unb64url(token["value"].split(".")[1]), rogue, algorithms=["EdDSA"])
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(forged, keys, algorithms=["EdDSA"])
    # The untouched value still verifies: the failures above are the tampering's doing.
    jws.deserialize_compact(token["value"], keys, algorithms=["EdDSA"])
