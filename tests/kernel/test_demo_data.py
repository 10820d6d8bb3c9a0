"""The demo dataset of `make run` (minsheng.demo): its generator as plain functions, and small loads
through a campaign service's own write paths, alone and with people changing reports meanwhile."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from minsheng.catalog.breakdown import parse_breakdown
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.loader import read_catalog_file
from minsheng.demo.breakdown import DEMO_WORKBOOK
from minsheng.demo.generator import (
    DELIBERATE_OUTLIERS,
    DEMO_NOTE,
    LAGGING_DISTRICTS,
    demo_rows,
    load_results,
    part_rows,
    unit_targets,
)
from minsheng.demo.loader import load_demo_data
from minsheng.orgunits import CITY_CODE, ORG_UNITS
from minsheng.progress.periods import Period
from minsheng.quality.service import SeriesValue, checks_of
from tests.conftest import CITY, ZHANGDIAN
from tests.support.breakdown import CONTEXT, KNOWN

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2025, 3, 1)


@pytest.fixture(scope="module")
def catalogs():
    return [read_catalog_file(ROOT / f"services/{c}/minsheng_{c}/catalog.yaml") for c in CAMPAIGN_CODES]


@pytest.fixture(scope="module")
def rows(catalogs):
    return demo_rows(catalogs, today=TODAY)


def test_the_same_rows_every_time(catalogs, rows):
    assert demo_rows(catalogs, today=TODAY) == rows
    assert all(len(rows[c]) > 500 for c in CAMPAIGN_CODES)


def test_every_row_is_marked_and_within_the_plan(rows):
    for row in (r for campaign in rows.values() for r in campaign):
        assert row["note"] == DEMO_NOTE
        assert row["period"][:4] in ("2022", "2023", "2024")


def test_nothing_for_periods_not_yet_over(catalogs):
    """Once a plan has ended, every period before today is reported; none after."""
    ended = demo_rows(catalogs, today=dt.date(2025, 1, 5))
    periods = {r["period"] for campaign in ended.values() for r in campaign}
    assert {"2024-12", "2024Q4", "2024"} <= periods


def test_in_a_plan_in_force_what_is_owed_now_is_left_for_people_and_a_few_series_are_late(catalogs):
    """On 2022-07-01 June is owed (due 07-10): nobody has reported it.  May fell due on 06-10: most series
    reported it, about one in five did not (the inbox's overdue items); April, due earlier, every series."""
    rows = [r for campaign in demo_rows(catalogs, today=dt.date(2022, 7, 1)).values() for r in campaign]
    periods = {r["period"] for r in rows}
    assert "2022-05" in periods and "2022Q1" in periods
    assert not {"2022-06", "2022Q2", "2022-07", "2022Q3", "2022"} & periods
    reported = defaultdict(set)
    for row in rows:
        reported[(row["indicator"], row["org_unit"])].add(row["period"])
    monthly = [periods for periods in reported.values() if {"2022-03", "2022-04"} <= periods]
    late = [periods for periods in monthly if "2022-05" not in periods]
    assert 0.1 < len(late) / len(monthly) < 0.3


def test_the_demonstration_plan_in_force_gets_reports_up_to_what_fell_due():
    """The 2025–2027 demonstration plan (its 任务分解表, as `make run` publishes it): on 2026-12-07 the reports
    run to October 2026 (due 11-10) and 2026Q3; November is this month's work; 2025's year figures are in."""
    result = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
    assert result.ok, result.errors
    rows = demo_rows(result.campaigns.values(), today=dt.date(2026, 12, 7))
    periods = {r["period"] for campaign in rows.values() for r in campaign}
    assert {"2026-10", "2026Q3", "2025"} <= periods
    assert not {"2026-11", "2026Q4", "2026"} & periods
    assert all(r["period"] >= "2025" for campaign in rows.values() for r in campaign)
    assert set(rows) == set(CAMPAIGN_CODES) and all(rows[c] for c in CAMPAIGN_CODES)


def test_each_demo_figure_is_for_a_period_its_indicator_is_reported_by():
    """An indicator reported by the year gets year figures, one by the quarter quarter figures: a figure for a month
    of a yearly indicator (学生总体近视率年降幅, not summed) left every district owing every year in 我的待办."""
    result = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
    frequency = {i.code: i.frequency.value for doc in result.campaigns.values() for i in doc.all_indicators()}
    rows = demo_rows(result.campaigns.values(), today=dt.date(2026, 12, 7))
    kinds = {(r["indicator"], Period.parse(r["period"]).type.value) for campaign in rows.values() for r in campaign}
    assert {(code, kind) for code, kind in kinds if kind != frequency[code]} == set()
    assert {kind for _, kind in kinds} == {"month", "quarter", "year"}


def test_the_published_2022_results_add_up_from_the_districts(rows):
    results = load_results()
    assert results["T062-1"].value == 670 and "长者食堂670处" in results["T062-1"].sentence
    totals: dict[str, float] = defaultdict(float)
    units: dict[str, set[str]] = defaultdict(set)
    for row in (r for campaign in rows.values() for r in campaign):
        if row["indicator"] in results and row["period"].startswith("2022"):
            totals[row["indicator"]] += row["value"]
            units[row["indicator"]].add(row["org_unit"])
    for code, result in results.items():
        assert totals[code] == pytest.approx(result.value), code
        assert CITY_CODE not in units[code] and len(units[code]) > 5  # reported by the districts, rolled up


def test_some_districts_lag_behind_the_others(catalogs, rows):
    """Against their share of the target (张店区's own where published), the lagging districts reach less."""
    indicator = next(i for c in catalogs for i in c.all_indicators() if i.code == "T106-2")  # 改造老旧小区户数
    targets = unit_targets(indicator)
    assert targets["370303"] == next(t.target_value for t in indicator.district_targets)
    done: dict[str, float] = defaultdict(float)
    for row in rows["livability"]:
        if row["indicator"] == "T106-2":
            done[row["org_unit"]] += row["value"]
    reached = {code: done[code] / target for code, target in targets.items()}
    assert LAGGING_DISTRICTS == {"370304", "370322"}
    others = [share for code, share in reached.items() if code not in LAGGING_DISTRICTS]
    assert max(reached[code] for code in LAGGING_DISTRICTS) < min(others)
    assert reached["370303"] >= 1.0  # 张店区 completes its own target


def test_ratio_rows_carry_numerator_and_denominator(rows):
    rate = [r for r in rows["employment"] if r["indicator"] == "H-EMP-2"]  # 城镇登记失业率 ≤ 4.5%
    assert {r["period"] for r in rate} == {"2022", "2023", "2024"}
    lagging = [r["numerator"] / r["denominator"] * 100 for r in rate if r["org_unit"] == "370322"]
    leading = [r["numerator"] / r["denominator"] * 100 for r in rate if r["org_unit"] == "370303"]
    assert lagging[-1] > 4.5 > leading[-1]  # a ceiling: the lagging county stays above it


def test_a_small_load_through_the_service_and_not_twice(campaign_client):
    client = campaign_client("eldercare")
    today = dt.date(2022, 3, 1)  # January and February 2022 only: a small load
    loaded = load_demo_data({"eldercare": client}, CITY, today=today, log=lambda _: None)
    assert loaded["eldercare"] > 0
    approved = client.get("/api/v1/reports", params={"status": "approved", "limit": 1}, headers=dict(CITY)).json()
    assert approved["count"] == loaded["eldercare"]
    one = client.get(
        "/api/v1/reports", params={"indicator": "T062-1", "org_unit": "370303", "limit": 5}, headers=dict(CITY)
    ).json()["data"]
    assert one and all(r["note"] == "演示数据" and r["status"] == "approved" for r in one)
    # A second run leaves a campaign that holds reports alone.
    assert load_demo_data({"eldercare": client}, CITY, today=today, log=lambda _: None) == {"eldercare": 0}
    again = client.get("/api/v1/reports", params={"limit": 1}, headers=dict(CITY)).json()["count"]
    assert again == loaded["eldercare"]


def test_what_people_change_while_the_demo_data_loads_is_skipped_and_the_load_finishes(campaign_client, catalogs):
    """Between the loader's submission and its approval a district clerk submits a revision of one of its
    reports and the city office returns another: their changes stand, the rest is approved, and the load
    ends normally, with the two skipped reports logged (it once raised, and `make run` stopped).  A report
    the clerk made earlier, before the loader reached its series, is named in the log."""
    client = campaign_client("eldercare")
    today = dt.date(2022, 3, 1)
    changed: dict[str, int] = {}

    rows = demo_rows([c for c in catalogs if c.code == "eldercare"], today=today)["eldercare"]
    early = [r for r in rows if r["org_unit"] == "370303"][-1]

    def people_act(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/catalog") and "early" not in changed:
            # After the loader found the campaign empty, before it reached this series: the clerk's comes first.
            first = client.post("/api/v1/reports", json=early | {"note": "张店区先报"}, headers=dict(ZHANGDIAN))
            assert first.status_code == 201, first.text
            changed["early"] = first.json()["id"]
        if "revised" in changed or not response.request.url.path.endswith("/reports/bulk"):
            return
        response.read()
        submitted = response.json()["data"]
        theirs = next(r for r in submitted if r["org_unit"] == "370303")
        changed["revised"] = theirs["id"]
        revision = client.post(
            "/api/v1/reports",
            json={key: theirs[key] for key in ("indicator", "org_unit", "period")}
            | {"value": theirs["value"] + 1, "note": "张店区更正"},
            headers=dict(ZHANGDIAN),
        )
        assert revision.status_code == 201, revision.text
        changed["revision"] = revision.json()["id"]
        returned = next(r for r in submitted if r["id"] != theirs["id"])
        changed["returned"] = returned["id"]
        answer = client.post(f"/api/v1/reports/{returned['id']}/return", json={"reason": "请核实"}, headers=dict(CITY))
        assert answer.status_code == 200, answer.text

    client.event_hooks["response"].append(people_act)
    lines: list[str] = []
    loaded = load_demo_data({"eldercare": client}, CITY, today=today, log=lines.append)
    client.event_hooks["response"].remove(people_act)

    rows = len(rows)
    assert loaded == {"eldercare": rows - 2}
    approved = client.get("/api/v1/reports", params={"status": "approved", "limit": 1}, headers=dict(CITY))
    assert approved.json()["count"] == rows - 2
    revision = client.get(f"/api/v1/reports/{changed['revision']}", headers=dict(CITY)).json()
    assert (revision["status"], revision["is_current"], revision["note"]) == ("submitted", True, "张店区更正")
    returned = client.get(f"/api/v1/reports/{changed['returned']}", headers=dict(CITY)).json()
    assert returned["status"] == "returned"
    assert any(f"skipped report {changed['revised']}" in line and "(superseded)" in line for line in lines), lines
    assert any(f"skipped report {changed['returned']}" in line and "(not_pending)" in line for line in lines), lines
    assert f"{rows - 2} reports approved" in lines[-1] and "2 skipped" in lines[-1]
    # A report a person made before the loader reached its series gets the demo revision on top, said so.
    series = f"({early['indicator']} 370303 {early['period']})"
    assert any(series in line and "newer revision of one a person submitted" in line for line in lines), lines


def test_a_service_that_does_not_answer_is_logged_not_raised():
    """The runner keeps the platform up whatever the load meets: the loader tells, it does not raise."""
    lines: list[str] = []
    with httpx.Client(base_url="http://127.0.0.1:1", timeout=5) as nowhere:
        loaded = load_demo_data({"health": nowhere}, CITY, today=TODAY, log=lines.append)
    assert loaded == {"health": 0}
    assert len(lines) == 1 and lines[0].startswith("demo data  health") and "not loaded" in lines[0]


def test_the_partners_parts_of_a_plan_in_force_fell_due_and_leave_a_few_late(catalogs):
    demo = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
    today = dt.date(2026, 12, 7)
    parts = {code: part_rows(doc, today=today) for code, doc in demo.campaigns.items()}
    assert all(part_rows(doc, today=TODAY) == [] for doc in catalogs)  # the 2022–2024 plan names no partner
    health = parts["health"]  # task 8: every district a partner, each for itself
    assert {r["org_unit"] for r in health} == {u.code for u in ORG_UNITS} - {CITY_CODE}
    assert not any("partner_department" in r for r in health)
    education = parts["education"]
    assert {(r["task"], r["org_unit"], r["partner_department"]) for r in education if r["task"] == 1} == {
        (1, CITY_CODE, "市自然资源和规划局"),
        (1, CITY_CODE, "市住房城乡建设局"),
    }
    every = [r for rows in parts.values() for r in rows]
    assert {r["period"] for r in every} <= {"2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"}
    assert DEMO_NOTE in every[0]["narrative"] and {r["state"] for r in every} == {"in_progress"}
    latest = [r for r in every if r["period"] == "2026Q3"]
    series = {(r["task"], r["org_unit"], r.get("partner_department")) for r in every}
    assert 0 < len(series) - len(latest) < len(series) / 2  # a few have not reported the quarter just due


def test_the_deliberate_outliers_are_what_the_quality_checks_find_in_their_month(catalogs):
    """数据质量's demo: the three figures entered ten times too large are flagged; in the same month the rest flag only
    张店区, the largest district, against the others (a few of its ~270 values)."""
    rows = demo_rows(catalogs, today=TODAY)
    flagged = set()
    for campaign_rows in rows.values():
        series: dict[str, list[SeriesValue]] = {}
        for number, row in enumerate(campaign_rows):
            if row.get("value") is not None:
                value = SeriesValue(number, row["org_unit"], row["period"], row["value"])
                series.setdefault(row["indicator"], []).append(value)
        for indicator, values in series.items():
            if any(v.period == "2024-03" for v in values):
                for check in checks_of(indicator, "2024-03", values, bounds={}):
                    if check.flagged:
                        flagged.add((indicator, check.org_unit, "2024-03"))
    assert set(DELIBERATE_OUTLIERS) <= flagged
    assert {unit for _, unit, _ in flagged - set(DELIBERATE_OUTLIERS)} == {"370303"}
    assert len(flagged - set(DELIBERATE_OUTLIERS)) <= 8
