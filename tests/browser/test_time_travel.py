"""实时 and 时间回溯 in a browser: 首页 shows a value approved a moment ago without a reload (the gateway's
views-changed stream), and the header's as-of picker shows the figures as they stood on the chosen day
(the value approved for 2024 is not there on 2024-06-30), marked 回溯中 until 回到今天."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY = bearer("demo-city-office")
HEADLINE = "H-EDU-1"  # a headline figure (行动总目标) of education, shown in the city summary


def summaries_seen(page: Page) -> list[dict]:
    """Every city summary the page fetched, with the as_of it asked for, as it arrives."""
    seen: list[dict] = []

    def keep(response: Response) -> None:
        if "/api/v1/city/summary" in response.url and response.ok:
            seen.append(response.json())

    page.on("response", keep)
    return seen


def headline(summary: dict) -> float | None:
    figures = {f["id"]: f for c in summary["campaigns"] for f in c["headline"]}
    return figures[HEADLINE]["current_value"]


def wait_for(page: Page, condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Waits in the browser (Playwright delivers the page's responses only while it is called)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)


@needs_sign_in
def test_home_follows_an_approval_live_and_the_as_of_picker_goes_back_to_a_day_before_it(new_context, stack):
    page = new_context().new_page()
    seen = summaries_seen(page)
    sign_in(page, OFFICE)  # the city office lands on 首页
    expect(page).to_have_url(re.compile(r"/home$"))
    wait_for(page, lambda: bool(seen), "首页 fetched the city summary")
    assert headline(seen[-1]) is None
    opened = len(seen)

    # 实时: an approval in the service reaches the page by itself (no reload, no navigation).
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        body = {"indicator": HEADLINE, "org_unit": "370300", "period": "2024", "value": 62.5}
        report = education.post("/api/v1/reports", json=body, headers=CITY)
        assert report.status_code == 201, report.text
        approved = education.post(f"/api/v1/reports/{report.json()['id']}/approve", headers=CITY)
        assert approved.status_code == 200, approved.text
    url = page.url
    wait_for(page, lambda: any(headline(s) == 62.5 for s in seen[opened:]), "首页 refetched the approved value")
    assert page.url == url

    # 时间回溯: a day before the 2024 value's period ended: the value is not in the summary the page shows.
    picker = page.locator('[data-test="as-of-picker"] input')
    picker.fill("2024-06-30")
    picker.press("Enter")
    expect(page).to_have_url(re.compile(r"as_of=2024-06-30"))
    expect(page.locator('[data-test="as-of-tag"]')).to_have_text("回溯中")
    expect(page.get_by_text("截至 2024-06-30").first).to_be_visible()
    wait_for(page, lambda: seen[-1]["as_of"] == "2024-06-30", "首页 fetched the summary as of 2024-06-30")
    assert headline(seen[-1]) is None
    screenshot(page, "as-of")
    assert_accessible(page, "as-of")

    # A link with the day opens the same view.
    page.reload()
    expect(page.locator('[data-test="as-of-tag"]')).to_be_visible()
    expect(page.get_by_text("截至 2024-06-30").first).to_be_visible()

    # 回到今天: live figures again, the value back.
    page.locator('[data-test="as-of-today"]').click()
    expect(page.locator('[data-test="as-of-tag"]')).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"as_of="))
    wait_for(page, lambda: seen[-1]["as_of"] != "2024-06-30" and headline(seen[-1]) == 62.5, "today's figures again")
