"""A campaign service trusts only the gateway's signed, short-lived token for it; the gateway
publishes its public key as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from minsheng.auth.keys import public_jwk
from minsheng.auth.tokens import ALGORITHM, ISSUER
from tests.conftest import VIEWER
from tests.support.identity import (
    PUBLIC_KEY_PEM,
    SIGNER,
    demo_principal,
    gateway_settings,
    identity_gateway,
    sign_in,
)

REPORT = {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 2}


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


def claims(**changes) -> dict:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "2",
        "aud": "education",
        "iat": now,
        "exp": now + 30,
        "name": "市教育局 演示用户",
        "role": "bureau",
        "department": "市教育局",
        "org_unit": None,
        "indicators": [],
    }
    return {**base, **changes}


def signed(payload: dict, key: Ed25519PrivateKey = SIGNER.private_key, algorithm: str = ALGORITHM) -> dict:
    return {"Authorization": f"Bearer {jwt.encode(payload, key, algorithm=algorithm)}"}


def part(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(payload: dict) -> dict:
    """`alg: none`: a token anyone can write."""
    return {"Authorization": f"Bearer {part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."}


def test_a_token_the_gateway_signed_for_the_service_is_accepted(education):
    accepted = education.post("/api/v1/reports", json=REPORT, headers=signed(claims()))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["submitted_by"] == "市教育局 演示用户（牵头部门：市教育局；账号 2）"


@pytest.mark.parametrize(
    ("case", "headers", "code"),
    [
        ("expired", lambda: signed(claims(iat=int(time.time()) - 90, exp=int(time.time()) - 30)), "token_expired"),
        ("another key", lambda: signed(claims(), key=Ed25519PrivateKey.generate()), "invalid_token"),
        ("another audience", lambda: signed(claims(aud="health")), "invalid_token"),
        ("alg none", lambda: unsigned(claims()), "invalid_token"),
        ("lives longer than a minute", lambda: signed(claims(exp=int(time.time()) + 3600)), "invalid_token"),
        ("another issuer", lambda: signed(claims(iss="someone-else")), "invalid_token"),
        ("no expiry", lambda: signed({k: v for k, v in claims().items() if k != "exp"}), "invalid_token"),
        ("old-style demo token", lambda: {"Authorization": "Bearer demo-education-bureau"}, "invalid_token"),
        (
            "old-style issued token",
            lambda: {"Authorization": "Bearer ms_h7Gk2vQ0cXz9LpR4tYwB1nM8sD3fA6eJ"},
            "invalid_token",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_token_that_is_not_the_gateways_for_this_service_is_refused(education, case, headers, code):
    refused = education.post("/api/v1/reports", json=REPORT, headers=headers())
    assert refused.status_code == 401, f"{case}: {refused.text}"
    assert refused.json()["code"] == code and refused.json()["detail"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0


def test_an_hmac_token_keyed_with_the_public_key_is_refused(education):
    """The algorithm is pinned: the public key used as an HMAC secret signs nothing the service accepts."""
    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims())}"
    mac = hmac.new(PUBLIC_KEY_PEM.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    refused = education.post("/api/v1/reports", json=REPORT, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"


def test_open_reads_need_no_token_and_everything_else_does(education):
    for path in (
        "/healthz",
        "/metrics",
        "/api/v1/tasks/2",
        "/api/v1/catalog",
        "/api/v1/progress",
        "/api/v1/indicators/T002-1/progress",
    ):
        assert education.get(path).status_code == 200, path
    assert education.get("/api/v1/reports").json()["code"] == "not_signed_in"


def test_a_disabled_accounts_tokens_stop_within_their_lifetime(make_database, campaign_client):
    """The gateway refuses the account at once; a token it signed before lives at most its `exp`."""
    education = campaign_client("education")
    forwarded: list[str] = []
    service = httpx.ASGITransport(app=education.app)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            forwarded.append(request.headers.get("authorization", ""))
            return await service.handle_async_request(request)

    settings = gateway_settings(make_database("gateway"))
    with TestClient(identity_gateway(settings, Recording())) as gateway:
        office = TestClient(gateway.app)
        office_csrf = sign_in(office, "demo-city-office")
        csrf = sign_in(gateway, "demo-zhangdian")
        account_id = gateway.get("/api/v1/auth/me").json()["user"]["id"]
        body = {**REPORT, "org_unit": "370303"}
        assert gateway.post("/api/v1/campaigns/education/reports", json=body, headers=csrf).status_code == 201
        disabled_at = time.time()
        office.post(f"/api/v1/accounts/{account_id}/disable", headers=office_csrf)
        refused = gateway.post("/api/v1/campaigns/education/reports", json=body, headers=csrf)
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired"
        assert forwarded[1] == ""  # forwarded, if at all, as nobody: the service answered its own 401
    token = forwarded[0].split(" ")[1]
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert expires <= disabled_at + settings.service_token_seconds + 1


def test_the_gateway_publishes_its_public_key_as_a_jwks(make_database):
    with TestClient(identity_gateway(gateway_settings(make_database("gateway")))) as gateway:
        jwks = gateway.get("/.well-known/jwks.json").json()
    assert jwks == {"keys": [public_jwk(SIGNER.private_key.public_key())]}
    (key,) = jwks["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA" and "d" not in key
    token = SIGNER.sign(demo_principal("demo-viewer"), audience="health")
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    verified = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="health")
    assert verified["role"] == "viewer"
