"""Failure scenarios across real processes: the education service and the gateway as uvicorn
subprocesses, a real Tansu broker, real PostgreSQL.  Nothing is faked.

What is started, and why so little: one campaign service (education) and the gateway.  The other four
services are not started (on two cores each costs ~10 s of start-up), so the gateway's /readyz, which
waits for all five catalogs, never answers 200 here; the tests wait for its /healthz and for the
education catalog (`GET /api/v1/tasks?campaign=education`) instead, which is all the education views
need.  Likewise `GET /api/v1/consistency` reports `consistent: false` because four services are
unreachable; the tests assert on the education part of it (compared, unreachable, differences).

Every test gets its own broker: the gateway's consumer group is named after a generation stored in its
database, so a fresh gateway reads every topic from the beginning, and on a shared broker it would fold
the events of earlier tests' services (whose report ids collide with this test's).

"Caught up" is decided from the databases, not from the views: every outbox row of the service is
published and its event id is in the gateway's `processed_event`.  The views are then compared once.

The last two tests replay, deterministically and with real events, two product bugs these scenarios
uncovered: a report's states folded out of order (fixed since; a regression test now) and reports folded
before their catalog (fixed: the catalog fold recomputes what arrived before it).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from minsheng.broker import LocalBroker
from minsheng.messaging.events import STRUCTURED_CONTENT_TYPE
from tests.conftest import CITY, EDU_BUREAU, VIEWER
from tests.support.platform import (
    AS_OF,
    Platform,
    max_outbox_id,
    outbox_backlog,
    processed_ids,
    query,
    scalar,
)
from tests.support.processes import die_with_parent, wait_until

pytestmark = pytest.mark.timeout(150)


def without_dates(answer):
    """A view answer without the keys that say which day it was computed on."""
    if isinstance(answer, dict):
        return {k: without_dates(v) for k, v in answer.items() if k != "as_of"}
    if isinstance(answer, list):
        return [without_dates(v) for v in answer]
    return answer


VIEW_INDICATORS = ("T002-1", "T002-2", "T002-3")
VIEW_UNITS = ("370300", "370302", "370303")


def gateway_views(p: Platform) -> dict[str, object]:
    """The gateway's answers a user sees: city and district summaries, indicator and task progress,
    the district ranking."""
    views: dict[str, object] = {"city": p.gw("/api/v1/city/summary")}
    for unit in VIEW_UNITS[1:]:
        views[f"district {unit}"] = p.gw(f"/api/v1/districts/{unit}/summary")
    for code in VIEW_INDICATORS:
        for unit in VIEW_UNITS:
            views[f"{code}@{unit}"] = p.progress(code, unit, as_of=AS_OF)
    for number in (2, 6):
        views[f"task {number}"] = p.gw(f"/api/v1/tasks/{number}/progress", as_of=AS_OF)
    views["ranking"] = p.gw("/api/v1/districts", as_of=AS_OF)
    return without_dates(views)


def assert_same_views(before: dict, after: dict) -> None:
    differing = [name for name in before if before[name] != after.get(name)]
    assert not differing, "views differ: " + "; ".join(
        f"{name}:\n  before {json.dumps(before[name], ensure_ascii=False)[:1500]}\n"
        f"  after  {json.dumps(after.get(name), ensure_ascii=False)[:1500]}"
        for name in differing
    )


def education_of(summary: dict) -> dict:
    return next(c for c in summary["campaigns"] if c["campaign"] == "education")


# ---- 1. a value approved in the service shows up in the gateway ----------------------------------


def test_an_approved_report_reaches_the_district_and_city_views(platform: Platform):
    p = platform
    district_before = education_of(p.gw("/api/v1/districts/370303/summary"))
    city_before = education_of(p.gw("/api/v1/city/summary"))

    zhangdian = p.approved("T002-1", "370303", "2022-06", 4)
    city = p.approved("T002-1", "370300", "2023-03", 25)
    approved_at = time.monotonic()

    district = wait_until(
        lambda: (a := p.progress("T002-1", "370303")) and a["current_value"] == 4 and a,
        10,
        message="Zhangdian's T002-1 = 4 in the gateway",
    )
    # The city rolls up Zhangdian's 2022-06 (4) and takes its own direct 2023-03 figure (25).
    city_answer = wait_until(
        lambda: (a := p.progress("T002-1")) and a["current_value"] == 29 and a,
        10,
        message="the city's T002-1 = 29 in the gateway",
    )
    latency = time.monotonic() - approved_at
    assert latency < 10
    assert [(s["period"], s["value"], s["basis"]) for s in district["series"]] == [("2022-06", 4.0, "direct")]
    assert [(s["period"], s["value"], s["basis"]) for s in city_answer["series"]] == [
        ("2022-06", 4.0, "districts"),
        ("2023-03", 25.0, "direct"),
    ]
    assert city_answer["basis"] == "mixed" and city_answer["contributors"] == ["370300", "370303"]

    # The gateway computes exactly what the service computes from its own tables.
    for unit in ("370303", "370300"):
        own = p.http.get(
            f"{p.education.url}/api/v1/indicators/T002-1/progress", params={"org_unit": unit, "as_of": AS_OF}
        ).json()
        assert p.progress("T002-1", unit, as_of=AS_OF) == own

    # The summaries count T002-1 as judged now (it was "no data" before), in the district and the city.
    def judged(before: dict, after: dict, status: str) -> bool:
        b, a = before["indicators_by_status"], after["indicators_by_status"]
        return a["no_data"] == b["no_data"] - 1 and a[status] == b[status] + 1

    wait_until(
        lambda: judged(district_before, education_of(p.gw("/api/v1/districts/370303/summary")), district["status"]),
        10,
        message="Zhangdian summary counts T002-1",
    )
    wait_until(
        lambda: judged(city_before, education_of(p.gw("/api/v1/city/summary")), city_answer["status"]),
        10,
        message="city summary counts T002-1",
    )

    p.wait_caught_up(timeout=10)
    report = p.education_consistent()
    assert report["compared"]["education"] == 2
    assert {zhangdian["id"], city["id"]} == {
        r[0] for r in query(p.gateway_db, "select report_id from official_value where indicator_code = 'T002-1'")
    }


# ---- 2. the broker is down while reports keep arriving -------------------------------------------


def test_reports_accepted_while_the_broker_is_down_all_arrive_exactly_once(platform: Platform):
    p = platform
    n = 30
    months = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]  # 2022-01 … 2024-06
    # Before the outage the gateway consumes events of the same key (hence the same partition), so its
    # position there is not 0: the empty broker that comes back must not make it skip the new records.
    early = p.approved("T002-1", "370300", "2024-12", 1)
    p.wait_caught_up(timeout=15)
    p.broker.stop()

    started = time.monotonic()
    ids = [p.approved("T002-1", "370300", month, 1)["id"] for month in months]
    accepting = time.monotonic() - started
    assert len(set(ids)) == n
    # Accepted without the broker: the events wait in the outbox (submitted + approved per report).
    assert outbox_backlog(p.education_db) >= 2 * n
    assert accepting < 30, f"{n} submissions and approvals took {accepting:.1f}s without a broker"

    # The broker comes back on the same address, empty (Tansu keeps nothing on disk).
    port = p.broker.port
    p.broker = p.group.add(LocalBroker(port, preexec_fn=die_with_parent).start())
    back = time.monotonic()

    def arrived() -> dict | None:
        answer = p.progress("T002-1", as_of=AS_OF)
        return answer if len(answer["series"]) >= n + 1 else None

    wait_until(arrived, 60, interval=0.5, message=lambda: f"{n + 1} periods in the gateway\n{p.diagnose()}")
    p.wait_caught_up(timeout=30)
    print(
        f"\nbroker outage: {n} reports accepted in {accepting:.1f}s; in the gateway "
        f"{time.monotonic() - back:.1f}s after the broker came back"
    )
    answer = p.progress("T002-1", as_of=AS_OF)
    assert [s["period"] for s in answer["series"]] == months + ["2024-12"]
    assert all(s["value"] == 1 for s in answer["series"])
    assert answer["current_value"] == n + 1
    assert scalar(p.gateway_db, "select count(*) from official_value where indicator_code = 'T002-1'") == n + 1
    # Every report is known to the gateway, once, as approved.  After the broker came back empty the consumer
    # may fetch from its stale position, skip the first records and read them after rejoining the group: a
    # report's "submitted" then arrives after its "approved" and must not turn it back into a pending one.
    assert sorted(query(p.gateway_db, "select report_id, status from report_view")) == sorted(
        (report_id, "approved") for report_id in [early["id"], *ids]
    )
    assert answer["pending"] == []
    report = p.education_consistent()
    assert report["compared"]["education"] == n + 1


# ---- 3. a redelivered event changes nothing -------------------------------------------------------


def produce(bootstrap_servers: str, records: list[tuple[str, str, str]]) -> None:
    """(topic, key, payload) records, as the relay sends them."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=False)
        await producer.start()
        try:
            for topic, key, payload in records:
                await producer.send_and_wait(
                    topic,
                    payload.encode(),
                    key=key.encode(),
                    headers=[("content-type", STRUCTURED_CONTENT_TYPE.encode())],
                )
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(send(), timeout=30))


