"""The 工作台 in a browser, as its users use it: sign in, enter a month's values (a bad one is shown beside
its field and nothing is saved), the city office approves and returns, a lost session keeps the input."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import (
    CLERK,
    DEMO_PASSWORD,
    OFFICE,
    REPORTS,
    api_sign_in,
    entry_input,
    fill_sign_in,
    needs_sign_in,
    open_entry,
    sign_in,
    wait_until_pending,
)
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)


def reports(context: BrowserContext, period: str) -> dict[str, dict]:
    answer = context.request.get(REPORTS, params={"period": period, "org_unit": "370300", "limit": 500})
    assert answer.ok, answer.text()
    return {r["indicator"]: r for r in answer.json()["data"]}


def test_the_app_is_served_at_the_root_and_sign_in_is_in_chinese(page, stack):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()
    expect(page.get_by_text("淄博市高品质民生三年行动")).to_be_visible()
    expect(page.get_by_placeholder("用户名")).to_be_visible()
    expect(page).to_have_title("登录 · 民生平台工作台")
    screenshot(page, "login")
    assert_accessible(page, "login")
    # An empty form is refused in the page, in Chinese.
    page.get_by_role("button", name="登 录").click()
    expect(page.get_by_text("请输入用户名")).to_be_visible()
    # A page asked for directly is remembered for after sign-in.
    page.goto("/review?campaign=education")
    expect(page).to_have_url(re.compile(r"/login\?redirect=(/|%2F)review"))
    expect(page.get_by_text("登录后回到原来的页面")).to_be_visible()


@needs_sign_in
def test_a_wrong_password_is_refused_in_chinese(page, stack):
    sign_in(page, "demo-health-bureau", "not-the-password-1")
    expect(page.locator('[data-test="login-error"]')).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_placeholder("密码")).to_have_value("")
    screenshot(page, "login-error")
    assert_accessible(page, "login-error")


@needs_sign_in
def test_five_wrong_passwords_lock_the_account_and_the_page_says_until_when(page, stack):
    page.goto("/login")
    for attempt in range(5):
        with page.expect_response("**/api/v1/auth/login"):  # one attempt at a time, each answered
            fill_sign_in(page, "demo-civil-affairs-bureau", f"wrong-password-{attempt}")
        expect(page.locator('[data-test="login-error"]')).to_be_visible()
    fill_sign_in(page, "demo-civil-affairs-bureau", DEMO_PASSWORD)  # even the right one, now
    locked = page.locator('[data-test="login-error"]')
    expect(locked).to_contain_text("账号已锁定")
    expect(locked).to_contain_text(re.compile(r"请于 \d{2}:\d{2} 后再试"))
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "login-locked")
    assert_accessible(page, "login-locked")


@needs_sign_in
def test_a_clerk_enters_a_bad_value_sees_it_beside_the_field_corrects_it_and_submits(page, stack):
    sign_in(page, CLERK)
    expect(page).to_have_url(re.compile(r"/inbox$"))  # a clerk starts from what is due
    expect(page.locator('[data-test="user-name"]')).to_have_text("市教育局 演示用户")
    menu = page.locator(".el-menu")
    expect(menu).to_contain_text("数据填报")
    expect(menu).not_to_contain_text("审核")  # the city office's
    page.goto("/home")
    expect(page.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(1500)  # the bars' grow-in animation, for the picture
    screenshot(page, "home")
    assert_accessible(page, "home")

    open_entry(page, "2024-06")
    expect(page.locator('tr[data-indicator="T002-1"]')).to_contain_text("新改扩建公办幼儿园数量")
    entry_input(page, "T002-1").fill("-5")
    entry_input(page, "T002-2").fill("30")
    page.locator('[data-test="submit"]').click()

    error = page.locator('tr[data-indicator="T002-1"] [data-test="field-error"]')
    expect(error).to_contain_text("不能为负数")
    expect(page.locator('[data-test="entry-summary"]')).to_contain_text("全部未保存")
    expect(page.locator('tr[data-indicator="T002-2"] [data-test="field-error"]')).to_have_count(0)
    assert reports(page.context, "2024-06") == {}  # all or none: the good row was not saved either
    expect(entry_input(page, "T002-2")).to_have_value("30")  # and nothing typed was lost
    screenshot(page, "entry-errors")
    assert_accessible(page, "entry-errors")

    entry_input(page, "T002-1").fill("12")
    entry_input(page, "T002-1", "note").fill("6月新开工12处")
    page.locator('[data-test="submit"]').click()
    expect(page.locator('[data-test="entry-summary"]')).to_contain_text("已提交 2 项")
    expect(error).to_have_count(0)
    saved = reports(page.context, "2024-06")
    assert {code: (r["value"], r["status"]) for code, r in saved.items()} == {
        "T002-1": (12.0, "submitted"),
        "T002-2": (30.0, "submitted"),
    }
    assert saved["T002-1"]["note"] == "6月新开工12处"
    expect(page.locator('tr[data-indicator="T002-1"]')).to_contain_text("待审核")
    expect(entry_input(page, "T002-1")).to_have_value("")  # saved: the form is ready for the next changes
    screenshot(page, "entry")
    assert_accessible(page, "entry")


@needs_sign_in
def test_the_city_office_approves_several_at_once_and_returns_one_with_a_reason(new_context, stack):
    clerk = new_context()
    csrf = api_sign_in(clerk, CLERK)
    rows = [
        {"indicator": code, "org_unit": "370300", "period": "2024-05", "value": value}
        for code, value in (("T003-1", 2), ("T003-2", 1), ("T003-3", 500))
    ]
    sent = clerk.request.post(f"{REPORTS}/bulk", data={"rows": rows}, headers={"X-CSRF-Token": csrf})
    assert sent.status == 201, sent.text()

    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page.locator(".el-menu")).to_contain_text("审核")
    wait_until_pending(page, "2024-05", 3)  # the gateway's pending list follows the service's events
    page.goto("/review?campaign=education&period=2024-05")
    table = page.locator(".el-table__body")
    expect(table.locator("tr")).to_have_count(3)
    expect(table).to_contain_text("新改扩建中小学数量")

    for code in ("T003-1", "T003-2"):
        table.locator("tr", has_text=code).locator(".el-checkbox").click()
    page.locator('[data-test="approve-selected"]').click()
    expect(page.get_by_text("已审核通过 2 份")).to_be_visible()
    expect(table.locator("tr")).to_have_count(1)

    table.locator("tr", has_text="T003-3").locator('[data-test="return"]').click()
    dialog = page.locator(".el-message-box")
    dialog.locator("textarea").fill("新增学位数与台账不符，请核实后重报")
    dialog.get_by_role("button", name="退回").click()
    expect(page.get_by_text("没有待审核的报告")).to_be_visible()

    saved = reports(clerk, "2024-05")
    assert {code: r["status"] for code, r in saved.items()} == {
        "T003-1": "approved",
        "T003-2": "approved",
        "T003-3": "returned",
    }
    assert saved["T003-3"]["return_reason"] == "新增学位数与台账不符，请核实后重报"

    # The clerk sees the return and its reason beside the indicator.
    clerk_page = clerk.new_page()
    open_entry(clerk_page, "2024-05")
    returned = clerk_page.locator('tr[data-indicator="T003-3"]')
    expect(returned).to_contain_text("被退回")
    expect(returned).to_contain_text("退回原因：新增学位数与台账不符，请核实后重报")
    expect(clerk_page.locator('tr[data-indicator="T003-1"]')).to_contain_text("已通过")


@needs_sign_in
def test_a_lost_session_returns_to_sign_in_and_keeps_what_was_typed(page, stack):
    sign_in(page, CLERK)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    open_entry(page, "2024-07")
    entry_input(page, "T004-1").fill("3")
    entry_input(page, "T004-1", "note").fill("新认定3所")

    page.context.clear_cookies()  # the session is gone (expired, or signed out elsewhere)
    page.locator('[data-test="submit"]').click()
    expect(page).to_have_url(re.compile(r"/login\?redirect="))
    expect(page.get_by_text("登录后回到原来的页面")).to_be_visible()

    fill_sign_in(page, CLERK, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/entry\?.*period=2024-07"))
    expect(entry_input(page, "T004-1")).to_have_value("3")
    expect(entry_input(page, "T004-1", "note")).to_have_value("新认定3所")
    page.locator('[data-test="submit"]').click()
    expect(page.locator('[data-test="entry-summary"]')).to_contain_text("已提交 1 项")
    assert reports(page.context, "2024-07")["T004-1"]["value"] == 3.0


@needs_sign_in
def test_the_profile_page_changes_the_password_and_signs_out(page, stack):
    sign_in(page, "demo-viewer")
    expect(page).to_have_url(re.compile(r"/home$"))
    menu = page.locator(".el-menu")
    expect(menu).not_to_contain_text("数据填报")
    expect(menu).to_contain_text("个人中心")
    page.goto("/entry")  # not for a read-only account
    expect(page).to_have_url(re.compile(r"/home$"))

    page.goto("/profile")
    expect(page.get_by_text("只读 演示用户").first).to_be_visible()
    screenshot(page, "profile")
    assert_accessible(page, "profile")
    form = page.locator("form")
    new_password = "Zibo-minsheng-2025-viewer"
    form.locator('input[name="current-password"]').fill("not-the-password-1")
    form.locator('input[name="new-password"]').fill(new_password)
    form.locator('input[name="confirm-password"]').fill(new_password)
    form.get_by_role("button", name="修改密码").click()
    expect(form.locator(".el-form-item__error")).to_have_count(1)  # beside 当前密码, in Chinese
    expect(form.locator(".el-form-item__error")).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))

    form.locator('input[name="current-password"]').fill(DEMO_PASSWORD)
    form.get_by_role("button", name="修改密码").click()
    expect(page.get_by_text("密码已修改")).to_be_visible()

    page.get_by_role("button", name="退出").first.click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/login\?redirect="))
    fill_sign_in(page, "demo-viewer", new_password)
    expect(page).to_have_url(re.compile(r"/profile$"))


@needs_sign_in
def test_a_district_clerk_reports_from_a_phone(browser, stack):
    context = browser.new_context(
        base_url=stack.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        sign_in(page, "demo-zhangdian")
        expect(page).to_have_url(re.compile(r"/inbox$"))
        page.goto("/entry?campaign=education&period=2024-06")
        expect(entry_input(page, "T002-1")).to_be_visible()
        # The district reports for itself only, and the page fits the phone's width.
        expect(page.locator('[data-test="org-unit"]')).to_contain_text("张店区")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        entry_input(page, "T002-1").fill("2")
        page.locator('[data-test="submit"]').click()
        expect(page.locator('[data-test="entry-summary"]')).to_contain_text("已提交 1 项")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "entry-phone")
        assert_accessible(page, "entry-phone")
        answer = context.request.get(REPORTS, params={"period": "2024-06", "org_unit": "370303"})
        assert [(r["indicator"], r["value"]) for r in answer.json()["data"]] == [("T002-1", 2.0)]
    finally:
        context.close()
