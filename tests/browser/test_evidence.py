"""佐证材料 in a browser, on a fresh stack with SeaweedFS: 张店区's clerk attaches a photo and a PDF to a report in
数据填报 (progress, thumbnails, a caption), the city office sees them beside the value in 审核, previews both in the
page and approves; the history shows the revision's files. Both pages pass axe-core."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from minsheng.catalog.loader import seed_catalog
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db.engine import Database
from minsheng.reporting.republish import publish_catalog
from minsheng.topology import CAMPAIGNS
from minsheng_education.main import service as education_service
from tests.browser.axe import assert_accessible
from tests.support import evidence_files as files
from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.catalogs import requiring_evidence
from tests.support.web_stack import SCREENSHOTS, screenshot

pytestmark = pytest.mark.timeout(600)

CLERK = "demo-zhangdian"
PERIOD = "2024-05"
INDICATOR = "T002-1"


def wait_for_pending(page: Page) -> None:
    """The gateway folds the submission's event within moments (longer on a loaded machine)."""
    deadline = time.monotonic() + 90
    while not page.request.get("/api/v1/review/pending", params={"period": PERIOD}).json()["count"]:
        assert time.monotonic() < deadline, "the submission never reached the review list"
        time.sleep(0.5)


def row(page: Page, indicator: str = INDICATOR):
    return page.locator(f'tr[data-indicator="{indicator}"]')


@needs_sign_in
def test_a_district_clerk_attaches_a_photo_and_a_pdf_and_the_city_office_previews_and_approves(new_context, stack):
    clerk = new_context().new_page()
    sign_in(clerk, CLERK)
    expect(clerk).to_have_url(re.compile(r"/inbox$"))
    clerk.goto(f"/entry?campaign=education&period={PERIOD}&org_unit=370303")
    value = row(clerk).locator('input[data-field="value"]')
    expect(value).to_be_visible()
    value.fill("3")

    row(clerk).locator('[data-test="evidence-toggle"]').click()
    area = clerk.locator(f'tr[data-evidence-for="{INDICATOR}"]')
    expect(area.locator('[data-test="evidence-drop"]')).to_contain_text("拖到这里")
    expect(area.locator('[data-test="evidence-drop"]')).to_contain_text("20 MB")  # the service's own rules
    area.locator('[data-test="evidence-input"]').set_input_files(
        [
            {"name": "长者食堂外景.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg(640, 480, gps=True)},
            {"name": "竣工验收证书.pdf", "mimeType": "application/pdf", "buffer": files.pdf()},
        ]
    )
    items = area.locator('[data-test="evidence-item"]')
    expect(items).to_have_count(2)
    # Each checked in the service's upload child and stored in SeaweedFS: seconds on a loaded machine.
    expect(area.locator('[data-test="evidence-item"][data-status="done"]')).to_have_count(2, timeout=60_000)
    expect(items.first.locator("img")).to_have_attribute("src", re.compile(r"/evidence/[0-9a-f]{32}/thumbnail$"))
    items.first.locator('input[data-test="evidence-caption"]').fill("长者食堂外景")
    expect(row(clerk).locator('[data-test="evidence-toggle"]')).to_contain_text("佐证材料（2）")

    # A file that is not one: refused beside it, in Chinese, and not sent with the report.
    area.locator('[data-test="evidence-input"]').set_input_files(
        [{"name": "照片.jpg", "mimeType": "image/jpeg", "buffer": files.EXE}]
    )
    expect(area.locator('[data-test="evidence-error"]')).to_contain_text("可执行程序", timeout=60_000)
    screenshot(clerk, "evidence-entry")
    assert_accessible(clerk, "数据填报 with 佐证材料")
    area.locator('[data-test="evidence-item"][data-status="failed"] [data-test="evidence-remove"]').click()

    clerk.locator('[data-test="submit"]').click()
    expect(clerk.locator('[data-test="entry-summary"]')).to_contain_text("已提交")
    # The report is saved with its two files, shown beside the value it now has.
    expect(row(clerk).locator('[data-test="evidence-list"] [data-test="evidence-file"]')).to_have_count(2)

    office = new_context().new_page()
    sign_in(office, OFFICE)
    expect(office.locator(".el-menu")).to_contain_text("审核")
    wait_for_pending(office)
    office.goto(f"/review?period={PERIOD}")
    pending = office.locator(".el-table__row", has_text="张店区")
    expect(pending).to_have_count(1)
    shown = pending.locator('[data-test="evidence-file"]')
    expect(shown).to_have_count(2)
    expect(shown.locator("img")).to_have_count(1)  # the photo's thumbnail; the PDF says what it is
    office.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.locator("img").element_handle())
    screenshot(office, "evidence-review")
    assert_accessible(office, "审核 with 佐证材料")

    pending.locator('[data-test="evidence-file"][data-kind="jpeg"]').click()
    preview = office.locator('[data-test="evidence-preview-image"]')
    expect(preview).to_be_visible()
    office.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=preview.element_handle())
    expect(office.get_by_role("dialog")).to_contain_text("长者食堂外景")
    screenshot(office, "evidence-review-photo")
    office.keyboard.press("Escape")
    expect(preview).to_be_hidden()

    pending.locator('[data-test="evidence-file"][data-kind="pdf"]').click()
    frame = office.locator('[data-test="evidence-preview-pdf"]')
    expect(frame).to_be_visible()
    source = frame.get_attribute("src")
    answer = office.request.get(source)
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    assert answer.body() == files.pdf()
    assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
    # The browser's PDF viewer keeps its frame busy: no wait for an idle network here.
    office.wait_for_timeout(1_500)
    office.screenshot(path=str(SCREENSHOTS / "evidence-review-pdf.png"))
    office.keyboard.press("Escape")

    # The report's history: each revision with its files.
    pending.locator('[data-test="history"]').click()
    drawer = office.locator('[data-test="history-drawer"]')
    expect(drawer.locator('[data-test="history-evidence"] [data-test="evidence-file"]')).to_have_count(2)
    office.keyboard.press("Escape")
    expect(drawer.locator('[data-test="history-evidence"]')).to_be_hidden()

    pending.locator('[data-test="approve"]').click()
    expect(office.locator(".el-message--success")).to_contain_text("已审核通过 1 份")
    report = office.request.get(
        "/api/v1/campaigns/education/reports", params={"indicator": INDICATOR, "org_unit": "370303", "period": PERIOD}
    ).json()["data"][0]
    assert report["status"] == "approved"
    assert [f["caption"] for f in report["evidence"]] == ["长者食堂外景", ""]

    # The clerk sees the approved value with its files.
    clerk.goto(f"/entry?campaign=education&period={PERIOD}&org_unit=370303")
    expect(row(clerk)).to_contain_text("已通过")
    expect(row(clerk).locator('[data-test="evidence-file"]')).to_have_count(2)


