"""The stack the browser tests drive (tests/browser/conftest.py starts it): PostgreSQL databases, a broker, the
education service (or, for a test that needs them, all five campaign services) and the gateway serving the built app
(`web/dist`), as subprocesses on free ports; browser contexts on it; and the pictures of its pages for
docs/screenshots/.

The app must be built first (`make test` does it: `make web`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import free_port
from tests.support.identity import PUBLIC_KEY_PEM
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
STARTUP_SECONDS = 180
# A common office screen.
VIEWPORT = {"width": 1366, "height": 768}


def check_build() -> None:
    index = DIST / "index.html"
    if not index.is_file():
        pytest.fail("web/dist is missing: build the web app first (`make web`, which `make test` runs)")
    sources = [p for p in (ROOT / "web" / "src").rglob("*") if p.is_file()]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > index.stat().st_mtime:
        pytest.fail(f"web/dist is older than {newest.relative_to(ROOT)}: rebuild it (`make web`)")


# The browser modules that share one stack for the session, by the stack's name, and why their data do not meet
# (tests/browser/conftest.py starts them; under xdist each one's modules run on one worker, tests/conftest.py).
SHARED_STACKS: dict[str, tuple[str, ...]] = {
    # Both read the education campaign's demo dataset and write nothing (the keyboard test types into a form it
    # never submits).
    "demo": ("test_accessibility", "test_bulletin"),
    # Accounts of their own and keys of the integration account; task 2 suspended (which refuses reports of its
    # indicators: none of these modules reports one); H-EDU-1 approved once, by the one module that reads it.
    "accounts": ("test_accounts", "test_api_docs", "test_task_state", "test_time_travel"),
    # Reports of T002-1 in periods and districts of their own, each read back alone: 2023-05 for 张店区 (audit),
    # 2024-05 for 张店区 with files (evidence), this period for the city (excel).
    "files": ("test_audit", "test_evidence", "test_excel"),
}


def shared_stack_of(module: Path) -> str | None:
    """The name of the shared stack a test module (its path) runs on, if any."""
    if module.parent.name != "browser":
        return None
    return next((name for name, modules in SHARED_STACKS.items() if module.stem in modules), None)


@dataclass
class Stack:
    gateway: ServiceProcess
    services: dict[str, ServiceProcess]  # campaign → its service: the campaigns the stack runs

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def education(self) -> ServiceProcess:
        return self.services["education"]


@contextlib.contextmanager
def running_stack(
    module_database,
    broker,
    log_dir,
    service_settings: dict[str, str] | None = None,
    *,
    campaigns: Sequence[str] = ("education",),
    **gateway_settings,
) -> Iterator[Stack]:
    """The campaigns' services (the education one unless `campaigns` says) and the gateway serving the built app,
    on the module's databases and broker; the gateway finds no service for any other campaign. `service_settings`
    (each service's) and `gateway_settings` are extra settings (e.g. the object store; demo_data="true")."""
    check_build()
    group = ProcessGroup()
    try:
        services = {
            campaign: group.add(
                ServiceProcess.campaign(
                    campaign,
                    port=free_port(),
                    database_url=module_database(campaign),
                    bootstrap_servers=broker.bootstrap_servers,
                    log_dir=log_dir,
                    **(service_settings or {}),
                )
            )
            for campaign in campaigns
        }
        gateway = group.add(
            ServiceProcess.gateway(
                port=free_port(),
                database_url=module_database("gateway"),
                bootstrap_servers=broker.bootstrap_servers,
                services={campaign: service.url for campaign, service in services.items()},
                log_dir=log_dir,
                demo_users="true",
                web_dist=str(DIST),
                **gateway_settings,
            )
        )
        for service in services.values():
            service.start()
        gateway.start()
        # Generous: the processes import and migrate at once on a machine whose two cores other suites share.
        for service in services.values():
            service.wait_ready(STARTUP_SECONDS)
        for campaign in services:
            gateway.wait_catalog(campaign, STARTUP_SECONDS)
        yield Stack(gateway=gateway, services=services)
    finally:
        group.close()


def browser_context(browser: Browser, url: str) -> BrowserContext:
    """One person's browser on the stack at `url`: an office screen, Chinese, Zibo's time."""
    context = browser.new_context(base_url=url, viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    return context


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


class Clock:
    """The time of a notifier served in this process: the test sets it (`app.state.now`, the seam tests/notifier use
    too) instead of waiting for a deadline to pass."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.contextmanager
def notifier_in_process(clock: Clock, *, port: int, **settings: str) -> Iterator[FastAPI]:
    """The notifier (its real app, its background work, on its own database and the stack's broker) served by
    uvicorn on 127.0.0.1:`port` in a thread of the test's process, so that its clock is the test's `clock`.
    `settings`: NotifierSettings' fields (database_url, kafka_bootstrap_servers, gateway_url, gateway_key, …)."""
    from minsheng_notifier.main import build_app
    from minsheng_notifier.settings import NotifierSettings

    app = build_app(NotifierSettings(port=port, jwt_public_key=PUBLIC_KEY_PEM, **settings))
    app.state.now = clock
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="notifier", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the notifier did not start"
            time.sleep(0.2)
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=30)
