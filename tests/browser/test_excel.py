"""Excel 导入 in a browser: a bureau clerk downloads the template, fills it (here with openpyxl, as Excel
would), uploads it and sees how many rows were saved; a bad workbook shows the table of errors, nothing is
saved, and the workbook with its bad cell marked downloads, as does the error list itself."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import api_sign_in, needs_sign_in, sign_in
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

CLERK = "demo-education-bureau"
REPORTS = "/api/v1/campaigns/education/reports"


def input_cell(sheet, indicator: str, header: str):
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == indicator)
    return row[headers.index(header)]


def download_template(page: Page, tmp_path) -> tuple[str, openpyxl.Workbook]:
    with page.expect_download() as info:
        page.locator('[data-test="download-template"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and "填报模板_淄博市_" in download.suggested_filename
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, openpyxl.load_workbook(path)


def upload(page: Page, path) -> None:
    page.locator('[data-test="upload"] input[type="file"]').set_input_files(str(path))


def test_a_bureau_clerk_downloads_the_template_fills_it_uploads_it_and_a_bad_one_comes_back_marked(
    page, stack, tmp_path
):
    sign_in(page, CLERK)
    page.get_by_role("menuitem", name="Excel 导入").click()
    expect(page.locator('[data-test="download-template"]')).to_be_enabled()
    _, book = download_template(page, tmp_path)
    sheet = book["填报"]
    period = input_cell(sheet, "T002-1", "期间").value
    assert input_cell(sheet, "T002-1", "指标编号").protection.locked
    assert not input_cell(sheet, "T002-1", "数值").protection.locked

    input_cell(sheet, "T002-1", "数值").value = 5
    input_cell(sheet, "T002-1", "说明").value = "新开工5处"
    filled = tmp_path / "教育局填好的模板.xlsx"
    book.save(filled)
    upload(page, filled)
    expect(page.locator('[data-test="excel-outcome"]')).to_contain_text("已保存 1 项")
    screenshot(page, "excel")
    assert_accessible(page, "excel")

    # a percentage above 100: the table names its row and column, nothing is saved
    bad_cell = input_cell(sheet, "T002-3", "数值")
    bad_cell.value = 120
    input_cell(sheet, "T002-1", "数值").value = 6
    bad = tmp_path / "教育局有误的模板.xlsx"
    book.save(bad)
    upload(page, bad)
    errors = page.locator('[data-test="excel-errors"]')
    expect(page.locator('[data-test="excel-outcome"]')).to_contain_text("共 1 行有误，全部未保存")
    expect(errors).to_contain_text(f"{bad_cell.column_letter}列（数值）")
    expect(errors).to_contain_text("百分比应在0到100之间")
    expect(errors.locator("td").first).to_have_text(str(bad_cell.row))
    expect(page.locator(".el-message")).to_have_count(0)
    screenshot(page, "excel-errors")
    assert_accessible(page, "excel-errors")

    context = page.context
    api_sign_in(context, CLERK)
    stored = context.request.get(REPORTS, params={"period": period, "org_unit": "370300"}).json()["data"]
    assert [(r["indicator"], r["value"]) for r in stored] == [("T002-1", 5.0)]  # the first upload only

    with page.expect_download() as info:
        page.locator('[data-test="download-marked"]').click()
    marked_path = tmp_path / info.value.suggested_filename
    info.value.save_as(marked_path)
    assert info.value.suggested_filename == "教育局有误的模板_错误标注.xlsx"
    marked = openpyxl.load_workbook(marked_path)["填报"][bad_cell.coordinate]
    assert marked.fill.fgColor.rgb == "FFFF0000" and "0到100之间" in marked.comment.text

    with page.expect_download() as info:
        page.locator('[data-test="export-xlsx"]').click()
    exported_path = tmp_path / info.value.suggested_filename
    info.value.save_as(exported_path)
    exported = openpyxl.load_workbook(exported_path).active
    assert [c.value for c in exported[1]] == ["行", "列", "错误"]
    assert exported["A2"].value == bad_cell.row and "0到100之间" in exported["C2"].value
