"""Two gateways on one read database, one consumer group (as deploy/k8s runs them): the partitions are shared
between them, every event is applied by exactly one, and the views count each report once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.broker import LocalBroker
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import topic_for
from tests.conftest import free_port
from tests.support.metrics_stack import scrape, value
from tests.support.processes import ProcessGroup, ServiceProcess, wait_until

PARTITIONS = 4
ORG_UNITS = ("370300", "370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323")


async def _create_topics(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic_for(c), num_partitions=PARTITIONS, replication_factor=1) for c in CAMPAIGN_CODES]
        )
    finally:
        await admin.close()


def _partitions(samples: dict) -> set[tuple[str, str]]:
    """The (topic, partition) pairs a gateway reports lag for: the partitions assigned to it."""
    return {
        (dict(labels)["topic"], dict(labels)["partition"])
        for name, labels in samples
        if name == "minsheng_consumer_lag"
    }


def _received(gateway: ServiceProcess) -> float:
    """Events a gateway took as new: applied, or skipped for want of a handler (status changes)."""
    samples = scrape(gateway.url)
    return sum(value(samples, "minsheng_events_consumed_total", outcome=o) for o in ("applied", "skipped"))


def _event_ids(url: str, sql: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def _folded_everything(service_db: str, read_db: str) -> bool:
    """Decided from the databases, not from the lag gauges (refreshed once a second from the last fetch, they
    can still read 0 just after the service published): every outbox row of the service is published and
    its event id is in the gateways' shared `processed_event`."""
    pending = _event_ids(service_db, "SELECT event_id FROM outbox_event WHERE published_at IS NULL")
    published = _event_ids(service_db, "SELECT event_id FROM outbox_event")
    return not pending and published <= _event_ids(read_db, "SELECT event_id FROM processed_event")


@dataclass
class TwoGateways:
    education: ServiceProcess
    education_db: str
    gateways: list[ServiceProcess]
    read_database: str


@pytest.fixture
def two_gateways(make_database, tmp_path) -> Iterator[TwoGateways]:
    """A broker with the campaigns' topics in PARTITIONS partitions, the education service, and two gateways
    on one read database in one consumer group, each assigned some of the partitions."""
    group = ProcessGroup()
    try:
        broker = group.add(LocalBroker(free_port()))
        broker.start()
        asyncio.run(_create_topics(broker.bootstrap_servers))
        education_db = make_database("education")
        education = group.add(
            ServiceProcess.campaign(
                "education",
                port=free_port(),
                database_url=education_db,
                bootstrap_servers=broker.bootstrap_servers,
                log_dir=tmp_path,
            )
        )
        read_database = make_database("gateway")
        for label in ("a", "b"):
            (tmp_path / label).mkdir()
        gateways = [
            group.add(
                ServiceProcess.gateway(
                    port=free_port(),
                    database_url=read_database,
                    bootstrap_servers=broker.bootstrap_servers,
                    services={"education": education.url},
                    log_dir=tmp_path / label,
                    demo_users="true",
                )
            )
            for label in ("a", "b")
        ]
        education.start().wait_ready(90)
        # One after the other: the second finds the database migrated, and the same view generation (so the
        # same consumer group).
        gateways[0].start().wait_catalog("education", 90)
        gateways[1].start().wait_catalog("education", 90)
        yield TwoGateways(education, education_db, gateways, read_database)
    finally:
        group.close()


