"""督办单 through the gateway's API: the whole life of an order as the city office, 市领导, the responsible
department and others would live it, the steps refused (wrong state 409, wrong person 403), and the events
each step leaves in the gateway's outbox for the notifier.

The gateway's catalog is the eldercare service's (folded from its catalog event): 市民政局 leads its tasks and is
the responsible department; 张店区 partners the orders."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import select

from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.progress.model import Thresholds
from minsheng.reporting.events import CATALOG_PUBLISHED
from minsheng.supervision_events import SUPERVISION_TOPIC, SupervisionOrderEvent
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.progress import refresh
from tests.support.identity import gateway_settings, sign_in
from tests.support.topics import read_topic

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # 10:00 in Zibo
DEPARTMENT = "市民政局"
ZHANGDIAN = "370303"


@pytest.fixture
def gateway(campaign_client, make_database):
    with running_gateway(campaign_client, make_database, "127.0.0.1:1") as client:
        yield client


@contextmanager
def running_gateway(campaign_client, make_database, bootstrap_servers: str, **values) -> Iterator[TestClient]:
    import minsheng_gateway.main as gateway_main

    eldercare = campaign_client("eldercare")
    with eldercare.app.state.database.session() as session:
        catalog = [
            IntegrationEvent.from_json_bytes(r.payload)
            for r in session.exec(select(OutboxEvent).where(OutboxEvent.type == CATALOG_PUBLISHED))
        ]
    settings = gateway_settings(
        make_database("gateway"), kafka_bootstrap_servers=bootstrap_servers, catalog_retry_seconds=3600, **values
    )
    with TestClient(gateway_main.build_app(settings)) as client:
        app = client.app
        app.state.clock = lambda: TODAY
        app.state.utc_clock = lambda: NOW
        handlers = view_handlers(
            lambda session, stale, slot: refresh(session, stale, Thresholds(), slot.catalog, TODAY), app.state.plans
        )
        with app.state.database.session() as session:
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in catalog])
            session.commit()
        yield client


def person(gateway: TestClient, username: str) -> tuple[TestClient, dict]:
    browser = TestClient(gateway.app)
    return browser, sign_in(browser, username)


def order_body(**changes) -> dict:
    body = {
        "title": "居家养老服务覆盖率滞后",
        "instruction": "请市民政局牵头，一个月内拿出整改措施，按月报告进展。",
        "subject": {"kind": "warning", "ref": "T039-1:370303", "label": "T039-1 居家养老服务覆盖率（张店区）滞后"},
        "lead_unit": {"kind": "department", "code": DEPARTMENT},
        "partner_units": [{"kind": "org_unit", "code": ZHANGDIAN}],
        "deadline": (TODAY + dt.timedelta(days=14)).isoformat(),
    }
    return body | changes


ANSWER = {"measures": "已召开专题会，增设12处站点", "expected_result": "覆盖率达到 80%", "expected_by": "2027-02-28"}


def supervision_events(gateway: TestClient) -> list[IntegrationEvent]:
    with gateway.app.state.database.session() as session:
        rows = session.exec(select(OutboxEvent).where(OutboxEvent.topic == SUPERVISION_TOPIC).order_by(OutboxEvent.id))
        return [IntegrationEvent.from_json_bytes(r.payload) for r in rows]


def test_an_order_travels_from_assigned_to_closed_with_a_return_every_step_attributed_and_published(gateway):
    office, office_csrf = person(gateway, "demo-city-office")
    bureau, bureau_csrf = person(gateway, "demo-civil-affairs-bureau")

    dictionary = office.get("/api/v1/supervision/dictionary").json()
    assert {s["code"]: s["label"] for s in dictionary["states"]} == {
        "assigned": "已交办",
        "acknowledged": "已签收",
        "in_progress": "办理中",
        "answered": "已反馈",
        "closed": "已办结",
        "returned": "退回重办",
    }
    units = {(u["kind"], u["code"]): u["name"] for u in dictionary["units"]}
    assert units[("department", DEPARTMENT)] == DEPARTMENT and units[("org_unit", ZHANGDIAN)] == "张店区"

    opened = office.post("/api/v1/supervision/orders", json=order_body(), headers=office_csrf)
    assert opened.status_code == 201, opened.text
    order = opened.json()
    number = order["id"]
    assert number == "DB-2026-0001"
    assert (order["state"], order["state_label"], order["overdue"]) == ("assigned", "已交办", False)
    assert order["lead_unit"]["name"] == DEPARTMENT and order["partner_units"][0]["name"] == "张店区"
    assert order["link"] == f"/supervision/{number}"
    assert order["actions"] == []  # the city office waits for the department

    path = f"/api/v1/supervision/orders/{number}"
    assert bureau.get(path).json()["actions"] == ["acknowledge"]
    steps = [
        ("acknowledge", {}, "acknowledged"),
        ("start", {}, "in_progress"),
        ("answer", ANSWER, "answered"),
    ]
    for action, body, state in steps:
        answer = bureau.post(f"{path}/{action}", json=body or None, headers=bureau_csrf)
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == state
    assert office.get(path).json()["actions"] == ["close", "return"]

    returned = office.post(f"{path}/return", json={"reason": "措施不具体，请列出站点清单"}, headers=office_csrf)
    assert returned.status_code == 200 and returned.json()["state_label"] == "退回重办"
    again = bureau.post(f"{path}/answer", json=ANSWER | {"measures": "附12处站点清单"}, headers=bureau_csrf)
    assert again.json()["state"] == "answered" and again.json()["measures"] == "附12处站点清单"
    closed = office.post(f"{path}/close", headers=office_csrf).json()
    assert closed["state_label"] == "已办结" and closed["closed_at"] is not None

    history = closed["history"]
    assert [(s["action_label"], s["to_state_label"]) for s in history] == [
        ("交办", "已交办"),
        ("签收", "已签收"),
        ("开始办理", "办理中"),
        ("反馈", "已反馈"),
        ("退回重办", "退回重办"),
        ("反馈", "已反馈"),
        ("办结", "已办结"),
    ]
    assert "市民生办 演示用户" in history[0]["actor"] and "市民政局 演示用户" in history[1]["actor"]
    assert history[4]["note"] == "措施不具体，请列出站点清单"
    assert history[3]["detail"] == {"expected_result": "覆盖率达到 80%", "expected_by": "2027-02-28"}
    assert all(dt.datetime.fromisoformat(s["at"]) == NOW for s in history)

    events = supervision_events(gateway)
    assert [e.type.split(".")[2] for e in events] == [
        "order_assigned",
        "order_acknowledged",
        "order_in_progress",
        "order_answered",
        "order_returned",
        "order_answered",
        "order_closed",
    ]
    data = [SupervisionOrderEvent.model_validate(e.data) for e in events]
    assert {e.subject for e in events} == {number} and {e.source for e in events} == {"/minsheng/gateway"}
    assert data[4].reason == "措施不具体，请列出站点清单" and data[4].state_label == "退回重办"
    assert data[0].actor == "市民生办 演示用户" and data[1].actor == "市民政局 演示用户"
    assert data[0].lead_unit.code == DEPARTMENT and data[0].partner_units[0].code == ZHANGDIAN
    assert data[0].link == f"/supervision/{number}" and data[0].subject.kind == "warning"


def test_steps_out_of_turn_or_by_the_wrong_person_are_refused_and_leave_no_trace(gateway):
    office, office_csrf = person(gateway, "demo-city-office")
    bureau, bureau_csrf = person(gateway, "demo-civil-affairs-bureau")
    district, district_csrf = person(gateway, "demo-zhangdian")
    viewer, viewer_csrf = person(gateway, "demo-viewer")
    leader, leader_csrf = person(gateway, "demo-leader")
    education, education_csrf = person(gateway, "demo-education-bureau")
    number = office.post("/api/v1/supervision/orders", json=order_body(), headers=office_csrf).json()["id"]
    path = f"/api/v1/supervision/orders/{number}"
    before = len(supervision_events(gateway))

    def refused(client: TestClient, csrf: dict, action: str, status: int, code: str, body: dict | None = None) -> str:
        answer = client.post(f"{path}/{action}", json=body, headers=csrf)
        assert answer.status_code == status, answer.text
        assert answer.json()["code"] == code
        return answer.json()["detail"]

    # the state does not allow it: 409, whoever asks
    detail = refused(office, office_csrf, "close", 409, "supervision_bad_transition")
    assert "已交办" in detail and "已反馈" in detail
    refused(bureau, bureau_csrf, "answer", 409, "supervision_bad_transition", ANSWER)
    # not the responsible unit: the partner district, a viewer, 市领导; another department does not see it at all
    for client, csrf in ((district, district_csrf), (viewer, viewer_csrf), (leader, leader_csrf)):
        assert "只能由主办单位 市民政局" in refused(client, csrf, "acknowledge", 403, "not_lead_unit")
    refused(education, education_csrf, "acknowledge", 404, "supervision_order_not_found")
    assert education.get(path).status_code == 404
    assert education.get("/api/v1/supervision/orders").json()["count"] == 0
    assert district.get("/api/v1/supervision/orders").json()["count"] == 1  # a partner sees it

    assert bureau.post(f"{path}/acknowledge", headers=bureau_csrf).status_code == 200
    refused(bureau, bureau_csrf, "acknowledge", 409, "supervision_bad_transition")
    assert bureau.post(f"{path}/answer", json=ANSWER, headers=bureau_csrf).status_code == 200
    # only the city office closes or returns: not the department, not 市领导
    refused(bureau, bureau_csrf, "close", 403, "city_office_only")
    refused(leader, leader_csrf, "return", 403, "city_office_only", {"reason": "请补充"})
    # a return needs its reason
    assert office.post(f"{path}/return", json={}, headers=office_csrf).status_code == 422

    events = supervision_events(gateway)
    assert len(events) == before + 2  # the acknowledgement and the answer, nothing of the refusals
    history = office.get(path).json()["history"]
    assert [s["action"] for s in history] == ["open", "acknowledge", "answer"]


def test_who_opens_orders_and_what_an_order_may_name(gateway):
    leader, leader_csrf = person(gateway, "demo-leader")
    bureau, bureau_csrf = person(gateway, "demo-civil-affairs-bureau")
    office, office_csrf = person(gateway, "demo-city-office")
    by_leader = leader.post("/api/v1/supervision/orders", json=order_body(), headers=leader_csrf)
    assert by_leader.status_code == 201 and "市领导" in by_leader.json()["opened_by"]

    refused = bureau.post("/api/v1/supervision/orders", json=order_body(), headers=bureau_csrf)
    assert refused.status_code == 403 and refused.json()["code"] == "supervision_openers_only"
    assert "市民生办或市领导" in refused.json()["detail"]

    cases = {
        "deadline_in_past": order_body(deadline="2026-12-01"),
        "unknown_unit": order_body(lead_unit={"kind": "department", "code": "市不存在局"}),
        "partner_is_lead": order_body(partner_units=[{"kind": "department", "code": DEPARTMENT}]),
        "unknown_plan": order_body(plan="no-such-plan"),
    }
    for code, body in cases.items():
        answer = office.post("/api/v1/supervision/orders", json=body, headers=office_csrf)
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
    district = office.post(
        "/api/v1/supervision/orders",
        json=order_body(lead_unit={"kind": "org_unit", "code": "999999"}),
        headers=office_csrf,
    )
    assert district.status_code == 422 and "区县代码 999999 不存在" in district.json()["detail"]
    assert office.get("/api/v1/supervision/orders").json()["count"] == 1


def test_the_list_filters_by_state_unit_subject_and_overdue_and_exports_what_it_shows(gateway):
    office, csrf = person(gateway, "demo-city-office")
    soon = office.post("/api/v1/supervision/orders", json=order_body(deadline="2026-12-10"), headers=csrf).json()
    later = order_body(
        deadline="2027-01-31",
        subject={"kind": "district", "ref": ZHANGDIAN, "label": "张店区"},
        lead_unit={"kind": "org_unit", "code": ZHANGDIAN},
        partner_units=[],
    )
    office.post("/api/v1/supervision/orders", json=later, headers=csrf)

    def ids(**params) -> list[str]:
        return [o["id"] for o in office.get("/api/v1/supervision/orders", params=params).json()["data"]]

    assert ids() == ["DB-2026-0002", "DB-2026-0001"]
    assert ids(unit=DEPARTMENT) == ["DB-2026-0001"]
    assert ids(unit=ZHANGDIAN) == ["DB-2026-0002", "DB-2026-0001"]  # lead of one, partner of the other
    assert ids(subject_kind="district", subject_ref=ZHANGDIAN) == ["DB-2026-0002"]
    assert ids(state="assigned") == ["DB-2026-0002", "DB-2026-0001"] and ids(state="closed") == []
    assert ids(overdue=True) == []

    gateway.app.state.clock = lambda: dt.date(2026, 12, 13)  # three days past the first deadline
    assert ids(overdue=True) == [soon["id"]]
    late = office.get(f"/api/v1/supervision/orders/{soon['id']}").json()
    assert (late["overdue"], late["days_overdue"]) == (True, 3)

    export = office.get("/api/v1/supervision/orders.xlsx", params={"overdue": True})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content))["督办单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("督办单号", "督办事项", "督办对象")
    assert len(rows) == 2 and rows[1][0] == soon["id"] and rows[1][7] == "已交办" and rows[1][8] == "是"


def test_the_gateways_relay_publishes_the_steps_to_the_supervision_topic(campaign_client, make_database, broker):
    """The events reach the broker through the gateway's own relay child, keyed by the order's number, in order."""
    with running_gateway(campaign_client, make_database, broker.bootstrap_servers) as gateway:
        office, office_csrf = person(gateway, "demo-city-office")
        bureau, bureau_csrf = person(gateway, "demo-civil-affairs-bureau")
        number = office.post("/api/v1/supervision/orders", json=order_body(), headers=office_csrf).json()["id"]
        assert bureau.post(f"/api/v1/supervision/orders/{number}/acknowledge", headers=bureau_csrf).status_code == 200
        deadline = time.monotonic() + 60
        with gateway.app.state.database.session() as session:
            while session.exec(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))).first() is not None:
                assert time.monotonic() < deadline, "the gateway's relay never published its outbox"
                time.sleep(0.3)
                session.expire_all()
    records = asyncio.run(read_topic(broker.bootstrap_servers, SUPERVISION_TOPIC, expected=2))
    assert [r.key.decode() for r in records] == [number, number]
    events = [IntegrationEvent.from_json_bytes(r.value) for r in records]
    assert [e.type for e in events] == [
        "minsheng.supervision.order_assigned.v1",
        "minsheng.supervision.order_acknowledged.v1",
    ]
    assert events[1].data["state_label"] == "已签收" and events[1].data["actor"] == "市民政局 演示用户"
