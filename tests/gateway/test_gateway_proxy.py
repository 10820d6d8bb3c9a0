"""The gateway as the single entry point: `/api/v1/campaigns/<campaign>/<path>` reaches the campaign
service unchanged (query, body, uploads) with a token the gateway signs for the signed-in caller, and
the service's answer comes back unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from minsheng.auth.tokens import ISSUER
from minsheng.catalog.document import CAMPAIGN_CODES
from tests.conftest import VIEWER, free_port
from tests.support.identity import API_KEY, PUBLIC_KEY_PEM, gateway_settings, identity_gateway, sign_in


@pytest.fixture
def gateway_database(make_database) -> str:
    return make_database("gateway")


def gateway_app(database_url: str, transport: httpx.AsyncBaseTransport | None = None, **settings):
    return identity_gateway(gateway_settings(database_url, **settings), transport)


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


@pytest.fixture
def gateway(education, gateway_database) -> Iterator[TestClient]:
    """The proxy in front of a real, started education service (reached in-process)."""
    with TestClient(gateway_app(gateway_database, httpx.ASGITransport(app=education.app))) as client:
        yield client


def report(**extra):
    return {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 5.0, **extra}


# ---- against a real service ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "tasks?limit=3&lead_department=市教育局",
        "indicators/T002-1",
        "campaigns",
        "org-units/370303/targets?limit=2&offset=1",
        "indicators/T999-9",
    ],
)
def test_a_catalog_read_through_the_gateway_is_the_services_own_answer(gateway, education, path):
    direct = education.get(f"/api/v1/{path}")
    proxied = gateway.get(f"/api/v1/campaigns/education/{path}")
    assert proxied.status_code == direct.status_code
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    assert proxied.content == direct.content


def test_a_report_is_written_through_the_gateway_as_the_signed_in_account(gateway, education):
    csrf = sign_in(gateway, "demo-education-bureau")
    me = gateway.get("/api/v1/auth/me").json()["user"]
    created = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=csrf)
    assert created.status_code == 201, created.text
    assert created.json()["indicator"] == "T002-1" and created.json()["value"] == 5.0
    # attributed to the account: its display name, role and scope, and its id
    assert created.json()["submitted_by"] == f"市教育局 演示用户（牵头部门：市教育局；账号 {me['id']}）"
    listed = education.get("/api/v1/reports", headers=VIEWER).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == created.json()["id"]
    # and read back through the gateway, with its query string
    read = gateway.get("/api/v1/campaigns/education/reports", params={"indicator": "T002-1"})
    assert read.status_code == 200 and read.json()["count"] == 1


def test_a_system_writes_through_the_gateway_with_its_api_key(gateway_database, campaign_client):
    employment = campaign_client("employment")
    with TestClient(gateway_app(gateway_database, httpx.ASGITransport(app=employment.app))) as gateway:
        rows = [report(indicator="T076-1", value=1500)]
        written = gateway.post("/api/v1/campaigns/employment/reports/bulk", json={"rows": rows}, headers=API_KEY)
        assert written.status_code == 201, written.text
        assert "就业监测系统 演示对接" in written.json()["data"][0]["submitted_by"]
        # its grants hold through the gateway as they did with its token: T078-1 is not one of its indicators
        refused = gateway.post(
            "/api/v1/campaigns/employment/reports/bulk", headers=API_KEY, json={"rows": [report(indicator="T078-1")]}
        )
        assert refused.status_code == 403 and "T078-1" in refused.json()["detail"]


def test_without_credentials_the_services_401_comes_back_unchanged(gateway, education):
    direct = education.post("/api/v1/reports", json=report())
    proxied = gateway.post("/api/v1/campaigns/education/reports", json=report())
    assert proxied.status_code == direct.status_code == 401
    assert proxied.json() == direct.json() and proxied.json()["code"] == "not_signed_in"
    for key in ("nope", "demo-city-office"):  # an unknown key, and an old-style demo token
        wrong = gateway.post(
            "/api/v1/campaigns/education/reports", json=report(), headers={"Authorization": f"Bearer {key}"}
        )
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0


def test_a_cookie_write_without_the_csrf_token_is_refused_and_writes_nothing(gateway, education):
    csrf = sign_in(gateway, "demo-city-office")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"detail": "页面已过期，请刷新后重试", "code": "csrf_failed"}
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0
    # reads need no CSRF token, and with it the write goes through
    assert gateway.get("/api/v1/campaigns/education/reports").status_code == 200
    assert gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=csrf).status_code == 201


def test_an_expired_session_still_reads_the_open_catalog_but_writes_say_so(gateway, education):
    import datetime as dt

    csrf = sign_in(gateway, "demo-education-bureau")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)  # past the absolute limit (12 h)
    gateway.app.state.utc_clock = lambda: later
    assert gateway.get("/api/v1/campaigns/education/tasks/2").status_code == 200
    expired = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=csrf)
    assert expired.status_code == 401
    assert expired.json() == {"detail": "登录已过期，请重新登录", "code": "session_expired"}


def test_a_csv_upload_passes_through_the_gateway(gateway, education):
    csrf = sign_in(gateway, "demo-education-bureau")
    csv_text = (
        "指标编号,单位代码,期间,数值,分子,分母,说明\n"
        "T002-1,370303,2022-06,2,,,张店新建2处\nT002-3,370303,2022,,6500,10000,\n"
    )
    response = gateway.post(
        "/api/v1/campaigns/education/reports/upload",
        headers=csrf,
        files={"file": ("教育局6月.csv", csv_text.encode("gbk"), "text/csv")},
    )
    assert response.status_code == 201, response.text
    assert sorted((r["indicator"], r["value"]) for r in response.json()["data"]) == [("T002-1", 2.0), ("T002-3", 65.0)]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 2
    bad = gateway.post(
        "/api/v1/campaigns/education/reports/upload",
        headers=csrf,
        files={"file": ("rows.xlsx", b"PK...", "application/octet-stream")},
    )
    # A broken workbook is refused through the gateway as it is by the service, in Chinese; nothing is saved.
    assert bad.status_code == 422 and "无法读取 Excel 文件" in bad.json()["detail"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 2


def test_an_unknown_campaign_is_404_naming_the_valid_ones(gateway):
    response = gateway.get("/api/v1/campaigns/transport/tasks")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_campaign" and "transport" in body["detail"]
    assert all(code in body["detail"] for code in CAMPAIGN_CODES) and body["campaigns"] == list(CAMPAIGN_CODES)


# ---- what is forwarded, and when the service cannot answer -------------------------------------------


def test_only_the_body_content_type_and_a_signed_token_are_forwarded(gateway_database):
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            202,
            content=b"ok,1\n",
            headers={"content-type": "text/csv; charset=utf-8", "set-cookie": "a=b", "x-internal": "1"},
        )

    app = gateway_app(gateway_database, httpx.MockTransport(service), health_url="http://health.internal:9000/")
    with TestClient(app) as client:
        response = client.patch(
            "/api/v1/campaigns/health/reports/7?note=%E5%B7%B2%E6%A0%B8%E5%AF%B9&x=1&x=2",
            content=b'{"value": 3}',
            headers={
                "Content-Type": "application/json",
                **API_KEY,
                "Cookie": "s=1",
                "X-Custom": "no",
                "X-Forwarded-For": "10.9.9.9",
            },
        )
    assert response.status_code == 202 and response.content == b"ok,1\n"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "set-cookie" not in response.headers and "x-internal" not in response.headers
    (request,) = seen
    assert request.method == "PATCH"
    assert str(request.url) == "http://health.internal:9000/api/v1/reports/7?note=%E5%B7%B2%E6%A0%B8%E5%AF%B9&x=1&x=2"
    assert request.content == b'{"value": 3}'
    assert request.headers["content-type"] == "application/json"
    # not the caller's key: a token the gateway signed for this one service, for a minute at most
    scheme, token = request.headers["authorization"].split(" ")
    assert scheme == "Bearer" and token != API_KEY["Authorization"][7:]
    claims = jwt.decode(token, PUBLIC_KEY_PEM, algorithms=["EdDSA"], audience="health", issuer=ISSUER)
    assert claims["name"] == "就业监测系统 演示对接" and claims["role"] == "integration"
    assert claims["indicators"] == ["H-EMP-1", "H-EMP-2", "T076-1"] and 0 < claims["exp"] - claims["iat"] <= 60
    assert request.headers["x-forwarded-for"] == "testclient"  # the caller as the gateway saw it, not its claim
    assert "cookie" not in request.headers and "x-custom" not in request.headers


def test_a_path_climbing_out_of_the_services_api_is_refused(gateway_database):
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"reached": request.url.path})

    with TestClient(gateway_app(gateway_database, httpx.MockTransport(service))) as client:
        response = client.get("/api/v1/campaigns/education/tasks/%2E%2E/%2E%2E/%2E%2E/metrics")
        assert response.status_code == 404 and response.json()["detail"] == "请求的地址不存在"
        assert seen == []
        assert client.get("/api/v1/campaigns/education/tasks/1").json() == {"reached": "/api/v1/tasks/1"}


def test_an_unreachable_service_is_502(gateway_database):
    # nothing listens there
    with TestClient(gateway_app(gateway_database, education_url=f"http://127.0.0.1:{free_port()}")) as client:
        response = client.get("/api/v1/campaigns/education/tasks")
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "service_unavailable" and body["campaign"] == "education"
    assert "教育" in body["detail"] and "education" in body["detail"] and "无法访问" in body["detail"]


def test_a_service_that_does_not_answer_in_time_is_504(gateway_database):
    def service(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with TestClient(gateway_app(gateway_database, httpx.MockTransport(service))) as client:
        response = client.post("/api/v1/campaigns/employment/reports", json=report())
    assert response.status_code == 504
    assert response.json()["code"] == "service_timeout" and "就业增收" in response.json()["detail"]
