"""Shared fixtures: real PostgreSQL databases (one fresh database per use) and a real broker.

PostgreSQL (tests/support/postgres.py): MINSHENG_TEST_POSTGRES, else the server on 127.0.0.1:5432, else `make run`'s
embedded server started for the session; ADMIN_URL is its admin connection, used to create and drop throw-away
databases once `admin_engine` is set up (which starts the embedded server when the suite uses it).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from minsheng.broker import LocalBroker
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.messaging.relay import OutboxRelay
from minsheng_gateway.migration_plan import migration_plan
from tests.support.identity import PUBLIC_KEY_PEM, bearer
from tests.support.objectstore import LocalObjectStore, remove_store, start_store
from tests.support.postgres import SuitePostgres
from tests.support.processes import ProcessGroup
from tests.support.suite_lock import SuiteLock

if TYPE_CHECKING:
    from tests.support.platform import Platform

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# In-process gateways reach the campaign services at closed loopback ports, never at 8001–8005 where a developer's
# `make run` may be answering (its catalogs and plans would leak into the tests).  A test that wants a service there
# routes these ports to an in-process app (`campaign_at`); process-started gateways get their URLs explicitly.
SERVICE_PORTS = {campaign: 2 + i for i, campaign in enumerate(CAMPAIGN_CODES)}
for _campaign, _port in SERVICE_PORTS.items():
    os.environ[f"GATEWAY_{_campaign.upper()}_URL"] = f"http://127.0.0.1:{_port}"


def campaign_at(url) -> str:  # noqa: ANN001 - an httpx.URL
    """The campaign whose service an in-process gateway's request is for."""
    return next(campaign for campaign, port in SERVICE_PORTS.items() if port == url.port)


POSTGRES = SuitePostgres.resolve(os.environ.get("MINSHENG_TEST_POSTGRES"), free_port=free_port)
ADMIN_URL = POSTGRES.admin_url


@pytest.fixture(scope="session")
def admin_engine():
    try:
        POSTGRES.start()
        engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        yield engine
        engine.dispose()
    finally:
        POSTGRES.stop()


@pytest.fixture
def make_database(admin_engine) -> Iterator[Callable[[str], str]]:
    """Returns a function that creates an empty PostgreSQL database and gives its URL."""
    created: list[str] = []

    def make(label: str = "db") -> str:
        name = f"minsheng_test_{label}_{uuid.uuid4().hex[:10]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin_engine.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["staged", "parameters"])
