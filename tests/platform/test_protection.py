"""The edge of every process: API docs that work offline, security headers, body size limits, CORS
only where configured, and the gateway's rate limits on sign-in and writes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng_gateway.rate_limits import Rate, RateLimiter
from tests.conftest import campaign_module
from tests.support.identity import PUBLIC_KEY_PEM, bearer, views_gateway


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


def full_gateway(make_database, **values):
    return views_gateway(make_database("gateway"), **values)


@pytest.fixture
def gateway(make_database) -> Iterator[TestClient]:
    with full_gateway(make_database) as client:
        yield client


# ---- API docs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_another_site(education, gateway, page):
    for client in (education, gateway):
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html.text)
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
        assert "<script>" not in html.text  # no inline script: the pages run under the strict CSP
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
    init = education.get("/docs/init.js")
    assert init.status_code == 200 and '"url": "/openapi.json"' in init.text and '"validatorUrl": null' in init.text


# ---- headers ------------------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(education, gateway):
    for response in (education.get("/api/v1/campaigns"), gateway.get("/"), gateway.get("/api/v1/nothing-here")):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_cors_is_off_unless_origins_are_configured(make_database):
    preflight = {
        "Origin": "https://other.example.cn",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    with full_gateway(make_database) as closed:
        assert "access-control-allow-origin" not in closed.options("/api/v1/auth/login", headers=preflight).headers
        assert "access-control-allow-origin" not in closed.get("/healthz", headers=preflight).headers
    with full_gateway(make_database, cors_origins=["https://other.example.cn"]) as open_:
        answer = open_.options("/api/v1/auth/login", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://other.example.cn"


# ---- body size ----------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_saved(make_database):
    limit = 64 * 1024
    service = campaign_module("education").service
    settings = service.settings.model_copy(
        update={
            "database_url": make_database("education"),
            "jwt_public_key": PUBLIC_KEY_PEM,
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "max_body_bytes": limit,
        }
    )
    with TestClient(service.create_app(settings)) as small:
        headers = bearer("demo-city-office")
        rows = [
            {"indicator": "T002-1", "org_unit": "370302", "period": "2022-06", "value": 1, "note": "x" * 100}
        ] * 1000
        refused = small.post("/api/v1/reports/bulk", json={"rows": rows}, headers=headers)
        assert refused.status_code == 413
        assert refused.json()["code"] == "body_too_large" and "上限为" in refused.json()["detail"]

        def chunks():  # no Content-Length: sent in pieces, as a streaming client would
            for _ in range(40):
                yield b"x" * 4096

        chunked = small.post("/api/v1/reports/upload", content=chunks(), headers=headers)
        assert chunked.status_code == 413
        assert small.get("/api/v1/reports", headers=headers).json()["count"] == 0
        ok = small.post("/api/v1/reports/bulk", json={"rows": rows[:1]}, headers=headers)
        assert ok.status_code == 201, ok.text


# ---- rate limits ---------------------------------------------------------------------------------------


def test_sign_in_attempts_from_one_address_are_limited_with_retry_after(make_database):
    with full_gateway(make_database, rate_sign_in_per_minute=3) as gateway:
        answers = [
            gateway.post("/api/v1/auth/login", json={"username": "demo-viewer", "password": "wrong-password-1"})
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        refused = answers[-1]
        assert refused.json()["code"] == "rate_limited" and "登录尝试过于频繁" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # Refused before the password was checked: the account's failures were not counted again.
        right = gateway.post("/api/v1/auth/login", json={"username": "demo-viewer", "password": DEMO_PASSWORD})
        assert right.status_code == 429


def test_writes_are_limited_per_caller_and_reads_are_not(make_database):
    with full_gateway(make_database, rate_writes_per_second=0.01, rate_writes_burst=2) as gateway:
        one, other = {"Authorization": "Bearer msk_one"}, {"Authorization": "Bearer msk_other"}
        statuses = [gateway.post("/api/v1/accounts", json={}, headers=one).status_code for _ in range(3)]
        assert 429 not in statuses[:2] and statuses[2] == 429  # refused before it is even authenticated
        # Another caller still writes; reads are never limited.
        assert gateway.post("/api/v1/accounts", json={}, headers=other).status_code != 429
        assert all(gateway.get("/healthz").status_code == 200 for _ in range(5))


def test_the_limiter_refills_at_its_rate():
    now = [0.0]
    limiter, rate = RateLimiter(clock=lambda: now[0]), Rate(per_second=2, burst=2)
    assert [limiter.take("k", rate) for _ in range(3)] == [0.0, 0.0, 0.5]
    now[0] += 0.5
    assert limiter.take("k", rate) == 0.0
    assert limiter.take("other", rate) == 0.0  # its own bucket
