"""Closing a plan (point 7 of plans as data): after its horizon, once nothing awaits review, the city office closes
it and its figures are read-only; the closed plan reaches the gateway as a catalog event like any catalog change,
and a service re-applying its catalog file at start-up does not reopen it."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from minsheng.catalog.document import CAMPAIGN_CODES, PlanState
from minsheng.catalog.loader import apply_catalog
from minsheng.catalog.models import Plan
from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN, campaign_at, campaign_module
from tests.support.identity import sign_in, views_gateway
from tests.support.views import fold_all, outbox_events

PLAN = "zibo-gaopinzhi-minsheng"
TODAY = dt.date(2026, 12, 7)


def submit(service, period: str, headers=EDU_BUREAU) -> httpx.Response:
    return service.post(
        "/api/v1/reports",
        json={"indicator": "T002-1", "org_unit": "370302", "period": period, "value": 3},
        headers=headers,
    )


def test_a_plan_closes_only_after_its_horizon_and_its_reviews_then_takes_no_report(campaign_client):
    education = campaign_client("education")
    education.app.state.clock = lambda: dt.date(2024, 6, 15)
    pending = submit(education, "2024-05")
    assert pending.status_code == 201, pending.text
    early = education.post(f"/api/v1/plans/{PLAN}/close", headers=CITY)
    assert (
        early.status_code == 409 and early.json()["code"] == "plan_not_ended" and "2024-12-31" in early.json()["detail"]
    )

    education.app.state.clock = lambda: TODAY
    refused = education.post(f"/api/v1/plans/{PLAN}/close", headers=CITY)
    assert (
        refused.status_code == 409
        and refused.json()["code"] == "pending_reports"
        and "1 份" in refused.json()["detail"]
    )
    assert education.post(f"/api/v1/plans/{PLAN}/close", headers=ZHANGDIAN).status_code == 403
    # Until it is closed, an ended plan still takes its corrections and reviews.
    assert education.post(f"/api/v1/reports/{pending.json()['id']}/approve", headers=CITY).status_code == 200

    closed = education.post(f"/api/v1/plans/{PLAN}/close", headers=CITY)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert education.post(f"/api/v1/plans/{PLAN}/close", headers=CITY).status_code == 200  # twice is once

    late = submit(education, "2024-06")
    assert late.status_code == 422 and late.json()["code"] == "plan_not_open" and "已关闭" in late.json()["detail"]
    assert education.get("/api/v1/catalog").json()["plan"]["state"] == "closed"
    published = [e for e in outbox_events(education) if e.type == "minsheng.catalog.published.v1"]
    assert published[-1].data["catalog"]["plan"]["state"] == "closed"

    # Start-up applies the catalog file again (its plan says published): the closed plan stays closed.
    service = campaign_module("education").service
    with education.app.state.database.session() as session:
        apply_catalog(session=session, doc=service.catalog, catalog=education.app.state.catalog)
        session.commit()
        assert session.get(Plan, PLAN).state is PlanState.closed


@pytest.fixture
def gateway(make_database, campaign_client):
    services = {campaign: campaign_client(campaign) for campaign in CAMPAIGN_CODES}
    for service in services.values():
        service.app.state.clock = lambda: TODAY

    def to_service(request: httpx.Request) -> httpx.Response:
        # The gateway's calls reach the in-process services (each known by its port, as in `make run`).
        campaign = campaign_at(request.url)
        answer = services[campaign].request(
            request.method, request.url.path, headers=dict(request.headers), content=request.content
        )
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    with views_gateway(make_database("gateway"), today=TODAY) as client:
        client.app.state.service_transport = httpx.MockTransport(to_service)
        yield client, services


def test_the_city_office_closes_the_plan_in_every_campaign_and_the_gateway_learns_it(gateway):
    client, services = gateway
    sign_in(client, "demo-zhangdian")
    assert client.post(f"/api/v1/plans/{PLAN}/close", headers=sign_in(client, "demo-zhangdian")).status_code == 403

    csrf = sign_in(client, "demo-city-office")
    answer = client.post(f"/api/v1/plans/{PLAN}/close", headers=csrf)
    assert answer.status_code == 200, answer.text
    assert answer.json()["closed"] and {c["status_code"] for c in answer.json()["campaigns"]} == {200}
    assert [c["name"] for c in answer.json()["campaigns"]][:2] == ["教育", "医疗健康"]

    for service in services.values():
        fold_all(client, outbox_events(service))
    (plan,) = client.get("/api/v1/plans").json()
    assert plan["code"] == PLAN and plan["state"] == "closed" and plan["phase"] == "closed"
