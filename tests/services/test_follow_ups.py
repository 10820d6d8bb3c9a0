"""Follow-up marks (待核实, issue 30 point 3) in a campaign service: the city office marks an approved value, the
reporter answers, the office closes the mark; each step in the value's thread, its history and the outbox."""

import json

import pytest
from sqlmodel import select

from minsheng.messaging import OutboxEvent
from tests.conftest import CITY, HEALTH_BUREAU, VIEWER, ZHANGDIAN


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def approved_value(client, value=5, period="2022-06"):
    body = {"indicator": "T003-1", "org_unit": "370303", "period": period, "value": value}
    saved = client.post("/api/v1/reports", json=body, headers=ZHANGDIAN)
    assert saved.status_code == 201, saved.text
    approved = client.post(f"/api/v1/reports/{saved.json()['id']}/approve", headers=CITY)
    assert approved.status_code == 200, approved.text
    return approved.json()


def follow_up_events(client):
    with client.app.state.database.session() as session:
        rows = session.exec(
            select(OutboxEvent).where(OutboxEvent.type.like("minsheng.quality.follow_up%")).order_by(OutboxEvent.id)
        ).all()
    return [(r.type, r.key, json.loads(r.payload)["data"]) for r in rows]


def test_a_mark_is_answered_and_closed_in_one_thread_with_its_events(education):
    report = approved_value(education)
    opened = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": "比上月多一倍，请核实"}, headers=CITY
    )
    assert opened.status_code == 201, opened.text
    mark = opened.json()
    assert (mark["open"], mark["state_label"], mark["org_unit"], mark["indicator"]) == (
        True,
        "待核实",
        "370303",
        "T003-1",
    )

    answered = education.post(
        f"/api/v1/quality/follow-ups/{mark['id']}/answers",
        json={"comment": "新建两所学校，数值无误"},
        headers=ZHANGDIAN,
    )
    assert answered.status_code == 200, answered.text
    closed = education.post(
        f"/api/v1/quality/follow-ups/{mark['id']}/close", json={"comment": "已与区教育局核对"}, headers=CITY
    )
    assert closed.status_code == 200, closed.text
    thread = closed.json()
    assert (thread["open"], thread["state_label"]) == (False, "已核实")
    assert [(n["kind_label"], n["comment"]) for n in thread["notes"]] == [
        ("标记待核实", "比上月多一倍，请核实"),
        ("填报单位答复", "新建两所学校，数值无误"),
        ("已核实", "已与区教育局核对"),
    ]
    assert "张店" in thread["notes"][1]["actor"] or "370303" in thread["notes"][1]["actor"]

    events = follow_up_events(education)
    assert [(t.rsplit(".", 2)[-2], k) for t, k, _ in events] == [
        ("follow_up_opened", f"follow-up-{mark['id']}"),
        ("follow_up_answered", f"follow-up-{mark['id']}"),
        ("follow_up_closed", f"follow-up-{mark['id']}"),
    ]
    assert all(d["campaign"] == "education" and d["report_id"] == report["id"] for _, _, d in events)

    # the value's history carries the thread (the audit trail of the doubt raised)
    history = education.get(f"/api/v1/reports/{report['id']}/history", headers=CITY).json()
    assert [len(f["notes"]) for f in history["follow_ups"]] == [3]
    # a closed mark takes no more answers
    again = education.post(
        f"/api/v1/quality/follow-ups/{mark['id']}/answers", json={"comment": "补充说明"}, headers=ZHANGDIAN
    )
    assert again.status_code == 422 and again.json()["code"] == "follow_up_closed"


def test_only_the_city_office_marks_and_closes_and_only_a_reporter_answers(education):
    report = approved_value(education)
    refused = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": "请核实"}, headers=ZHANGDIAN
    )
    assert refused.status_code == 403 and refused.json()["code"] == "city_office_only"
    assert "市民生办" in refused.json()["detail"]
    mark = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": "请核实"}, headers=CITY
    ).json()
    for caller in (VIEWER, HEALTH_BUREAU):  # a viewer; a bureau that does not lead the indicator's task
        answer = education.post(
            f"/api/v1/quality/follow-ups/{mark['id']}/answers", json={"comment": "数值无误"}, headers=caller
        )
        assert answer.status_code == 403, answer.text
    close = education.post(
        f"/api/v1/quality/follow-ups/{mark['id']}/close", json={"comment": "好的"}, headers=ZHANGDIAN
    )
    assert close.status_code == 403 and close.json()["code"] == "city_office_only"
    # one open mark per value
    twice = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": "再次请核实"}, headers=CITY
    )
    assert twice.status_code == 422 and twice.json()["code"] == "follow_up_already_open"
    assert [t for t, _, _ in follow_up_events(education)] == ["minsheng.quality.follow_up_opened.v1"]


def test_a_value_not_approved_cannot_be_marked_and_nothing_is_written(education):
    body = {"indicator": "T003-1", "org_unit": "370303", "period": "2022-06", "value": 5}
    submitted = education.post("/api/v1/reports", json=body, headers=ZHANGDIAN).json()
    refused = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": submitted["id"], "comment": "请核实"}, headers=CITY
    )
    assert refused.status_code == 422 and refused.json()["code"] == "follow_up_not_approved"
    assert "已通过" in refused.json()["detail"]
    missing = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": 999999, "comment": "请核实"}, headers=CITY
    )
    assert missing.status_code == 404
    empty = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": submitted["id"], "comment": ""}, headers=CITY
    )
    assert empty.status_code == 422
    assert education.get("/api/v1/quality/follow-ups", headers=CITY).json() == []
    assert follow_up_events(education) == []
