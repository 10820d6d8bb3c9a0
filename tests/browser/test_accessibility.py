"""无障碍 (GB/T 37668-2019, WCAG 2.0 AA in substance) and 适老化 in a browser, on the demo dataset: every page
passes axe-core's WCAG 2 A/AA rules with no serious or critical finding for 张店区's clerk and the city office;
大字模式 in the header scales the text and is remembered; a person without a mouse signs in and reaches the
menu and the form by the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from minsheng.auth.demo import DEMO_PASSWORD
from tests.browser.axe import BLOCKING, axe_violations, impact_counts
from tests.support.browser import sign_in
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(900)

CITY = bearer("demo-city-office")
# What each person opens, with what shows the page has its data (the check runs on the page as it is read).
CLERK_PAGES = [
    ("inbox", "/inbox", '[data-test="inbox"], .el-table'),
    ("entry", "/entry", ".el-table, form"),
    ("excel", "/excel", "main"),
    ("home", "/home", "canvas"),
    ("drill", "/drill", '[data-test="campaign-education"]'),
    ("drill-campaign", "/drill/campaign/education", '[data-test="task-2"]'),
    ("drill-task", "/drill/task/2", '[data-test="task-indicators"]'),
    ("drill-indicator", "/drill/indicator/T002-1", '[data-test="current-value"]'),
    ("districts", "/districts", "canvas"),
    ("district", "/districts/370303", "main"),
    ("warnings", "/warnings", "main"),
    ("supervision", "/supervision", '[data-test="orders-table"]'),
    ("profile", "/profile", "main"),
    ("plans-read-only", "/plans", '[data-test="plan-list"] .el-table__row'),
]
OFFICE_PAGES = [
    ("review", "/review", ".el-table"),
    ("accounts", "/accounts", '[data-account="demo-zhangdian"]'),
    ("plans", "/plans", '[data-test="plan-list"] .el-table__row'),
]


def survey(page: Page, pages: list[tuple[str, str, str]]) -> dict[str, list[dict]]:
    found = {}
    for name, path, ready in pages:
        page.goto(path)
        expect(page.locator(ready).first).to_be_visible()
        found[name] = axe_violations(page)
    return found


def test_every_page_passes_axe_for_the_district_clerk_and_the_city_office(new_context, stack):
    page = new_context().new_page()
    page.goto("/login")
    expect(page.get_by_placeholder("用户名")).to_be_visible()
    found = {"login": axe_violations(page)}
    sign_in(page, "demo-zhangdian")
    expect(page).to_have_url(re.compile(r"/inbox"))
    found |= survey(page, CLERK_PAGES)
    office = new_context().new_page()
    sign_in(office, "demo-city-office")
    expect(office).to_have_url(re.compile(r"/home"))
    found |= survey(office, OFFICE_PAGES)

    failures = []
    for name, violations in found.items():
        counts = impact_counts(violations)
        print(f"axe {name}: " + ", ".join(f"{k} {counts[k]}" for k in ("critical", "serious", "moderate", "minor")))
        for v in violations:
            if v["impact"] in BLOCKING:
                targets = "; ".join(n["target"] for n in v["nodes"][:8])
                why = v["nodes"][0]["summary"].splitlines()[-1].strip()
                failures.append(f"{name} [{v['impact']}] {v['id']} ×{len(v['nodes'])}: {targets} ({why})")
    assert not failures, "\n".join(failures)


def root_font_px(page: Page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def test_large_text_mode_scales_every_text_and_is_remembered(page, stack):
    sign_in(page, "demo-zhangdian")
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto("/home")
    expect(page.locator('[data-test="campaign-card"]').first).to_be_visible()
    assert root_font_px(page) == 16
    cell = page.locator(".el-table .cell").first
    standard = float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))

    page.locator('[data-test="font-scale-button"]').click()
    page.locator('[data-test="font-scale-125"]').click()
    expect(page.locator('[data-test="font-scale-button"]')).to_contain_text("特大")
    assert root_font_px(page) == 20
    # Element Plus's own text (a table cell) grows with the root, not only the app's.
    assert float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) == standard * 1.25
    screenshot(page, "large-text")
    found = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not found, found

    # Remembered by this browser: after a reload, on another page and on the sign-in page.
    page.reload()
    expect(page.locator('[data-test="font-scale-button"]')).to_contain_text("特大")
    assert root_font_px(page) == 20
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_placeholder("用户名")).to_be_visible()
    assert root_font_px(page) == 20

    sign_in(page, "demo-zhangdian")
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.locator('[data-test="font-scale-button"]').click()
    page.locator('[data-test="font-scale-100"]').click()
    assert root_font_px(page) == 16
    page.reload()
    expect(page.locator('[data-test="font-scale-button"]')).not_to_contain_text("特大")
    assert root_font_px(page) == 16


def focused(page: Page) -> str:
    """What the keyboard is on: its accessible text (label, aria-label or text)."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.innerText"
        " || e.getAttribute('placeholder') || '').trim() : '' }"
    )


def tab_to(page: Page, wanted: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if wanted in focused(page):
            return
    pytest.fail(f"Tab never reached {wanted!r} (last: {focused(page)!r})")


def test_a_clerk_signs_in_and_reports_by_the_keyboard_alone(page, stack):
    page.goto("/login")
    expect(page.get_by_placeholder("用户名")).to_be_visible()
    tab_to(page, "用户名")
    page.keyboard.type("demo-zhangdian")
    tab_to(page, "密码")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox"))

    # The menu, then 数据填报's first figure, each reached by Tab and opened by Enter.
    tab_to(page, "数据填报")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/entry"))
    expect(page.locator("input[data-field], [data-field] input").first).to_be_visible()
    # 跳到正文, the first Tab stop, passes the menu and the header.
    page.reload()
    expect(page.locator("input[data-field], [data-field] input").first).to_be_visible()
    page.keyboard.press("Tab")
    assert focused(page) == "跳到正文"
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    tab_to(page, "本次填报", limit=120)
    label = focused(page)
    page.keyboard.type("1")
    box = page.get_by_label(label, exact=True)
    expect(box).to_have_value("1")
    expect(box).to_be_focused()
