"""月调度通报 and 演示数据 in a browser: the stack holds the demo dataset of the education campaign (loaded
through the service's own write paths, folded by the gateway from the broker); every page says 演示数据;
the city office opens 审核 → 下载月调度通报 and gets the Word file, read back here with python-docx."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator

import httpx
import pytest
from docx import Document
from playwright.sync_api import expect

from minsheng.demo.loader import load_demo_data
from tests.browser.axe import assert_accessible
from tests.browser.conftest import Stack, running_stack, screenshot
from tests.browser.test_workbench import OFFICE, sign_in
from tests.support.identity import bearer

pytestmark = pytest.mark.timeout(600)

CITY = bearer("demo-city-office")
MONTH = "2024-12"  # the dialog's default: the last month of the plan, long over


@pytest.fixture(scope="module")
def stack(module_database, module_broker, tmp_path_factory) -> Iterator[Stack]:
    """The browser tests' stack with the gateway told it holds demo data, and the education campaign's
    demo dataset loaded and folded."""
    log_dir = tmp_path_factory.mktemp("web-stack")
    with running_stack(module_database, module_broker, log_dir, demo_data="true") as running:
        with httpx.Client(base_url=running.education.url, timeout=120) as client:
            loaded = load_demo_data({"education": client}, CITY, today=dt.date(2025, 1, 1), log=lambda _: None)
        assert loaded["education"] > 500
        wait_folded(running.gateway.url)
        yield running


def wait_folded(url: str) -> None:
    """The demo's last rows are the education campaign's last indicator's; once the gateway shows its
    2024 figure, everything before it is folded too (one topic, in order)."""
    deadline = time.monotonic() + 120
    while True:
        answer = httpx.get(f"{url}/api/v1/indicators/T023-1/progress", params={"as_of": "2024-12-31"}).json()
        if any(point["period"] == "2024" for point in answer.get("series", [])):
            return
        assert time.monotonic() < deadline, "the gateway never folded the demo data"
        time.sleep(0.5)


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


def test_a_viewer_is_refused_the_bulletin_in_chinese(page, stack):
    sign_in(page, "demo-viewer")
    expect(page.locator('[data-test="demo-data"]')).to_be_visible()
    answer = page.request.get(f"/api/v1/bulletins/monthly?month={MONTH}")
    assert answer.status == 403 and "市民生办" in answer.json()["detail"]
