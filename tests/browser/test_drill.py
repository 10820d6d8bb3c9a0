"""攻坚行动 in a browser: the city office walks from the campaign to a work item's task and on to an indicator,
whose chart plots the values approved a moment ago, whose districts table shows each district's figure
against its own target, and whose history lists every revision; a district's row opens its own chart."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, T002_1, needs_sign_in, sign_in, submit
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY, BUREAU, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-education-bureau"), bearer("demo-zhangdian")


def approve(service: httpx.Client, body: dict, headers) -> dict:
    report = submit(service, body, headers)
    assert service.post(f"/api/v1/reports/{report['id']}/approve", headers=CITY).status_code == 200
    return report


def wait_for_district_value(page: Page, org_unit: str, value: float) -> None:
    """The gateway folds the approvals' events within moments."""
    deadline = time.monotonic() + 30
    while True:
        answer = page.request.get("/api/v1/indicators/T002-1/districts")
        assert answer.ok, answer.text()
        shown = {d["code"]: d["current_value"] for d in answer.json()["districts"]}[org_unit]
        if shown == value:
            return
        assert time.monotonic() < deadline, f"{org_unit} shows {shown}, never {value}"
        time.sleep(0.3)


def chart_points(page: Page) -> list[list]:
    """What the indicator's chart plots: [period, the period's value, the running total]."""
    chart = page.locator('[data-test="indicator-chart"]')
    expect(chart.locator("canvas")).to_be_visible()
    return json.loads(chart.get_attribute("data-points") or "[]")


@needs_sign_in
def test_the_city_office_drills_from_the_campaign_to_an_indicator_and_sees_what_was_approved(new_context, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        approve(education, T002_1("370303", "2024-03", 4), ZHANGDIAN)
        approve(education, T002_1("370303", "2024-04", 5), ZHANGDIAN)
        approve(education, T002_1("370302", "2024-04", 3), BUREAU)
        submit(education, T002_1("370302", "2024-04", 6), BUREAU)  # a revision awaiting review: not counted
        status = education.post(
            "/api/v1/task-status",
            headers=BUREAU,
            json={
                "task": 2,
                "org_unit": "370300",
                "period": "2024Q1",
                "state": "in_progress",
                "narrative": "新建幼儿园6处已开工",
                "problems": "用地手续待办",
            },
        )
        assert status.status_code in (200, 201), status.text

    page = new_context().new_page()
    sign_in(page, OFFICE)
    wait_for_district_value(page, "370303", 9)
    wait_for_district_value(page, "370302", 3)

    page.locator(".el-menu").get_by_text("攻坚行动").click()
    expect(page).to_have_url(re.compile(r"/drill$"))
    page.locator('[data-test="campaign-education"]').click()
    expect(page).to_have_url(re.compile(r"/drill/campaign/education$"))
    expect(page.locator('[data-test="drill-crumbs"]')).to_contain_text("攻坚行动")
    task_link = page.locator('[data-test="task-2"]')
    expect(task_link).to_be_visible()
    expect(page.locator('[data-test^="item-"]').first).to_contain_text("工作事项 1")
    screenshot(page, "drill-campaign")
    assert_accessible(page, "drill-campaign")

    task_link.click()
    expect(page).to_have_url(re.compile(r"/drill/task/2$"))
    expect(page.locator('[data-test="drill-crumbs"]')).to_contain_text("任务 2")
    expect(page.locator('[data-test="lead-departments"]')).to_contain_text("市教育局")
    expect(page.locator('[data-test="task-statuses"]')).to_contain_text("新建幼儿园6处已开工")
    indicators = page.locator('[data-test="task-indicators"]')
    expect(indicators).to_contain_text("T002-1")
    screenshot(page, "drill-task")
    assert_accessible(page, "drill-task")

    page.locator('[data-test="indicator-T002-1"]').click()
    expect(page).to_have_url(re.compile(r"/drill/indicator/T002-1$"))
    # The city's figures are the districts' approved values rolled up; the pending 6 is not among them.
    expect(page.locator('[data-test="current-value"]')).to_have_text("12")
    assert chart_points(page) == [["2024-03", 4, 4], ["2024-04", 8, 12]]
    districts = page.locator('[data-test="districts-table"]')
    zhangdian = districts.locator("tr", has_text="张店区")
    expect(zhangdian.locator('[data-test="district-value"]')).to_have_text("9")
    expect(zhangdian).to_contain_text("（自有）")  # its own target of 10
    expect(districts.locator("tr", has_text="淄川区").locator('[data-test="district-value"]')).to_have_text("3")
    expect(page.locator('[data-test="reasons"] li').first).not_to_be_empty()
    history = page.locator('[data-test="history-table"]')
    expect(history).to_contain_text("待审核")
    expect(history.locator("tr", has_text="淄川区")).to_have_count(2)  # the approved 3 and the revision of 6
    screenshot(page, "drill-indicator")
    assert_accessible(page, "drill-indicator")

    # 张店区's own chart and history.
    zhangdian.click()
    expect(page).to_have_url(re.compile(r"org_unit=370303"))
    expect(page.locator('[data-test="current-value"]')).to_have_text("9")
    assert chart_points(page) == [["2024-03", 4, 4], ["2024-04", 5, 9]]
    expect(history.locator("tr", has_text="张店区")).to_have_count(2)
    expect(history.locator("tr", has_text="淄川区")).to_have_count(0)


@needs_sign_in
def test_an_indicator_page_draws_the_plans_annual_target_with_its_sentence(new_context, stack):
    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/drill/indicator/T007-1")
    # 30 集团化办学典范 by 2024; the 2023 政府工作报告 set 20 for that year, drawn at the planned total of 30.
    targets = page.locator('[data-test="indicator-milestones"]')
    expect(targets).to_contain_text("2023年度目标：全年完成20个")
    expect(targets).to_contain_text("出自「培育20个集团化办学样板」")
    chart = page.locator('[data-test="indicator-chart"]')
    expect(chart.locator("canvas")).to_be_visible()
    assert json.loads(chart.get_attribute("data-milestones") or "[]") == [["2023-12-31", pytest.approx(30)]]
    screenshot(page, "drill-indicator-annual-target")
    assert_accessible(page, "drill-indicator-annual-target")

    # A district's own chart has no city targets on it.
    page.goto("/drill/indicator/T007-1?org_unit=370303")
    expect(page.locator('[data-test="indicator-chart"], .el-empty').first).to_be_visible()
    expect(targets).to_have_count(0)
