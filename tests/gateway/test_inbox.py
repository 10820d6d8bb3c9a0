"""我的待办 (GET /api/v1/inbox): what each signed-in person owes, from the gateway's own tables.

A real education service makes the reports; its events are folded into a gateway on its own database
(PostgreSQL for both); people sign in at the gateway as the demo accounts."""

from __future__ import annotations

import pytest

from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN
from tests.support.identity import sign_in, views_gateway
from tests.support.inbox import TODAY, inbox, report
from tests.support.views import fold_all, outbox_events


@pytest.fixture
def gateway(make_database):
    with views_gateway(make_database("gateway"), today=TODAY) as client:
        yield client


def row(answer: dict, indicator: str, period: str) -> dict:
    (found,) = [r for r in answer["data"] if r["indicator_id"] == indicator and r["period"] == period]
    return found


def test_a_district_owes_only_its_own_org_unit_and_sees_returns_on_top(campaign_client, gateway):
    education = campaign_client("education")
    march = report(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 2}, ZHANGDIAN)
    june = report(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 1}, ZHANGDIAN)
    assert (
        education.post(f"/api/v1/reports/{june}/return", json={"reason": "与台账不符"}, headers=CITY).status_code == 200
    )
    report(education, {"indicator": "T002-1", "org_unit": "370302", "period": "2023-03", "value": 5}, EDU_BUREAU)
    fold_all(gateway, outbox_events(education))

    sign_in(gateway, "demo-zhangdian")
    answer = inbox(gateway)
    assert answer["count"] == len(answer["data"]) > 0
    assert {r["org_unit"] for r in answer["data"]} == {"370303"}
    assert {r["org_unit_name"] for r in answer["data"]} == {"张店区"}
    indicators = {i["id"]: i for i in gateway.get("/api/v1/indicators", params={"limit": 500}).json()["data"]}
    assert not any(indicators[r["indicator_id"]]["city_only"] for r in answer["data"])

    first = answer["data"][0]
    assert (first["indicator_id"], first["period"], first["state"], first["state_label"]) == (
        "T002-1",
        "2022-06",
        "returned",
        "被退回",
    )
    assert first["return_reason"] == "与台账不符" and first["report_id"] == june and first["overdue"]

    submitted = row(answer, "T002-1", "2023-03")
    assert (submitted["state_label"], submitted["report_id"], submitted["overdue"], submitted["current"]) == (
        "待审核",
        march,
        False,
        True,
    )
    assert submitted["due_date"] == "2023-04-10"
    owed_earlier = row(answer, "T002-1", "2023-02")
    assert owed_earlier["state_label"] == "未填报" and owed_earlier["overdue"]
    # After the returned ones, the overdue ones, then by due date.
    flags = [(r["state"] != "returned", not r["overdue"], r["due_date"]) for r in answer["data"]]
    assert flags == sorted(flags)

    # This period's share: March for the monthly indicators, 2022 for the yearly (education has no quarterly).
    assert answer["summary"]["periods"] == ["2022", "2023-03"]
    assert answer["summary"]["done"] == 1 and answer["summary"]["returned"] == 1
    assert answer["summary"]["share_done"] == round(1 / answer["summary"]["owed"], 4)

    returned = inbox(gateway, state="returned")
    assert [(r["indicator_id"], r["period"]) for r in returned["data"]] == [("T002-1", "2022-06")]
    march_only = inbox(gateway, period="2023-03")
    assert {r["period"] for r in march_only["data"]} == {"2023-03"}
    assert march_only["summary"]["owed"] == march_only["count"]


def test_a_bureau_owes_the_city_figures_of_the_tasks_it_leads(campaign_client, gateway):
    education = campaign_client("education")
    approved = report(
        education, {"indicator": "T002-1", "org_unit": "370300", "period": "2023-03", "value": 9}, EDU_BUREAU
    )
    assert education.post(f"/api/v1/reports/{approved}/approve", headers=CITY).status_code == 200
    fold_all(gateway, outbox_events(education))

    sign_in(gateway, "demo-education-bureau")
    answer = inbox(gateway, period="2023-03")
    assert {r["org_unit"] for r in answer["data"]} == {"370300"}
    tasks = {t["number"]: t for t in gateway.get("/api/v1/tasks", params={"limit": 500}).json()["data"]}
    assert all("市教育局" in tasks[r["task"]]["lead_departments"] for r in answer["data"])
    done = row(answer, "T002-1", "2023-03")
    assert (done["state_label"], done["value"], done["campaign"]) == ("已通过", 9, "education")
    assert done["task_title"] == tasks[2]["title"] and done["item"] == tasks[2]["item"]
    # Only the monthly indicators have a period 2023-03; the yearly ones (shares) are owed for 2022.
    assert all(r["frequency"] == "month" for r in answer["data"])
    yearly = inbox(gateway, period="2022")["data"]
    assert yearly and all(r["frequency"] == "year" for r in yearly)
    assert row(inbox(gateway, period="2022"), "T002-3", "2022")["due_date"] == "2023-01-31"


def test_who_may_not_report_owes_nothing_and_bad_filters_are_explained(gateway):
    assert gateway.get("/api/v1/inbox").status_code == 401
    sign_in(gateway, "demo-viewer")
    assert inbox(gateway) | {"scope": ""} == {
        "data": [],
        "count": 0,
        "summary": {"periods": [], "owed": 0, "done": 0, "share_done": None, "overdue": 0, "returned": 0},
        "scope": "",
    }
    bad = gateway.get("/api/v1/inbox", params={"period": "2023-13"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period" and "月份" in bad.json()["detail"]
    assert gateway.get("/api/v1/inbox", params={"state": "lost"}).status_code == 422


def test_the_vocabulary_gives_each_state_one_wording(gateway):
    answer = gateway.get("/api/v1/vocabulary")
    assert answer.status_code == 200, answer.text
    labels = {kind: {term["key"]: term["label"] for term in terms} for kind, terms in answer.json().items()}
    assert labels["report_status"] == {"submitted": "待审核", "approved": "已通过", "returned": "被退回"}
    # The inbox names a report's states as the reporting pages do, and adds only what it alone knows.
    assert labels["inbox_state"] == {
        "not_reported": "未填报",
        **labels["report_status"],
        "reported": "已报送",
        "follow_up": "待核实",
    }
    assert labels["inbox_kind"] == {"indicator": "指标数据", "partner_part": "协办进展", "follow_up": "数据核实"}
    assert [term["key"] for term in answer.json()["indicator_status"]] == [
        "completed",
        "on_track",
        "at_risk",
        "behind",
        "no_data",
        "no_target",
    ]
    assert labels["indicator_status"]["behind"] == "进度滞后" and labels["task_state"]["blocked"] == "受阻"
    assert labels["role"]["city_office"] == "市民生办" and labels["frequency"]["quarter"] == "季度"
    assert labels["change_action"]["approved"] == "审核通过"
