"""方案管理 in a browser, as the city office uses it: the plans with their 实施期, phase and 序时进度; the
任务分解表's template downloads; the demonstration workbook dry-runs clean with each campaign's counts, a broken
copy lists its errors by row and column (sortable, filterable); closing the ended plan while a report awaits review
shows, campaign by campaign, why it did not close. A district clerk has no 方案管理 in the menu and sees the list
read-only. Publishing the demonstration workbook creates its plan in the five campaign services; the plan list, the
header's plan switcher and the home page show it without a reload; publishing it again changes nothing, and a
campaign whose service is down is named with its reason.

The stack's processes run on the machine's clock (a subprocess has no test clock): the 2022–2024 plan ended before
today, so it is 已结束 (ended, not closed) until the city office closes it; the demonstration plan (2025–2027) is in
force today, so once published it is every page's default plan.

Publishing runs on a stack of its own (`five_services`): all five campaign services, which it fans out to, as the
real processes, on a broker and databases of their own. The module's stack keeps the other four campaigns out of
reach (closing shows why a campaign did not close), and the plan published becomes the default of every page, which
the other tests here do not expect; no shared stack (SHARED_STACKS) may see it either."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openpyxl
import pytest
from aiokafka import AIOKafkaProducer
from playwright.sync_api import Browser, Locator, Page, expect

from minsheng.broker import LocalBroker
from minsheng.catalog.breakdown import BREAKDOWN_SHEET, PLAN_SHEET, campaign_counts, parse_breakdown
from minsheng.catalog.document import CAMPAIGN_CODES, plans_from_documents
from minsheng.catalog.loader import read_catalog_file
from minsheng.demo.breakdown import DEMO_WORKBOOK, demo_data
from minsheng.demo.publication import publish_demo_plan
from minsheng.messaging import IntegrationEvent, event_source, topic_for
from minsheng.messaging.events import STRUCTURED_CONTENT_TYPE
from minsheng.reporting.events import CATALOG_PUBLISHED, CatalogPublished
from tests.browser.axe import assert_accessible
from tests.conftest import free_port
from tests.support.breakdown import CONTEXT, KNOWN
from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.identity import bearer
from tests.support.processes import ROOT
from tests.support.web_stack import STARTUP_SECONDS, Stack, browser_context, running_stack, screenshot

pytestmark = [pytest.mark.timeout(900), needs_sign_in]

PLAN = next(p for p in plans_from_documents() if p.code == "zibo-gaopinzhi-minsheng")
DISTRICT_CLERK = "demo-zhangdian"
OTHERS = [c for c in CAMPAIGN_CODES if c != "education"]
# A dry run reads the workbook in a guarded child process: seconds on a busy machine, more than expect's default.
DRY_RUN_SECONDS = 60
# Publishing dry-runs again, then each of the five services creates the plan's schema, migrates it and applies its
# catalog: seconds each, on two cores other suites share.
PUBLISH_SECONDS = 120
# The gateway lists the new plan once it has folded a service's catalog event: within seconds of the answer.
LISTED_SECONDS = 20
DEMO = demo_data()["plan"]
DEMO_SPAN = f"{DEMO['start_year']}—{DEMO['end_year']}年"


def publish_catalogs(bootstrap_servers: str, campaigns: list[str]) -> None:
    """Each campaign's catalog.published event, as its service's relay sends it at start-up."""
    events = [
        (
            campaign,
            IntegrationEvent(
                source=event_source(campaign),
                type=CATALOG_PUBLISHED,
                subject=campaign,
                data=CatalogPublished(
                    campaign=campaign,
                    catalog=read_catalog_file(
                        ROOT / "services" / campaign / f"minsheng_{campaign}" / "catalog.yaml"
                    ).model_dump(mode="json"),
                ),
            ),
        )
        for campaign in campaigns
    ]

    async def send() -> None:
        async with asyncio.timeout(60):
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
            await producer.start()
            try:
                for campaign, event in events:
                    await producer.send_and_wait(
                        topic_for(campaign),
                        event.to_json_bytes(),
                        key=campaign.encode(),
                        headers=[("content-type", STRUCTURED_CONTENT_TYPE.encode())],
                    )
            finally:
                await producer.stop()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, send()).result()


@pytest.fixture(scope="module")
def stack(module_database, module_broker, tmp_path_factory) -> Iterator[Stack]:
    """The browser stack (the education service and the gateway) whose gateway also learns the other four
    campaigns' catalogs from their events: a 任务分解表 names the departments and fields of all five. Their
    services do not run, so closing a plan finds them out of reach."""
    with running_stack(module_database, module_broker, tmp_path_factory.mktemp("web-stack")) as running:
        publish_catalogs(module_broker.bootstrap_servers, OTHERS)
        for campaign in OTHERS:
            running.gateway.wait_catalog(campaign, 60)
        yield running


def plan_row(page: Page) -> Locator:
    return page.locator('[data-test="plan-list"] .el-table__body tr').filter(has_text=PLAN.name)


def upload(page: Page, path) -> None:
    page.locator('[data-test="breakdown-upload"] input[type="file"]').set_input_files(str(path))


def issue_rows(page: Page) -> Locator:
    return page.locator('[data-test="breakdown-issues"] .el-table__body tr')


def header_letters(sheet) -> dict[str, str]:
    return {cell.value: cell.column_letter for cell in sheet[1] if cell.value}


def download_template(page: Page, tmp_path) -> None:
    """下载模板: the 任务分解表 with its 方案 and 说明 sheets."""
    with page.expect_download() as info:
        page.locator('[data-test="breakdown-template"]').click()
    assert info.value.suggested_filename == "任务分解表模板.xlsx"
    template = tmp_path / "template.xlsx"
    info.value.save_as(template)
    assert openpyxl.load_workbook(template).sheetnames[:3] == [BREAKDOWN_SHEET, PLAN_SHEET, "说明"]


def dry_run_passes(page: Page) -> None:
    upload(page, DEMO_WORKBOOK)
    expect(page.locator('[data-test="dry-run-outcome"]')).to_contain_text("试运行通过", timeout=DRY_RUN_SECONDS * 1000)


def test_the_city_office_sees_the_plans_and_dry_runs_the_task_breakdown(page, stack, tmp_path):
    assert dt.date.today() > PLAN.end  # the machine's clock, which the stack runs on (see the module's docstring)
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home"))
    page.get_by_role("menuitem", name="方案管理").click()
    expect(page).to_have_url(re.compile(r"/plans$"))

    row = plan_row(page)
    expect(row).to_have_count(1)
    expect(row.locator('[data-test="plan-span"]')).to_have_text(PLAN.span_label)
    expect(row.locator("td").nth(1)).to_have_text(PLAN.document_number or "—")  # the plan names no 文号
    expect(row.locator("[data-status]").first).to_have_text("已结束")
    expect(row.locator('[data-test="plan-current"]')).to_have_text("当前")  # the only plan: the pages' default
    expect(row.locator('[data-test="plan-elapsed"]')).to_contain_text("100.0%")
    expect(row.locator('[data-test="close-plan"]')).to_be_visible()
    note = page.locator('[data-test="dry-run-note"]')
    expect(note).to_contain_text("试运行只检查、不创建任何数据")
    expect(note).to_contain_text("试运行通过后可发布方案")
    expect(page.get_by_role("button", name="发布方案")).to_have_count(0)  # nothing dry-run yet
    screenshot(page, "plans")
    assert_accessible(page, "plans")

    download_template(page, tmp_path)

    # The demonstration workbook: no error, and per campaign what publishing would create.
    dry_run_passes(page)
    outcome = page.locator('[data-test="dry-run-outcome"]')
    expect(outcome).to_contain_text("本次没有创建任何数据")
    expect(page.locator('[data-test="dry-run-plan"]')).to_contain_text(demo_data()["plan"]["name"])
    expected = campaign_counts(parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT))
    assert expected
    counts = page.locator('[data-test="dry-run-counts"] .el-table__body tr')
    for count in expected:
        cells = counts.filter(has=page.locator(f'[data-campaign="{count.code}"]')).locator("td")
        shown = [cells.nth(i).inner_text().strip() for i in range(1, 5)]
        assert shown == [str(n) for n in (count.work_items, count.tasks, count.indicators, count.district_targets)]
    expect(page.locator('[data-test="dry-run-clean"]')).to_have_text("没有错误，也没有提醒。")
    expect(page.locator('[data-test="breakdown-issues"]')).to_have_count(0)
    expect(page.get_by_role("button", name="发布方案")).to_be_visible()  # pressed on a stack of five, below
    screenshot(page, "plans-dry-run")

    # A broken copy: a task number used twice, a lead department the catalog does not know.
    book = openpyxl.load_workbook(DEMO_WORKBOOK)
    sheet = book[BREAKDOWN_SHEET]
    letters = header_letters(sheet)
    number_col, lead_col = letters["序号"], letters["主办单位"]
    tasks = [r for r in range(2, sheet.max_row + 1) if sheet[f"{number_col}{r}"].value is not None]
    first, second, third = tasks[:3]
    sheet[f"{number_col}{second}"] = sheet[f"{number_col}{first}"].value
    sheet[f"{lead_col}{third}"] = "市不存在局"
    broken = tmp_path / "任务分解表_有误.xlsx"
    book.save(broken)
    upload(page, broken)
    expect(page.locator('[data-test="dry-run-outcome"]')).to_contain_text("处错误", timeout=DRY_RUN_SECONDS * 1000)
    expect(page.get_by_role("button", name="发布方案")).to_have_count(0)  # a workbook with errors is not offered
    for line, letter, header, wording in (
        (second, number_col, "序号", "重复"),
        (third, lead_col, "主办单位", "市不存在局"),
    ):
        found = issue_rows(page).filter(has_text=wording)
        expect(found.first.locator('[data-test="issue-row"]')).to_have_text(str(line))
        expect(found.first.locator('[data-test="issue-column"]')).to_have_text(f"{letter}列（{header}）")
        expect(found.first).to_contain_text(BREAKDOWN_SHEET)
    screenshot(page, "plans-dry-run-errors")
    assert_accessible(page, "plans-dry-run-errors")

    # Keyboard alone: the search box narrows the list; the 行 column's sort button orders it.
    search = page.get_by_label("在说明、列标题中查找")
    search.focus()
    page.keyboard.type("市不存在局")
    expect(issue_rows(page)).to_have_count(1)
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    expect(issue_rows(page)).not_to_have_count(1)
    sort = page.get_by_role("button", name="按 行 排序")
    sort.focus()
    page.keyboard.press("Enter")  # ascending
    page.keyboard.press("Enter")  # descending
    numbers = [int(t) for t in issue_rows(page).locator('[data-test="issue-row"]').all_inner_texts() if t.isdigit()]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] >= third


def test_closing_the_plan_while_a_report_awaits_review_says_why_per_campaign(page, stack):
    with httpx.Client(base_url=stack.education.url, timeout=30) as education:
        body = {"indicator": "T002-1", "org_unit": "370302", "period": PLAN.end.strftime("%Y-%m"), "value": 3}
        pending = education.post("/api/v1/reports", json=body, headers=bearer("demo-education-bureau"))
        assert pending.status_code == 201, pending.text

    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home"))
    page.goto("/plans")
    plan_row(page).locator('[data-test="close-plan"]').click()
    confirm = page.locator(".el-message-box")
    expect(confirm).to_contain_text(f"关闭方案「{PLAN.name}」")
    confirm.get_by_role("button", name="关闭方案").click()

    dialog = page.locator('[data-test="closing-dialog"]')
    expect(dialog).to_contain_text(f"「{PLAN.name}」未能全部关闭")
    expect(dialog.locator('[data-test="closing-summary"]')).to_contain_text("0 个攻坚行动已关闭该方案，5 个未关闭")
    campaigns = dialog.locator(".el-table__body tr")
    expect(campaigns).to_have_count(5)
    education = campaigns.filter(has_text="教育")
    expect(education.locator("[data-status]")).to_have_text("未关闭")
    expect(education.locator('[data-test="closing-detail"]')).to_have_text(
        f"《{PLAN.name}》仍有 1 份报告待审核，请先审核或退回再关闭方案"
    )
    expect(campaigns.filter(has_text="医疗健康").locator('[data-test="closing-detail"]')).to_contain_text(
        "暂时无法访问"
    )
    screenshot(page, "plans-closing")
    assert_accessible(page, "plans-closing")

    dialog.get_by_role("button", name="知道了").click()
    expect(dialog).to_be_hidden()
    expect(plan_row(page).locator("[data-status]").first).to_have_text("已结束")
    with httpx.Client(base_url=stack.education.url, timeout=30) as service:
        assert service.get("/api/v1/catalog").json()["plan"]["state"] == "published"


def test_a_district_clerk_has_no_plans_menu_and_reads_the_list_only(page, stack):
    sign_in(page, DISTRICT_CLERK)
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".el-menu")).to_contain_text("我的待办")
    expect(page.locator(".el-menu")).not_to_contain_text("方案管理")
    page.goto("/plans")
    expect(plan_row(page).locator("[data-status]").first).to_have_text("已结束")
    expect(page.locator('[data-test="close-plan"]')).to_have_count(0)
    expect(page.locator('[data-test="breakdown"]')).to_have_count(0)
    assert_accessible(page, "plans-read-only")


# ---- publishing: a stack of its own with the five services (see the module's docstring) -----------------------------


@pytest.fixture(scope="module")
def five_services(module_database, tmp_path_factory) -> Iterator[Stack]:
    with (
        LocalBroker(free_port()) as broker,
        running_stack(
            module_database, broker, tmp_path_factory.mktemp("web-stack-five"), campaigns=CAMPAIGN_CODES
        ) as running,
    ):
        yield running


@pytest.fixture
def clerk_page(browser: Browser, five_services: Stack) -> Iterator[Page]:
    context = browser_context(browser, five_services.url)
    try:
        yield context.new_page()
    finally:
        context.close()


def publish(page: Page, button: str, picture: str | None = None) -> None:
    """Presses the button by keyboard and confirms; the box names the plan (and, for a new plan, its 方案期).  A
    plan published already is amended: 发布修订 (or 再次发布 after a campaign failed), confirmed as a 修订."""
    amends = button != "发布方案"
    page.get_by_role("button", name=button).focus()
    page.keyboard.press("Enter")
    confirm = page.locator(".el-message-box")
    expect(confirm).to_contain_text(f"{'修订方案' if amends else '发布方案'}「{DEMO['name']}」")
    if not amends:
        expect(confirm).to_contain_text(f"（{DEMO_SPAN}）")
    if picture:
        assert_accessible(page, picture)  # also waits for the box to have faded in
        screenshot(page, picture)
    confirm.get_by_role("button", name="发布修订" if amends else "发布方案").click()


def outcomes(page: Page) -> dict[str, str]:
    """Each campaign's outcome as its tag shows it: created, changed, unchanged or failed."""
    rows = page.locator('[data-test="publication-campaigns"] .el-table__body tr')
    expect(rows).to_have_count(len(CAMPAIGN_CODES))
    return {
        row.locator("[data-campaign]").get_attribute("data-campaign"): row.locator("[data-outcome]").get_attribute(
            "data-outcome"
        )
        for row in rows.all()
    }


