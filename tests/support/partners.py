"""The demonstration plan (its 任务分解表 parsed) published into a campaign service, for the tests of a task's 主办
and 协办 departments (decision 0020): education task 1 is led by 市教育局 with 市自然资源和规划局 and
市住房城乡建设局 as partners; health task 8 has every district as partner (各区县（功能区））."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from minsheng.catalog.breakdown import parse_breakdown
from minsheng.catalog.document import PlanState
from minsheng.demo.breakdown import DEMO_WORKBOOK
from tests.conftest import CITY
from tests.support.breakdown import CONTEXT, KNOWN

TODAY = dt.date(2026, 12, 7)
DEMO = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
DEMO_PLAN = DEMO.plan.code
PUBLISHED = DEMO.plan.model_copy(update={"state": PlanState.published})


def publication(campaign: str, partners: dict[int, tuple[str, ...]] | None = None) -> dict:
    """The body of `POST /api/v1/plans` that publishes the demonstration plan's catalog of `campaign`; `partners`:
    other 协办单位 for some of its tasks (task number → partners)."""
    doc = DEMO.campaigns.get(campaign)
    body = {"plan": PUBLISHED.model_dump(mode="json"), "campaign": doc.model_dump(mode="json") if doc else None}
    for item in body["campaign"]["items"] if doc and partners else ():
        for task in item["tasks"]:
            if task["number"] in partners:
                task["partner_departments"] = list(partners[task["number"]])
    return body


def publish_demo(service: TestClient, campaign: str, partners: dict[int, tuple[str, ...]] | None = None) -> None:
    service.app.state.clock = lambda: TODAY
    answer = service.post("/api/v1/plans", json=publication(campaign, partners), headers=CITY)
    assert answer.status_code == 201, answer.text


def part(
    *, task: int = 1, period: str = "2026Q3", partner: str | None = "市住房城乡建设局", org_unit: str = "370300", **more
) -> dict:
    """A task-status body: a partner's part when `partner` is set, else the task's own."""
    body = {
        "task": task,
        "org_unit": org_unit,
        "period": period,
        "state": "in_progress",
        "narrative": "配套幼儿园规划条件已随土地出让落实 3 处",
        **more,
    }
    return body | ({"partner_department": partner} if partner is not None else {})
