"""The outbox relay runs in a child process of its service (`minsheng/messaging/relay_process.py`):
a real education service (uvicorn subprocess), a real broker, real PostgreSQL.

What an operator relies on: the service publishes its events, its own /metrics tells how far the relay
is, a relay that dies is replaced and nothing stays unpublished, and a service killed with SIGKILL leaves
no relay behind publishing from its database.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from minsheng.broker import LocalBroker
from tests.conftest import EDU_BUREAU, free_port
from tests.support.processes import ProcessGroup, ServiceProcess, die_with_parent, wait_until

pytestmark = pytest.mark.timeout(120)


def backlog(url: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text("select count(*) from outbox_event where published_at is null")).scalar()
    finally:
        engine.dispose()


def relay_children(pid: int) -> list[int]:
    """The service's child processes running the relay."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"minsheng.messaging.relay_process" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.fixture
def education(make_database, tmp_path):
    group = ProcessGroup()
    broker = group.add(LocalBroker(free_port(), preexec_fn=die_with_parent).start())
    database = make_database("education")
    service = group.add(
        ServiceProcess.campaign(
            "education",
            port=free_port(),
            database_url=database,
            bootstrap_servers=broker.bootstrap_servers,
            log_dir=tmp_path,
        )
    )
    service.set_env(relay_silent_seconds="3")  # a hung relay is replaced within seconds here
    service.start().wait_ready(timeout=90)
    yield service, database
    group.close()


def submit(service: ServiceProcess, period: str) -> None:
    response = httpx.post(
        f"{service.url}/api/v1/reports",
        headers=EDU_BUREAU,
        json={"indicator": "T002-1", "org_unit": "370300", "period": period, "value": 3},
    )
    assert response.status_code == 201, response.text


def test_the_relay_publishes_from_its_own_process_and_reports_in_the_service_metrics(education):
    service, database = education
    [relay] = wait_until(lambda: relay_children(service.process.pid), 30, message="a relay child of the service")
    assert relay != service.process.pid
    for month in ("2023-01", "2023-02", "2023-03"):
        submit(service, month)
    wait_until(lambda: backlog(database) == 0, 30, message=lambda: f"outbox drained\n{service.tail(20)}")
    # The catalog announced at start-up and the three reports, counted by the child, scraped from the service.
    wait_until(
        lambda: service.metric("minsheng_outbox_published_total", process="education") >= 4,
        10,
        message="published total on the service's /metrics",
    )
    wait_until(
        lambda: 'minsheng_outbox_backlog{process="education"} 0.0' in httpx.get(service.url + "/metrics").text,
        10,
        message="backlog gauge on the service's /metrics",
    )
    assert service.metric("minsheng_outbox_relay_connected", process="education") == 1


def connected_relay(service: ServiceProcess) -> int:
    """The pid of the service's relay child, once it has reported connected."""
    [relay] = wait_until(lambda: relay_children(service.process.pid), 30, message="a relay child of the service")
    wait_until(
        lambda: service.metric("minsheng_outbox_relay_connected", process="education") == 1,
        30,
        message="the relay reported connected",
    )
    return relay


def test_a_relay_that_dies_is_replaced_and_its_events_are_published(education):
    service, database = education
    relay = connected_relay(service)
    os.kill(relay, signal.SIGKILL)
    # An operator sees the relay down on the service's /metrics until its replacement connects.
    wait_until(
        lambda: service.metric("minsheng_outbox_relay_connected", process="education") == 0,
        10,
        message="relay_connected dropped to 0",
    )
    submit(service, "2023-04")  # accepted while no relay runs: it waits in the outbox
    [replacement] = wait_until(
        lambda: [pid for pid in relay_children(service.process.pid) if pid != relay],
        30,
        message=lambda: f"a new relay child\n{service.tail(20)}",
    )
    assert replacement != relay
    wait_until(lambda: backlog(database) == 0, 30, message=lambda: f"outbox drained\n{service.tail(20)}")
    assert "outbox relay process of education exited" in service.tail(200, noise=())
    wait_until(
        lambda: service.metric("minsheng_outbox_relay_connected", process="education") == 1,
        30,
        message="the replacement reported connected",
    )


def test_a_service_killed_with_sigkill_leaves_no_relay_behind(education):
    service, _ = education
    [relay] = wait_until(lambda: relay_children(service.process.pid), 30, message="a relay child of the service")
    service.kill()
    wait_until(lambda: not alive(relay), 10, message="the orphaned relay stopped")


def test_a_relay_that_hangs_is_replaced_and_its_events_are_published(education):
    """A child alive but frozen (SIGSTOP: as if stuck in the kernel) sends no status: the service notices
    the silence, replaces it, says so, and what waited is published."""
    service, database = education
    relay = connected_relay(service)
    os.kill(relay, signal.SIGSTOP)
    submit(service, "2023-05")  # accepted while the relay is frozen: it waits in the outbox
    [replacement] = wait_until(
        lambda: [pid for pid in relay_children(service.process.pid) if pid != relay],
        30,
        message=lambda: f"a new relay child\n{service.tail(20)}",
    )
    assert replacement != relay
    wait_until(lambda: not alive(relay), 10, message="the frozen relay was killed")
    wait_until(lambda: backlog(database) == 0, 30, message=lambda: f"outbox drained\n{service.tail(20)}")
    assert "sent no status for 3 s" in service.tail(200, noise=())
    assert service.metric("minsheng_outbox_relay_restarts_total", process="education", reason="silent") == 1