def expect_switcher(page: Page, options: list) -> None:
    """The header's 方案 list, opened and closed by keyboard."""
    page.get_by_role("combobox", name="方案").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".el-select-dropdown__item:visible")).to_have_text(options)
    page.keyboard.press("Escape")


def test_the_city_office_publishes_the_plan_to_all_five_campaigns_and_the_pages_show_it(
    clerk_page, five_services, tmp_path
):
    page = clerk_page
    expected = {
        c.code: c
        for c in campaign_counts(parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT))
    }
    assert set(expected) == set(CAMPAIGN_CODES)
    assert DEMO["start_year"] <= dt.date.today().year <= DEMO["end_year"]  # in force on the stack's clock
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home"))
    expect_switcher(page, ["当前方案", re.compile(PLAN.name)])
    page.get_by_role("menuitem", name="方案管理").click()
    expect(plan_row(page).locator('[data-test="plan-current"]')).to_have_text("当前")

    download_template(page, tmp_path)
    dry_run_passes(page)
    publish(page, "发布方案", picture="plans-publish")

    # Every campaign created the plan, with the tasks and indicators the dry run counted.
    outcome = page.locator('[data-test="publication-outcome"]')
    expect(outcome).to_contain_text(f"已发布方案「{DEMO['name']}」", timeout=PUBLISH_SECONDS * 1000)
    assert outcomes(page) == dict.fromkeys(CAMPAIGN_CODES, "created")
    rows = page.locator('[data-test="publication-campaigns"] .el-table__body tr')
    for code, counts in expected.items():
        cells = rows.filter(has=page.locator(f'[data-campaign="{code}"]')).locator("td")
        assert [cells.nth(i).inner_text().strip() for i in (2, 3)] == [str(counts.tasks), str(counts.indicators)]
    expect(page.locator('[data-test="publication-retry"]')).to_have_count(0)
    expect(page.get_by_role("button", name="已发布")).to_be_disabled()
    for campaign, service in five_services.services.items():
        plans = httpx.get(f"{service.url}/api/v1/plans", timeout=30).json()
        assert DEMO["code"] in [p["code"] for p in plans], campaign

    # Within seconds, without a reload: the plan list and the header show the plan, in force today.
    expect(page.locator('[data-test="publication-listing"]')).to_have_text(
        f"页头的「方案」已列出「{DEMO['name']}」，各页面可切换查看。", timeout=LISTED_SECONDS * 1000
    )
    demo_row = page.locator('[data-test="plan-list"] .el-table__body tr').filter(has_text=DEMO["name"])
    expect(demo_row.locator('[data-test="plan-current"]')).to_have_text("当前")
    expect(demo_row.locator('[data-test="plan-span"]')).to_have_text(DEMO_SPAN)
    expect(plan_row(page).locator('[data-test="plan-current"]')).to_have_count(0)
    expect(page.locator('[data-test="plan"]')).to_contain_text(DEMO_SPAN)
    screenshot(page, "plans-published")
    assert_accessible(page, "plans-published")
    expect_switcher(page, ["当前方案", re.compile(re.escape(DEMO["name"])), "往期方案", re.compile(PLAN.name)])

    # The home page, under the plan in force (none named in the URL): each campaign's tasks are the new plan's.
    page.get_by_role("menuitem", name="首页").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    for code, counts in expected.items():
        card = page.locator(f'[data-test="campaign-card"][data-campaign="{code}"] .line-head').first
        expect(card).to_contain_text(f"任务 {counts.tasks} 项", timeout=15_000)


