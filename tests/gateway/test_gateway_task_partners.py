"""A task's 主办 and 协办 departments at the gateway (decision 0020): the catalog it folds names the partners, each
partner owes its own part once a quarter in 我的待办 (a department for the city, a district for itself), owed, done or
overdue like the figures; the task's page reads who leads, who partners and each partner's latest part."""

from __future__ import annotations

import pytest

from tests.conftest import CITY, EDU_BUREAU, HOUSING, ZHANGDIAN
from tests.support.identity import sign_in, views_gateway
from tests.support.inbox import inbox
from tests.support.partners import DEMO_PLAN, TODAY, part, publish_demo
from tests.support.views import fold_all, outbox_events

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]  # ended by 2026-12-07
PLAN = {"plan": DEMO_PLAN}


@pytest.fixture
def stack(campaign_client, make_database):
    """The education service with the demonstration plan (张店区 a partner of task 2 besides 市自然资源和规划局), and
    a gateway that folds its events."""
    education = campaign_client("education")
    publish_demo(education, "education", partners={2: ("市自然资源和规划局", "张店区")})
    with views_gateway(make_database("gateway"), today=TODAY) as gateway:
        fold_all(gateway, outbox_events(education))
        yield education, gateway


def status(education, body: dict, headers: dict) -> None:
    answer = education.post("/api/v1/task-status", params=PLAN, json=body, headers=headers)
    assert answer.status_code == 201, answer.text


def parts_of(answer: dict) -> list[dict]:
    return [r for r in answer["data"] if r["kind"] == "partner_part"]


def test_the_gateways_catalog_names_the_partners(stack):
    _, gateway = stack
    task2 = gateway.get("/api/v1/tasks/2", params=PLAN).json()
    assert task2["partner_departments"] == ["市自然资源和规划局", "张店区"]
    assert task2["partner_bureaus"] == ["市自然资源和规划局"]  # the departments among them: a bureau reports each
    task = gateway.get("/api/v1/tasks/1", params=PLAN).json()
    assert (task["lead_departments"], task["partner_departments"]) == (
        ["市教育局"],
        ["市自然资源和规划局", "市住房城乡建设局"],
    )


def test_a_partner_bureau_owes_its_part_each_quarter_and_sees_what_it_reported(stack):
    education, gateway = stack
    status(education, part(period="2026Q3"), HOUSING)
    status(education, part(period="2026Q2", state="blocked", problems="用地指标未落实"), HOUSING)
    status(education, part(period="2026Q1", partner=None), EDU_BUREAU)  # the lead's: not the partner's part
    fold_all(gateway, outbox_events(education))

    sign_in(gateway, "demo-housing-bureau")
    answer = inbox(gateway, **PLAN)
    owed = parts_of(answer)
    assert answer["data"] == owed  # 市住房城乡建设局 leads no education task: its parts only
    # This quarter and whatever earlier is still owed (2026Q2 was reported: not shown unless asked for).
    assert [r["period"] for r in sorted(owed, key=lambda r: r["period"])] == [q for q in QUARTERS if q != "2026Q2"]
    assert {(r["task"], r["org_unit"], r["partner_department"], r["kind_label"]) for r in owed} == {
        (1, "370300", "市住房城乡建设局", "协办进展")
    }
    by_period = {r["period"]: r for r in owed}
    assert (by_period["2026Q3"]["state"], by_period["2026Q3"]["state_label"]) == ("reported", "已报送")
    assert by_period["2026Q3"]["current"] and not by_period["2026Q3"]["overdue"]
    (june,) = parts_of(inbox(gateway, **PLAN, period="2026Q2"))
    assert june["state"] == "reported" and not june["overdue"]
    assert by_period["2026Q1"]["state_label"] == "未填报" and by_period["2026Q1"]["overdue"]
    assert by_period["2026Q1"]["due_date"] == "2026-04-10" and by_period["2026Q1"]["indicator_id"] is None
    assert owed[0]["overdue"]  # the overdue first
    assert answer["summary"] | {"share_done": None} == {
        "periods": ["2026Q3"],
        "owed": 1,
        "done": 1,
        "share_done": None,
        "overdue": 5,
        "returned": 0,
    }
    assert answer["scope"].endswith("协办任务中本单位承担部分的进展（每季度）")
    assert [r["period"] for r in inbox(gateway, **PLAN, state="not_reported")["data"]] == QUARTERS[:5]

    # The lead answers for the whole: it owes the figures, no part.
    sign_in(gateway, "demo-education-bureau")
    assert parts_of(inbox(gateway, **PLAN)) == []