def test_the_same_event_delivered_again_changes_nothing(platform: Platform):
    p = platform
    first = p.approved("T002-1", "370303", "2022-06", 4)
    revised = p.submit("T002-1", "370303", "2022-06", 6)  # a revision, approved: the official value becomes 6
    p.approve(revised["id"])
    p.approved("T002-1", "370300", "2023-03", 25)
    p.wait_caught_up(timeout=15)

    tables = {
        "report_view": "select * from report_view order by campaign, report_id",
        "official_value": "select * from official_value order by indicator_code, org_unit_code, period",
        "indicator_progress_view": "select indicator_code, org_unit_code, status, status_since, payload "
        "from indicator_progress_view order by 1, 2",
        "processed_event": "select event_id, received_at from processed_event order by event_id",
    }
    rows_before = {name: query(p.gateway_db, sql) for name, sql in tables.items()}
    views_before = gateway_views(p)
    assert views_before["T002-1@370303"]["current_value"] == 6

    def consumed(outcome: str) -> float:
        return p.gateway.metric("minsheng_events_consumed_total", process="gateway", outcome=outcome)

    duplicates_before, applied_before = consumed("duplicate"), consumed("applied")

    # Real events, exactly as the relay published them: the first revision's "submitted" and "approved"
    # (re-applied, they would turn the official 6 back into 4) and the latest approval.
    events = query(
        p.education_db,
        "select topic, key, payload, type from outbox_event where published_at is not null "
        "and type like 'minsheng.report.%' order by id",
    )
    wanted = [e for e in events if json.loads(e[2])["data"]["report"]["report_id"] == first["id"]] + [events[-1]]
    assert [e[3] for e in wanted] == [
        "minsheng.report.submitted.v1",
        "minsheng.report.approved.v1",
        "minsheng.report.approved.v1",
    ]
    records = [(topic, key, payload) for topic, key, payload, _ in wanted]
    produce(p.broker.bootstrap_servers, records * 2)  # each one twice more

    wait_until(
        lambda: consumed("duplicate") >= duplicates_before + 2 * len(records),
        15,
        message="the gateway received the redelivered records and skipped them as duplicates",
    )
    time.sleep(0.5)  # nothing else is in flight; give a wrongly applied record time to show
    assert consumed("applied") == applied_before  # received, recognised, not applied again
    assert {name: query(p.gateway_db, sql) for name, sql in tables.items()} == rows_before
    assert_same_views(views_before, gateway_views(p))
    p.education_consistent()


