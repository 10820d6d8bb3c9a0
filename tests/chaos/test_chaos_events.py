"""Chaos in the event pipeline.

First, the broker killed (SIGKILL) and started again, ten times, while a bureau keeps reporting and the city
office keeps approving.  Tansu keeps nothing on disk, so each restart is a broker that lost its whole log, its
topics and the consumer group's offsets: harsher than a Kafka broker restarting on its own disk.  What must
hold: every event is folded exactly once (its id in `processed_event`, the gateway's "received" counter equal
to the events the service wrote), every report is in the views as approved, and the gateway's figures equal
the service's own (the consistency check) once it has caught up after the last restart.

Second, a fold held back by the gateway's database under a burst: lag, no false stall, nothing dropped.

Each prints its figures; docs/operations.md, "Faults survived", records them."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from minsheng.broker import LocalBroker
from tests.conftest import CITY, EDU_BUREAU
from tests.support.platform import AS_OF, Platform, outbox_backlog, processed_ids, query, scalar
from tests.support.processes import die_with_parent, wait_until

pytestmark = [pytest.mark.timeout(240), pytest.mark.chaos]

RESTARTS = 10
ORG_UNITS = ("370300", "370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323")
PERIODS = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]  # 2022-01 … 2024-12


class SteadyReporting(threading.Thread):
    """A bureau submits and the city office approves, one report after the other, each its own series, until
    stopped.  Every write must be accepted whatever the broker does (the events wait in the outbox)."""

    def __init__(self, service_url: str):
        super().__init__(daemon=True)
        self.url = service_url
        self.approved: list[int] = []
        self.errors: list[str] = []
        self._stopping = threading.Event()

    def run(self) -> None:
        series = ((unit, period) for period in PERIODS for unit in ORG_UNITS)
        with httpx.Client(base_url=f"{self.url}/api/v1", timeout=30) as client:
            for unit, period in series:
                if self._stopping.is_set():
                    return
                body = {"indicator": "T002-1", "org_unit": unit, "period": period, "value": 1}
                submitted = client.post("/reports", json=body, headers=EDU_BUREAU)
                if submitted.status_code != 201:
                    self.errors.append(f"submit {unit} {period}: {submitted.status_code} {submitted.text[:200]}")
                    continue
                report_id = submitted.json()["id"]
                approved = client.post(f"/reports/{report_id}/approve", headers=CITY)
                if approved.status_code != 200:
                    self.errors.append(f"approve {report_id}: {approved.status_code} {approved.text[:200]}")
                    continue
                self.approved.append(report_id)
                time.sleep(0.05)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=60)


def kill_and_restart(p: Platform) -> float:
    """SIGKILL the broker, start an empty one on the same address; seconds it was away."""
    port = p.broker.port
    went = time.monotonic()
    p.broker.process.send_signal(signal.SIGKILL)
    p.broker.process.wait(timeout=10)
    p.broker.process = None
    time.sleep(0.3)
    p.broker = p.group.add(LocalBroker(port, preexec_fn=die_with_parent).start())
    return time.monotonic() - went


def test_the_broker_killed_ten_times_under_steady_reporting_loses_and_doubles_nothing(platform: Platform):
    p = platform
    writer = SteadyReporting(p.education.url)
    writer.start()
    away = []
    try:
        for _ in range(RESTARTS):
            time.sleep(1.5)  # reports flow through the broker between two kills
            away.append(kill_and_restart(p))
        time.sleep(1.0)
    finally:
        writer.stop()
    last_restart = time.monotonic()
    assert writer.errors == [], writer.errors[:5]
    assert len(writer.approved) >= RESTARTS  # the stream really ran across the restarts

    p.wait_caught_up(timeout=120)
    converged = time.monotonic() - last_restart

    # Exactly once: each event the service wrote applied (or skipped for want of a handler) by the gateway
    # once, its id recorded once; the broker's redeliveries and the relay's republishing only duplicates.
    written = scalar(p.education_db, "select count(*) from outbox_event")
    assert outbox_backlog(p.education_db) == 0
    assert len(processed_ids(p.gateway_db)) == written
    received = sum(p.gateway.metric("minsheng_events_consumed_total", outcome=o) for o in ("applied", "skipped"))
    duplicates = p.gateway.metric("minsheng_events_consumed_total", outcome="duplicate")
    assert received == written

    # Every report is in the views, once, as approved; the figures equal the service's.
    views = dict(query(p.gateway_db, "select report_id, status from report_view"))
    assert {report_id: views.get(report_id) for report_id in writer.approved} == dict.fromkeys(
        writer.approved, "approved"
    )
    report = p.education_consistent()
    assert report["compared"]["education"] == len(writer.approved)
    city = p.progress("T002-1", as_of=AS_OF)
    assert city["pending"] == []

    restarts = {
        reason: p.gateway.metric("minsheng_consumer_restarts_total", reason=reason)
        for reason in ("no_progress", "coordinator_lost", "poll_hung")
    }
    print(
        f"\nchaos broker: {RESTARTS} SIGKILLs (away {min(away):.1f}-{max(away):.1f} s each) under steady reporting; "
        f"{len(writer.approved)} reports submitted and approved, {written} events; all folded once "
        f"({duplicates:.0f} duplicates skipped), consistent {converged:.1f} s after the last restart; "
        f"consumer replaced {restarts}"
    )


def test_a_slow_fold_under_a_burst_lets_the_lag_grow_and_drops_nothing(platform: Platform):
    """The gateway's database holds its fold back (a lock on `processed_event`, as a long migration or a
    vacuum full would) while a burst of reports arrives: the lag gauge shows the records waiting, the
    watchdog does not mistake a slow database for a stall, and once the lock goes every event is folded once."""
    p = platform
    p.wait_caught_up(timeout=30)
    burst = 30
    engine = create_engine(p.gateway_db, poolclass=NullPool)
    lag_seen = []
    try:
        with engine.connect() as holder:
            holder.execute(text("BEGIN"))
            holder.execute(text("LOCK TABLE processed_event IN ACCESS EXCLUSIVE MODE"))
            held = time.monotonic()
            ids = [p.submit("T002-1", "370300", period, 1)["id"] for period in PERIODS[:burst]]
            # The records wait: the gauge (end offsets asked by the watchdog) says how many; the poll that
            # is held took the burst's first few with it.
            lag_seen.append(
                wait_until(
                    lambda: (lag := p.gateway.metric("minsheng_consumer_lag")) >= burst // 2 and lag,
                    30,
                    message="the lag gauge shows the burst waiting",
                )
            )
            time.sleep(max(0.0, 8.0 - (time.monotonic() - held)))  # held for 8 s in all
            assert p.gateway.metric("minsheng_consumer_stalled_seconds") == 0  # slow, not stalled
            holder.execute(text("ROLLBACK"))
        released = time.monotonic()
    finally:
        engine.dispose()
    p.wait_caught_up(timeout=60)
    drained = time.monotonic() - released
    written = scalar(p.education_db, "select count(*) from outbox_event")
    assert len(processed_ids(p.gateway_db)) == written
    assert sorted(r[0] for r in query(p.gateway_db, "select report_id from report_view")) == sorted(ids)
    assert all(
        p.gateway.metric("minsheng_consumer_restarts_total", reason=reason) == 0
        for reason in ("no_progress", "coordinator_lost", "poll_hung")
    )
    print(
        f"\nchaos slow fold: the gateway's fold held 8 s by a lock during a burst of {burst} reports; lag reached "
        f"{max(lag_seen):.0f}, no consumer replaced, all folded once {drained:.1f} s after the lock went"
    )
