"""The demonstration plan's 任务分解表: `breakdown_demo.yaml` (the plan and its tasks, as data) filled into the
platform's template (`minsheng.catalog.breakdown`), kept as `breakdown_demo.xlsx` beside it.

`tools/build_breakdown_demo.py` writes the workbook; the workbook, not the YAML, is what a run loads, through the
same dry run and publication as a city office's upload."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from minsheng.catalog.breakdown import CampaignHeading, build_breakdown_template, fill_breakdown
from minsheng.orgunits import OrgUnitSeed

HERE = Path(__file__).resolve().parent
DEMO_DATA = HERE / "breakdown_demo.yaml"
DEMO_WORKBOOK = HERE / "breakdown_demo.xlsx"
TASK_FIELDS = ("number", "item", "text", "lead", "partners", "deadline")


def demo_data() -> dict:
    with DEMO_DATA.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def demo_rows(data: dict, campaigns: Sequence[CampaignHeading]) -> list[dict[str, object]]:
    """The 任务分解表's rows: a task's first indicator on its own row, each further indicator on a row of its own
    with the task's columns left empty (the template's rule); a task without indicators is one row."""
    names = {c.code: c.name for c in campaigns}
    rows = []
    for task in data["tasks"]:
        first = {"campaign": names[task["campaign"]], **{key: task.get(key) for key in TASK_FIELDS}}
        indicators = task.get("indicators") or [{}]
        rows.append(first | indicators[0])
        rows += [dict(indicator) for indicator in indicators[1:]]
    return rows


def demo_workbook(
    *, departments: Sequence[str], districts: Sequence[OrgUnitSeed], campaigns: Sequence[CampaignHeading]
) -> bytes:
    data = demo_data()
    plan = data["plan"]
    template = build_breakdown_template(
        departments=departments,
        districts=districts,
        campaigns=campaigns,
        plan_years=range(plan["start_year"], plan["end_year"] + 1),
    )
    return fill_breakdown(template, plan=plan, rows=demo_rows(data, campaigns))
