"""督办单 in a browser: the city office opens one from a warning (the 督办 button of its row, the form prefilled),
the responsible department signs it and answers with its measures and a photo (佐证材料, kept in the gateway's
bucket), and the city office sees the photo in the history and closes it; the 督办 page
lists it, filters and exports it, and the warning's row then links to it. Screenshots: docs/screenshots/
supervision-*.png; axe on each page."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support import evidence_files as files
from tests.support.browser import CLERK, OFFICE, needs_sign_in, select_option, sign_in
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]
GATEWAY_STORES_FILES = True  # the answers' 佐证材料 (tests/browser/conftest.py: the stack's gateway gets a bucket)


def state_of(page: Page):
    return page.locator('header [data-test="order-state"]')


def test_an_order_from_a_warning_is_signed_answered_and_closed(new_context, stack):
    office = new_context().new_page()
    sign_in(office, OFFICE)
    expect(office).not_to_have_url(re.compile("/login"))

    # 预警: the first row's 督办 opens the form, prefilled with what the row is about.
    office.goto("/warnings")
    rows = office.locator('[data-test="warnings-table"] .el-table__body tr')
    expect(rows.first).to_be_visible(timeout=30_000)
    row = rows.first
    row.locator('[data-test="supervise"]').click()
    dialog = office.get_by_role("dialog", name="交办督办单")
    expect(dialog).to_be_visible()
    subject = office.locator('[data-test="supervise-subject"]').inner_text()
    assert subject and office.locator("#supervise-title").input_value() == subject
    office.locator("#supervise-instruction").fill("请市教育局牵头，十五日内拿出整改措施并按月报告。")
    select_option(office, "supervise-lead", "市教育局")
    office.keyboard.press("Escape")  # the select's list closes; the dialog stays
    expect(dialog).to_be_visible()
    screenshot(office, "supervision-open")
    assert_accessible(office, "supervision-open")
    office.locator('[data-test="supervise-save"]').click()

    expect(office).to_have_url(re.compile(r"/supervision/DB-\d{4}-0001$"), timeout=15_000)
    order_path = "/" + office.url.split("/", 3)[3]
    expect(state_of(office)).to_have_text("已交办")
    expect(office.locator('[data-test="order-instruction"]')).to_contain_text("十五日内拿出整改措施")
    expect(office.locator('[data-test="order-actions"]')).to_have_count(0)  # nothing for the office to do yet

    # The department: signs it, then answers with what it did, the figure it expects and when.
    bureau = new_context().new_page()
    sign_in(bureau, CLERK)
    expect(bureau).not_to_have_url(re.compile("/login"))
    bureau.goto(order_path)
    expect(state_of(bureau)).to_have_text("已交办")
    bureau.locator('[data-test="step-acknowledge"]').click()
    expect(state_of(bureau)).to_have_text("已签收")
    bureau.locator("#answer-measures").fill("已约谈滞后区县，增建3所幼儿园，月底前完成选址。")
    bureau.locator("#answer-expected").fill("新增学位 1080 个")
    bureau.locator('[data-test="answer-expected-by"] input').fill("2027-03-31")
    bureau.keyboard.press("Enter")
    # 佐证材料: a photo of the new site, checked and stored by the gateway before the answer names it.
    area = bureau.locator('[data-test="answer-form"] [data-test="evidence-upload"]')
    expect(area.locator('[data-test="evidence-drop"]')).to_contain_text("每份督办反馈至多")  # the gateway's rules
    area.locator('[data-test="evidence-input"]').set_input_files(
        [{"name": "新建幼儿园选址.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg(640, 480, gps=True)}]
    )
    expect(area.locator('[data-test="evidence-item"][data-status="done"]')).to_have_count(1, timeout=60_000)
    area.locator('input[data-test="evidence-caption"]').fill("选址现场")
    assert_accessible(bureau, "supervision-answer-form")
    bureau.locator('[data-test="step-answer"]').click()
    expect(state_of(bureau)).to_have_text("已反馈")
    expect(bureau.locator('[data-test="order-measures"]')).to_contain_text("增建3所幼儿园")
    screenshot(bureau, "supervision-answer")
    assert_accessible(bureau, "supervision-answer")

    # The city office checks the answer, its photo among it (from the gateway, after its permission check), and
    # closes the order: every step in the history, attributed.
    office.reload()
    expect(state_of(office)).to_have_text("已反馈")
    photo = office.locator('[data-test="step-evidence"] [data-test="evidence-file"]')
    expect(photo).to_have_count(1)
    expect(photo).to_have_attribute("aria-label", "预览 选址现场（新建幼儿园选址.jpg）")
    photo.click()
    preview = office.locator('[data-test="evidence-preview-image"]')
    expect(preview).to_have_attribute("src", re.compile(r"^/api/v1/supervision/evidence/[0-9a-f]{32}/content$"))
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("image => image.naturalWidth") == 640  # the photo itself, not an error page
    office.keyboard.press("Escape")
    office.locator('[data-test="step-close"]').click()
    expect(state_of(office)).to_have_text("已办结")
    history = office.locator('[data-test="order-history"] .el-timeline-item')
    expect(history).to_have_count(4)
    texts = history.all_inner_texts()
    assert "交办" in texts[0] and "市民生办 演示用户" in texts[0]
    assert "签收" in texts[1] and "市教育局 演示用户" in texts[1]
    assert "反馈" in texts[2] and "增建3所幼儿园" in texts[2]
    assert "办结" in texts[3]
    screenshot(office, "supervision-order")
    assert_accessible(office, "supervision-order")

    # 督办: the list, filtered by state and unit, exported as filtered.
    office.goto("/supervision")
    table = office.locator('[data-test="orders-table"] .el-table__body tr')
    expect(table).to_have_count(1)
    expect(table.first.locator('[data-test="order-state"]')).to_have_text("已办结")
    select_option(office, "filter-state", "已交办")
    expect(office.locator('[data-test="order-count"]')).to_contain_text("共 0 件")
    select_option(office, "filter-state", "已办结")
    expect(office.locator('[data-test="order-count"]')).to_contain_text("共 1 件")
    screenshot(office, "supervision-list")
    assert_accessible(office, "supervision-list")
    with office.expect_download() as download:
        office.locator('[data-test="supervision-export"]').click()
    sheet = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))["督办单"]
    rows_out = list(sheet.iter_rows(values_only=True))
    assert rows_out[0][0] == "督办单号" and len(rows_out) == 2 and rows_out[1][7] == "已办结"

    # The warning's row now shows its order instead of a second 督办.
    office.goto("/warnings")
    link = office.locator('[data-test="warning-order"]')
    expect(link.first).to_have_text("已办结", timeout=15_000)


def test_a_district_page_opens_an_order_about_the_district_and_then_shows_it(new_context, stack):
    office = new_context().new_page()
    sign_in(office, OFFICE)
    expect(office).not_to_have_url(re.compile("/login"))
    office.goto("/districts/370303")
    expect(office.locator('[data-test="district-title"]')).to_have_text("张店区", timeout=30_000)
    office.locator('[data-test="supervise"]').click()
    expect(office.get_by_role("dialog", name="交办督办单")).to_be_visible()
    # prefilled: the district is the responsible unit
    expect(office.locator('[data-test="supervise-lead"]')).to_contain_text("张店区")
    office.locator("#supervise-instruction").fill("请张店区对照排名找差距，制定赶超方案。")
    office.locator('[data-test="supervise-save"]').click()
    expect(office).to_have_url(re.compile(r"/supervision/DB-\d{4}-\d{4}$"), timeout=15_000)
    order = office.url.rsplit("/", 1)[1]

    office.goto("/districts/370303")
    about = office.locator('[data-test="orders-about"]')
    expect(about.locator('[data-test="order-link"]')).to_have_text(order, timeout=15_000)
    expect(about.locator('[data-test="order-state"]')).to_have_text("已交办")
    assert_accessible(office, "district-with-orders")

    # 区县's league table: a row's 督办 opens an order about that ranking and district; the row then links to it.
    office.goto("/districts")
    row = office.locator('[data-test="league-table"] .el-table__body tr').first
    expect(row).to_be_visible(timeout=30_000)
    row.locator('[data-test="supervise"]').click()
    expect(office.get_by_role("dialog", name="交办督办单")).to_be_visible()
    expect(office.locator('[data-test="supervise-subject"]')).to_contain_text("第")
    office.locator("#supervise-instruction").fill("请对照红黑榜排名，分析原因并提出改进措施。")
    office.locator('[data-test="supervise-save"]').click()
    expect(office).to_have_url(re.compile(r"/supervision/DB-\d{4}-\d{4}$"), timeout=15_000)
    office.goto("/districts")
    expect(office.locator('[data-test="ranking-order"]').first).to_have_text("已交办", timeout=15_000)
