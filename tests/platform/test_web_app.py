"""The gateway serves the web app (工作台) at `/` beside the API, one origin: the build's files as they are,
the app's own routes as index.html, and the API's and operations' paths untouched."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import minsheng_gateway.main as gateway_main
from minsheng_gateway.settings import GatewaySettings

INDEX = (
    '<!doctype html><html lang="zh-CN"><head><title>民生平台 · 工作台</title></head>'
    '<body><div id="app"></div></body></html>'
)


def gateway_with(make_database, dist: Path) -> TestClient:
    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("gateway"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
            "web_dist": dist,
        }
    )
    return TestClient(gateway_main.build_app(settings))


@pytest.fixture
def built(tmp_path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    (dist / "assets" / "index-3f2a.js").write_text("console.log('工作台')", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    return dist


@pytest.fixture
def gateway(make_database, built) -> Iterator[TestClient]:
    with gateway_with(make_database, built) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/login", "/entry?campaign=education&period=2022-06", "/review/deep/link"])
def test_the_app_and_its_own_routes_answer_index_html(gateway, path):
    response = gateway.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"  # a new build is picked up at the next visit


def test_the_builds_files_are_served_and_hashed_assets_cached_for_good(gateway):
    asset = gateway.get("/assets/index-3f2a.js")
    assert asset.status_code == 200 and asset.text == "console.log('工作台')"
    assert "javascript" in asset.headers["content-type"]
    assert "immutable" in asset.headers["cache-control"]
    icon = gateway.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"
    # An old page asking for a file of an earlier build gets a 404, not the app's HTML as JavaScript.
    assert gateway.get("/assets/index-old.js").status_code == 404


def test_a_browser_that_accepts_gzip_gets_the_builds_gzipped_copy(gateway, built):
    script = "console.log('工作台');" * 200
    (built / "assets" / "HomeView-9c1d.js").write_text(script, encoding="utf-8")
    (built / "assets" / "HomeView-9c1d.js.gz").write_bytes(gzip.compress(script.encode()))

    packed = gateway.get("/assets/HomeView-9c1d.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.status_code == 200 and packed.text == script  # the client unpacks what it was sent
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(script.encode()) / 10
    assert "javascript" in packed.headers["content-type"] and packed.headers["vary"] == "Accept-Encoding"
    assert "immutable" in packed.headers["cache-control"]

    for refused in ("identity", "gzip;q=0"):
        plain = gateway.get("/assets/HomeView-9c1d.js", headers={"Accept-Encoding": refused})
        assert "content-encoding" not in plain.headers, refused
        assert plain.text == script and int(plain.headers["content-length"]) == len(script.encode())
    # A file the build did not pack is sent as it is, whatever the browser accepts.
    unpacked = gateway.get("/assets/index-3f2a.js", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in unpacked.headers and unpacked.text == "console.log('工作台')"


def test_nothing_outside_the_build_is_served(gateway):
    for path in ("/%2E%2E/secret.txt", "/assets/%2E%2E/%2E%2E/secret.txt", "/..%2Fsecret.txt"):
        response = gateway.get(path)
        assert "not for the web" not in response.text, path


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_api_paths_stay_json_404s(gateway, method):
    response = gateway.request(method, "/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "请求的地址不存在", "code": "http_404"}


def test_the_api_and_operations_endpoints_are_untouched(gateway):
    health = gateway.get("/healthz")
    assert health.status_code == 200 and health.headers["content-type"] == "application/json"
    assert gateway.get("/openapi.json").json()["info"]["title"].startswith("淄博市")
    assert "swagger" in gateway.get("/docs").text.lower()
    assert gateway.get("/metrics").headers["content-type"].startswith("text/plain")
    assert gateway.get("/asyncapi.json").json()["asyncapi"].startswith("3.")
    assert gateway.get("/api/v1/campaigns").headers["content-type"] == "application/json"
    # The app's catch-all route is not part of the API's contract.
    assert not any(path.startswith("/{") for path in gateway.get("/openapi.json").json()["paths"])


def test_without_a_build_the_gateway_runs_and_says_how_to_build(make_database, tmp_path):
    with gateway_with(make_database, tmp_path / "no-dist") as client:
        page = client.get("/")
        assert page.status_code == 200 and "工作台网页尚未构建" in page.text and "make run" in page.text
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/campaigns").headers["content-type"] == "application/json"
        assert client.get("/api/v1/nothing").json()["code"] == "http_404"