def _signed_in(gateway: ServiceProcess, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{gateway.url}/api/v1", timeout=30)
    response = client.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _report_statuses(read_database: str) -> dict[str, int]:
    return dict(
        _rows(
            read_database,
            "SELECT status, count(*) FROM report_view WHERE campaign = 'education' AND is_current GROUP BY status",
        )
    )


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_two_gateways_share_the_partitions_and_apply_each_event_once(two_gateways: TwoGateways):
    education_db = two_gateways.education_db
    gateways, read_database = two_gateways.gateways, two_gateways.read_database

    # The group shares the partitions: each gateway folds some, none is folded by both.
    def assigned() -> list[set] | None:
        owned = [_partitions(scrape(g.url)) for g in gateways]
        return owned if all(owned) and len(owned[0] | owned[1]) == PARTITIONS * len(CAMPAIGN_CODES) else None

    owned = wait_until(assigned, timeout=60, message="both gateways assigned partitions")
    assert not owned[0] & owned[1]
    wait_until(lambda: _folded_everything(education_db, read_database), timeout=60, message="start-up folded")
    # Each gateway counts an event right after the commit that put its id in `processed_event`.
    published_before = len(_event_ids(education_db, "SELECT event_id FROM outbox_event"))
    received_before = wait_until(
        lambda: (r := sum(_received(g) for g in gateways)) >= published_before and r,
        timeout=10,
        message="the start-up events counted",
    )

    # A bureau reports through one gateway, the city office reviews through the other.
    bureau, office = (
        _signed_in(gateway, username)
        for gateway, username in zip(gateways, ("demo-education-bureau", "demo-city-office"), strict=True)
    )
    ids = []
    for org_unit in ORG_UNITS:
        response = bureau.post(
            "/campaigns/education/reports",
            json={"indicator": "T002-1", "org_unit": org_unit, "period": "2022-06", "value": 2},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    for report_id in ids[:5]:
        assert office.post(f"/campaigns/education/reports/{report_id}/approve").status_code == 200
    bureau.close()
    office.close()

    wait_until(lambda: _folded_everything(education_db, read_database), timeout=60, message="every event folded")
    published = len(_event_ids(education_db, "SELECT event_id FROM outbox_event")) - published_before
    assert published >= len(ids) + 5  # each report submitted, five approved (and what those changed)
    received = wait_until(
        lambda: (r := sum(_received(g) for g in gateways) - received_before) >= published and r,
        timeout=10,
        message="the gateways' counters reach what was folded",
    )
    # Each event taken as new by exactly one gateway: together, what the service published.
    assert received == published

    assert _report_statuses(read_database) == {"submitted": len(ids) - 5, "approved": 5}
    official = _rows(read_database, "SELECT count(*), sum(value) FROM official_value WHERE indicator_code = 'T002-1'")
    assert official == [(5, 10)]
    # Both gateways answer from the one database: the same backlog on each.
    for gateway in gateways:
        assert value(scrape(gateway.url), "minsheng_reports_awaiting_review", campaign="education") == 4


@pytest.mark.chaos
def test_a_gateway_replica_killed_leaves_its_partitions_to_the_survivor_which_folds_the_backlog(
    two_gateways: TwoGateways,
):
    education_db = two_gateways.education_db
    survivor, victim = two_gateways.gateways
    read_database = two_gateways.read_database
    every_partition = PARTITIONS * len(CAMPAIGN_CODES)
    wait_until(
        lambda: all(_partitions(scrape(g.url)) for g in (survivor, victim)),
        timeout=60,
        message="both gateways assigned partitions",
    )
    wait_until(lambda: _folded_everything(education_db, read_database), timeout=60, message="start-up folded")

    # A backlog builds up while the victim dies: reports keep coming through the survivor.
    bureau = _signed_in(survivor, "demo-education-bureau")
    ids = []
    killed_at = None
    for index, org_unit in enumerate(ORG_UNITS * 3):
        if index == 4:
            victim.kill()
            killed_at = time.monotonic()
        response = bureau.post(
            "/campaigns/education/reports",
            json={"indicator": "T002-1", "org_unit": org_unit, "period": f"2023-{index // 9 + 1:02d}", "value": 1},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    bureau.close()

    owned = wait_until(
        lambda: (mine := _partitions(scrape(survivor.url))) and len(mine) == every_partition and mine,
        timeout=60,
        message="the survivor assigned every partition",
    )
    took_over = time.monotonic() - killed_at
    wait_until(lambda: _folded_everything(education_db, read_database), timeout=60, message="the backlog folded")
    converged = time.monotonic() - killed_at
    assert len(owned) == every_partition
    assert _report_statuses(read_database) == {"submitted": len(ids)}
    # Exactly once: one processed id per event the service wrote, whichever gateway applied it.
    written = len(_event_ids(education_db, "SELECT event_id FROM outbox_event"))
    assert _rows(read_database, "SELECT count(*) FROM processed_event")[0][0] >= written
    assert _event_ids(education_db, "SELECT event_id FROM outbox_event") <= _event_ids(
        read_database, "SELECT event_id FROM processed_event"
    )
    print(
        f"\nchaos gateway replica: SIGKILL of one of two; the survivor took all {every_partition} partitions "
        f"{took_over:.1f} s after, and had folded the {len(ids)} reports' backlog {converged:.1f} s after"
    )
