"""审核 in a browser, as the city office uses it: reports from several districts wait across campaigns; one
jumps against its approved previous value and is flagged beside the expected value; the list is exported to
.xlsx; three are approved in one click, one is returned with a reason, a report's history is read, an approved
headline value reaches the city summary, and a locked period refuses a submission."""

from __future__ import annotations

import re

import httpx
import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.support.browser import (
    OFFICE,
    T002_1,
    headline_value,
    needs_sign_in,
    select_option,
    sign_in,
    submit,
    wait_for_headline,
    wait_until_pending,
)
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY, BUREAU, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-education-bureau"), bearer("demo-zhangdian")
PERIOD = "2024-04"
EXPORT_HEADER = (
    "攻坚行动", "指标编号", "指标", "计量单位", "单位", "期间", "新值", "上期已审核值", "上期期间", "应达值", "变化",
    "异常波动", "数据质量规则", "填报人", "报送时间",
)  # fmt: skip


@needs_sign_in
def test_the_city_office_reviews_flags_a_jump_approves_three_returns_one_and_locks_the_period(new_context, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        previous = submit(education, T002_1("370303", "2024-03", 10), ZHANGDIAN)
        assert education.post(f"/api/v1/reports/{previous['id']}/approve", headers=CITY).status_code == 200
        submit(education, T002_1("370303", PERIOD, 14), ZHANGDIAN)
        submit(education, T002_1("370303", PERIOD, 16), ZHANGDIAN)  # revised: +60 % on March's approved 10
        for org_unit, value in (("370302", 3), ("370304", 4), ("370305", 2)):
            submit(education, T002_1(org_unit, PERIOD, value), BUREAU)
        # A headline figure (行动总目标), which the city summary shows once approved.
        submit(education, {"indicator": "H-EDU-1", "org_unit": "370300", "period": "2024", "value": 62.5}, CITY)

        page = new_context().new_page()
        sign_in(page, OFFICE)
        expect(page.locator(".el-menu")).to_contain_text("审核")
        wait_until_pending(page, PERIOD, 4)
        answer = page.request.get("/api/v1/review/pending", params={"period": PERIOD}).json()
        listed = {row["org_unit"]: row for row in answer["data"]}
        expected = listed["370303"]["expected_value"]
        assert expected is not None

        page.goto(f"/review?period={PERIOD}")
        table = page.locator(".el-table__body")
        expect(table.locator("tr")).to_have_count(4)
        expect(page.locator('[data-test="summary"]')).to_contain_text("其中 1 份")
        zhangdian = table.locator("tr", has_text="张店区")
        expect(zhangdian.locator('[data-test="jump"]')).to_have_text("异常波动")
        expect(zhangdian.locator('[data-test="new-value"]')).to_have_text("16处")
        expect(zhangdian.locator('[data-test="previous-value"]')).to_have_text("10处")
        expect(zhangdian).to_contain_text("第2版，原为 14处")
        expect(zhangdian.locator('[data-test="expected-value"]')).to_have_text(
            f"{expected:.2f}".rstrip("0").rstrip(".") + "处"  # computed: two places at most
        )
        expect(table.locator('[data-test="jump"]')).to_have_count(1)
        screenshot(page, "review")
        assert_accessible(page, "review")

        # 导出 Excel: the rows shown, as a workbook with Chinese headers and a dated Chinese name.
        with page.expect_download() as caught:
            page.locator('[data-test="export-xlsx"]').click()
        download = caught.value
        assert re.fullmatch(r"待审核报告_\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
        with download.path().open("rb") as workbook:  # the saved download has no .xlsx suffix
            exported = list(openpyxl.load_workbook(workbook).active.iter_rows(values_only=True))
        assert exported[0] == EXPORT_HEADER
        by_unit = {row[4]: row for row in exported[1:]}
        assert {unit: row[6] for unit, row in by_unit.items()} == {"淄川区": 3, "张店区": 16, "博山区": 4, "临淄区": 2}
        assert by_unit["张店区"][1:4] == ("T002-1", "新改扩建公办幼儿园数量", "处")
        assert by_unit["张店区"][5] == "2024年4月"
        assert by_unit["张店区"][7:9] == (10, "2024年3月")
        assert by_unit["张店区"][9] == pytest.approx(expected)
        assert (by_unit["张店区"][11], by_unit["淄川区"][11]) == ("是", "否")

        zhangdian.locator('[data-test="history"]').click()
        drawer = page.locator(".el-drawer")
        expect(drawer.locator('[data-test="history-change"]')).to_have_count(2)
        expect(drawer).to_contain_text("修订")
        expect(drawer).to_contain_text("14处 → 16处")
        expect(drawer).to_contain_text("张店")
        expect(drawer.locator(".el-loading-mask")).to_have_count(0)
        page.wait_for_timeout(500)  # the drawer's slide-in, for the picture
        screenshot(page, "review-history")
        assert_accessible(page, "review-history")
        drawer.locator(".el-drawer__close-btn").click()
        expect(drawer).to_be_hidden()

        for name in ("张店区", "淄川区", "临淄区"):
            table.locator("tr", has_text=name).locator(".el-checkbox").click()
        page.locator('[data-test="approve-selected"]').click()
        expect(page.get_by_text("已审核通过 3 份")).to_be_visible()
        expect(table.locator("tr")).to_have_count(1)

        table.locator("tr", has_text="博山区").locator('[data-test="return"]').click()
        dialog = page.locator(".el-message-box")
        dialog.locator("textarea").fill("与上月台账不符，请核实后重报")
        dialog.get_by_role("button", name="退回").click()
        expect(page.get_by_text("没有待审核的报告")).to_be_visible()

        statuses = {
            r["org_unit"]: (r["status"], r["return_reason"])
            for r in education.get("/api/v1/reports", params={"period": PERIOD}, headers=CITY).json()["data"]
        }
        assert statuses == {
            "370302": ("approved", None),
            "370303": ("approved", None),
            "370304": ("returned", "与上月台账不符，请核实后重报"),
            "370305": ("approved", None),
        }

        # The year's headline figure, approved in the page, reaches GET /api/v1/city/summary.
        assert headline_value(page, "H-EDU-1") is None
        wait_until_pending(page, "2024", 1)
        page.goto("/review?period=2024")
        headline = table.locator("tr", has_text="H-EDU-1")
        expect(headline.locator('[data-test="new-value"]')).to_have_text("62.5%")
        headline.locator('[data-test="approve"]').click()
        expect(page.get_by_text("已审核通过 1 份")).to_be_visible()
        wait_for_headline(page, "H-EDU-1", 62.5)

        page.locator('[data-test="open-locks"]').click()
        locks = page.locator('[data-test="lock-dialog"]')
        expect(locks.locator('[data-test="lock-campaign"]')).to_contain_text("教育")
        select_option(page, "lock-period", "2024年4月")
        locks.locator('[data-test="lock"]').click()
        # The confirmation (the dialog's table header 已锁定期间 says the same words once a lock is listed).
        expect(page.locator(".el-message").get_by_text("已锁定")).to_be_visible()
        expect(locks.locator('[data-test="locks"]')).to_contain_text("2024年4月")

        refused = education.post("/api/v1/reports", json=T002_1("370304", PERIOD, 5), headers=BUREAU)
        assert refused.status_code == 409 and refused.json()["code"] == "period_locked"
        assert "锁定" in refused.json()["detail"]
