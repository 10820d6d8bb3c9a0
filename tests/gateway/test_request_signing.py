"""政务 request signing: an integration account's AppKey signs requests with HMAC-SHA256 or HMAC-SM3 over the
method, path, sorted query and body digest (docs/integration.md). The signer here is written from that document,
not imported from the gateway: a signed request passes, each bad one is refused with its code and a Chinese
reason, a replay is refused, and an account held to signing can no longer use its bare API key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import VIEWER
from tests.support.identity import API_KEY, gateway_settings, identity_gateway, sign_in, views_gateway

# ---- the signer, as docs/integration.md describes it ------------------------------------------------------

HASHES = {"HMAC-SHA256": "sha256", "HMAC-SM3": "sm3"}


def rfc3986(text: str) -> str:
    return quote(text, safe="")  # UTF-8; only A–Z a–z 0–9 - . _ ~ stay as they are


def string_to_sign(method: str, url: str, body: bytes, method_name: str, app_key: str, ts: str, nonce: str) -> str:
    parts = urlsplit(url)
    pairs = sorted((rfc3986(k), rfc3986(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    body_digest = hashlib.new(HASHES[method_name], body).hexdigest()
    return "\n".join([method.upper(), parts.path, query, body_digest, app_key, ts, nonce])


def signed_headers(
    method: str, url: str, body: bytes, app_key: str, secret: str, *, method_name="HMAC-SHA256", ts=None, nonce=None
) -> dict[str, str]:
    ts = str(ts if ts is not None else int(dt.datetime.now(dt.UTC).timestamp()))
    nonce = nonce or secrets.token_hex(12)
    text = string_to_sign(method, url, body, method_name, app_key, ts, nonce)
    return {
        "X-App-Key": app_key,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature-Method": method_name,
        "X-Signature": hmac.new(secret.encode(), text.encode(), HASHES[method_name]).hexdigest(),
    }


def test_the_documented_worked_example():
    """The figures docs/integration.md prints, recomputed: the document and its example agree."""
    url = "/api/v1/reports?plan=zibo-minsheng&note=%E6%B0%91%E7%94%9F%20%E6%8A%A5%E9%80%81&campaign=employment"
    body = b'{"indicator":"T076-1","org_unit":"370303","period":"2024-05","value":12}'
    key, secret, ts, nonce = (
        "3f9a1c7e5b2d8a4c6e0f",
        "q8Vt3ZkR1mWn0pXa7YcE5sLd2HfJ9uGb4TiOx6NvKwA",
        1717200000,
        "b6f0c1a2e3d44f5e8a9b7c6d",
    )
    text = string_to_sign("POST", url, body, "HMAC-SHA256", key, str(ts), nonce)
    assert text.splitlines()[2] == "campaign=employment&note=%E6%B0%91%E7%94%9F%20%E6%8A%A5%E9%80%81&plan=zibo-minsheng"
    sha = signed_headers("POST", url, body, key, secret, ts=ts, nonce=nonce)["X-Signature"]
    sm3 = signed_headers("POST", url, body, key, secret, method_name="HMAC-SM3", ts=ts, nonce=nonce)["X-Signature"]
    assert sha == "f9b4f29117c533d4f4ba9a5337e359fa6defd218e04ed01c27cc3a893aa9318d"
    assert sm3 == "629472fc19e693834409dce6e154b7b4f598ec97dd90ce9947b4c8b36315e816"
    document = open("docs/integration.md", encoding="utf-8").read()
    assert sha in document and sm3 in document


# ---- against a gateway ------------------------------------------------------------------------------------


class System:
    """The integration system: a client without cookies, its AppKey and secret."""

    def __init__(self, client: TestClient, app_key: str, secret: str):
        self.client, self.app_key, self.secret = client, app_key, secret

    def request(self, method: str, url: str, body: bytes = b"", **sign):
        headers = signed_headers(method, url, body, self.app_key, self.secret, **sign)
        if body:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, url, content=body, headers=headers)


@pytest.fixture
def gateway(make_database):
    with views_gateway(make_database("gateway")) as client:
        yield client


@pytest.fixture
def office(gateway):
    """The city office's CSRF header, and the integration account's id."""
    csrf = sign_in(gateway, "demo-city-office")
    account_id = TestClient(gateway.app).get("/api/v1/auth/me", headers=API_KEY).json()["user"]["id"]
    return csrf, account_id


@pytest.fixture
def system(gateway, office) -> System:
    csrf, account_id = office
    issued = gateway.post(f"/api/v1/accounts/{account_id}/app-keys", json={"name": "大数据局一体化平台"}, headers=csrf)
    assert issued.status_code == 201, issued.text
    return System(TestClient(gateway.app), issued.json()["app_key"], issued.json()["app_secret"])


def refused(answer, code: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.json()["detail"])  # a reason in Chinese


@pytest.mark.parametrize("method_name", ["HMAC-SHA256", "HMAC-SM3"])
def test_a_signed_request_passes_with_either_method(system, method_name):
    me = system.request("GET", "/api/v1/auth/me?b=2&a=x%20y&a=1&empty=", method_name=method_name)
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == "demo-integration"
    # a body: its digest is signed, and the app still reads the body
    contacts = {"email": "ops@example.cn", "mobile": None, "robots": [], "muted": []}
    body = json.dumps(contacts, ensure_ascii=False).encode()
    written = system.request("PUT", "/api/v1/auth/me/contacts", body, method_name=method_name)
    assert written.status_code == 200, written.text
    assert written.json()["email"] == "ops@example.cn"


def test_a_changed_body_query_or_path_no_longer_matches_its_signature(system):
    body = b'{"email": "ops@example.cn", "mobile": null, "robots": [], "muted": []}'
    headers = signed_headers("PUT", "/api/v1/auth/me/contacts", body, system.app_key, system.secret)
    tampered = body.replace(b"ops@", b"evil@")
    answer = system.client.put("/api/v1/auth/me/contacts", content=tampered, headers=headers)
    refused(answer, "bad_signature")
    headers = signed_headers("GET", "/api/v1/auth/me?a=1", b"", system.app_key, system.secret)
    refused(system.client.get("/api/v1/auth/me?a=2", headers=headers), "bad_signature")
    headers = signed_headers("GET", "/api/v1/auth/me", b"", system.app_key, "not-the-secret")
    refused(system.client.get("/api/v1/auth/me", headers=headers), "bad_signature")


@pytest.mark.parametrize("header", ["X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature-Method", "X-Signature"])
def test_a_missing_header_is_named(system, header):
    headers = signed_headers("GET", "/api/v1/auth/me", b"", system.app_key, system.secret)
    del headers[header]
    answer = system.client.get("/api/v1/auth/me", headers=headers)
    refused(answer, "signature_headers_missing")
    assert header in answer.json()["detail"]


def test_an_expired_or_future_timestamp_is_refused(gateway, system):
    now = int(dt.datetime.now(dt.UTC).timestamp())
    for ts in (now - 301, now + 301):
        refused(system.request("GET", "/api/v1/auth/me", ts=ts), "timestamp_expired")
    assert system.request("GET", "/api/v1/auth/me", ts=now - 280).status_code == 200


def test_a_replayed_request_is_refused(system):
    headers = signed_headers("GET", "/api/v1/auth/me", b"", system.app_key, system.secret)
    assert system.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    again = system.client.get("/api/v1/auth/me", headers=headers)
    refused(again, "nonce_replayed")
    assert "随机数" in again.json()["detail"]
    # the same nonce under a fresh signature is still a replay
    refused(system.request("GET", "/api/v1/auth/me", nonce=headers["X-Nonce"]), "nonce_replayed")


def test_an_unknown_or_revoked_app_key_and_a_bad_method_are_refused(gateway, office, system):
    other = System(system.client, "0123456789abcdef0123", system.secret)
    refused(other.request("GET", "/api/v1/auth/me"), "unknown_app_key")
    headers = signed_headers("GET", "/api/v1/auth/me", b"", system.app_key, system.secret)
    headers["X-Signature-Method"] = "HMAC-MD5"
    refused(system.client.get("/api/v1/auth/me", headers=headers), "unsupported_signature_method")
    headers = signed_headers("GET", "/api/v1/auth/me", b"", system.app_key, system.secret, nonce="short")
    refused(system.client.get("/api/v1/auth/me", headers=headers), "signature_headers_invalid")

    assert system.request("GET", "/api/v1/auth/me").status_code == 200
    csrf, account_id = office
    keys = gateway.get(f"/api/v1/accounts/{account_id}/app-keys").json()
    assert keys["count"] == 1 and system.secret not in str(keys)
    assert keys["data"][0]["last_used_at"] is not None
    revoked = gateway.delete(f"/api/v1/accounts/{account_id}/app-keys/{keys['data'][0]['id']}", headers=csrf)
    assert revoked.status_code == 204
    refused(system.request("GET", "/api/v1/auth/me"), "unknown_app_key")


def test_an_account_held_to_signing_cannot_use_its_bare_api_key(gateway, office, system):
    csrf, account_id = office
    required = gateway.put(f"/api/v1/accounts/{account_id}/signing", json={"required": True}, headers=csrf)
    assert required.status_code == 200 and required.json()["signed_requests_required"] is True
    refused(TestClient(gateway.app).get("/api/v1/auth/me", headers=API_KEY), "signature_required")
    assert system.request("GET", "/api/v1/auth/me").status_code == 200
    # the exports answer a signed integration system as they answer its API key
    assert system.request("GET", "/api/v1/exchange/adx/schema.xsd").status_code == 200
    gateway.put(f"/api/v1/accounts/{account_id}/signing", json={"required": False}, headers=csrf)
    assert TestClient(gateway.app).get("/api/v1/auth/me", headers=API_KEY).status_code == 200
    # people's accounts have no AppKeys
    viewer_id = next(a["id"] for a in gateway.get("/api/v1/accounts").json()["data"] if a["role"] == "viewer")
    person = gateway.post(f"/api/v1/accounts/{viewer_id}/app-keys", json={"name": "x"}, headers=csrf)
    assert person.status_code == 422 and person.json()["code"] == "not_integration_account"


def test_a_signed_bulk_write_reaches_the_service_through_the_gateway(campaign_client, make_database):
    """The body the service receives is the one that was signed: the gateway read it for the digest and still
    forwards it whole."""
    employment = campaign_client("employment")
    settings = gateway_settings(make_database("gateway"))
    with TestClient(identity_gateway(settings, httpx.ASGITransport(app=employment.app))) as gateway:
        csrf = sign_in(gateway, "demo-city-office")
        account_id = TestClient(gateway.app).get("/api/v1/auth/me", headers=API_KEY).json()["user"]["id"]
        issued = gateway.post(f"/api/v1/accounts/{account_id}/app-keys", json={"name": "就业监测"}, headers=csrf)
        system = System(TestClient(gateway.app), issued.json()["app_key"], issued.json()["app_secret"])
        rows = {"rows": [{"indicator": "T076-1", "org_unit": "370300", "period": "2022-06", "value": 7}]}
        body = json.dumps(rows).encode()
        written = system.request("POST", "/api/v1/campaigns/employment/reports/bulk", body, method_name="HMAC-SM3")
        assert written.status_code in (200, 201), written.text
        stored = employment.get("/api/v1/reports", params={"indicator": "T076-1"}, headers=VIEWER).json()
        assert [(r["period"], r["value"]) for r in stored["data"]] == [("2022-06", 7)]
        assert stored["data"][0]["submitted_by"].startswith("就业监测系统 演示对接")  # written as the account
        # outside the account's indicators: the service's own rule, as for its API key
        other = {"rows": [{"indicator": "T081-1", "org_unit": "370300", "period": "2022-06", "value": 1}]}
        refused = system.request("POST", "/api/v1/campaigns/employment/reports/bulk", json.dumps(other).encode())
        assert refused.status_code == 403, refused.text
