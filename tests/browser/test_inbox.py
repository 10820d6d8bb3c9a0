"""我的待办 in a browser: the education bureau's clerk signs in and starts from what is due; a report
submitted shows as 待审核; once the city office returns it, it is on top with the reason, at office
width and on a phone."""

from __future__ import annotations

import re
import time

import openpyxl
import pytest
from playwright.sync_api import BrowserContext, expect

from minsheng.auth.demo import DEMO_PASSWORD
from tests.browser.axe import assert_accessible
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CLERK = "demo-education-bureau"
OFFICE = "demo-city-office"
REPORTS = "/api/v1/campaigns/education/reports"
PERIOD = "2024-12"  # the plan's last month: this period for every day after the plan


def api_sign_in(context: BrowserContext, username: str) -> dict[str, str]:
    answer = context.request.post("/api/v1/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.ok, answer.text()
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def wait_for_state(context: BrowserContext, indicator: str, period: str, state: str) -> dict:
    """The gateway folds the service's events within moments: wait until its inbox says so."""
    deadline = time.monotonic() + 30
    while True:
        answer = context.request.get("/api/v1/inbox", params={"period": period, "limit": 500})
        assert answer.ok, answer.text()
        rows = [r for r in answer.json()["data"] if r["indicator_id"] == indicator]
        if rows and rows[0]["state"] == state:
            return rows[0]
        assert time.monotonic() < deadline, f"{indicator} {period} never became {state}: {rows}"
        time.sleep(0.3)


def test_the_clerk_sees_what_is_due_then_the_submitted_and_the_returned_report(page, new_context, browser, stack):
    page.goto("/login")
    page.get_by_placeholder("用户名").fill(CLERK)
    page.get_by_placeholder("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登 录").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))  # a clerk starts from what is due
    expect(page.locator(".el-menu")).to_contain_text("我的待办")

    # What is due: this period (December, and the year 2024) and everything earlier still owed.
    summary = page.locator('[data-test="inbox-summary"]')
    expect(summary).to_contain_text("2024年12月")
    expect(summary).to_contain_text("完成 0 /")
    expect(page.locator('[data-test="inbox-share"]')).to_contain_text("0%")
    table = page.locator('[data-test="inbox-table"]')
    expect(table.locator('[data-test="inbox-state-tag"]').first).to_have_text("未填报")
    expect(table).to_contain_text("已逾期")
    expect(table).to_contain_text("新改扩建公办幼儿园数量")

    # The clerk submits December's figure (through the API, as another tab would).
    clerk_api = new_context()
    clerk_csrf = api_sign_in(clerk_api, CLERK)
    created = clerk_api.request.post(
        REPORTS,
        headers=clerk_csrf,
        data={"indicator": "T002-1", "org_unit": "370300", "period": PERIOD, "value": 4, "note": "12月新开工4处"},
    )
    assert created.status == 201, created.text()
    report_id = created.json()["id"]
    wait_for_state(clerk_api, "T002-1", PERIOD, "submitted")

    page.goto(f"/inbox?period={PERIOD}")
    row = table.locator("tbody tr", has_text="T002-1")
    expect(row.locator('[data-test="inbox-state-tag"]')).to_have_text("待审核")
    expect(summary).to_contain_text("完成 1 /")
    expect(page.locator('[data-test="inbox-share"]')).not_to_contain_text(re.compile(r"^0%$"))

    # The city office returns it with a reason: it is now on top, with the reason, and owed again.
    office_api = new_context()
    office_csrf = api_sign_in(office_api, OFFICE)
    returned = office_api.request.post(
        f"{REPORTS}/{report_id}/return", headers=office_csrf, data={"reason": "与月报台账不符，请核实开工数"}
    )
    assert returned.ok, returned.text()
    wait_for_state(clerk_api, "T002-1", PERIOD, "returned")

    page.goto("/inbox")
    first = table.locator("tbody tr").first
    expect(first.locator('[data-test="inbox-state-tag"]')).to_have_text("被退回")
    expect(first).to_contain_text("T002-1")
    expect(first.locator('[data-test="inbox-reason"]')).to_have_text("退回原因：与月报台账不符，请核实开工数")
    expect(page.locator('[data-test="inbox-returned-count"]')).to_have_text("被退回 1 项")
    screenshot(page, "inbox")
    assert_accessible(page, "inbox")

    # 导出 Excel: the rows shown, the returned one first with its reason.
    with page.expect_download() as caught:
        page.locator('[data-test="export-xlsx"]').click()
    assert re.fullmatch(r"我的待办_\d{4}-\d{2}-\d{2}\.xlsx", caught.value.suggested_filename)
    with caught.value.path().open("rb") as workbook:
        exported = list(openpyxl.load_workbook(workbook).active.iter_rows(values_only=True))
    assert exported[0] == (
        "状态", "类别", "指标编号", "指标（协办进展为任务）", "计量单位", "攻坚行动 · 任务", "单位", "期间", "截止日期",
        "已逾期", "填报值", "退回原因",
    )  # fmt: skip
    assert len(exported) - 1 == table.locator("tbody tr").count()
    assert exported[1][:4] == ("被退回", "指标数据", "T002-1", "新改扩建公办幼儿园数量")
    assert exported[1][6:8] == ("淄博市", "2024年12月")
    assert exported[1][10:] == (4, "与月报台账不符，请核实开工数")

    # The row opens 数据填报 with its campaign, period and org unit chosen.
    first.locator('[data-test="inbox-go"]').click()
    expect(page).to_have_url(re.compile(r"/entry\?.*period=2024-12"))
    expect(page.locator('[data-test="campaign"]')).to_contain_text("教育")
    expect(page.locator('[data-test="org-unit"]')).to_contain_text("淄博市")

    # On a phone: cards, the returned one first with its reason, nothing wider than the screen.
    phone = browser.new_context(
        base_url=stack.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    try:
        api_sign_in(phone, CLERK)
        phone_page = phone.new_page()
        phone_page.goto("/inbox")
        card = phone_page.locator('[data-test="inbox-card"]').first
        expect(card.locator('[data-test="inbox-state-tag"]')).to_have_text("被退回")
        expect(card.locator('[data-test="inbox-reason"]')).to_contain_text("与月报台账不符")
        expect(phone_page.locator('[data-test="inbox-table"]')).to_have_count(0)
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone_page, "inbox-phone")
        assert_accessible(phone_page, "inbox-phone")
    finally:
        phone.close()
