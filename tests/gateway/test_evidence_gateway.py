"""佐证材料 through the gateway, the single entry point: an upload as a signed-in clerk, the file streamed back after
the service's permission check, with the headers that let the app show it in a frame and nothing in it run; the
store away answers 503 with Retry-After through the gateway too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import free_port
from tests.support import evidence_files as files
from tests.support.evidence_service import report, start
from tests.support.identity import gateway_settings, identity_gateway, sign_in


@pytest.fixture
def education(make_database, object_store) -> Iterator[TestClient]:
    client = start(make_database, object_store)
    yield client
    client.__exit__(None, None, None)


def gateway_for(service: TestClient, make_database) -> TestClient:
    app = identity_gateway(gateway_settings(make_database("gateway")), httpx.ASGITransport(app=service.app))
    return TestClient(app)


def test_a_clerk_uploads_through_the_gateway_and_the_city_office_reads_the_file_back(education, make_database):
    with gateway_for(education, make_database) as gateway:
        csrf = sign_in(gateway, "demo-zhangdian")
        photo = files.jpeg(gps=True)
        uploaded = gateway.post(
            "/api/v1/campaigns/education/evidence", files={"file": ("现场.jpg", photo)}, headers=csrf
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        saved = gateway.post(
            "/api/v1/campaigns/education/reports", json=report(evidence=[(file_id, "现场照片")]), headers=csrf
        )
        assert saved.status_code == 201, saved.text
        gateway.post("/api/v1/auth/logout", headers=csrf)

        sign_in(gateway, "demo-city-office")
        content = gateway.get(f"/api/v1/campaigns/education/evidence/{file_id}/content")
        assert content.status_code == 200
        assert hashlib.sha256(content.content).hexdigest() == uploaded.json()["sha256"]
        assert content.headers["content-type"] == "image/jpeg"
        assert content.headers["content-length"] == str(len(content.content))
        # Shown in the app's own frame, nothing in it may run.
        assert "frame-ancestors 'self'" in content.headers["content-security-policy"]
        assert "sandbox" in content.headers["content-security-policy"]
        assert content.headers["x-frame-options"] == "SAMEORIGIN"
        # A JSON answer keeps the gateway's own policy.
        listed = gateway.get("/api/v1/campaigns/education/evidence", params={"report_id": saved.json()["id"]})
        assert listed.json()["count"] == 1
        assert "frame-ancestors 'none'" in listed.headers["content-security-policy"]


def test_with_the_store_away_the_gateway_passes_the_503_and_its_retry_after(make_database, object_store):
    service = start(make_database, object_store, object_store_url=f"http://127.0.0.1:{free_port()}")
    try:
        with gateway_for(service, make_database) as gateway:
            csrf = sign_in(gateway, "demo-zhangdian")
            refused = gateway.post(
                "/api/v1/campaigns/education/evidence", files={"file": ("a.pdf", files.pdf())}, headers=csrf
            )
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "10"
            assert "文件存储暂时不可用" in refused.json()["detail"]
            ok = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=csrf)
            assert ok.status_code == 201, ok.text
    finally:
        service.__exit__(None, None, None)
