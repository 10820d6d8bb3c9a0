"""The gateway as the single entry point: `/api/v1/campaigns/<campaign>/<path>` reaches the campaign
service unchanged (query, body, uploads, token) and its answer comes back unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.errors import install_error_handlers
from minsheng_gateway.proxy import close_proxy_client
from minsheng_gateway.proxy import router as proxy_router
from minsheng_gateway.settings import GatewaySettings
from tests.conftest import EDU_BUREAU, VIEWER, free_port


def gateway_app(settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """A bare app with only the proxy router, as the gateway mounts it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await close_proxy_client(app)

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(proxy_router)
    app.state.settings = settings
    if transport is not None:
        app.state.service_transport = transport
    return app


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


@pytest.fixture
def gateway(education) -> Iterator[TestClient]:
    """The proxy in front of a real, started education service (reached in-process)."""
    app = gateway_app(GatewaySettings(), httpx.ASGITransport(app=education.app))
    with TestClient(app) as client:
        yield client


def report(**extra):
    return {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 5.0, **extra}


# ---- against a real service ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["tasks?limit=3&lead_department=市教育局", "indicators/T002-1", "campaigns",
                                  "org-units/370303/targets?limit=2&offset=1", "indicators/T999-9"])
def test_a_catalog_read_through_the_gateway_is_the_services_own_answer(gateway, education, path):
    direct = education.get(f"/api/v1/{path}")
    proxied = gateway.get(f"/api/v1/campaigns/education/{path}")
    assert proxied.status_code == direct.status_code
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    assert proxied.content == direct.content


def test_a_report_is_written_through_the_gateway_with_the_callers_token(gateway, education):
    created = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=EDU_BUREAU)
    assert created.status_code == 201, created.text
    assert created.json()["indicator"] == "T002-1" and created.json()["value"] == 5.0
    listed = education.get("/api/v1/reports", headers=VIEWER).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == created.json()["id"]
    # and read back through the gateway, with its query string
    read = gateway.get("/api/v1/campaigns/education/reports", params={"indicator": "T002-1"}, headers=VIEWER)
    assert read.status_code == 200 and read.json()["count"] == 1


def test_without_a_token_the_services_401_comes_back_unchanged(gateway, education):
    direct = education.post("/api/v1/reports", json=report())
    proxied = gateway.post("/api/v1/campaigns/education/reports", json=report())
    assert proxied.status_code == direct.status_code == 401
    assert proxied.json() == direct.json() and proxied.json()["code"] == "missing_token"
    wrong = gateway.post("/api/v1/campaigns/education/reports", json=report(),
                         headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0


def test_a_csv_upload_passes_through_the_gateway(gateway, education):
    csv_text = "指标编号,单位代码,期间,数值,分子,分母,说明\nT002-1,370303,2022-06,2,,,张店新建2处\nT002-3,370303,2022,,6500,10000,\n"
    response = gateway.post("/api/v1/campaigns/education/reports/upload", headers=EDU_BUREAU,
                            files={"file": ("教育局6月.csv", csv_text.encode("gbk"), "text/csv")})
    assert response.status_code == 201, response.text
    assert sorted((r["indicator"], r["value"]) for r in response.json()["data"]) == [("T002-1", 2.0),
                                                                                    ("T002-3", 65.0)]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 2
    bad = gateway.post("/api/v1/campaigns/education/reports/upload", headers=EDU_BUREAU,
                       files={"file": ("rows.xlsx", b"PK...", "application/octet-stream")})
    assert bad.status_code == 422 and "另存为 CSV" in bad.json()["detail"]


def test_an_unknown_campaign_is_404_naming_the_valid_ones(gateway):
    response = gateway.get("/api/v1/campaigns/transport/tasks")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_campaign" and "transport" in body["detail"]
    assert all(code in body["detail"] for code in CAMPAIGN_CODES) and body["campaigns"] == list(CAMPAIGN_CODES)


# ---- what is forwarded, and when the service cannot answer -------------------------------------------


def test_only_the_body_content_type_and_token_are_forwarded(gateway):
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, content=b"ok,1\n", headers={"content-type": "text/csv; charset=utf-8",
                                                                "set-cookie": "a=b", "x-internal": "1"})

    app = gateway_app(GatewaySettings(health_url="http://health.internal:9000/"), httpx.MockTransport(service))
    with TestClient(app) as client:
        response = client.patch("/api/v1/campaigns/health/reports/7?note=%E5%B7%B2%E6%A0%B8%E5%AF%B9&x=1&x=2",
                                content=b'{"value": 3}',
                                headers={"Content-Type": "application/json", **EDU_BUREAU, "Cookie": "s=1",
                                         "X-Custom": "no", "X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 202 and response.content == b"ok,1\n"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "set-cookie" not in response.headers and "x-internal" not in response.headers
    (request,) = seen
    assert request.method == "PATCH"
    assert str(request.url) == "http://health.internal:9000/api/v1/reports/7?note=%E5%B7%B2%E6%A0%B8%E5%AF%B9&x=1&x=2"
    assert request.content == b'{"value": 3}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == EDU_BUREAU["Authorization"]
    assert request.headers["x-forwarded-for"] == "testclient"  # the caller as the gateway saw it, not its claim
    assert "cookie" not in request.headers and "x-custom" not in request.headers


def test_a_path_climbing_out_of_the_services_api_is_refused():
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"reached": request.url.path})

    with TestClient(gateway_app(GatewaySettings(), httpx.MockTransport(service))) as client:
        response = client.get("/api/v1/campaigns/education/tasks/%2E%2E/%2E%2E/%2E%2E/metrics")
        assert response.status_code == 404 and response.json()["detail"] == "请求的地址不存在"
        assert seen == []
        assert client.get("/api/v1/campaigns/education/tasks/1").json() == {"reached": "/api/v1/tasks/1"}


def test_an_unreachable_service_is_502():
    settings = GatewaySettings(education_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with TestClient(gateway_app(settings)) as client:
        response = client.get("/api/v1/campaigns/education/tasks")
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "service_unavailable" and body["campaign"] == "education"
    assert "教育" in body["detail"] and "education" in body["detail"] and "无法访问" in body["detail"]


def test_a_service_that_does_not_answer_in_time_is_504():
    def service(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with TestClient(gateway_app(GatewaySettings(), httpx.MockTransport(service))) as client:
        response = client.post("/api/v1/campaigns/employment/reports", json=report())
    assert response.status_code == 504
    assert response.json()["code"] == "service_timeout" and "就业增收" in response.json()["detail"]
