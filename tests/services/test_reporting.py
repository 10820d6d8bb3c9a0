"""Progress reporting in a campaign service, on PostgreSQL: validation, revisions, review,
locks, task status, history, bulk and file uploads."""

import datetime as dt
import json

import pytest
from sqlmodel import select

from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.progress.periods import Period
from minsheng.reporting.models import PeriodLock
from tests.conftest import CITY, EDU_BUREAU, VIEWER


def report(indicator="T002-1", org_unit="370300", period="2022-06", value=5.0, **extra):
    return {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value, **extra}


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def post(client, body, headers=EDU_BUREAU):
    return client.post("/api/v1/reports", json=body, headers=headers)


# ---- validation rules: (body, expected status, code, a phrase of the Chinese message) ------------

RULES = [
    (report(indicator="T999-1"), 422, "unknown_indicator", "指标「T999-1」不存在"),
    (report(indicator="T043-1"), 422, "unknown_indicator", "不属于本行动"),  # a health indicator, sent to education
    (report(org_unit="379999"), 422, "unknown_org_unit", "单位代码「379999」不存在"),
    (report(period="2022-13"), 422, "invalid_period", "月份应为 01–12"),
    (report(period="June 2022"), 422, "invalid_period", "月报写“四位年份-两位月份”"),
    (report(period="2021-12"), 422, "period_outside_plan", "2022—2024"),
    (report(period="2025"), 422, "period_outside_plan", "的实施期（2022—2024年）内"),
    (report(value=-3), 422, "negative_value", "不能为负数"),
    (report(indicator="T002-3", value=120), 422, "percentage_out_of_range", "0到100之间"),
    (
        report(indicator="T002-3", value=None, numerator=120, denominator=100),
        422,
        "numerator_above_denominator",
        "分子（120）大于分母（100）",
    ),
    (report(indicator="T002-3", value=None, numerator=50), 422, "ratio_incomplete", "同时填写"),
    (report(indicator="T002-3", value=70, numerator=50, denominator=100), 422, "ratio_mismatch", "不一致"),
    (report(indicator="T002-3", value=None, numerator=5, denominator=0), 422, "invalid_denominator", "大于0"),
    (report(value=None), 422, "missing_value", "请填写数值"),
    (report(numerator=1, denominator=2), 422, "not_a_ratio", "不是比率类指标"),
]


