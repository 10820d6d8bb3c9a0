"""方案 switcher in a browser (decision 0017, step 4): the gateway carries two plans; the header shows the plan in
force, the ended one under 往期方案; choosing it by keyboard puts it in the URL (`?plan=`), the figures become that
plan's, and a link to another page keeps the plan.

The second plan is written into the gateway's database the way its fold or catalog pull writes one (its schema, its
catalog, the registry): the stack's education service serves the legacy plan only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from minsheng.catalog.document import CampaignDoc, PlanDoc, legacy_plan
from minsheng.catalog.loader import read_catalog_file, seed_catalog
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import Database
from minsheng_gateway.plans.scope import GatewayPlans, register_plan
from tests.browser.axe import assert_accessible
from tests.support.browser import OFFICE, needs_sign_in, sign_in
from tests.support.processes import ROOT
from tests.support.web_stack import running_stack, screenshot

pytestmark = pytest.mark.timeout(600)

LEGACY = legacy_plan()
THIS_YEAR = dt.date.today().year
NEXT = PlanDoc(  # in force today, whatever today is
    code="zibo-minsheng-next",
    name="民生实事接续方案（演示）",
    start=dt.date(THIS_YEAR - 1, 1, 1),
    end=dt.date(THIS_YEAR + 1, 12, 31),
)
NEXT_ITEMS = 2  # the next plan's education catalog: the legacy one's first work items only


def next_catalog() -> CampaignDoc:
    raw = read_catalog_file(ROOT / "services/education/minsheng_education/catalog.yaml").model_dump(mode="json")
    raw["items"] = raw["items"][:NEXT_ITEMS]
    tasks = [task for item in raw["items"] for task in item["tasks"]]
    for indicator in [*raw["indicators"], *(i for task in tasks for i in task["indicators"])]:
        indicator["milestones"] = []
        indicator["horizon"] = NEXT.last_year
    raw["plan"] = NEXT.model_dump(mode="json")
    return CampaignDoc.model_validate(raw)


def add_next_plan(gateway_url: str) -> int:
    """The next plan in the gateway's database; returns its education tasks."""
    doc = next_catalog()
    database = Database(gateway_url)
    plans = GatewayPlans(database, CatalogCache())
    try:
        plans.ensure_schema(NEXT.code)
        slot = plans.slot(NEXT.code)
        with slot.database.session() as session:
            seed_catalog(session=session, doc=doc, catalog=slot.catalog)
        with database.session() as session:
            register_plan(session, NEXT)
            session.commit()
    finally:
        plans.dispose()
        database.dispose()
    return sum(len(item.tasks) for item in doc.items)


@pytest.fixture(scope="module")
def stack(module_database, module_broker, tmp_path_factory) -> Iterator:
    urls: dict[str, str] = {}

    def remembered(label: str) -> str:
        urls[label] = module_database(label)
        return urls[label]

    with running_stack(remembered, module_broker, tmp_path_factory.mktemp("web-plans")) as running:
        running.next_tasks = add_next_plan(urls["gateway"])
        yield running


def education_tasks(page: Page):
    return page.locator('[data-test="campaign-card"][data-campaign="education"] .line-head').first


@needs_sign_in
def test_switching_plans_changes_the_url_and_the_figures(new_context, stack):
    page = new_context().new_page()
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home$"))  # the plan in force: none named in the URL
    switcher = page.get_by_role("combobox", name="方案")
    expect(page.locator('[data-test="plan"]')).to_contain_text(NEXT.span_label)
    expect(education_tasks(page)).to_contain_text(f"任务 {stack.next_tasks} 项", timeout=15_000)

    # By keyboard: open the list, the ended plan is under 往期方案, below the plan in force.
    switcher.focus()
    page.keyboard.press("Enter")
    options = page.locator(".el-select-dropdown__item:visible")
    expect(options).to_have_text([re.compile("当前方案"), re.compile(NEXT.name), "往期方案", re.compile(LEGACY.name)])
    assert_accessible(page, "plan-switcher-open")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/home\?plan={LEGACY.code}$"))
    expect(page.locator('[data-test="plan"]')).to_contain_text(LEGACY.span_label)
    expect(education_tasks(page)).to_contain_text("任务 27 项", timeout=15_000)
    screenshot(page, "plan-switcher")

    # A link to another page keeps the plan: the same figures for whoever opens it.
    page.locator('[data-test="campaign-card"][data-campaign="education"]').click()
    expect(page).to_have_url(re.compile(rf"/drill/campaign/education\?plan={LEGACY.code}$"))
    expect(page.locator('[data-test="plan"]')).to_contain_text(LEGACY.span_label)

    # Back to the plan in force: the URL names none again.
    switcher.focus()
    page.keyboard.press("Enter")
    page.locator(".el-select-dropdown__item:visible", has_text=NEXT.name).click()
    expect(page).to_have_url(re.compile(r"/drill/campaign/education$"))
    expect(page.locator('[data-test="plan"]')).to_contain_text(NEXT.span_label)
