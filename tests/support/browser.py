"""What the browser tests do on the app's pages and beside them: sign in (the demo accounts' one password), open
数据填报, wait for the gateway's review list and city summary, pick from an Element Plus select, and submit a report
straight to the service."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from minsheng.auth import demo

# Sign-in comes from the identity work (accounts, sessions, demo accounts with one known password);
# until it is in the tree the tests that sign in cannot run.
DEMO_PASSWORD: str | None = getattr(demo, "DEMO_PASSWORD", None)
needs_sign_in = pytest.mark.skipif(DEMO_PASSWORD is None, reason="sign-in (identity) is not in this tree yet")

CLERK = "demo-education-bureau"
OFFICE = "demo-city-office"
REPORTS = "/api/v1/campaigns/education/reports"


def sign_in(page: Page, username: str, password: str | None = None) -> None:
    page.goto("/login")
    fill_sign_in(page, username, password or DEMO_PASSWORD)


def fill_sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_placeholder("用户名").fill(username)
    page.get_by_placeholder("密码").fill(password)
    page.get_by_role("button", name="登 录").click()


def api_sign_in(context: BrowserContext, username: str) -> str:
    """Signs the context in through the API (its cookie jar is the browser's); returns the CSRF token."""
    answer = context.request.post("/api/v1/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.ok, answer.text()
    return answer.json()["csrf_token"]


def wait_until_pending(page: Page, period: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = page.request.get("/api/v1/review/pending", params={"period": period})
        assert answer.ok, answer.text()
        if answer.json()["count"] == count:
            return
        time.sleep(0.2)
    pytest.fail(f"the gateway's pending list for {period} never held {count} reports")


def entry_input(page: Page, indicator: str, field: str = "value"):
    return page.locator(f'tr[data-indicator="{indicator}"] input[data-field="{field}"]')


def open_entry(page: Page, period: str) -> None:
    page.goto(f"/entry?campaign=education&period={period}&org_unit=370300")
    expect(entry_input(page, "T002-1")).to_be_visible()


def T002_1(org_unit: str, period: str, value: float) -> dict:  # noqa: N802 - the indicator's code
    return {"indicator": "T002-1", "org_unit": org_unit, "period": period, "value": value}


def submit(service: httpx.Client, body: dict, headers) -> dict:
    answer = service.post("/api/v1/reports", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def headline_value(page: Page, indicator: str) -> float | None:
    answer = page.request.get("/api/v1/city/summary")
    assert answer.ok, answer.text()
    figures = {f["id"]: f for c in answer.json()["campaigns"] for f in c["headline"]}
    return figures[indicator]["current_value"]


def wait_for_headline(page: Page, indicator: str, value: float) -> None:
    """The gateway folds the approval's event within moments; its city summary then shows the value."""
    deadline = time.monotonic() + 20
    while (shown := headline_value(page, indicator)) != value:
        assert time.monotonic() < deadline, f"the city summary shows {indicator} = {shown}, never {value}"
        time.sleep(0.3)


def select_option(page: Page, select: str, label: str) -> None:
    page.locator(f'[data-test="{select}"]').click()
    page.locator(".el-select-dropdown__item:visible", has_text=label).first.click()
