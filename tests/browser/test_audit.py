"""审计导出 in a browser: on the 审核 page the city office opens 审计导出, picks a campaign, a period and a
format, and downloads the change history through the gateway, a revision and a return with their previous
values in it."""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, T002_1, needs_sign_in, select_option, sign_in, submit
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY, ZHANGDIAN = bearer("demo-city-office"), bearer("demo-zhangdian")
PERIOD = "2023-05"


def export(page: Page, period_label: str, format_label: str):
    select_option(page, "audit-period", period_label)
    page.locator('[data-test="audit-format"]').get_by_text(format_label).click()
    with page.expect_download() as info:
        page.locator('[data-test="audit-download"]').click()
    return info.value


@needs_sign_in
def test_the_city_office_exports_a_period_s_change_history_as_xlsx_and_csv(new_context, stack, tmp_path):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        submit(education, T002_1("370303", PERIOD, 7), ZHANGDIAN)
        revised = submit(education, T002_1("370303", PERIOD, 9), ZHANGDIAN)
        returned = education.post(
            f"/api/v1/reports/{revised['id']}/return", json={"reason": "与台账不符，请核对"}, headers=CITY
        )
        assert returned.status_code == 200, returned.text

    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page.locator(".el-menu")).to_contain_text("审核")
    page.goto("/review")
    page.locator('[data-test="open-audit"]').click()
    dialog = page.locator('[data-test="audit-dialog"]')
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-test="audit-download"]')).to_be_disabled()
    select_option(page, "audit-campaign", "教育")

    download = export(page, "2023年第2季度", "Excel")
    assert download.suggested_filename.endswith("修改记录_2023Q2.xlsx"), download.suggested_filename
    path = tmp_path / "audit.xlsx"
    download.save_as(path)
    rows = list(openpyxl.load_workbook(path)["修改记录"].iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "操作人", "操作")
    changes = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [c["操作"] for c in changes] == ["填报", "修订", "退回"]
    assert changes[1]["原值"].startswith("7，待审核") and changes[1]["新值"].startswith("9，待审核")
    assert changes[2]["原值"].startswith("9，待审核") and changes[2]["说明"] == "与台账不符，请核对"
    assert "张店区" in changes[0]["操作人"] and "市民生办" in changes[2]["操作人"]
    screenshot(page, "review-audit-export")
    assert_accessible(page, "review-audit-export")

    download = export(page, "2023年5月", "CSV")
    assert download.suggested_filename.endswith("修改记录_2023-05.csv"), download.suggested_filename
    path = tmp_path / "audit.csv"
    download.save_as(path)
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row[2] for row in table[1:]] == ["填报", "修订", "退回"]
