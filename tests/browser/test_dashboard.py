"""首页 / 驾驶舱 in a browser, as the city office watches it: a headline value approved a moment ago appears
without a reload, this period's reporting completeness follows a district's submission, the page fits a
1366×768 office screen, and the wall screen (全屏, 1920×1080) shows the dashboard alone until ESC.

The page refetches on the live store's "views changed" signal and also polls every 10 s while it shows
today's figures, so the first test holds whether or not the gateway pushes the signal."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, needs_sign_in, sign_in, submit, wait_for_headline
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-zhangdian")


def headline_value(page: Page, indicator: str):
    return page.locator(f'[data-test="headline"][data-indicator="{indicator}"] [data-test="headline-value"]')


def completeness_row(page: Page, table: str, name: str):
    return page.locator(f'[data-test="completeness-{table}"] .el-table__body tr', has_text=name)


@needs_sign_in
def test_the_dashboard_shows_a_value_approved_a_moment_ago_without_a_reload(new_context, stack):
    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator('[data-test="campaign-card"][data-campaign="education"]')).to_contain_text("任务")
    expect(headline_value(page, "H-EDU-1")).to_have_text("—")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    answer = page.request.get("/api/v1/completeness").json()
    before = next(d for d in answer["districts"] if d["code"] == "370303")
    expect(completeness_row(page, "districts", "张店区")).to_contain_text(f"{before['owed']}")
    (period,) = [p for p in answer["periods"] if re.fullmatch(r"\d{4}-\d{2}", p)]

    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        # A district's report of this month: its completeness row counts it, before any review.
        submit(education, {"indicator": "T002-1", "org_unit": "370303", "period": period, "value": 3}, ZHANGDIAN)
        # A headline value, approved: the headline figure shows it.
        headline = submit(
            education, {"indicator": "H-EDU-1", "org_unit": "370300", "period": "2024", "value": 63.5}, CITY
        )
        assert education.post(f"/api/v1/reports/{headline['id']}/approve", headers=CITY).status_code == 200
    wait_for_headline(page, "H-EDU-1", 63.5)

    expect(headline_value(page, "H-EDU-1")).to_have_text("63.5", timeout=15_000)
    after = next(d for d in page.request.get("/api/v1/completeness").json()["districts"] if d["code"] == "370303")
    assert after["submitted"] == before["submitted"] + 1
    row = completeness_row(page, "districts", "张店区")
    expect(row.locator("td").nth(2)).to_have_text(str(after["submitted"]), timeout=15_000)
    expect(row).to_contain_text(f"{after['share'] * 100:.1f}%")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"

    # The newest warnings link to the 预警 page; each campaign card to its drill-down.
    expect(page.locator('[data-test="warnings-link"]')).to_have_attribute("href", "/warnings")
    expect(page.locator('[data-test="campaign-card"][data-campaign="education"]')).to_have_attribute(
        "href", "/drill/campaign/education"
    )


@needs_sign_in
def test_the_dashboard_fits_an_office_screen_and_the_wall_screen_shows_it_alone(new_context, stack):
    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page.locator('[data-test="campaign-card"]').first).to_be_visible()
    expect(page.locator('[data-test="headline"]').first).to_be_visible()
    expect(page.locator('[data-test="completeness-districts"] .el-table__body tr')).to_have_count(11)
    expect(page.locator(".el-menu")).to_be_visible()
    # 1366×768: nothing runs off the side.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.wait_for_timeout(1200)  # the charts' grow-in animation, for the picture
    screenshot(page, "dashboard")
    assert_accessible(page, "dashboard")

    # 全屏 from the button, 退出全屏 back.
    page.locator('[data-test="wall-enter"]').click()
    expect(page).to_have_url(re.compile(r"[?&]wall=1"))
    expect(page.locator(".el-menu")).to_be_hidden()
    page.locator('[data-test="wall-leave"]').click()
    expect(page).not_to_have_url(re.compile(r"wall=1"))
    expect(page.locator(".el-menu")).to_be_visible()

    # The wall screen at 1920×1080, opened by its address: no menu, no header, larger type; ESC leaves.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/home?wall=1")
    expect(page.locator('[data-test="dashboard"]')).to_have_class(re.compile(r"\bwall\b"))
    expect(page.locator('[data-test="campaign-card"]').first).to_be_visible()
    expect(page.locator(".el-menu")).to_be_hidden()
    expect(page.locator('[data-test="user-name"]')).to_be_hidden()
    expect(page.get_by_text("淄博市高品质民生三年行动 · 驾驶舱")).to_be_visible()
    # One screen: nothing runs off the side or below (a long card scrolls inside itself).
    assert page.evaluate(
        "document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight"
    )
    size = page.locator('[data-test="dashboard"]').evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 16
    page.wait_for_timeout(1200)
    screenshot(page, "dashboard-wall")
    assert_accessible(page, "dashboard-wall")
    page.keyboard.press("Escape")
    expect(page).not_to_have_url(re.compile(r"wall=1"))
    expect(page.locator(".el-menu")).to_be_visible()
