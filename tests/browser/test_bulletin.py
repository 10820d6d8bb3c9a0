"""月调度通报 and 演示数据 in a browser: the stack holds the demo dataset of the education campaign (loaded
through the service's own write paths, folded by the gateway from the broker); every page says 演示数据;
the city office opens 审核 → 下载月调度通报 and gets the Word file, read back here with python-docx; and from the
same page the 数据目录 (.xlsx) and the ADX export (checked against the gateway's ADX schema)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from lxml import etree
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, sign_in
from tests.support.identity import bearer
from tests.support.web_stack import screenshot

pytestmark = pytest.mark.timeout(600)

CITY = bearer("demo-city-office")
MONTH = "2024-12"  # the dialog's default: the last month of the plan, long over


def test_every_page_says_demo_data_and_the_city_office_downloads_the_bulletin(page, stack):
    sign_in(page, OFFICE)
    expect(page.locator('[data-test="demo-data"]')).to_have_text("演示数据")
    page.goto("/review")
    expect(page.locator('[data-test="demo-data"]')).to_be_visible()
    page.locator('[data-test="open-bulletin"]').click()
    dialog = page.locator('[data-test="bulletin-dialog"]')
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("combobox", name="月份")).to_have_value("2024年12月")
    page.wait_for_timeout(400)  # the dialog's fade-in, for the picture
    screenshot(page, "bulletin")
    assert_accessible(page, "bulletin")

    with page.expect_download() as caught:
        dialog.locator('[data-test="bulletin-download"]').click()
    download = caught.value
    assert download.suggested_filename == "月调度通报2024年12月.docx"
    document = Document(io.BytesIO(download.path().read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "月调度通报" in text and "（二〇二四年十二月）" in text

    tables = {t.rows[0].cells[0].text: [[c.text for c in row.cells] for row in t.rows] for t in document.tables}
    ranking = tables["排名"]
    matrix = page.request.get("/api/v1/districts?as_of=2025-01-01").json()
    monthly = next(r for r in matrix["rankings"] if r["routine"] == "monthly_dispatch")
    assert [row[1] for row in ranking[1:]] == [d["name"] for d in monthly["districts"]]
    assert [row[0] for row in ranking[1:]] == [str(d["rank"]) if d["rank"] else "—" for d in monthly["districts"]]

    warnings = tables["序号"]
    assert len(warnings) > 1 and all(row[3] in ("存在风险", "进度滞后") for row in warnings[1:])
    assert any("市教育局" in row[4] for row in warnings[1:])
    assert len(document.inline_shapes) >= 2  # the charts


def test_the_city_office_downloads_the_data_catalog_and_the_adx_export(page, stack):
    sign_in(page, OFFICE)
    expect(page.locator('[data-test="demo-data"]')).to_be_visible()  # signed in
    page.goto("/review")
    with page.expect_download() as caught:
        page.locator('[data-test="download-data-catalog"]').click()
    assert caught.value.suggested_filename == "数据目录登记表.xlsx"
    workbook = load_workbook(io.BytesIO(caught.value.path().read_bytes()))
    items = {row[0]: row for row in workbook["数据项"].iter_rows(min_row=2, values_only=True)}
    assert items["T002-1"][2] == "处" and items["T002-1"][3] == "月度"
    assert any(row[0] == "/api/v1/exchange/adx" for row in workbook["接口"].iter_rows(values_only=True))

    with page.expect_download() as caught:
        page.locator('[data-test="download-adx"]').click()
    assert caught.value.suggested_filename == "ADX数据报文.xml"
    document = etree.fromstring(caught.value.path().read_bytes())
    schema = etree.XMLSchema(etree.fromstring(page.request.get("/api/v1/exchange/adx/schema.xsd").body()))
    schema.assertValid(document)
    assert len(document.findall("{urn:ihe:qrph:adx:2015}group")) > 10  # the demo year's approved values


def test_a_viewer_is_refused_the_bulletin_in_chinese(page, stack):
    sign_in(page, "demo-viewer")
    expect(page.locator('[data-test="demo-data"]')).to_be_visible()
    answer = page.request.get(f"/api/v1/bulletins/monthly?month={MONTH}")
    assert answer.status == 403 and "市民生办" in answer.json()["detail"]
