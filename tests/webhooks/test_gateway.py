"""The worker's API through the gateway (`/api/v1/webhooks/…`): a person signed in at the gateway, forwarded with a
token the gateway signs for the worker; the worker decides who may manage endpoints."""

from __future__ import annotations

import httpx

from tests.support.identity import sign_in, views_gateway


def test_the_city_office_manages_endpoints_through_the_gateway_and_a_district_may_not(worker, make_database):
    with views_gateway(make_database("gateway"), webhooks_url="http://webhooks.test") as gateway:
        gateway.app.state.service_transport = httpx.ASGITransport(worker.app)
        csrf = sign_in(gateway, "demo-city-office")
        created = gateway.post(
            "/api/v1/webhooks/endpoints",
            json={"url": "https://data.zibo.example/hooks", "description": "市大数据局"},
            headers=csrf,
        )
        assert created.status_code == 201, created.text
        assert created.json()["secret"].startswith("whsec_")
        [listed] = gateway.get("/api/v1/webhooks/endpoints").json()
        assert listed["description"] == "市大数据局" and "secret" not in listed
        short = gateway.post(
            "/api/v1/webhooks/endpoints",
            json={"url": "https://data.zibo.example/h", "secret": "whsec_c2hvcnQ="},
            headers=csrf,
        )
        assert short.status_code == 422 and short.json()["code"] == "secret_too_short"

        sign_in(gateway, "demo-zhangdian")
        refused = gateway.get("/api/v1/webhooks/endpoints")
        assert refused.status_code == 403 and refused.json()["code"] == "webhooks_forbidden"