# ---- 4. the gateway loses its database (and the broker its topics) --------------------------------


def build_history(p: Platform) -> None:
    """Approved values across districts, a revision, a return, a pending report, a ratio, a task status."""
    p.approved("T002-1", "370303", "2022-06", 4)
    p.approved("T002-1", "370302", "2022", 3)
    p.approved("T002-1", "370300", "2023-03", 25)
    p.approve(p.submit("T002-1", "370303", "2022-06", 5)["id"])  # revision 2 replaces 4
    p.approved("T002-2", "370300", "2022", 300)
    p.approved("T002-3", "370302", "2022", None, numerator=30, denominator=100)
    p.approved("T002-3", "370303", "2022", None, numerator=90, denominator=200)
    returned = p.submit("T002-2", "370303", "2023", 40)
    response = p.http.post(
        f"{p.education.url}/api/v1/reports/{returned['id']}/return", headers=CITY, json={"reason": "数据口径不一致"}
    )
    assert response.status_code == 200, response.text
    p.submit("T002-1", "370300", "2023-06", 7)  # pending: shown, not counted
    response = p.http.post(
        f"{p.education.url}/api/v1/task-status",
        headers=EDU_BUREAU,
        json={
            "task": 6,
            "org_unit": "370300",
            "period": "2022Q4",
            "state": "blocked",
            "narrative": "合作院校协议尚未签署",
            "problems": "经费未落实",
        },
    )
    assert response.status_code == 201, response.text


