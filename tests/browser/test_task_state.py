"""任务实施状态 in a browser: the city office marks a task 暂缓实施 on its page (the service refuses it without a
reason, and the dialog says so), the page shows the state and its history, and the home page counts the task
apart once the gateway has folded the change; a district clerk sees the state but cannot change it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)


@needs_sign_in
def test_the_city_office_suspends_a_task_with_its_reason_and_the_home_page_counts_it_apart(new_context, stack):
    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page.locator('[data-test="user-name"]')).to_be_visible()  # signed in
    page.goto("/drill/task/2")
    expect(page.get_by_text("实施状态")).to_be_visible()
    expect(page.locator('[data-test="task-implementation"]')).to_have_count(0)  # 执行中: no tag in the head

    page.locator('[data-test="task-state-open"]').click()
    dialog = page.locator('[data-test="task-state-dialog"]')
    dialog.locator('[data-test="task-state-choice"]').get_by_text("暂缓实施", exact=True).click()
    dialog.locator('[data-test="task-state-save"]').click()
    expect(dialog.locator('[data-test="task-state-refusal"]')).to_contain_text("须说明原因")  # the service's words

    dialog.locator("textarea").fill("因政策调整")
    dialog.locator('[data-test="task-state-save"]').click()
    expect(dialog).to_be_hidden()
    expect(page.locator('[data-test="task-implementation"]')).to_have_text("暂缓实施")
    expect(page.locator('[data-test="task-state-history"]')).to_contain_text("执行中 → 暂缓实施（因政策调整）")
    screenshot(page, "task-state")

    page.goto("/home")
    expect(page.locator('[data-test="tasks-apart"]')).to_contain_text(
        "另有1项因政策调整暂缓实施，不计入统计", timeout=30_000
    )

    clerk = new_context().new_page()
    sign_in(clerk, "demo-zhangdian")
    expect(clerk.locator('[data-test="user-name"]')).to_be_visible()
    clerk.goto("/drill/task/2")
    expect(clerk.locator('[data-test="task-implementation"]')).to_have_text("暂缓实施", timeout=30_000)
    expect(clerk.locator('[data-test="task-state-open"]')).to_have_count(0)