def test_publishing_again_changes_nothing_and_a_campaign_out_of_reach_is_named(clerk_page, five_services):
    """After the test above: the plan is in all five services, so the same workbook again finds it unchanged
    wherever it reaches (tests/gateway/test_gateway_plan_breakdown.py completes a campaign that failed)."""
    page = clerk_page
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home"))
    page.goto("/plans")
    livability = five_services.services["livability"]
    livability.stop()
    dry_run_passes(page)
    publish(page, "发布修订")  # the same workbook again: an amendment that changes nothing
    outcome = page.locator('[data-test="publication-outcome"]')
    expect(outcome).to_contain_text("发布成功，请稍后用同一份任务分解表再次发布", timeout=PUBLISH_SECONDS * 1000)
    assert outcomes(page) == {**dict.fromkeys(CAMPAIGN_CODES, "unchanged"), "livability": "failed"}
    failed = page.locator('[data-test="publication-campaigns"] .el-table__body tr').filter(
        has=page.locator('[data-campaign="livability"]')
    )
    name = failed.locator("[data-campaign]").inner_text().strip()  # as the gateway's catalog names it
    expect(outcome).to_contain_text(f"尚未在 {name} 发布成功")
    expect(failed.locator('[data-test="publication-detail"]')).to_contain_text("暂时无法访问")
    expect(page.locator('[data-test="publication-retry"]')).to_have_text(
        f"{name}未发布：用同一份表再次发布即可补齐，已发布的行动不会重复创建。"
    )
    screenshot(page, "plans-publish-partly")
    assert_accessible(page, "plans-publish-partly")

    livability.start().wait_ready(STARTUP_SECONDS)
    publish(page, "再次发布")
    expect(outcome).to_contain_text(f"已发布方案「{DEMO['name']}」", timeout=PUBLISH_SECONDS * 1000)
    assert outcomes(page) == dict.fromkeys(CAMPAIGN_CODES, "unchanged")
    expect(page.locator('[data-test="publication-retry"]')).to_have_count(0)
    expect(page.get_by_role("button", name="已发布")).to_be_disabled()