def test_a_partner_district_owes_its_part_as_its_own_task_status(stack):
    education, gateway = stack
    status(education, part(task=2, period="2026Q3", partner=None, org_unit="370303"), ZHANGDIAN)
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-zhangdian")
    owed = parts_of(inbox(gateway, **PLAN))
    assert {(r["task"], r["org_unit"], r["org_unit_name"], r["partner_department"]) for r in owed} == {
        (2, "370303", "张店区", None)
    }
    assert sorted((r["period"], r["state"]) for r in owed)[-2:] == [("2026Q2", "not_reported"), ("2026Q3", "reported")]


def test_a_task_set_apart_owes_no_part(stack):
    education, gateway = stack
    decided = education.put(
        "/api/v1/tasks/1/state", params=PLAN, json={"state": "suspended", "reason": "因政策调整"}, headers=CITY
    )
    assert decided.status_code == 200, decided.text
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-housing-bureau")
    assert inbox(gateway, **PLAN)["data"] == []


def test_the_task_page_reads_the_lead_the_partners_and_each_partners_latest_part(stack):
    education, gateway = stack
    status(education, part(period="2026Q2", narrative="规划条件已落实 2 处"), HOUSING)
    status(education, part(period="2026Q3", narrative="规划条件已落实 3 处"), HOUSING)
    status(education, part(period="2026Q3", partner="市自然资源和规划局", narrative="用地已预留"), CITY)
    fold_all(gateway, outbox_events(education))

    sign_in(gateway, "demo-education-bureau")  # the lead reads the partners' parts
    answer = gateway.get("/api/v1/tasks/1/parts", params=PLAN)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["lead_departments"], body["partner_departments"], body["period"]) == (
        ["市教育局"],
        ["市自然资源和规划局", "市住房城乡建设局"],
        "2026Q3",
    )
    partners = {p["partner"]: p for p in body["partners"]}
    assert partners["市住房城乡建设局"]["latest"]["narrative"] == "规划条件已落实 3 处"
    assert partners["市住房城乡建设局"]["latest"]["state_label"] == "推进中"
    assert (partners["市自然资源和规划局"]["units"], partners["市自然资源和规划局"]["reported_units"]) == (1, 1)
    assert [(p["partner"], p["period"]) for p in body["parts"]] == [
        ("市住房城乡建设局", "2026Q3"),
        ("市自然资源和规划局", "2026Q3"),
        ("市住房城乡建设局", "2026Q2"),
    ]
    assert body["own_part"] is None
    # The task's own statuses are not the partners' parts.
    assert gateway.get("/api/v1/tasks/1/statuses", params=PLAN).json() == []

    sign_in(gateway, "demo-housing-bureau")
    mine = gateway.get("/api/v1/tasks/1/parts", params=PLAN).json()["own_part"]
    assert mine == {"org_unit": "370300", "partner_department": "市住房城乡建设局", "periods": QUARTERS[::-1]}
    past = gateway.get("/api/v1/tasks/1/parts", params={**PLAN, "as_of": "2026-09-01"}).json()
    assert [p["period"] for p in past["parts"]] == ["2026Q2"] and past["own_part"]["periods"][0] == "2026Q2"

    sign_in(gateway, "demo-zhangdian")
    district = gateway.get("/api/v1/tasks/2/parts", params=PLAN).json()
    assert district["own_part"] == {"org_unit": "370303", "partner_department": None, "periods": QUARTERS[::-1]}
    assert {p["partner"]: p["units"] for p in district["partners"]} == {"市自然资源和规划局": 1, "张店区": 1}
    assert gateway.get("/api/v1/tasks/999/parts", params=PLAN).json()["code"] == "task_not_found"