@needs_sign_in
def test_the_entry_page_marks_what_requires_evidence_as_the_catalog_says(new_context, stack):
    """须附佐证 as served: the service's catalog, applied and announced as at its start-up (here with T002-2 and
    task 1 requiring evidence), reaches the gateway as an event; 数据填报 tags those rows and marks their upload
    required.  (The running service keeps its own catalog snapshot until it restarts: the refusal itself is
    tests/services/test_evidence.py's.)"""
    _apply_catalog(stack, requiring_evidence(education_service.catalog, {"T002-2"}, {1}))
    try:
        _entry_page_marks_what_requires_evidence(new_context)
    finally:  # the stack is shared with other modules: its catalog as it was
        _apply_catalog(stack, education_service.catalog)


def _apply_catalog(stack, doc) -> None:  # noqa: ANN001 - a Stack and a CampaignDoc
    database = Database(stack.education.env[f"{CAMPAIGNS['education'].env_prefix}DATABASE_URL"])
    try:
        with database.session() as session:
            seed_catalog(session=session, doc=doc, catalog=CatalogCache())
            publish_catalog(session=session, campaign="education")
            session.commit()
    finally:
        database.engine.dispose()


def _entry_page_marks_what_requires_evidence(new_context) -> None:  # noqa: ANN001 - the fixture
    clerk = new_context().new_page()
    sign_in(clerk, CLERK)
    expect(clerk).to_have_url(re.compile(r"/inbox$"))
    deadline = time.monotonic() + 90  # the event's way through the broker to the gateway
    while not clerk.request.get("/api/v1/indicators/T002-2").json()["evidence_required"]:
        assert time.monotonic() < deadline, "the catalog with 须附佐证 never reached the gateway"
        time.sleep(0.5)
    clerk.goto(f"/entry?campaign=education&period={PERIOD}&org_unit=370303")
    expect(row(clerk, "T002-2").locator('[data-test="evidence-required"]')).to_have_text("须附佐证")
    expect(row(clerk).locator('[data-test="evidence-required"]')).to_have_count(0)
    expect(clerk.locator("tr.task-row", has_text="任务 1").locator('[data-test="evidence-required"]')).to_be_visible()
    toggle = row(clerk, "T002-2").locator('[data-test="evidence-toggle"]')
    expect(toggle).to_contain_text("佐证材料（必传）")
    toggle.click()
    area = clerk.locator('tr[data-evidence-for="T002-2"]')
    expect(area.locator('[data-test="evidence-required-note"]')).to_contain_text("须至少上传一个文件")
    screenshot(clerk, "evidence-required")
    assert_accessible(clerk, "数据填报 with 须附佐证")