def test_an_indicator_of_the_new_plan_continues_the_old_plans_series_in_its_own_span(clerk_page, five_services):
    """接续指标 (issue 26, point 6): the demonstration plan's T001-1 continues the 2022–2024 plan's T002-1 (its
    workbook says so).  张店区's chart of T001-1 draws the old plan's figures in that plan's shaded span, each plan's
    target within its span, and lists every figure with its plan below the chart."""
    with httpx.Client(base_url=five_services.url, timeout=PUBLISH_SECONDS) as gateway:
        assert publish_demo_plan(gateway, log=lambda _: None) == DEMO["code"]  # done above already: changes nothing
    figures = [(PLAN.code, "T002-1", f"{PLAN.first_year + 1}-06", 3), (PLAN.code, "T002-1", f"{PLAN.last_year}-03", 2)]
    figures += [
        (DEMO["code"], "T001-1", f"{DEMO['start_year']}-06", 2),
        (DEMO["code"], "T001-1", f"{DEMO['start_year']}-09", 4),
    ]
    with httpx.Client(base_url=five_services.services["education"].url, timeout=30) as education:
        for plan, indicator, period, value in figures:
            body = {"indicator": indicator, "org_unit": "370303", "period": period, "value": value}
            created = education.post(
                "/api/v1/reports", params={"plan": plan}, json=body, headers=bearer(DISTRICT_CLERK)
            )
            assert created.status_code == 201, created.text
            approved = education.post(
                f"/api/v1/reports/{created.json()['id']}/approve", params={"plan": plan}, headers=bearer(OFFICE)
            )
            assert approved.status_code == 200, approved.text

    page = clerk_page
    sign_in(page, DISTRICT_CLERK)
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto("/drill/indicator/T001-1?org_unit=370303")  # the plan in force: the demonstration plan's T001-1
    spans = page.locator('[data-test="indicator-spans"]')
    old_span = f"{PLAN.span_label}方案 T002-1"
    expect(spans).to_contain_text(f"{old_span} 新改扩建公办幼儿园数量：{PLAN.span_label}目标 ≥10处", timeout=30_000)
    expect(spans).to_contain_text(f"{DEMO_SPAN}方案 T001-1 新改扩建公办幼儿园数量：{DEMO_SPAN}目标 ≥8处")
    rows = spans.locator(".el-table__body tr")
    expect(rows).to_have_count(4, timeout=30_000)  # the new plan's two figures folded too
    expect(rows.first).to_contain_text(PLAN.span_label)
    expect(rows.last).to_contain_text(DEMO_SPAN)
    chart = page.locator('[data-test="indicator-chart"]')
    expect(chart.locator("canvas")).to_be_visible()
    drawn = json.loads(chart.get_attribute("data-spans") or "[]")
    assert [(plan, indicator, [p for p, _ in points]) for plan, indicator, points in drawn] == [
        (PLAN.code, "T002-1", [f"{PLAN.first_year + 1}-06", f"{PLAN.last_year}-03"]),
        (DEMO["code"], "T001-1", [f"{DEMO['start_year']}-06", f"{DEMO['start_year']}-09"]),
    ]
    screenshot(page, "drill-indicator-continued")
    assert_accessible(page, "drill-indicator-continued")


