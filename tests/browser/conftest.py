"""Browser tests of the web app (工作台): Debian's Chromium driven by Playwright against the real stack,
started once per module: PostgreSQL, the broker, the education service and the gateway serving `web/dist`.

The app must be built first (`make test` does it: `make web`). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_URL, free_port
from tests.support.processes import ROOT, ProcessGroup, ServiceProcess

DIST = ROOT / "web" / "dist"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A common office screen.
VIEWPORT = {"width": 1366, "height": 768}


def _check_build() -> None:
    index = DIST / "index.html"
    if not index.is_file():
        pytest.fail("web/dist is missing: build the web app first (`make web`, which `make test` runs)")
    sources = [p for p in (ROOT / "web" / "src").rglob("*") if p.is_file()]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > index.stat().st_mtime:
        pytest.fail(f"web/dist is older than {newest.relative_to(ROOT)}: rebuild it (`make web`)")


@dataclass
class Stack:
    gateway: ServiceProcess
    education: ServiceProcess

    @property
    def url(self) -> str:
        return self.gateway.url


@pytest.fixture(scope="module")
def module_database(admin_engine) -> Iterator:
    created: list[str] = []

    def make(label: str) -> str:
        name = f"minsheng_test_web_{label}_{uuid.uuid4().hex[:10]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin_engine.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def running_stack(
    module_database, broker, log_dir, service_settings: dict[str, str] | None = None, **gateway_settings
) -> Iterator[Stack]:
    """The education service and the gateway serving the built app, on the module's databases and broker;
    `service_settings` and `gateway_settings` are extra settings (e.g. the object store; demo_data="true")."""
    _check_build()
    group = ProcessGroup()
    try:
        education = group.add(
            ServiceProcess.campaign(
                "education",
                port=free_port(),
                database_url=module_database("education"),
                bootstrap_servers=broker.bootstrap_servers,
                log_dir=log_dir,
                **(service_settings or {}),
            )
        )
        gateway = group.add(
            ServiceProcess.gateway(
                port=free_port(),
                database_url=module_database("gateway"),
                bootstrap_servers=broker.bootstrap_servers,
                services={"education": education.url},
                log_dir=log_dir,
                demo_users="true",
                web_dist=str(DIST),
                **gateway_settings,
            )
        )
        education.start()
        gateway.start()
        education.wait_ready(90)
        gateway.wait_catalog("education", 90)
        yield Stack(gateway=gateway, education=education)
    finally:
        group.close()


@pytest.fixture(scope="module")
def stack(module_database, module_broker, tmp_path_factory) -> Iterator[Stack]:
    with running_stack(module_database, module_broker, tmp_path_factory.mktemp("web-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Browser, stack: Stack) -> Iterator:
    """Opens browser contexts (each its own cookies: one person each) on the stack's gateway."""
    contexts: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        context = browser.new_context(
            base_url=stack.url, viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


def screenshot(page: Page, name: str) -> Path:
    """A picture of the page as a person sees it, for docs/screenshots/ (and the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.wait_for_load_state("networkidle")
    # A passing toast (已提交…) would cover the header; the page itself says the same below it.
    page.locator(".el-message").last.wait_for(state="detached", timeout=6_000)
    # A chart animates a change for up to a second: the picture shows the figures it settles on.
    if page.locator("canvas").count():
        page.wait_for_timeout(1_200)
    page.screenshot(path=str(path))
    return path
