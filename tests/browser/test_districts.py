"""区县, a district's page and 预警 in a browser: reports approved through the education service reach the
gateway; the map draws the 8 districts and counties in the colours of the API's scores, the league tables
match GET /api/v1/districts, a row opens the district with its own targets, and the warnings page filters
(kind, district) and exports what it shows."""

from __future__ import annotations

import re
import time

import httpx
import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, needs_sign_in, select_option, sign_in, submit
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

CITY, BUREAU, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-education-bureau"), bearer("demo-zhangdian")
MAPPED = {"370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323"}
ZONES = {"370390", "370391", "370392"}
# The page's score bands (web/src/views/districts/colors.ts): the lowest score of each, and its colour.
BANDS = ((90, "#2e7d32"), (80, "#67c23a"), (70, "#b5d96a"), (60, "#e6a23c"), (0, "#f56c6c"))
NO_SCORE = "#dcdfe6"
# The ratio indicators (the city's target applies to each district) as three districts report them for 2024:
# 淄川 meets all four (T023-1, a yearly decline, every year), 博山 three of them, 临淄 reports one, short.
SHARES = {
    "370302": {"T002-3": (90, 100), "T002-4": (80, 100), "T004-3": (6, 2), "T023-1": (3, 2)},
    "370304": {"T002-3": (70, 100), "T002-4": (80, 100), "T004-3": (6, 2)},
    "370305": {"T002-3": (30, 100)},
}


def band_colour(score: float | None) -> str:
    return NO_SCORE if score is None else next(colour for low, colour in BANDS if score >= low)


def approve(education: httpx.Client, body: dict, headers) -> None:
    created = submit(education, body, headers)
    assert education.post(f"/api/v1/reports/{created['id']}/approve", headers=CITY).status_code == 200


def wait_for_folds(page: Page) -> None:
    """The gateway folds the approvals' events within moments; its progress answers then hold the values."""
    wanted = [("T002-1", "370303")] + [(code, unit) for unit, reports in SHARES.items() for code in reports]
    deadline = time.monotonic() + 30
    for code, org_unit in wanted:
        while True:
            answer = page.request.get(f"/api/v1/indicators/{code}/progress", params={"org_unit": org_unit})
            assert answer.ok, answer.text()
            if answer.json()["current_value"] is not None:
                break
            assert time.monotonic() < deadline, f"{code} of {org_unit} never reached the gateway"
            time.sleep(0.3)


def league_rows(page: Page) -> list[tuple[str, str, str]]:
    """(rank, district, score) of each row of the league table shown."""
    table = page.locator('[data-test="league-table"] .el-table__body')
    return [
        (
            row.locator('[data-test="rank"]').inner_text(),
            row.locator('[data-test="district-name"]').inner_text(),
            row.locator('[data-test="score"]').inner_text(),
        )
        for row in table.locator("tr").all()
    ]


def expected_rows(ranking: dict) -> list[tuple[str, str, str]]:
    def shown(value) -> str:
        return "—" if value is None else f"{value:g}"

    return [(shown(d["rank"]), d["name"], shown(d["score"])) for d in ranking["districts"]]