def test_a_wiped_gateway_rebuilds_identical_views_from_the_topics_or_from_a_republish(platform: Platform):
    p = platform
    build_history(p)
    p.wait_caught_up(timeout=20)
    before = gateway_views(p)
    own = p.http.get(f"{p.education.url}/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json()
    assert before["T002-1@370300"] == without_dates(own) and own["current_value"] and own["pending"]
    assert before["task 6"]["status"] == "behind"
    consistency_before = p.education_consistent()

    # (a) The gateway dies and its database is gone; the broker still has every event.
    p.restart_gateway_on_fresh_database()
    p.wait_caught_up(timeout=30)
    assert_same_views(before, gateway_views(p))
    assert p.education_consistent()["compared"] == consistency_before["compared"]

    # (b) The broker lost everything too: the service republishes its state on request.
    p.replace_broker_with_an_empty_one()
    p.restart_gateway_on_fresh_database()
    mark = max_outbox_id(p.education_db)
    response = p.http.post(f"{p.education.url}/api/v1/events/republish", headers=CITY)
    assert response.status_code == 200, response.text
    assert response.json() == {"snapshots": 7, "task_statuses": 1, "task_states": 0, "catalog": 1}  # 7 series
    p.wait_caught_up(timeout=45, after_outbox_id=mark)
    assert_same_views(before, gateway_views(p))
    assert p.education_consistent()["compared"] == consistency_before["compared"]


# ---- 5. the service is killed under load ----------------------------------------------------------


def test_every_acknowledged_report_survives_a_sigkill_and_is_published(platform: Platform):
    p = platform
    rows = [
        {"indicator": "T002-1", "org_unit": unit, "period": f"{year}-{month:02d}", "value": month}
        for unit in ("370300", "370302", "370303")
        for year in (2022, 2023, 2024)
        for month in range(1, 13)
    ][:100]
    acknowledged: dict[int, dict] = {}
    failures: list[str] = []
    done = threading.Semaphore(0)
    lock = threading.Lock()
    client = httpx.Client(timeout=15.0, limits=httpx.Limits(max_connections=16))

    def submit(row: dict) -> None:
        try:
            response = client.post(f"{p.education.url}/api/v1/reports", json=row, headers=EDU_BUREAU)
            with lock:
                if response.status_code == 201:
                    acknowledged[response.json()["id"]] = row
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")
        except httpx.HTTPError as exc:  # the process died under the request: not acknowledged
            with lock:
                failures.append(repr(exc))
        finally:
            done.release()

    with ThreadPoolExecutor(max_workers=12) as pool:
        for row in rows:
            pool.submit(submit, row)
        for _ in range(30):  # kill once about a third have been answered, with more in flight
            assert done.acquire(timeout=60), "the service stopped answering before the kill"
        p.education.kill()
    client.close()

    assert 30 <= len(acknowledged) < len(rows), (len(acknowledged), failures[:5])
    assert all("Error" in f or "Exception" in f for f in failures), failures[:5]  # only transport errors
    committed = scalar(p.education_db, "select count(*) from report")

    print(
        f"\nSIGKILL under load: {len(acknowledged)} of {len(rows)} acknowledged, {committed} committed, "
        f"{len(failures)} cut off"
    )
    p.education.start().wait_ready(timeout=60)

    # Durable: every acknowledged report is in the service, as sent.
    for report_id, row in acknowledged.items():
        answer = p.http.get(f"{p.education.url}/api/v1/reports/{report_id}", headers=VIEWER)
        assert answer.status_code == 200, (report_id, answer.text)
        got = answer.json()
        assert (got["indicator"], got["org_unit"], got["period"], got["value"], got["status"]) == (
            row["indicator"],
            row["org_unit"],
            row["period"],
            row["value"],
            "submitted",
        )
    assert committed >= len(acknowledged)  # requests cut off after their commit may exist too, unacknowledged

    # Published: the outbox drains and the gateway has heard of every acknowledged report.
    p.wait_caught_up(timeout=30)
    known = {r[0] for r in query(p.gateway_db, "select report_id from report_view where campaign = 'education'")}
    assert set(acknowledged) <= known
    assert len(known) == committed

    # Approve everything now in the service; the official figures of service and gateway agree.
    pending = p.http.get(
        f"{p.education.url}/api/v1/reports", headers=VIEWER, params={"status": "submitted", "limit": 500}
    ).json()
    assert pending["count"] == committed
    for report in pending["data"]:
        p.approve(report["id"])
    p.wait_caught_up(timeout=30)
    report = p.education_consistent()
    assert report["compared"]["education"] == committed
    assert scalar(p.gateway_db, "select count(*) from official_value") == committed


# ---- bugs found on the way ------------------------------------------------------------------------


def outbox_records(p: Platform, *types: str) -> list[tuple[str, str, str, str, str]]:
    """(topic, key, payload, type, event_id) of the service's outbox rows of these types, in order."""
    rows = query(p.education_db, "select topic, key, payload, type, event_id from outbox_event order by id")
    return [r for r in rows if r[3] in types]


def test_an_earlier_state_delivered_after_a_later_one_does_not_undo_an_approval(platform: Platform):
    """Found by test 2: after the broker came back empty, the gateway's consumer fetched a partition from
    its stale in-memory position, skipped the first records and read them after rejoining the group, so a
    report's "submitted" was folded after its "approved" and the approved report showed as pending again.
    Fixed meanwhile by the fold's rule `NEWER_STATE_WINS` (an older state never overwrites a newer one);
    this replays that exact delivery sequence deterministically."""
    p = platform
    report = p.approved("T002-1", "370300", "2022-06", 5)
    p.wait_caught_up(timeout=15)
    submitted, approved = [
        r
        for r in outbox_records(p, "minsheng.report.submitted.v1", "minsheng.report.approved.v1")
        if json.loads(r[2])["data"]["report"]["report_id"] == report["id"]
    ]

    # The sequence the gateway received in the broker-outage run: the approval (fetched from a stale
    # position past the submission), then, after rejoining the group, the partition from its beginning.
    p.fresh_gateway_on_an_empty_broker()
    produce(p.broker.bootstrap_servers, [approved[:3]])
    wait_until(lambda: approved[4] in processed_ids(p.gateway_db), 30, message="the approval folded")
    produce(p.broker.bootstrap_servers, [submitted[:3], approved[:3]])
    wait_until(lambda: submitted[4] in processed_ids(p.gateway_db), 30, message="the submission folded")

    assert p.progress("T002-1")["current_value"] == 5
    assert query(p.gateway_db, "select status from report_view") == [("approved",)]
    assert p.progress("T002-1")["pending"] == []  # the approved report is listed as waiting for review


def test_reports_folded_before_their_catalog_still_count_in_the_summaries(platform: Platform):
    p = platform
    p.approved("T002-1", "370300", "2022", 60)
    p.wait_caught_up(timeout=15)
    before = without_dates(p.gw("/api/v1/city/summary"))
    reports = outbox_records(p, "minsheng.report.submitted.v1", "minsheng.report.approved.v1")
    (catalog,) = outbox_records(p, "minsheng.catalog.published.v1")

    # A fresh gateway that cannot reach the service over HTTP learns the catalog from the topic only.
    # Events of different keys sit on different partitions, with no order between them: here the
    # report events are folded first, the catalog event after them.
    p.fresh_gateway_on_an_empty_broker(education_reachable=False)
    produce(p.broker.bootstrap_servers, [r[:3] for r in reports])
    wait_until(
        lambda: scalar(p.gateway_db, "select count(*) from official_value") == 1, 30, message="the report folded"
    )
    produce(p.broker.bootstrap_servers, [catalog[:3]])
    wait_until(lambda: catalog[4] in processed_ids(p.gateway_db), 30, message="the catalog folded")

    assert p.progress("T002-1")["current_value"] == 60  # computed live from the official values: right
    assert without_dates(p.gw("/api/v1/city/summary")) == before  # from the stored progress rows: T002-1 missing
