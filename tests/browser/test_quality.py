"""数据质量 in a browser (issue 30): the city office sets a rule (a district's 完成改造的薄弱学校 not above its
新改扩建中小学); 张店区 enters a figure above the other, sees the rule and its instruction beside the field, is
blocked until it explains in 说明; the reviewer sees the flag beside the value in 审核; the 数据质量 page lists it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, entry_input, needs_sign_in, sign_in, wait_until_pending
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

CITY = bearer("demo-city-office")
PERIOD = "2024-02"
RULE = {
    "name": "薄弱学校改造数不超过新改扩建数",
    "left": "T003-2",
    "operator": "<=",
    "right": "T003-1",
    "importance": "high",
    "instruction": "完成改造的薄弱学校数不应超过新改扩建中小学数，请核对两项数据",
}


def test_a_district_is_blocked_until_it_explains_and_the_reviewer_sees_the_flag(new_context, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        created = education.post("/api/v1/quality/rules", json=RULE, headers=CITY)
        assert created.status_code == 201, created.text

    clerk = new_context().new_page()
    sign_in(clerk, "demo-zhangdian")
    expect(clerk.locator(".el-menu")).to_contain_text("数据填报")
    clerk.goto(f"/entry?campaign=education&period={PERIOD}&org_unit=370303")
    expect(entry_input(clerk, "T003-1")).to_be_visible()
    entry_input(clerk, "T003-1").fill("2")
    entry_input(clerk, "T003-2").fill("5")
    clerk.locator('[data-test="submit"]').click()
    blocked = clerk.locator('tr[data-indicator="T003-2"] [data-test="field-error"]')
    expect(blocked).to_contain_text("薄弱学校改造数不超过新改扩建数")
    expect(blocked).to_contain_text(RULE["instruction"])
    expect(blocked).to_contain_text("请在「说明」中写明原因")
    expect(clerk.locator('[data-test="entry-summary"]')).to_contain_text("全部未保存")
    clerk.locator('tr[data-indicator="T003-1"]').scroll_into_view_if_needed()
    screenshot(clerk, "quality-entry")
    assert_accessible(clerk, "quality-entry")

    entry_input(clerk, "T003-2", "note").fill("含 3 所异地重建后又完成改造的学校，已与区教育局核实")
    clerk.locator('[data-test="submit"]').click()
    expect(clerk.get_by_text("已提交 2 项指标").first).to_be_visible()

    office = new_context().new_page()
    sign_in(office, OFFICE)
    expect(office.locator(".el-menu")).to_contain_text("数据质量")
    wait_until_pending(office, PERIOD, 2)
    office.goto(f"/review?period={PERIOD}")
    row = office.locator(".el-table__body tr", has_text="完成改造提升的老城区薄弱学校数量")
    flag = row.locator('[data-test="quality-flag"]')
    expect(flag).to_contain_text("规则未通过·高")
    expect(flag).to_contain_text("T003-2 <= T003-1：5 对 2")
    expect(flag).to_contain_text("填报人说明：含 3 所异地重建后又完成改造的学校")
    screenshot(office, "quality-review")

    office.goto("/quality")
    listed = office.locator(".el-table__body tr", has_text="薄弱学校改造数不超过新改扩建数")
    expect(listed).to_contain_text("张店区")
    expect(listed.locator('[data-test="flag-state"]')).to_have_text("未解决")
    expect(office.locator('[data-test="summary"]')).to_contain_text("共 1 条规则未通过记录，其中 1 条尚未解决")
    expect(office.locator('[data-test="outlier-title"]')).to_contain_text("异常值")
    screenshot(office, "quality")
    assert_accessible(office, "quality")