@pytest.mark.parametrize(("body", "status", "code", "phrase"), RULES)
def test_each_validation_rule_answers_with_a_code_and_an_actionable_chinese_message(
    education, body, status, code, phrase
):
    response = post(education, body, headers=CITY)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert phrase in response.json()["detail"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0  # nothing written


def test_a_period_in_the_future_is_refused(education):
    education.app.state.clock = lambda: dt.date(2023, 6, 15)
    response = post(education, report(period="2023-09"))
    assert response.status_code == 422 and response.json()["code"] == "period_in_future"
    assert "2023-06-15" in response.json()["detail"]
    assert post(education, report(period="2023-06")).status_code == 201  # the running month may be reported


def test_a_district_cannot_report_a_city_only_indicator(education):
    response = post(education, report(indicator="H-EDU-1", org_unit="370303", value=80), headers=CITY)
    assert response.status_code == 422 and response.json()["code"] == "city_only_indicator"
    assert "370300" in response.json()["detail"]


def test_ratio_value_is_computed_from_numerator_and_denominator(education):
    response = post(education, report(indicator="T002-3", value=None, numerator=13000, denominator=20000))
    assert response.status_code == 201
    assert response.json()["value"] == 65.0 and response.json()["numerator"] == 13000


# ---- revisions and review -------------------------------------------------------------------------


def test_second_report_for_same_series_is_a_revision_and_the_first_stays_in_history(education):
    first = post(education, report(value=4)).json()
    second = post(education, report(value=6, note="补报两处")).json()
    assert (first["revision"], second["revision"]) == (1, 2)
    listed = education.get("/api/v1/reports", headers=VIEWER).json()
    assert [r["id"] for r in listed["data"]] == [second["id"]]  # only the current revision by default
    everything = education.get("/api/v1/reports", params={"current_only": False}, headers=VIEWER).json()
    assert everything["count"] == 2
    history = education.get(f"/api/v1/reports/{second['id']}/history", headers=VIEWER).json()
    assert [r["value"] for r in history["revisions"]] == [4, 6]
    assert [c["action"] for c in history["changes"]] == ["submitted", "revised"]
    revised = history["changes"][1]
    assert revised["previous"]["value"] == 4 and revised["current"]["value"] == 6
    assert "市教育局" in revised["actor"]


def test_review_cycle_submit_return_resubmit_approve_with_history(education):
    submitted = post(education, report(value=12)).json()
    assert submitted["status"] == "submitted" and submitted["status_label"] == "待审核"
    returned = education.post(
        f"/api/v1/reports/{submitted['id']}/return", json={"reason": "数值与台账不符，请核对"}, headers=CITY
    )
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert returned.json()["return_reason"] == "数值与台账不符，请核对"
    # approving a returned report is refused
    refused = education.post(f"/api/v1/reports/{submitted['id']}/approve", headers=CITY)
    assert refused.status_code == 409 and refused.json()["code"] == "not_pending"
    resubmitted = education.post(
        f"/api/v1/reports/{submitted['id']}/resubmit", json={"value": 10, "note": "已核对"}, headers=EDU_BUREAU
    )
    assert resubmitted.status_code == 201
    new = resubmitted.json()
    assert (new["revision"], new["status"], new["value"]) == (2, "submitted", 10)
    approved = education.post(f"/api/v1/reports/{new['id']}/approve", headers=CITY).json()
    assert approved["status"] == "approved" and "市民生办" in approved["reviewed_by"]
    # the superseded revision can no longer be reviewed
    stale = education.post(f"/api/v1/reports/{submitted['id']}/approve", headers=CITY)
    assert stale.status_code == 409 and stale.json()["code"] == "superseded"
    history = education.get(f"/api/v1/reports/{new['id']}/history", headers=VIEWER).json()
    assert [c["action"] for c in history["changes"]] == ["submitted", "returned", "resubmitted", "approved"]
    assert history["changes"][1]["reason"] == "数值与台账不符，请核对"
    assert history["changes"][3]["previous"]["status"] == "submitted"


def test_official_values_are_the_latest_approved_revision_of_each_series(education):
    def approve(body):
        created = post(education, body).json()
        assert education.post(f"/api/v1/reports/{created['id']}/approve", headers=CITY).status_code == 200
        return created

    approve(report(period="2022-06", value=4))
    later = approve(report(period="2022-06", value=6))  # revision 2, approved: replaces revision 1
    post(education, report(period="2022-06", value=9))  # revision 3, only submitted: not official
    other = approve(report(period="2022-05", value=3))
    assert post(education, report(indicator="T002-2", period="2022-06", value=1)).status_code == 201  # not approved

    official = education.get("/api/v1/official-values", headers=VIEWER).json()
    assert official["count"] == 2
    assert [(v["period"], v["value"], v["revision"], v["report_id"]) for v in official["data"]] == [
        ("2022-05", 3, 1, other["id"]),
        ("2022-06", 6, 2, later["id"]),
    ]
    none = education.get("/api/v1/official-values", params={"indicator": "T002-2"}, headers=VIEWER).json()
    assert (none["count"], none["data"]) == (0, [])


def test_a_lock_refuses_later_writes_and_reviews_until_unlocked(education):
    pending = post(education, report(period="2022-05", value=3)).json()
    blocked = education.post("/api/v1/periods/2022Q2/lock", headers=CITY)
    assert blocked.status_code == 409 and blocked.json()["code"] == "pending_reports"
    assert "T002-1/370300/2022-05" in blocked.json()["detail"]
    education.post(f"/api/v1/reports/{pending['id']}/approve", headers=CITY)
    assert education.post("/api/v1/periods/2022Q2/lock", headers=CITY).status_code == 201
    refused = post(education, report(period="2022-05", value=4))  # a month inside the locked quarter
    assert refused.status_code == 409 and refused.json()["code"] == "period_locked"
    assert "2022Q2" in refused.json()["detail"] and "锁定" in refused.json()["detail"]
    assert post(education, report(period="2022-07", value=4)).status_code == 201  # outside the lock
    assert education.delete("/api/v1/periods/2022Q2/lock", headers=EDU_BUREAU).status_code == 403
    assert education.delete("/api/v1/periods/2022Q2/lock", headers=CITY).status_code == 204
    assert post(education, report(period="2022-05", value=4)).status_code == 201


# ---- approving many at once: all or none -------------------------------------------------------


def approved_events(client) -> list[dict]:
    with client.app.state.database.session() as session:
        rows = session.exec(
            select(OutboxEvent).where(OutboxEvent.type == "minsheng.report.approved.v1").order_by(OutboxEvent.id)
        ).all()
    return [IntegrationEvent.from_json_bytes(r.payload).data for r in rows]


def test_the_city_office_approves_many_reports_in_one_request_each_with_its_event_and_history(education):
    ids = [post(education, report(period=f"2022-0{month}", value=month)).json()["id"] for month in (1, 2, 3)]
    response = education.post("/api/v1/reports/approve", json={"ids": ids}, headers=CITY)
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 3
    assert {r["id"]: r["status"] for r in response.json()["data"]} == dict.fromkeys(ids, "approved")
    assert sorted(e["report"]["report_id"] for e in approved_events(education)) == sorted(ids)
    history = education.get(f"/api/v1/reports/{ids[1]}/history", headers=VIEWER).json()
    assert [c["action"] for c in history["changes"]] == ["submitted", "approved"]
    assert "市民生办" in history["changes"][1]["actor"]


def test_one_report_that_cannot_be_approved_refuses_the_whole_batch_naming_each_and_why(education):
    pending = [post(education, report(period=f"2022-0{month}", value=month)).json()["id"] for month in (1, 2)]
    returned = post(education, report(period="2022-03", value=3)).json()["id"]
    education.post(f"/api/v1/reports/{returned}/return", json={"reason": "请核对"}, headers=CITY)
    response = education.post("/api/v1/reports/approve", json={"ids": [*pending, returned, 999999]}, headers=CITY)
    assert response.status_code == 409, response.text
    answer = response.json()
    assert answer["code"] == "approval_refused" and "全部未通过" in answer["detail"]
    assert {r["id"]: r["code"] for r in answer["refused"]} == {returned: "not_pending", 999999: "report_not_found"}
    assert "待审核" in answer["refused"][0]["reason"] and "不存在" in answer["refused"][1]["reason"]
    statuses = {r["id"]: r["status"] for r in education.get("/api/v1/reports", headers=VIEWER).json()["data"]}
    assert [statuses[i] for i in pending] == ["submitted", "submitted"]  # nothing approved
    assert approved_events(education) == []

    unknown_only = education.post("/api/v1/reports/approve", json={"ids": [pending[0], 999999]}, headers=CITY)
    assert unknown_only.status_code == 422 and unknown_only.json()["refused"][0]["id"] == 999999


def test_a_batch_with_a_report_in_a_locked_period_approves_nothing(education):
    in_april = post(education, report(period="2022-04", value=2)).json()["id"]
    in_may = post(education, report(period="2022-05", value=3)).json()["id"]
    # Locked while a report is still pending: another replica's lock raced the submission.
    with education.app.state.database.session() as session:
        april = Period.parse("2022-04")
        session.add(
            PeriodLock(
                period="2022-04",
                period_start=april.start,
                period_end=april.end,
                locked_by="市民生办",
                locked_at=dt.datetime.now(dt.UTC),
            )
        )
        session.commit()
    education.app.state.period_locks.forget()
    response = education.post("/api/v1/reports/approve", json={"ids": [in_may, in_april]}, headers=CITY)
    assert response.status_code == 409
    assert response.json()["refused"] == [
        {"id": in_april, "code": "period_locked", "reason": "2022-04 已锁定，不能再审核或退回"}
    ]
    assert education.get(f"/api/v1/reports/{in_may}", headers=VIEWER).json()["status"] == "submitted"


def test_batch_approval_is_for_the_city_office_only_and_a_duplicate_id_counts_once(education):
    first = post(education, report(value=1)).json()["id"]
    refused = education.post("/api/v1/reports/approve", json={"ids": [first]}, headers=EDU_BUREAU)
    assert refused.status_code == 403
    assert education.post("/api/v1/reports/approve", json={"ids": []}, headers=CITY).status_code == 422
    twice = education.post("/api/v1/reports/approve", json={"ids": [first, first]}, headers=CITY)
    assert twice.status_code == 200 and twice.json()["count"] == 1
    assert len(approved_events(education)) == 1


# ---- bulk and files: all or nothing --------------------------------------------------------------


def test_bulk_with_one_bad_row_writes_nothing_and_names_every_bad_row(education):
    rows = [
        report(period="2022-01", value=1),
        report(period="2022-02", value=-1),
        report(period="2022-03", value=2),
        report(indicator="T002-3", period="2022", value=130),
    ]
    response = education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert response.status_code == 422 and response.json()["code"] == "bulk_rejected"
    errors = response.json()["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (2, "value", "negative_value"),
        (4, "value", "percentage_out_of_range"),
    ]
    assert "第2行" in response.json()["detail"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0

    rows[1]["value"], rows[3]["value"] = 1, 66
    accepted = education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert accepted.status_code == 201 and accepted.json()["count"] == 4


def test_bulk_rejects_duplicate_rows(education):
    rows = [report(value=1), report(value=2)]
    response = education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "duplicate_row"


def test_csv_upload_in_chinese_headers_and_gbk_as_excel_saves_it(education):
    csv_text = (
        "指标编号,单位代码,期间,数值,分子,分母,说明\n"
        "T002-1,370303,2022-06,2,,,张店新建2处\nT002-3,370303,2022,,6500,10000,\n"
    )
    response = education.post(
        "/api/v1/reports/upload",
        headers=EDU_BUREAU,
        files={"file": ("教育局6月.csv", csv_text.encode("gbk"), "text/csv")},
    )
    assert response.status_code == 201, response.text
    values = sorted((r["indicator"], r["value"]) for r in response.json()["data"])
    assert values == [("T002-1", 2.0), ("T002-3", 65.0)]


def test_csv_upload_with_bad_rows_names_each_row_and_field_and_writes_nothing(education):
    csv_text = (
        "indicator,org_unit,period,value\nT002-1,370300,2022-06,3\nT002-1,370300,2022-07,三\nT002-1,370300,2019,4\n"
    )
    response = education.post(
        "/api/v1/reports/upload", headers=EDU_BUREAU, files={"file": ("june.csv", csv_text.encode(), "text/csv")}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "value"), (3, "period")]
    assert "应为数字" in errors[0]["message"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0


def test_json_upload(education):
    body = json.dumps({"rows": [report(period="2022-08", value=1), report(period="2022-09", value=2)]})
    response = education.post(
        "/api/v1/reports/upload", headers=EDU_BUREAU, files={"file": ("rows.json", body.encode(), "application/json")}
    )
    assert response.status_code == 201 and response.json()["count"] == 2
    bad = education.post(
        "/api/v1/reports/upload",
        headers=EDU_BUREAU,
        files={"file": ("rows.xls", b"\xd0\xcf...", "application/octet-stream")},
    )
    assert bad.status_code == 422 and "另存为 .xlsx" in bad.json()["detail"]


# ---- qualitative task status --------------------------------------------------------------------


def test_task_status_is_reported_per_period_with_narrative_and_problems(education):
    body = {
        "task": 1,
        "org_unit": "370300",
        "period": "2022Q1",
        "state": "in_progress",
        "narrative": "城区中小学、幼儿园建设图谱已完成初稿",
        "problems": "人口预测数据待统计局更新",
    }
    first = education.post("/api/v1/task-status", json=body, headers=EDU_BUREAU)
    assert first.status_code == 201 and first.json()["state"] == "in_progress"
    body["state"] = "completed"
    second = education.post("/api/v1/task-status", json=body, headers=EDU_BUREAU).json()
    assert second["revision"] == 2
    listed = education.get("/api/v1/task-status", params={"task": 1}).json()
    assert listed["count"] == 1 and listed["data"][0]["state"] == "completed"
    bad = education.post("/api/v1/task-status", json={**body, "state": "done"}, headers=EDU_BUREAU)
    assert bad.status_code == 422 and "state" in bad.json()["detail"]
    other = education.post("/api/v1/task-status", json={**body, "task": 30}, headers=EDU_BUREAU)
    assert other.status_code == 422 and other.json()["code"] == "unknown_task"


# ---- tokens ----------------------------------------------------------------------------------------


def test_writes_need_a_valid_token(education):
    missing = education.post("/api/v1/reports", json=report())
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["detail"]
    wrong = education.post("/api/v1/reports", json=report(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"
    assert education.get("/api/v1/reports").status_code == 401
    assert education.get("/api/v1/reports", headers=VIEWER).status_code == 200
