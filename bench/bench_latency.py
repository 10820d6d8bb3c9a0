"""(b) From a report approved to the gateway showing it, at a steady rate (target: 200 reports/s,
p99 ≤ 300 ms).

The pipeline is the real one: education service (PostgreSQL) → its outbox → relay → Tansu → the
gateway's consumer (`projection/consumer.py`) → the gateway's read models (PostgreSQL) → gateway HTTP.
The other four campaigns are served by `bench/catalog_stub.py` (the gateway only needs their
catalogs to be ready; no event of theirs is involved).

A "report" is submit (education bureau) + approve (city office): approval is what makes a value
official.  The clock starts when the approve response arrives.  Each attempt first runs the same
load until every series the load reports has a value (9,792 series: ~49 s at 200/s, `fill_seconds`),
then measures a 60 s window: a database that holds its plan's values, not the first seconds of an
empty one.

What "the city summary reflects it" means, and the probe used:
`GET /api/v1/city/summary` shows per-indicator statuses and the campaigns' headline figures, not
one district's monthly value, and costs a whole summary per request, so polling it would measure the
poller.  The summary is read from `indicator_progress_view`, which the consumer writes in the same
transaction as `official_value` (a poll's events are applied, then `refresh` recomputes the progress
rows they made stale, then one commit).  So the moment the gateway's
`GET /api/v1/indicators/{code}/progress?org_unit=…` (computed from `official_value`) first shows the
new value in its series is the moment the summary's inputs changed too.  Probes use
an indicator the rest of the load never touches (T016-1) on a district and a month, with a unique
value, so a probe recognises its own report.  Every ~1/4 s one report of the load is such a probe.

As a second, complete view, a watcher polls the gateway's `official_value` table directly every
20 ms for EVERY approved report (cheap, no HTTP): its distribution is the lower bound of the HTTP one.

A rate counts as sustained when the approvals kept pace (≥ 95 % of the target rate, nothing dropped
at the in-flight cap, < 1 % errors), every approved value became visible, and latency did not grow
over the window (last quarter's median ≤ 2 × first quarter's + 250 ms).  If 200/s is not sustained,
the next attempt (a fresh platform: new databases, broker and processes, so no backlog carries over)
runs at 80 % of what was actually delivered end to end (at most 70 % of the failed rate); once a rate
holds, the last attempt goes halfway up towards what the failed attempt delivered (`next_rate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time

import httpx

from bench.data import PROBE_INDICATOR, ReportStream
from bench.infra import (
    CITY_OFFICE,
    EDU_BUREAU,
    BenchResult,
    CpuMeter,
    Databases,
    Outcome,
    campaign_env,
    free_port,
    gateway_env,
    latency_summary,
    print_table,
    process_env,
    psycopg_dsn,
    start_broker,
    start_uvicorn,
    wait_for_quiet,
    wait_ready,
)
from bench.loadgen import in_subprocess, steady_pipeline
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import topic_for

TARGET_RATE = 200.0
TARGET_P99_MS = 300.0
PROBES_PER_SECOND = 4.0


def wait_pipeline(service_url: str, gateway_url: str, timeout: float = 90.0) -> float:
    """One report end to end before measuring: the gateway's consumer has joined its group and the
    relay is connected.  Returns the seconds it took (the first report after start-up)."""
    body = {"indicator": PROBE_INDICATOR, "org_unit": "370302", "period": "2022-01", "value": 0.5}
    with httpx.Client(timeout=30.0) as client:
        report = client.post(f"{service_url}/api/v1/reports", json=body, headers=EDU_BUREAU)
        report.raise_for_status()
        client.post(
            f"{service_url}/api/v1/reports/{report.json()['id']}/approve", headers=CITY_OFFICE
        ).raise_for_status()
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            answer = client.get(
                f"{gateway_url}/api/v1/indicators/{PROBE_INDICATOR}/progress", params={"org_unit": "370302"}
            )
            if answer.status_code == 200 and any(p["period"] == "2022-01" for p in answer.json()["series"]):
                return time.monotonic() - started
            time.sleep(0.1)
    raise TimeoutError("the gateway never showed the first approved report")


async def send_times(bootstrap: str, topic: str) -> dict[str, dt.datetime]:
    """Event id → the record's CreateTime: when the relay handed it to the producer (`send`)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, dt.datetime] = {}
    try:
        partitions = [
            TopicPartition(topic, p)
            for p in (await consumer._client.fetch_all_metadata())  # noqa: SLF001
            .partitions_for_topic(topic)
            or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in records:
                    found[json.loads(record.value)["id"]] = dt.datetime.fromtimestamp(record.timestamp / 1000, dt.UTC)
    finally:
        await consumer.stop()
    return found


def stage_breakdown(education_db: str, gateway_db: str, bootstrap: str, last_seconds: float) -> dict:
    """Where an approval's time goes, from timestamps the platform itself records (same clock, one
    machine), over every approved event of the attempt:
    - relay: outbox row written (`outbox_event.created_at`) → handed to the broker (the Kafka
      record's CreateTime; `published_at` is only stamped after the whole claimed batch was acked);
    - consume: handed to the broker → the gateway's consumer began folding it
      (`processed_event.received_at`, stamped at the start of the fold's transaction).
    Only the events of the measured window: the last `last_seconds` of outbox rows."""
    import psycopg

    with psycopg.connect(psycopg_dsn(education_db)) as connection:
        created = dict(
            connection.execute(
                "SELECT event_id, created_at FROM outbox_event WHERE type = %s", ("minsheng.report.approved.v1",)
            )
        )
    with psycopg.connect(psycopg_dsn(gateway_db)) as connection:
        received = dict(connection.execute("SELECT event_id, received_at FROM processed_event"))
    if created:
        since = max(created.values()) - dt.timedelta(seconds=last_seconds)
        created = {event: at for event, at in created.items() if at >= since}
    sent = asyncio.run(send_times(bootstrap, topic_for("education")))
    relay = [(sent[e] - at).total_seconds() for e, at in created.items() if e in sent]
    consume = [(received[e] - sent[e]).total_seconds() for e in created if e in sent and e in received]
    return {"outbox_to_broker": latency_summary(relay), "broker_to_gateway_fold": latency_summary(consume)}


def fill_seconds(rate: float) -> float:
    """How long the load takes, at `rate`, to give every series it reports a value (after that,
    every report is a revision of a series the views already hold)."""
    return len(ReportStream(exclude=(PROBE_INDICATOR,)).space) / rate


def attempt(rate: float, quick: bool, client: str = "raw") -> dict:
    # The warm-up fills the database first: the city's databases hold three years of values, and
    # the fold's and the status check's costs grow with the values of an indicator until its series
    # are full.  Measured from an empty database (a 3 s warm-up, as until 2026-11-27), the window saw
    # the first quarter of that growth only, and p99 at 200/s read 141-154 ms where the same load
    # settled at ~600-800 ms a minute later.
    # 60 s, not 25: on this machine latency still creeps up after the fill (the local broker's CPU
    # grows with its topics' length: 0.12 → 0.32 cores over two minutes at 200/s), and a short
    # window would report its best part only.
    warmup, duration, drain = (1.0, 6.0, 5.0) if quick else (fill_seconds(rate), 60.0, 15.0)
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        stub = start_uvicorn(stack, "b-catalog-stub", "bench.catalog_stub:app", process_env())
        education_port, gateway_port = free_port(), free_port()
        education_db = databases.make("b_education")
        education = start_uvicorn(
            stack,
            "b-education",
            "minsheng_education.main:app",
            process_env(**campaign_env("education", education_db, broker, education_port)),
            education_port,
        )
        gateway_db = databases.make("b_gateway")
        urls = {code: f"{stub.url}/{code}" for code in CAMPAIGN_CODES}
        urls["education"] = education.url
        gateway = start_uvicorn(
            stack,
            "b-gateway",
            "minsheng_gateway.main:app",
            process_env(**gateway_env(gateway_db, broker, gateway_port, urls)),
            gateway_port,
        )
        wait_ready(stub, "/healthz")
        wait_ready(education)
        wait_ready(gateway)
        first = wait_pipeline(education.url, gateway.url)
        with CpuMeter(
            {"education": education.process.pid, "gateway": gateway.process.pid, "broker": broker.process.pid}
        ) as cpu:
            result = in_subprocess(
                steady_pipeline,
                education.url,
                gateway.url,
                psycopg_dsn(gateway_db),
                rate=rate,
                warmup=warmup,
                duration=duration,
                probes_per_second=PROBES_PER_SECOND,
                drain_timeout=drain,
                client=client,
            )
        result["stages"] = stage_breakdown(education_db, gateway_db, broker.bootstrap_servers, last_seconds=duration)
        result["freshness"] = freshness_from_metrics(gateway.url)
    result["first_report_visible_s"] = round(first, 2)
    result["cpu_cores"] = cpu.cores
    result["sustained"], result["why_not"] = judge(result)
    return result


def freshness_from_metrics(gateway_url: str, campaign: str = "education") -> dict:
    """The gateway's own freshness SLI (`minsheng_view_freshness_seconds`: event created → its fold
    committed), read from its /metrics as an operator's Prometheus would: p50 and p99 interpolated in the
    histogram's buckets, over the whole attempt (warm-up included)."""
    text = httpx.get(f"{gateway_url}/metrics", timeout=10).text
    buckets = []
    for line in text.splitlines():
        if line.startswith("minsheng_view_freshness_seconds_bucket{") and f'campaign="{campaign}"' in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0

    def quantile(q: float) -> float | None:
        if not total:
            return None
        rank, lower, below = q * total, 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if bound == float("inf"):
                    return round(lower * 1000, 1)  # beyond the last bucket: its lower edge
                share = (rank - below) / (count - below) if count > below else 1.0
                return round((lower + (bound - lower) * share) * 1000, 1)
            lower, below = bound, count
        return None

    return {"events": int(total), "p50_ms": quantile(0.50), "p99_ms": quantile(0.99)}


def judge(result: dict) -> tuple[bool, list[str]]:
    why = []
    if result["achieved_rate"] < 0.95 * result["target_rate"]:
        why.append(f"approvals {result['achieved_rate']:.0f}/s < 95 % of {result['target_rate']:.0f}/s")
    if result["skipped_inflight_cap"]:
        why.append(f"{result['skipped_inflight_cap']} reports dropped at the in-flight cap")
    errors = sum(n for status, n in result["statuses"].items() if status != "ok")
    if errors > 0.01 * max(1, result["scheduled"]):
        why.append(f"{errors} errors {result['statuses']}")
    if result["unseen_after_drain"] or result["probe_timeouts"]:
        why.append(
            f"{result['unseen_after_drain']} approved values not visible {result['drained_in_s']} s after "
            f"the load stopped"
        )
    first, last = result["visible_trend"]["first_quarter"]["p50_ms"], result["visible_trend"]["last_quarter"]["p50_ms"]
    if first is not None and last is not None and last > 2 * first + 250:
        why.append(f"latency growing: median {first:.0f} ms → {last:.0f} ms over the window")
    return not why, why


def next_rate(attempts: list[dict]) -> float | None:
    """The next rate to try, or None when done.  Below the first failure: 80 % of what the platform
    delivered end to end (at most 70 % of the failed rate); once a rate holds, halfway up towards the
    lowest rate that failed (what it delivered), while that gap is worth another attempt."""
    sustained = [a["target_rate"] for a in attempts if a["sustained"]]
    delivered = [min(a["achieved_rate"], a["visible_in_window_per_s"]) for a in attempts if not a["sustained"]]
    if not sustained:
        last = attempts[-1]
        return max(1.0, round(min(0.8 * delivered[-1], 0.7 * last["target_rate"])))
    best, ceiling = max(sustained), min(delivered, default=None)
    if ceiling is None or ceiling <= 1.15 * best:
        return None
    return round((best + ceiling) / 2)


def run(quick: bool, client: str = "raw") -> BenchResult:
    max_attempts = 1 if quick else 3  # quick: one attempt at the target rate
    print(
        f"(b) approve → gateway latency at a steady rate (target {TARGET_RATE:.0f}/s, p99 ≤ {TARGET_P99_MS:.0f} ms)",
        flush=True,
    )
    attempts: list[dict] = []
    rate: float | None = TARGET_RATE
    while rate is not None and len(attempts) < max_attempts:
        # Each attempt lasts ~2 min at 200/s: other load arriving in between would be measured as latency.
        background = wait_for_quiet(0.0 if quick else 30.0)
        print(f"  attempt at {rate:.0f} reports/s (fresh platform) …", flush=True)
        result = attempt(rate, quick, client)
        result["background_load_cores"] = background
        attempts.append(result)
        status = "sustained" if result["sustained"] else "NOT sustained: " + "; ".join(result["why_not"])
        print(
            f"    achieved {result['achieved_rate']:.1f}/s, gateway p99 {result['probe']['p99_ms']} ms "
            f"(all reports: p99 {result['visible']['p99_ms']} ms) — {status}",
            flush=True,
        )
        if result["sustained"] and rate >= TARGET_RATE:
            if (result["probe"]["p99_ms"] or 1e9) <= TARGET_P99_MS or len(attempts) > 1:
                break
            rate = round(0.7 * rate)  # held, but slower than the target: one attempt lower, for the note
            continue
        rate = next_rate(attempts)

    rows = []
    for a in attempts:
        rows.append(
            [
                f"{a['target_rate']:.0f}",
                f"{a['achieved_rate']:.1f}",
                "yes" if a["sustained"] else "no",
                a["probe"]["n"],
                a["probe"]["p50_ms"],
                a["probe"]["p99_ms"],
                a["visible"]["n"],
                a["visible"]["p50_ms"],
                a["visible"]["p99_ms"],
                a["approve_latency"]["p99_ms"],
                a["cpu_cores"]["education"],
                a["cpu_cores"]["gateway"],
                a["cpu_cores"]["postgresql"],
            ]
        )
    print_table(
        [
            "target/s",
            "achieved/s",
            "sustained",
            "probes",
            "HTTP p50",
            "HTTP p99",
            "all",
            "DB p50",
            "DB p99",
            "approve p99",
            "edu cores",
            "gw cores",
            "PG cores",
        ],
        rows,
    )
    print(
        "  HTTP = gateway GET /api/v1/indicators/T016-1/progress shows the value; DB = gateway official_value "
        "holds it (every report). ms after the approve response.",
        flush=True,
    )
    print_table(
        ["target/s", "outbox→broker p50", "p99", "broker→gateway fold p50", "p99"],
        [
            [
                f"{a['target_rate']:.0f}",
                a["stages"]["outbox_to_broker"]["p50_ms"],
                a["stages"]["outbox_to_broker"]["p99_ms"],
                a["stages"]["broker_to_gateway_fold"]["p50_ms"],
                a["stages"]["broker_to_gateway_fold"]["p99_ms"],
            ]
            for a in attempts
        ],
    )
    print(
        "  stages of the approved events (education outbox_event.created_at → Kafka record CreateTime → gateway "
        "processed_event.received_at), ms\n",
        flush=True,
    )

    print_table(
        ["target/s", "events", "freshness p50 ms", "p99 ms"],
        [
            [f"{a['target_rate']:.0f}", a["freshness"]["events"], a["freshness"]["p50_ms"], a["freshness"]["p99_ms"]]
            for a in attempts
        ],
    )
    print(
        "  the gateway's freshness histogram (minsheng_view_freshness_seconds, event created in the service → "
        "fold committed) read from its /metrics after the attempt, warm-up included\n",
        flush=True,
    )

    result = BenchResult("latency", data={"attempts": attempts})
    at_target = attempts[0]
    best = max((a for a in attempts if a["sustained"]), key=lambda a: a["target_rate"], default=None)
    if at_target["sustained"]:
        met = (at_target["probe"]["p99_ms"] or 1e9) <= TARGET_P99_MS
        figure = (
            f"p50 {at_target['probe']['p50_ms']} ms, p99 {at_target['probe']['p99_ms']} ms "
            f"at {at_target['achieved_rate']:.0f}/s"
        )
        for lower in attempts[1:]:
            figure += (
                f"; at {lower['achieved_rate']:.0f}/s: p50 {lower['probe']['p50_ms']} ms, "
                f"p99 {lower['probe']['p99_ms']} ms"
            )
        result.outcomes.append(Outcome("(b) approve→gateway p99 @200/s", figure, "p99 ≤ 300 ms at 200/s", met))
    else:
        figure = f"200/s not sustained (got {at_target['achieved_rate']:.0f}/s approved)"
        if best is not None:
            figure += (
                f"; at {best['achieved_rate']:.0f}/s: p50 {best['probe']['p50_ms']} ms, "
                f"p99 {best['probe']['p99_ms']} ms"
            )
        else:
            lowest = attempts[-1]
            figure += (
                f"; nor was any lower rate tried — at {lowest['achieved_rate']:.0f}/s: "
                f"p50 {lowest['probe']['p50_ms']} ms, p99 {lowest['probe']['p99_ms']} ms"
            )
        result.outcomes.append(Outcome("(b) approve→gateway p99 @200/s", figure, "p99 ≤ 300 ms at 200/s", False))
    return result