def last_ended_quarter(day: dt.date) -> str:
    quarter = (day.month - 1) // 3
    return f"{day.year - 1}Q4" if quarter == 0 else f"{day.year}Q{quarter}"


def test_a_partner_bureau_reports_its_part_from_its_inbox_and_the_lead_reads_it(clerk_page, browser, five_services):
    """After the tests above (the demonstration plan published): 市住房城乡建设局 partners education task 1, led by
    市教育局 (decision 0020). Its 我的待办 lists the quarter's 协办进展; 去填报 opens the task's page with the form on
    that quarter; once reported, the page lists it under 协办单位进展 and the inbox says 已报送. The lead reads it."""
    page = clerk_page
    task = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT).campaigns["education"]
    title = task.items[0].tasks[0].title
    quarter = last_ended_quarter(dt.date.today())
    label = f"{quarter[:4]}年第{quarter[-1]}季度"
    sign_in(page, "demo-housing-bureau")
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto(f"/inbox?period={quarter}")
    row = page.locator('[data-test="inbox-table"] .el-table__body tr').filter(has_text=f"任务1 {title}")
    expect(row).to_have_count(1, timeout=15_000)
    expect(row.locator('[data-test="inbox-kind"]')).to_have_text("协办进展")
    expect(row).to_contain_text("本单位承担部分（市住房城乡建设局）")
    expect(row.locator('[data-test="inbox-state-tag"]')).to_have_text("未填报")
    expect(page.locator('[data-test="inbox-summary"]')).to_contain_text("协办任务中本单位承担部分的进展（每季度）")
    screenshot(page, "inbox-partner")
    row.locator('[data-test="inbox-go"]').click()

    expect(page).to_have_url(re.compile(rf"/drill/task/1\?.*part={quarter}"))
    dialog = page.locator('[data-test="part-dialog"]')
    expect(dialog).to_be_visible(timeout=15_000)
    expect(dialog.locator('[data-test="part-period"]')).to_contain_text(label)
    dialog.locator('[data-test="part-state"]').click()
    page.locator(".el-select-dropdown__item:visible").filter(has_text="推进中").click()
    dialog.get_by_role("textbox", name="工作进展").fill("配套幼儿园规划条件已随土地出让落实 3 处")
    assert_accessible(page, "task-part-dialog")
    dialog.locator('[data-test="part-save"]').click()
    expect(dialog).to_be_hidden(timeout=15_000)

    # The gateway folds the part within moments; the page follows its views-changed signal.
    partners = page.locator('[data-test="task-partners"] .el-table__body tr')
    mine = partners.filter(has_text="市住房城乡建设局")
    expect(mine).to_contain_text("配套幼儿园规划条件已随土地出让落实 3 处", timeout=LISTED_SECONDS * 1000)
    expect(mine).to_contain_text(f"{label}　推进中")
    expect(mine).to_contain_text("1 / 1")
    expect(partners.filter(has_text="市自然资源和规划局")).to_contain_text("尚未报送")
    expect(page.locator('[data-test="lead-departments"]')).to_have_text("市教育局")
    expect(page.locator('[data-test="partner-departments"]')).to_have_text("市自然资源和规划局、市住房城乡建设局")
    screenshot(page, "task-partners")
    assert_accessible(page, "task-partners")

    page.goto(f"/inbox?period={quarter}")
    expect(row.locator('[data-test="inbox-state-tag"]')).to_have_text("已报送")

    # The lead answers for the whole: it reads the partners' parts and has no form of its own for them.
    lead = browser_context(browser, five_services.url)
    try:
        lead_page = lead.new_page()
        sign_in(lead_page, "demo-education-bureau")
        expect(lead_page).to_have_url(re.compile(r"/inbox"))
        lead_page.goto("/drill/task/1")
        lead_rows = lead_page.locator('[data-test="task-partners"] .el-table__body tr')
        lead_mine = lead_rows.filter(has_text="市住房城乡建设局")
        expect(lead_mine).to_contain_text("配套幼儿园规划条件已随土地出让落实 3 处")
        expect(lead_page.locator('[data-test="part-open"]')).to_have_count(0)
    finally:
        lead.close()
