"""The entry form's extras in a browser: the last approved value and the running total beside each indicator
(from the gateway's views, once the city office approved), and the state, progress and problems of a task
without numbers, saved and shown again after a reload; at office and phone widths."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import CLERK, OFFICE, REPORTS, api_sign_in, needs_sign_in, open_entry, sign_in
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]


def report_and_approve(clerk: BrowserContext, office: BrowserContext, rows: list[dict]) -> None:
    csrf = api_sign_in(clerk, CLERK)
    sent = clerk.request.post(f"{REPORTS}/bulk", data={"rows": rows}, headers={"X-CSRF-Token": csrf})
    assert sent.status == 201, sent.text()
    office_csrf = api_sign_in(office, OFFICE)
    for report in sent.json()["data"]:
        approved = office.request.post(f"{REPORTS}/{report['id']}/approve", headers={"X-CSRF-Token": office_csrf})
        assert approved.ok, approved.text()


def wait_for_views(context: BrowserContext, indicator: str, period: str, last_period: str) -> None:
    """An approval reaches the gateway's views within moments (its consumer folds the event)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = context.request.get("/api/v1/org-units/370300/values", params={"period": period})
        row = next(r for r in answer.json()["data"] if r["indicator"] == indicator)
        if row["last_period"] == last_period:
            return
        time.sleep(0.2)
    pytest.fail(f"the approval of {indicator} {last_period} did not reach the gateway's views")


def row(page: Page, indicator: str):
    return page.locator(f'tr[data-indicator="{indicator}"]')


def test_the_form_shows_the_last_approved_value_and_the_running_total(new_context, browser, stack):
    clerk, office = new_context(), new_context()
    rows = [
        {"indicator": "T002-1", "org_unit": "370300", "period": period, "value": value}
        for period, value in (("2024-02", 4), ("2024-03", 6))
    ]
    report_and_approve(clerk, office, rows)
    wait_for_views(clerk, "T002-1", "2024-04", "2024-03")

    page = clerk.new_page()
    open_entry(page, "2024-04")
    header = page.locator(".entry-table thead").first
    expect(header).to_contain_text("上期审定值")
    expect(header).to_contain_text("累计")
    expect(row(page, "T002-1").locator('[data-test="last-approved"]')).to_have_text("6（2024年3月）")
    expect(row(page, "T002-1").locator('[data-test="running-total"]')).to_contain_text("10")
    expect(row(page, "T002-1").locator('[data-test="running-total"]')).to_contain_text("自2022年起累计")
    expect(row(page, "T002-2").locator('[data-test="last-approved"]')).to_have_text("—")

    # The same at phone width: each indicator a card with labelled lines, nothing wider than the phone.
    phone = browser.new_context(
        base_url=stack.url, viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    try:
        small = phone.new_page()
        sign_in(small, CLERK)
        expect(small).to_have_url(re.compile(r"/inbox$"))  # clerks start at 我的待办
        open_entry(small, "2024-04")
        expect(row(small, "T002-1").locator('[data-test="last-approved"]')).to_be_visible()
        expect(row(small, "T002-1").locator('[data-test="running-total"]')).to_contain_text("10")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


def test_a_clerk_saves_the_status_of_a_task_without_numbers_and_sees_it_after_reload(page, stack):
    sign_in(page, CLERK)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    open_entry(page, "2024-05")
    task = page.locator('tr[data-task="1"]')  # 编制中小学幼儿园建设图谱: no indicators in the plan
    expect(task).to_contain_text("尚未填报进展")

    # Progress without a state is refused in the page; nothing is sent.
    task.locator('textarea[data-field="narrative"]').fill("城区中小学幼儿园建设图谱已完成初稿，正在征求意见")
    page.locator('[data-test="submit"]').click()
    expect(task.locator('[data-test="status-error"]')).to_contain_text("请选择进展状态")

    task.locator('[data-field="state"]').click()
    page.locator(".el-select-dropdown__item:visible", has_text="推进中").click()
    task.locator('textarea[data-field="problems"]').fill("部分片区人口预测数据未更新")
    page.locator('[data-test="submit"]').click()
    expect(page.locator('[data-test="entry-summary"]')).to_contain_text("已提交 1 项任务进展")

    page.reload()
    latest = page.locator('tr[data-task="1"] [data-test="latest-status"]')
    expect(latest).to_contain_text("最新进展（2024年5月）")
    expect(latest).to_contain_text("推进中")
    expect(latest).to_contain_text("城区中小学幼儿园建设图谱已完成初稿")
    expect(latest).to_contain_text("部分片区人口预测数据未更新")
    expect(page.locator('tr[data-task="1"] textarea[data-field="narrative"]')).to_have_value("")
    page.locator('tr[data-task="1"]').scroll_into_view_if_needed()
    screenshot(page, "entry-task-status")
    assert_accessible(page, "entry-task-status")

    # A later month shows it as the latest status, with its period.
    open_entry(page, "2024-06")
    expect(page.locator('tr[data-task="1"] [data-test="latest-status"]')).to_contain_text("最新进展（2024年5月）")
    statuses = page.context.request.get(
        "/api/v1/campaigns/education/task-status", params={"task": 1, "org_unit": "370300"}
    )
    assert [(s["period"], s["state"]) for s in statuses.json()["data"]] == [("2024-05", "in_progress")]
