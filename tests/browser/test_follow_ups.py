"""待核实 in a browser (issue 30 point 3): the city office has marked 张店区's approved figure; 张店区 finds it in
我的待办 with the office's question and answers it in the dialog; the office sees the answer on the 数据质量 page and
closes the mark (已核实), after which it is gone from the district's 我的待办."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.identity import bearer

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

CITY, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-zhangdian")
QUESTION = "比上月多出一倍，请核实是否含外区学校"


def wait_for(page: Page, path: str, found) -> None:
    """Until the gateway has folded the service's events (its answer to `path` satisfies `found`)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = page.request.get(path)
        if answer.ok and found(answer.json()):
            return
        time.sleep(0.2)
    pytest.fail(f"the gateway's {path} never showed the follow-up mark")


def test_a_district_answers_a_mark_and_the_office_closes_it(new_context, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        body = {"indicator": "T003-1", "org_unit": "370303", "period": "2022-06", "value": 8}
        report = education.post("/api/v1/reports", json=body, headers=ZHANGDIAN).json()
        assert education.post(f"/api/v1/reports/{report['id']}/approve", headers=CITY).status_code == 200
        mark = education.post(
            "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": QUESTION}, headers=CITY
        )
        assert mark.status_code == 201, mark.text

    clerk = new_context().new_page()
    sign_in(clerk, "demo-zhangdian")
    wait_for(clerk, "/api/v1/inbox?state=follow_up", lambda page: page["count"] == 1)
    clerk.goto("/inbox?state=follow_up")
    expect(clerk.locator('[data-test="inbox-follow-up"]').first).to_contain_text(QUESTION)
    clerk.locator('[data-test="inbox-answer"]').first.click()
    dialog = clerk.locator('[data-test="follow-up-dialog"]')
    expect(dialog).to_contain_text(f"市民生办的疑问：{QUESTION}")
    dialog.locator("textarea").fill("含新建的两所学校，数值无误")
    assert_accessible(clerk, "follow-up-answer")
    dialog.locator('[data-test="follow-up-send"]').click()
    expect(clerk.get_by_text("已答复，等待市民生办核实").first).to_be_visible()

    office = new_context().new_page()
    sign_in(office, OFFICE)
    wait_for(office, "/api/v1/quality/follow-ups", lambda marks: bool(marks) and marks[0]["answer"] is not None)
    office.goto("/quality")
    listed = office.locator('[data-test="follow-ups"] .el-table__body tr', has_text=QUESTION)
    expect(listed.locator('[data-test="follow-up-answer"]')).to_contain_text("含新建的两所学校，数值无误")
    listed.locator('[data-test="close-follow-up"]').click()
    closing = office.locator('[data-test="follow-up-dialog"]')
    closing.locator("textarea").fill("已与区教育局核对，数值无误")
    closing.locator('[data-test="follow-up-send"]').click()
    expect(office.get_by_text("已核实，标记已关闭").first).to_be_visible()
    assert_accessible(office, "follow-up-quality")

    wait_for(clerk, "/api/v1/inbox?state=follow_up", lambda page: page["count"] == 0)
