"""Task states beyond numbers: the city office marks a task 暂缓实施, 已取消 or 待确定 (with the reason) or back
执行中.  In the campaign service: only the city office, a reason required, the history kept, the event in the
outbox, reports of a suspended or cancelled task refused with the reason.  In the gateway: the event folded
(once per revision, rebuilt from the republished history), and every summary, ranking, warning, inbox,
completeness count and the bulletin leave such tasks out and count them apart."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlmodel import select

import minsheng_gateway.main as gateway_main
from minsheng.messaging import IntegrationEvent, OutboxEvent, event_source
from minsheng.reporting.events import TASK_STATE_CHANGED, TaskStateChanged
from minsheng.reporting.models import ChangeRecord
from tests.conftest import CITY, EDU_BUREAU, VIEWER, ZHANGDIAN
from tests.support.identity import gateway_settings, identity_gateway, sign_in
from tests.support.views import approve, fold, fold_all, outbox_events

SUSPEND = {"state": "suspended", "reason": "因政策调整"}


@pytest.fixture
def education(campaign_client) -> TestClient:
    return campaign_client("education")


def set_state(client: TestClient, task: int, body: dict, headers=CITY) -> httpx.Response:
    return client.put(f"/api/v1/tasks/{task}/state", json=body, headers=headers)


def state_events(client: TestClient) -> list[IntegrationEvent]:
    return [e for e in outbox_events(client) if e.type == TASK_STATE_CHANGED]


def report(value: float = 3, indicator: str = "T002-1", org_unit: str = "370300", period: str = "2022-06") -> dict:
    return {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value}


# ---- the campaign service ------------------------------------------------------------------------------------


def test_only_the_city_office_decides_and_a_refusal_leaves_no_trace(education):
    for headers in (EDU_BUREAU, ZHANGDIAN, VIEWER):
        refused = set_state(education, 2, SUSPEND, headers)
        assert refused.status_code == 403 and refused.json()["code"] == "city_office_only", refused.text
        assert "市民生办" in refused.json()["detail"]
    assert set_state(education, 2, SUSPEND, {}).status_code == 401
    answer = education.get("/api/v1/tasks/2/state").json()
    assert (answer["state"], answer["state_label"], answer["revision"], answer["history"]) == (
        "in_progress",
        "执行中",
        0,
        [],
    )
    assert state_events(education) == []


@pytest.mark.parametrize(
    ("task", "body", "status", "code", "phrase"),
    [
        (2, {"state": "suspended"}, 422, "reason_required", "须说明原因"),
        (2, {"state": "cancelled", "reason": "   "}, 422, "reason_required", "「已取消」须说明原因"),
        (2, {"state": "undecided", "reason": None}, 422, "reason_required", "「待确定」"),
        (2, {"state": "paused", "reason": "因政策调整"}, 422, "invalid_request", "可选值"),
        (2, {"state": "suspended", "reason": "因" * 501}, 422, "invalid_request", "过长"),
        (2, {"state": "suspended", "reason": "因政策调整", "by": "x"}, 422, "invalid_request", "不认识的字段"),
        (43, SUSPEND, 404, "task_not_found", "不属于本行动"),  # a health task, sent to education
        (999, SUSPEND, 404, "task_not_found", "任务编号 999"),
    ],
)
def test_bad_decisions_are_refused_in_chinese_and_nothing_is_written(education, task, body, status, code, phrase):
    answer = set_state(education, task, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code and phrase in answer.json()["detail"], answer.text
    assert education.get("/api/v1/tasks/2/state").json()["revision"] == 0
    assert state_events(education) == []


def test_a_closed_plan_keeps_its_tasks_as_they_ended(education):
    from minsheng.catalog.document import PlanState
    from minsheng.catalog.models import Plan

    assert set_state(education, 2, SUSPEND).status_code == 200
    with education.app.state.database.session() as session:
        for plan in session.exec(select(Plan)):
            plan.state = PlanState.closed
            session.add(plan)
        session.commit()
    refused = set_state(education, 2, {"state": "in_progress", "reason": "恢复实施"})
    assert refused.status_code == 422 and refused.json()["code"] == "plan_not_open", refused.text
    assert "已关闭" in refused.json()["detail"]
    answer = education.get("/api/v1/tasks/2/state").json()
    assert (answer["state"], answer["revision"]) == ("suspended", 1)
    assert len(state_events(education)) == 1


def test_each_change_is_kept_with_who_when_from_to_and_why_and_announced_in_the_outbox(education):
    first = set_state(education, 2, SUSPEND)
    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["state_label"], first.json()["reason"]) == (
        "suspended",
        "暂缓实施",
        "因政策调整",
    )
    assert set_state(education, 2, {"state": "undecided", "reason": "待市政府常务会研究"}).status_code == 200
    assert set_state(education, 2, {"state": "in_progress", "reason": "政策明确，恢复实施"}).status_code == 200
    # The same decision again (a retried PUT) changes nothing.
    again = set_state(education, 2, {"state": "in_progress", "reason": "政策明确，恢复实施"})
    assert again.status_code == 200 and again.json()["revision"] == 3

    answer = education.get("/api/v1/tasks/2/state").json()
    assert (answer["task"], answer["campaign"], answer["state"], answer["revision"]) == (
        2,
        "education",
        "in_progress",
        3,
    )
    history = [(h["revision"], h["previous_state_label"], h["state_label"], h["reason"]) for h in answer["history"]]
    assert history == [
        (1, "执行中", "暂缓实施", "因政策调整"),
        (2, "暂缓实施", "待确定", "待市政府常务会研究"),
        (3, "待确定", "执行中", "政策明确，恢复实施"),
    ]
    assert all("市民生办" in h["changed_by"] for h in answer["history"])
    times = [h["changed_at"] for h in answer["history"]]
    assert times == sorted(times)

    events = state_events(education)
    assert [(e.subject, e.source) for e in events] == [("task-2", event_source("education"))] * 3
    data = [TaskStateChanged.model_validate(e.data) for e in events]
    assert [(d.task, d.revision, d.previous_state, d.state, d.reason) for d in data] == [
        (2, 1, "in_progress", "suspended", "因政策调整"),
        (2, 2, "suspended", "undecided", "待市政府常务会研究"),
        (2, 3, "undecided", "in_progress", "政策明确，恢复实施"),
    ]
    with education.app.state.database.session() as session:
        keys = session.exec(select(OutboxEvent.key).where(OutboxEvent.type == TASK_STATE_CHANGED)).all()
        changes = session.exec(select(ChangeRecord).where(ChangeRecord.entity == "task_state")).all()
    assert keys == ["task-2"] * 3  # the partition of the task: its changes stay in order
    assert [c.action for c in changes] == ["state_changed"] * 3


def test_a_suspended_or_cancelled_task_takes_no_reports_and_says_why(education):
    returned = approve_then_return(education)
    assert set_state(education, 2, SUSPEND).status_code == 200
    assert set_state(education, 5, {"state": "cancelled", "reason": "合作方退出"}).status_code == 200

    single = education.post("/api/v1/reports", json=report(), headers=EDU_BUREAU)
    assert single.status_code == 422 and single.json()["code"] == "task_suspended", single.text
    assert "任务2暂缓实施（因政策调整）" in single.json()["detail"] and "不再接受填报" in single.json()["detail"]
    cancelled = education.post("/api/v1/reports", json=report(indicator="T005-1"), headers=EDU_BUREAU)
    assert cancelled.status_code == 422 and cancelled.json()["code"] == "task_cancelled"
    assert "已取消（合作方退出）" in cancelled.json()["detail"]

    # In bulk: the row says why, and nothing of the request is written.
    bulk = education.post(
        "/api/v1/reports/bulk",
        json={"rows": [report(indicator="T003-1"), report(indicator="T002-3", value=60, period="2022")]},
        headers=EDU_BUREAU,
    )
    assert bulk.status_code == 422 and bulk.json()["code"] == "bulk_rejected"
    assert [(e["row"], e["code"]) for e in bulk.json()["errors"]] == [(2, "task_suspended")]
    assert "因政策调整" in bulk.json()["detail"]
    resubmitted = education.post(f"/api/v1/reports/{returned}/resubmit", json={"value": 4}, headers=EDU_BUREAU)
    assert resubmitted.status_code == 422 and resubmitted.json()["code"] == "task_suspended"
    status = education.post(
        "/api/v1/task-status",
        json={"task": 2, "org_unit": "370300", "period": "2022Q4", "state": "in_progress", "narrative": "推进中"},
        headers=EDU_BUREAU,
    )
    assert status.status_code == 422 and status.json()["code"] == "task_suspended"
    listed = education.get("/api/v1/reports", params={"current_only": False}, headers=VIEWER).json()
    assert listed["count"] == 1  # the returned report only: nothing new

    # Another task still takes reports; so does a task 待确定; and a task back in progress again.
    assert education.post("/api/v1/reports", json=report(indicator="T003-1"), headers=EDU_BUREAU).status_code == 201
    assert set_state(education, 7, {"state": "undecided", "reason": "待市政府研究"}).status_code == 200
    assert education.post("/api/v1/reports", json=report(indicator="T007-1"), headers=EDU_BUREAU).status_code == 201
    assert set_state(education, 2, {"state": "in_progress", "reason": "政策明确"}).status_code == 200
    assert education.post("/api/v1/reports", json=report(), headers=EDU_BUREAU).status_code == 201


def approve_then_return(education) -> int:
    """A report of task 2 returned to its reporter (to be corrected later)."""
    created = education.post("/api/v1/reports", json=report(period="2022-05"), headers=EDU_BUREAU).json()
    answer = education.post(f"/api/v1/reports/{created['id']}/return", json={"reason": "请核对"}, headers=CITY)
    assert answer.status_code == 200, answer.text
    return created["id"]


def test_the_template_leaves_out_a_suspended_tasks_indicators(education):
    from openpyxl import load_workbook

    def codes() -> set[str]:
        answer = education.get(
            "/api/v1/reports/template", params={"period": "2022-06", "org_unit": "370300"}, headers=EDU_BUREAU
        )
        assert answer.status_code == 200, answer.text
        sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
        return {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}

    before = codes()
    assert {"T002-1", "T003-1"} <= before
    set_state(education, 2, SUSPEND)
    assert before - codes() == {"T002-1", "T002-2", "T002-3", "T002-4"}


# ---- the gateway's fold ------------------------------------------------------------------------------------


def state_event(revision: int, state: str, previous: str, reason: str | None = "因政策调整") -> IntegrationEvent:
    return IntegrationEvent(
        source=event_source("education"),
        type=TASK_STATE_CHANGED,
        subject="task-2",
        data=TaskStateChanged(
            campaign="education",
            task=2,
            state=state,
            previous_state=previous,
            reason=reason,
            revision=revision,
            actor="市民生办",
            occurred_at=dt.datetime(2023, 3, 1, 8, revision, tzinfo=dt.UTC),
        ),
    )


def test_the_fold_keeps_each_revision_once_and_the_highest_is_the_state(gateway_database):
    from minsheng_gateway.projection.models import TaskStateView
    from minsheng_gateway.reads import task_states, tasks_apart

    later, earlier = state_event(2, "undecided", "suspended", "待研究"), state_event(1, "suspended", "in_progress")
    assert fold(gateway_database, [later, earlier, later]) == (2, 1)  # out of order, and one delivered twice
    assert fold(gateway_database, [state_event(1, "suspended", "in_progress")]) == (1, 0)  # republished: same row
    with gateway_database.session() as session:
        rows = session.exec(select(TaskStateView).order_by(TaskStateView.revision)).all()
        assert [(r.revision, r.state, r.reason) for r in rows] == [
            (1, "suspended", "因政策调整"),
            (2, "undecided", "待研究"),
        ]
        assert task_states(session)[2].state == "undecided" and set(tasks_apart(session)) == {2}
    fold(gateway_database, [state_event(3, "in_progress", "undecided", None)])
    with gateway_database.session() as session:
        assert tasks_apart(session) == {} and task_states(session)[2].revision == 3


# ---- the gateway's views -----------------------------------------------------------------------------------

TODAY = dt.date(2023, 4, 5)


@pytest.fixture
def gateway(make_database):
    """A gateway (with identity: people sign in) fed only by the folds of the tests."""
    settings = gateway_settings(
        make_database("gateway"), kafka_bootstrap_servers="127.0.0.1:1", catalog_retry_seconds=3600
    )
    client = TestClient(gateway_main.build_app(settings))
    client.__enter__()
    client.app.state.clock = lambda: TODAY
    yield client
    client.__exit__(None, None, None)


def test_the_city_office_decides_through_the_gateway_as_the_web_app_does(education, make_database):
    app = identity_gateway(gateway_settings(make_database("proxy")), httpx.ASGITransport(app=education.app))
    with TestClient(app) as gateway:
        csrf = sign_in(gateway, "demo-education-bureau")
        refused = gateway.put("/api/v1/campaigns/education/tasks/2/state", json=SUSPEND, headers=csrf)
        assert refused.status_code == 403 and refused.json()["code"] == "city_office_only"
        csrf = sign_in(gateway, "demo-city-office")
        me = gateway.get("/api/v1/auth/me").json()["user"]
        answer = gateway.put("/api/v1/campaigns/education/tasks/2/state", json=SUSPEND, headers=csrf)
        assert answer.status_code == 200, answer.text
        assert answer.json()["changed_by"].endswith(f"账号 {me['id']}）")
        report_refused = gateway.post("/api/v1/campaigns/education/reports", json=report(), headers=csrf)
        assert report_refused.status_code == 422 and report_refused.json()["code"] == "task_suspended"


def scenario(education) -> None:
    """Reports of tasks 2 (T002-1, T002-3) and 3 (T003-1) for 张店区 and 张店区's neighbours, and task 6 (without
    indicators) reported blocked."""
    for indicator, period, value in (("T002-1", "2022-06", 9), ("T003-1", "2022-06", 1), ("T002-1", "2023-03", 2)):
        approve(education, report(value, indicator, "370303", period), ZHANGDIAN)
        approve(education, report(value, indicator, "370302", period))
    status = education.post(
        "/api/v1/task-status",
        json={"task": 6, "org_unit": "370300", "period": "2022Q4", "state": "blocked", "narrative": "协议未签"},
        headers=EDU_BUREAU,
    )
    assert status.status_code == 201, status.text


def education_summary(summary: dict) -> dict:
    return next(c for c in summary["campaigns"] if c["campaign"] == "education")


def views(gateway) -> dict:
    sign_in(gateway, "demo-zhangdian")
    inbox = gateway.get("/api/v1/inbox", params={"limit": 500}).json()
    sign_in(gateway, "demo-city-office")
    return {
        "city": gateway.get("/api/v1/city/summary").json(),
        "zhangdian": gateway.get("/api/v1/districts/370303/summary").json(),
        "warnings": gateway.get("/api/v1/warnings", params={"limit": 500}).json(),
        "overdue": gateway.get("/api/v1/warnings/overdue", params={"limit": 2000}).json(),
        "matrix": gateway.get("/api/v1/districts", params={"as_of": "2023-04-05"}).json(),
        "completeness": gateway.get("/api/v1/completeness").json(),
        "inbox": inbox,
    }


def zhangdian_score(matrix: dict) -> dict:
    monthly = matrix["rankings"][0]
    return next(d for d in monthly["districts"] if d["code"] == "370303")


def test_a_task_set_apart_leaves_every_view_and_is_counted_apart(education, gateway):
    scenario(education)
    fold_all(gateway, outbox_events(education))
    before = views(gateway)
    assert sum(education_summary(before["city"])["tasks_by_status"].values()) == 27
    assert before["city"]["tasks_apart"] == {"count": 0, "by_state": {}, "tasks": [], "sentence": ""}
    assert any(w["task_number"] == 2 for w in before["overdue"])
    assert any(w["kind"] == "task" and w["id"] == "6" for w in before["warnings"])  # reported blocked
    assert any(r["task"] == 2 for r in before["inbox"]["data"])

    folded = len(outbox_events(education))
    assert set_state(education, 2, SUSPEND).status_code == 200
    assert set_state(education, 6, {"state": "undecided", "reason": "待市政府常务会研究"}).status_code == 200
    assert all(fold_all(gateway, outbox_events(education)[folded:]))
    after = views(gateway)

    # Summaries: out of the tasks' and indicators' counts (so out of the completion shares), counted apart.
    city, campaign = after["city"], education_summary(after["city"])
    assert sum(campaign["tasks_by_status"].values()) == 25
    # Each leaves exactly its own status (task 6: behind, as reported blocked).
    left = [gateway.get(f"/api/v1/tasks/{n}/progress").json()["status"] for n in (2, 6)]
    assert left[1] == "behind"
    expected = dict(education_summary(before["city"])["tasks_by_status"])
    for status in left:
        expected[status] -= 1
    assert campaign["tasks_by_status"] == expected
    indicators_before = sum(education_summary(before["city"])["indicators_by_status"].values())
    assert sum(campaign["indicators_by_status"].values()) == indicators_before - 4  # T002-1…4
    assert city["tasks_apart"]["count"] == 2 and city["tasks_apart"]["by_state"] == {"suspended": 1, "undecided": 1}
    assert city["tasks_apart"]["sentence"] == "另有1项因政策调整暂缓实施，1项待确定"
    assert [(t["number"], t["state_label"], t["reason"]) for t in city["tasks_apart"]["tasks"]] == [
        (2, "暂缓实施", "因政策调整"),
        (6, "待确定", "待市政府常务会研究"),
    ]
    assert campaign["tasks_apart"] == city["tasks_apart"]
    assert all(c["tasks_apart"]["count"] == 0 for c in city["campaigns"] if c["campaign"] != "education")
    assert after["zhangdian"]["tasks_apart"] == city["tasks_apart"]  # a decision on the task, for every district
    assert after["zhangdian"]["own_targets"] < before["zhangdian"]["own_targets"]  # T002-1's target for 张店区

    # Rankings: the suspended task's indicators score for nobody.
    assert (
        zhangdian_score(after["matrix"])["judged_indicators"] < zhangdian_score(before["matrix"])["judged_indicators"]
    )
    assert "暂缓实施、取消或待确定的任务，其指标也不计分" in after["matrix"]["scoring_rule"]

    # Warnings: none of either task, neither at risk nor blocked nor overdue.
    assert not [w for w in after["warnings"] if w["task_number"] in (2, 6)]
    assert not [w for w in after["overdue"] if w["task_number"] in (2, 6)]
    assert [w for w in after["overdue"] if w["task_number"] == 3]  # the other tasks' stay

    # Nothing owed for it: the district's inbox and everyone's completeness.
    assert not [r for r in after["inbox"]["data"] if r["task"] == 2]
    assert after["inbox"]["summary"]["owed"] < before["inbox"]["summary"]["owed"]
    zhangdian = next(d for d in after["completeness"]["districts"] if d["code"] == "370303")
    assert zhangdian["owed"] < next(d for d in before["completeness"]["districts"] if d["code"] == "370303")["owed"]

    # The task page: its state and history, from the gateway's own tables; the vocabulary names the states.
    state = gateway.get("/api/v1/tasks/2/state").json()
    assert state == education.get("/api/v1/tasks/2/state").json()
    assert (state["state_label"], state["reason"], len(state["history"])) == ("暂缓实施", "因政策调整", 1)
    labels = {t["key"]: t["label"] for t in gateway.get("/api/v1/vocabulary").json()["implementation_state"]}
    assert labels == {"in_progress": "执行中", "suspended": "暂缓实施", "cancelled": "已取消", "undecided": "待确定"}
    assert gateway.get("/api/v1/tasks/3/state").json()["state"] == "in_progress"
    assert gateway.get("/api/v1/tasks/999/state").status_code == 404

    # Back in progress: counted again, as before (its history kept).
    folded = len(outbox_events(education))
    for task in (2, 6):
        assert set_state(education, task, {"state": "in_progress"}).status_code == 200
    fold_all(gateway, outbox_events(education)[folded:])
    again = views(gateway)
    assert education_summary(again["city"]) == education_summary(before["city"])
    assert again["matrix"] == before["matrix"] and again["completeness"] == before["completeness"]
    assert len(gateway.get("/api/v1/tasks/2/state").json()["history"]) == 2


def test_a_gateway_rebuilt_from_the_republished_state_counts_the_same_tasks_apart(education, gateway, make_database):
    scenario(education)
    set_state(education, 2, SUSPEND)
    set_state(education, 5, {"state": "cancelled", "reason": "合作方退出"})
    set_state(education, 5, {"state": "undecided", "reason": "待重新遴选合作方"})
    fold_all(gateway, outbox_events(education))
    expected = (gateway.get("/api/v1/city/summary").json(), gateway.get("/api/v1/tasks/5/state").json())
    assert expected[0]["tasks_apart"]["sentence"] == "另有1项因政策调整暂缓实施，1项待确定"

    seen = len(outbox_events(education))
    answer = education.post("/api/v1/events/republish", headers=CITY)
    assert answer.status_code == 200 and answer.json()["task_states"] == 3
    republished = outbox_events(education)[seen:]
    settings = gateway_settings(
        make_database("rebuilt"), kafka_bootstrap_servers="127.0.0.1:1", catalog_retry_seconds=3600
    )
    with TestClient(gateway_main.build_app(settings)) as fresh:
        fresh.app.state.clock = lambda: TODAY
        fold_all(fresh, republished)
        got = (fresh.get("/api/v1/city/summary").json(), fresh.get("/api/v1/tasks/5/state").json())
    assert got == expected
    assert [h["state"] for h in got[1]["history"]] == ["cancelled", "undecided"]


def test_the_bulletin_counts_the_tasks_apart_in_its_own_words(education, gateway):
    scenario(education)
    set_state(education, 2, SUSPEND)
    set_state(education, 3, {"state": "suspended", "reason": "因政策调整"})
    set_state(education, 6, {"state": "undecided", "reason": "待市政府常务会研究"})
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-city-office")
    response = gateway.get("/api/v1/bulletins/monthly", params={"month": "2023-03"})
    assert response.status_code == 200, response.text
    paragraphs = [p.text for p in Document(io.BytesIO(response.content)).paragraphs]
    overall = next(p for p in paragraphs if p.startswith("五大攻坚行动任务"))
    assert overall.startswith("五大攻坚行动任务共24项")  # the gateway holds the education catalog only: 27 − 3
    assert overall.endswith("。另有2项因政策调整暂缓实施，1项待确定，不计入以上统计。")
    assert any(
        p.startswith("任务共24项") and p.endswith("另有2项因政策调整暂缓实施，1项待确定，不计入以上统计。")
        for p in paragraphs
    )
    warned = " ".join(paragraphs)
    assert "T002-1" not in warned and "T003-1" not in warned
    tables = Document(io.BytesIO(response.content)).tables
    assert not any(
        cell.text.startswith(("T002-", "T003-")) for table in tables for row in table.rows for cell in row.cells
    )


def test_the_sentence_groups_by_state_and_reason():
    from minsheng.reporting.models import ImplementationState
    from minsheng_gateway.summaries.schemas import TaskApart
    from minsheng_gateway.summaries.service import apart_sentence

    def task(number: int, state: str, reason: str | None) -> TaskApart:
        return TaskApart(
            number=number,
            title="",
            campaign="education",
            state=ImplementationState(state),
            state_label="",
            reason=reason,
            since=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        )

    assert apart_sentence([]) == ""
    assert (
        apart_sentence(
            [
                task(1, "suspended", "因政策调整"),
                task(2, "suspended", "因政策调整。"),
                task(3, "suspended", "资金未落实"),
                task(4, "cancelled", "因规划调整"),
                task(5, "undecided", "待研究"),
                task(6, "undecided", "待论证"),
            ]
        )
        == "另有2项因政策调整暂缓实施，1项暂缓实施（资金未落实），1项因规划调整已取消，2项待确定"
    )