def gateway_database(request, make_database, monkeypatch):
    """A migrated gateway database for folding events into (`tests.support.views.fold`), once with every batch
    staged as a rebuild's thousands of rows are, once with statement parameters as a live poll's few."""
    from minsheng_gateway.projection import upsert

    if request.param == "staged":
        monkeypatch.setattr(upsert, "STAGE_FROM_ROWS", 1)
    url = make_database("fold")
    upgrade_to_head(migration_plan, url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    with LocalBroker(free_port()) as running:
        yield running


@pytest.fixture(scope="session")
def object_store() -> Iterator[LocalObjectStore]:
    """The session's SeaweedFS (tests/support/objectstore.py): one S3 server for every test that stores files."""
    store = start_store()
    try:
        yield store
    finally:
        remove_store(store)


@pytest.fixture
def group(make_database) -> Iterator[ProcessGroup]:
    """The processes a test starts, stopped when it ends (before its databases are dropped: it depends on
    make_database)."""
    processes = ProcessGroup()
    yield processes
    processes.close()


@pytest.fixture
def platform(make_database, group, tmp_path) -> Iterator[Platform]:
    """The failure scenarios' platform (tests/support/platform.py): a broker, the education service and the
    gateway as processes of the test's own."""
    from tests.support.platform import start_platform  # it imports this module's tokens and free_port

    running = start_platform(make_database, group, tmp_path)
    yield running
    running.http.close()


@pytest.fixture(scope="module")
def module_broker() -> Iterator[LocalBroker]:
    """A broker of the module's own, for a module that runs a whole stack and counts what its gateway
    folded: with the session's broker it would also fold other modules' events (the same topics)."""
    with LocalBroker(free_port()) as running:
        yield running


def campaign_module(campaign: str):
    return __import__(f"minsheng_{campaign}.main", fromlist=["service"])


@pytest.fixture
def campaign_client(make_database) -> Callable[[str], TestClient]:
    """Starts a campaign service in-process on its own fresh PostgreSQL database (lifespan included)."""
    clients: list[TestClient] = []

    def start(campaign: str, **overrides) -> TestClient:
        service = campaign_module(campaign).service
        # It trusts the tests' signing key (tests/support/identity.py), so the headers below work for every role.
        # No broker: events stay in the outbox (tests that need publishing start their own broker).
        settings = service.settings.model_copy(
            update={
                "database_url": make_database(campaign),
                "jwt_public_key": PUBLIC_KEY_PEM,
                "kafka_bootstrap_servers": "127.0.0.1:1",
                **overrides,
            }
        )
        client = TestClient(service.create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


async def run_relay(app) -> None:  # noqa: ANN001 - a FastAPI app, or anything with its `state`
    """The app's outbox relay on the app's own event loop, as a `create_app(background=[...])` job: for tests
    that run both ends in one process (a service runs it in a child process, `run_relay_process`)."""
    relay = OutboxRelay(
        app.state.database,
        lambda: app.state.settings.kafka_bootstrap_servers,
        process=getattr(app.state, "process", "unknown"),
    )
    app.state.outbox_relay = relay  # where `wake_relay` finds it
    await relay.run()


ALL_CAMPAIGNS = pytest.mark.parametrize("campaign", CAMPAIGN_CODES)


# Service tokens of the demo accounts (minsheng.auth.demo), as the gateway forwards them: one per role.
CITY = bearer("demo-city-office")
EDU_BUREAU = bearer("demo-education-bureau")
HEALTH_BUREAU = bearer("demo-health-bureau")
CIVIL_AFFAIRS = bearer("demo-civil-affairs-bureau")
HRSS = bearer("demo-hrss-bureau")
HOUSING = bearer("demo-housing-bureau")
ZHANGDIAN = bearer("demo-zhangdian")
VIEWER = bearer("demo-viewer")
INTEGRATION = bearer("demo-integration")
LEADER = bearer("demo-leader")


# ---- several xdist workers (`make test` runs `pytest -n 2`) ---------------------------------

RUNS_ALONE = ROOT / "tests" / "chaos"
SUITE_LOCK: SuiteLock | None = None  # on an xdist worker


def pytest_configure(config: pytest.Config) -> None:
    global SUITE_LOCK
    if hasattr(config, "workerinput"):  # its temporary directory is in the run's, which every worker shares
        SUITE_LOCK = SuiteLock(Path(config.option.basetemp).parent)


def runs_alone(item: pytest.Item) -> bool:
    """The chaos and failure scenarios: while one runs, no other test runs on another worker."""
    return item.get_closest_marker("chaos") is not None or item.path.is_relative_to(RUNS_ALONE)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201 - xdist's types
    """Under xdist, a module's tests run on one worker (its module-scoped processes start once), and so do the
    browser modules of one shared stack (tests/support/web_stack.py); the units go out in the suite's order, the
    browser stacks first (xdist's loadgroup cannot be used: it renames items, which pytest 9 ignores)."""
    from xdist.scheduler import LoadScopeScheduling

    from tests.support.web_stack import shared_stack_of

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            shared = shared_stack_of(Path(module))
            return f"browser stack {shared}" if shared else module

    config.option.loadscopereorder = False
    return ByModule(config, log)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Outside the test's own timeout: a test waiting for the machine is not yet running."""
    if SUITE_LOCK is None:
        yield
        return
    with SUITE_LOCK.exclusive() if runs_alone(item) else SUITE_LOCK.shared():
        yield
