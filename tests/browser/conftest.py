"""Browser tests of the web app (工作台): Debian's Chromium driven by Playwright against the real stack
(tests/support/web_stack.py: PostgreSQL, a broker, the education service, or all five where a module asks, and the
gateway serving `web/dist`).

A stack costs a broker and two processes started and migrated, so modules whose data cannot meet share one:
SHARED_STACKS (tests/support/web_stack.py) names them and says why; any other module starts its own. Modules
sharing a stack run one after another (and on one worker under xdist), and the stack stops after the last of
them. Chromium is launched once per session (per worker).

The app must be built first (`make test` does it: `make web`). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import NamedTuple

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import text
from sqlalchemy.engine import make_url

from minsheng.broker import LocalBroker
from minsheng.demo.loader import load_demo_data
from tests.conftest import ADMIN_URL, free_port
from tests.support.identity import bearer
from tests.support.objectstore import bucket_name
from tests.support.web_stack import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHARED_STACKS,
    Stack,
    browser_context,
    running_stack,
    shared_stack_of,
    wait_folded,
)


def _database_maker(admin_engine, created: list[str]) -> Callable[[str], str]:
    def make(label: str) -> str:
        name = f"minsheng_test_web_{label}_{uuid.uuid4().hex[:10]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    return make


@contextlib.contextmanager
def _databases(admin_engine) -> Iterator[Callable[[str], str]]:
    created: list[str] = []
    try:
        yield _database_maker(admin_engine, created)
    finally:
        with admin_engine.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def module_database(admin_engine) -> Iterator[Callable[[str], str]]:
    with _databases(admin_engine) as make:
        yield make


def _load_education_demo(stack: Stack) -> None:
    """The education campaign's demo dataset through the service's own write paths, folded by the gateway."""
    with httpx.Client(base_url=stack.education.url, timeout=120) as client:
        loaded = load_demo_data(
            {"education": client}, bearer("demo-city-office"), today=dt.date(2025, 1, 1), log=lambda _: None
        )
    assert loaded["education"] > 500
    wait_folded(stack.gateway.url)


def _object_store_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    object_store = request.getfixturevalue("object_store")
    return {
        "object_store_url": object_store.endpoint,
        "object_store_access_key": object_store.credentials.access_key,
        "object_store_secret_key": object_store.credentials.secret_key,
        "evidence_bucket": bucket_name("browser"),
    }


class StartedWith(NamedTuple):
    service_settings: Callable[[pytest.FixtureRequest], dict[str, str]] | None = None
    gateway_settings: dict[str, str] = {}
    once_running: Callable[[Stack], None] | None = None


# How each shared stack of SHARED_STACKS (tests/support/web_stack.py, which says whose it is and why) starts.
STARTED_WITH = {
    "demo": StartedWith(None, {"demo_data": "true"}, _load_education_demo),
    "accounts": StartedWith(),
    "files": StartedWith(_object_store_settings),
}
assert STARTED_WITH.keys() == SHARED_STACKS.keys()


class SharedStacks:
    """At most one shared stack runs: the one the current module asked for; it stops when a module asks for
    another, when the last module that shares it is done (`pytest_runtest_teardown`), or at the session's end."""

    def __init__(self, admin_engine, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.admin_engine, self.tmp_path_factory = admin_engine, tmp_path_factory
        self.name: str | None = None
        self.stack: Stack | None = None
        self.exits = contextlib.ExitStack()

    def get(self, name: str, request: pytest.FixtureRequest) -> Stack:
        if self.name != name:
            self.close()
            recipe = STARTED_WITH[name]
            try:
                databases = self.exits.enter_context(_databases(self.admin_engine))
                broker = self.exits.enter_context(LocalBroker(free_port()))
                log_dir = self.tmp_path_factory.mktemp(f"web-stack-{name}")
                settings = recipe.service_settings(request) if recipe.service_settings else None
                stack = self.exits.enter_context(
                    running_stack(databases, broker, log_dir, settings, **recipe.gateway_settings)
                )
                if recipe.once_running is not None:
                    recipe.once_running(stack)
            except BaseException:
                self.close()
                raise
            self.name, self.stack = name, stack
        return self.stack

    def close(self) -> None:
        self.name, self.stack = None, None
        self.exits.close()
        self.exits = contextlib.ExitStack()


_shared: SharedStacks | None = None


def shared_stack_name(node: pytest.Item | pytest.Module | None) -> str | None:
    return shared_stack_of(node.path) if node is not None else None


@pytest.fixture(scope="session")
def shared_stacks(admin_engine, tmp_path_factory) -> Iterator[SharedStacks]:
    global _shared
    _shared = SharedStacks(admin_engine, tmp_path_factory)
    try:
        yield _shared
    finally:
        _shared.close()
        _shared = None


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of a shared stack's modules, the stack stops (the next module does not share it)."""
    name = shared_stack_name(item)
    if name is not None and _shared is not None and shared_stack_name(nextitem) != name:
        _shared.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of one shared stack one after another, where the first of them was."""
    first: dict[str, int] = {}
    keys = []
    for index, item in enumerate(items):
        name = shared_stack_name(item)
        keys.append(index if name is None else first.setdefault(name, index))
    items[:] = [item for _, item in sorted(zip(keys, items, strict=True), key=lambda pair: pair[0])]


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, shared_stacks: SharedStacks, tmp_path_factory) -> Iterator[Stack]:
    name = shared_stack_name(request.node)
    if name is not None:
        yield shared_stacks.get(name, request)
        return
    shared_stacks.close()
    database = request.getfixturevalue("module_database")
    broker = request.getfixturevalue("module_broker")
    # A module whose pages store files in the gateway's own bucket (督办单 answers) says so: the session's SeaweedFS.
    gateway_files = _object_store_settings(request) if getattr(request.module, "GATEWAY_STORES_FILES", False) else {}
    with running_stack(database, broker, tmp_path_factory.mktemp("web-stack"), **gateway_files) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API runs an event loop in the main thread while it lives, and
    # every later test calling asyncio.run() would fail ("cannot be called from a running event loop").
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Browser, stack: Stack) -> Iterator:
    """Opens browser contexts (each its own cookies: one person each) on the stack's gateway."""
    contexts: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        context = browser_context(browser, stack.url)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()
