"""The drill-down's reads on the gateway (攻坚行动 → 任务 → 指标), from a real service's events folded into
the gateway's tables: a campaign's progress as the service computes it, an indicator's districts against
their own targets, the trajectory the status is judged by, every revision of a value, a task's statuses."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from minsheng.clock import today_in_china
from minsheng_gateway.settings import GatewaySettings
from tests.support.views import AS_OF, comparable, fold_all, outbox_events, scenario


@pytest.fixture
def folded(campaign_client, make_database):
    """The education service after `scenario`, and a gateway that folded its events."""
    import minsheng_gateway.main as gateway_main

    education = campaign_client("education")
    scenario(education)
    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("gateway"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
        }
    )
    with TestClient(gateway_main.build_app(settings)) as gateway:
        gateway.app.state.clock = lambda: dt.date(2022, 12, 31)
        assert all(fold_all(gateway, outbox_events(education)))
        yield education, gateway


def test_a_campaigns_progress_on_the_gateway_is_the_services_own(folded):
    education, gateway = folded
    ours = gateway.get("/api/v1/campaigns/education/progress", params={"as_of": AS_OF})
    theirs = education.get("/api/v1/progress", params={"as_of": AS_OF})
    assert ours.status_code == 200, ours.text
    mine, services = ours.json(), theirs.json()
    assert {k: v for k, v in mine.items() if k != "headline"} == {k: v for k, v in services.items() if k != "headline"}
    assert [comparable(h) for h in mine["headline"]] == [comparable(h) for h in services["headline"]]
    tasks = {t["number"]: t for item in mine["items"] for t in item["tasks"]}
    assert len(tasks) == 27 and tasks[6]["status_label"] == "进度滞后"  # reported blocked

    missing = gateway.get("/api/v1/campaigns/nowhere/progress")
    assert missing.status_code == 404 and missing.json()["code"] == "campaign_not_found"


def test_an_indicators_districts_are_judged_against_their_own_targets(folded):
    _, gateway = folded
    answer = gateway.get("/api/v1/indicators/T002-1/districts", params={"as_of": AS_OF})
    assert answer.status_code == 200, answer.text
    rows = {d["code"]: d for d in answer.json()["districts"]}
    assert len(rows) == 11 and "370300" not in rows
    zhangdian = rows["370303"]
    assert (zhangdian["name"], zhangdian["target_value"], zhangdian["target_basis"]) == ("张店区", 10, "district")
    assert zhangdian["current_value"] == 3 and zhangdian["latest_period"] == "2022-06"
    # Each row is the district's own progress answer.
    own = gateway.get("/api/v1/indicators/T002-1/progress", params={"org_unit": "370303", "as_of": AS_OF}).json()
    assert (zhangdian["status"], zhangdian["completion"], zhangdian["reasons"]) == (
        own["status"],
        own["completion"],
        own["reasons"],
    )
    # A total not split to 淄川区: shown with its approved figure, no target (the revision of 9 awaits review).
    zichuan = rows["370302"]
    assert (zichuan["target_value"], zichuan["status_label"], zichuan["current_value"]) == (None, "未分解目标", 2)
    assert rows["370323"]["current_value"] is None

    missing = gateway.get("/api/v1/indicators/T999-9/districts")
    assert missing.status_code == 404 and missing.json()["code"] == "indicator_not_found"


def test_the_trajectory_is_the_line_the_status_is_judged_against(folded):
    _, gateway = folded
    answer = gateway.get("/api/v1/indicators/T002-1/trajectory", params={"as_of": AS_OF})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    points = {p["date"]: p["value"] for p in body["points"]}
    assert body["target_value"] == 103 and len(points) == 37  # the plan's first day and 36 month ends
    assert points["2022-01-01"] == pytest.approx(0, abs=0.5) and points["2024-12-31"] == 103
    judged = gateway.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json()
    assert points[AS_OF] == pytest.approx(judged["expected_value"])
    values = list(points.values())
    assert values == sorted(values)  # a total to build: the line only rises

    # 淄川区 has no target of its own for this total: no line to draw.
    none = gateway.get("/api/v1/indicators/T002-1/trajectory", params={"org_unit": "370302"}).json()
    assert none["target_value"] is None and none["points"] == []


def test_the_trajectory_serves_the_plans_annual_targets_with_their_sentences(folded):
    _, gateway = folded
    body = gateway.get("/api/v1/indicators/T007-1/trajectory", params={"as_of": AS_OF}).json()
    # 30 集团化办学典范 by 2024; 2023's 政府工作报告: 培育20个 that year, on top of the 10 planned for 2022.
    assert body["milestones"] == [
        {
            "period": "2023",
            "label": "2023年度目标",
            "description": "2023年度目标：全年完成20个",
            "date": "2023-12-31",
            "value": 20,
            "plotted": pytest.approx(30),
            "source": "培育20个集团化办学样板",
        }
    ]
    points = {p["date"]: p["value"] for p in body["points"]}
    assert points["2022-12-31"] == pytest.approx(10) and points["2023-12-31"] == pytest.approx(30)
    # The plan's horizon and the projection's day come with it: the chart knows no year of its own.
    assert (body["plan_start"], body["plan_end"], body["projection_end"]) == ("2022-01-01", "2024-12-31", "2024-12-31")
    assert gateway.get("/api/v1/indicators/T002-1/trajectory").json()["milestones"] == []
    yearly = gateway.get("/api/v1/indicators/T002-2/trajectory", params={"as_of": AS_OF}).json()
    assert yearly["projection_end"] == f"{AS_OF[:4]}-12-31"  # 每年招聘…: projected to the judged year's end
    # The targets are the city's: a district's own chart has none.
    district = gateway.get("/api/v1/indicators/T007-1/trajectory", params={"org_unit": "370303"}).json()
    assert district["milestones"] == []


def test_the_history_lists_every_revision_and_which_one_counts(folded):
    _, gateway = folded
    answer = gateway.get("/api/v1/indicators/T002-1/history", params={"org_unit": "370302"})
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert [(r["period"], r["revision"], r["value"], r["status_label"], r["official"]) for r in rows] == [
        ("2022-06", 2, 9, "待审核", False),
        ("2022-06", 1, 2, "已通过", True),
    ]
    assert rows[0]["org_unit_name"] == "淄川区" and rows[0]["submitted_by"]

    everyone = gateway.get("/api/v1/indicators/T002-1/history").json()
    assert {r["org_unit"] for r in everyone} == {"370300", "370302", "370303"}
    assert [r["period"] for r in everyone][0] == "2023-03"  # latest period first
    before = gateway.get(
        "/api/v1/indicators/T002-1/history", params={"as_of": str(today_in_china() - dt.timedelta(days=1))}
    ).json()
    assert before == []  # nothing had been reported yet


def test_a_tasks_reported_statuses(folded):
    _, gateway = folded
    rows = gateway.get("/api/v1/tasks/6/statuses").json()
    assert [(r["org_unit_name"], r["period"], r["state_label"], r["narrative"], r["problems"]) for r in rows] == [
        ("淄博市", "2022Q4", "受阻", "协议未签", "经费未落实")
    ]
    assert gateway.get("/api/v1/tasks/6/statuses", params={"as_of": "2022-09-30"}).json() == []