def test_the_map_and_league_tables_show_the_apis_scores_and_warnings_filter_and_export(new_context, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        # Zhangdian passes its own target of 10 kindergartens; three districts report their ratios.
        approve(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2024-06", "value": 12}, ZHANGDIAN)
        for org_unit, reports in SHARES.items():
            for indicator, (numerator, denominator) in reports.items():
                for year in ("2022", "2023", "2024") if indicator == "T023-1" else ("2024",):
                    body = {"indicator": indicator, "org_unit": org_unit, "period": year, "value": None}
                    approve(education, {**body, "numerator": numerator, "denominator": denominator}, BUREAU)

    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page.locator(".el-menu")).to_contain_text("区县")
    wait_for_folds(page)
    matrix = page.request.get("/api/v1/districts").json()
    monthly = next(r for r in matrix["rankings"] if r["routine"] == "monthly_dispatch")
    scores = {d["code"]: d["score"] for d in monthly["districts"]}
    # the data make the colours differ (淄川 90 and more, 博山 between 60 and 90, the others below 60)
    assert len({band_colour(scores[code]) for code in MAPPED}) >= 3, scores

    page.goto("/districts")
    regions = page.locator('[data-test="map-region"]')
    expect(regions).to_have_count(8)
    drawn = {
        r.get_attribute("data-code"): (r.get_attribute("data-color"), r.get_attribute("data-name"))
        for r in regions.all()
    }
    assert set(drawn) == MAPPED
    names = {d["code"]: d["name"] for d in monthly["districts"]}
    for code, (colour, name) in drawn.items():
        assert colour == band_colour(scores[code]), (code, scores[code], colour)
        assert name == names[code]
    expect(page.locator('[data-test="zone"]')).to_have_count(3)
    assert {z.get_attribute("data-code") for z in page.locator('[data-test="zone"]').all()} == ZONES

    # The league tables: as GET /api/v1/districts ranks them, with the scoring rule and the 红黑榜.
    expect(page.locator('[data-test="scoring-rule"]')).to_contain_text("已完成100分")
    assert league_rows(page) == expected_rows(monthly)
    ranked = [d for d in monthly["districts"] if d["rank"] is not None]
    red = page.locator('[data-test="red-list"] .board-row')
    assert [r.get_attribute("data-code") for r in red.all()] == [d["code"] for d in ranked[:3]]
    black = page.locator('[data-test="black-list"] .board-row')
    assert [r.get_attribute("data-code") for r in black.all()] == [d["code"] for d in ranked[-3:]]
    assert monthly["previous_as_of"] is not None
    changes = page.locator('[data-test="league-table"] [data-test="rank-change"]')
    expect(changes).to_have_count(len(monthly["districts"]))
    assert [c.get_attribute("data-change") for c in changes.all()] == [
        "" if d["rank_change"] is None else str(d["rank_change"]) for d in monthly["districts"]
    ]
    screenshot(page, "districts")
    assert_accessible(page, "districts")

    yearly = next(r for r in matrix["rankings"] if r["routine"] == "yearly_evaluation")
    page.locator(".el-tabs__item", has_text="年评价").click()
    expect(page.locator(".period")).to_contain_text(f"年评价截至 {yearly['as_of']}")
    assert league_rows(page) == expected_rows(yearly)

    # 指标状态: the map takes each district's status of the chosen indicator.
    page.locator('[data-test="map-mode"]').get_by_text("指标状态").click()
    select_option(page, "map-indicator", "T002-3")
    status = page.request.get("/api/v1/indicators/T002-3/progress", params={"org_unit": "370305"}).json()["status"]
    colours = {"completed": "#2e7d32", "on_track": "#67c23a", "at_risk": "#e6a23c", "behind": "#f56c6c"}
    expect(page.locator('[data-test="map-region"][data-code="370305"]')).to_have_attribute(
        "data-color", colours.get(status, "#c0c4cc")
    )

    # A row opens the district's page: its own targets with where it stands.
    page.locator('[data-test="league-table"] [data-test="district-name"][data-code="370303"]').click()
    expect(page).to_have_url(re.compile(r"/districts/370303"))
    expect(page.locator('[data-test="district-title"]')).to_have_text("张店区")
    own = page.locator('[data-test="own-targets"] .el-table__body tr', has_text="T002-1")
    expect(own).to_contain_text("10 处")
    expect(own).to_contain_text("12")
    expect(own).to_contain_text("已完成")
    expect(page.locator('[data-test="place"][data-routine="monthly_dispatch"]')).to_contain_text("第")
    screenshot(page, "district")
    assert_accessible(page, "district")

    # 预警: the warnings and the overdue reports, filtered, then exported as shown.
    page.goto("/warnings")
    count = page.locator('[data-test="warning-count"]')
    expect(count).to_contain_text("共")
    select_option(page, "filter-kind", "逾期未报")
    expect(page.locator('[data-test="kind"]').first).to_have_attribute("data-kind", "overdue")
    select_option(page, "filter-org-unit", "张店区")
    rows = page.locator('[data-test="warnings-table"] .el-table__body tr')
    expect(rows.first).to_contain_text("张店区")
    assert {k.get_attribute("data-kind") for k in page.locator('[data-test="kind"]').all()} == {"overdue"}
    assert {u.get_attribute("data-code") for u in page.locator('[data-test="org-unit"]').all()} == {"370303"}
    shown = int(re.search(r"共 (\d+) 条", count.inner_text()).group(1))
    overdue = page.request.get("/api/v1/warnings/overdue", params={"org_unit": "370303", "limit": 2000}).json()
    assert shown == len(overdue) > 0
    screenshot(page, "warnings")
    assert_accessible(page, "warnings")

    with page.expect_download() as caught:
        page.locator('[data-test="export-xlsx"]').click()
    download = caught.value
    assert re.fullmatch(r"预警_\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    with download.path().open("rb") as workbook:
        exported = list(openpyxl.load_workbook(workbook).active.iter_rows(values_only=True))
    assert exported[0][:5] == ("类型", "攻坚行动", "指标或任务", "单位", "状态")
    assert len(exported) - 1 == shown
    assert {row[0] for row in exported[1:]} == {"逾期未报"} and {row[3] for row in exported[1:]} == {"张店区"}
