"""Load generators (asyncio; the HTTP client of `bench/client.py`, raw by default, httpx on request).
Each runs in its own spawned process (`in_subprocess`), so the client never shares an interpreter, or
a GIL, with the benchmark's orchestration.

- `closed_loop`: N concurrent clients, each sending its next request as soon as the previous one
  returns: the server's maximum rate at that concurrency (benchmark a).
- `steady_pipeline`: submit-and-approve at a fixed rate (an open loop: requests are sent on
  schedule whether or not the previous ones returned), while watching when each approved value
  becomes visible in the gateway (benchmark b).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.client import make_client
from bench.infra import CITY_OFFICE, EDU_BUREAU, latency_summary


def run_loop(coroutine: Any) -> Any:
    """Run a load generator's coroutine on uvloop, the event loop the servers run on (uvicorn picks it
    when installed): the generator shares the machine with what it measures, so the less CPU it needs
    per request, the less it takes from them."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows: asyncio's own loop
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def in_subprocess(fn, /, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN001
    """Run `fn(*args, **kwargs)` in a fresh spawned process and return its (picklable) result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args, **kwargs).result()


# ---- (a) closed loop ----------------------------------------------------------------------------


def closed_loop(
    base_url: str,
    path: str,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    headers: dict[str, str] | None = None,
    seed: int = 1,
    client: str = "raw",
) -> dict:
    """POST report bodies (`data.ReportStream`) as fast as `concurrency` clients can; counts the
    responses completed inside the measuring window (after `warmup` seconds)."""
    return run_loop(_closed_loop(base_url, path, concurrency, warmup, duration, headers or {}, seed, client))


async def _closed_loop(
    base_url: str,
    path: str,
    concurrency: int,
    warmup: float,
    duration: float,
    headers: dict[str, str],
    seed: int,
    client_kind: str,
) -> dict:
    from bench.data import ReportStream

    bodies = ReportStream(seed=seed)
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    client = make_client(client_kind, base_url, concurrency)
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        window_start, window_end = start + warmup, start + warmup + duration

        async def client_loop() -> None:
            while time.perf_counter() < window_end:
                body = next(bodies)
                sent = time.perf_counter()
                try:
                    response = await client.post(path, json=body, headers=headers)
                    outcome = str(response.status_code)
                except Exception as exc:  # noqa: BLE001 - a failed request is counted, not fatal
                    outcome = type(exc).__name__
                done = time.perf_counter()
                if window_start <= done <= window_end:  # throughput: completions inside the window
                    statuses[outcome] += 1
                    if outcome == "201":
                        latencies.append(done - sent)

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    finally:
        await client.aclose()
    accepted = statuses.get("201", 0)
    client_cores = (time.process_time() - cpu_start) / (time.perf_counter() - start)
    return {
        "client": client_kind,
        "client_cpu_cores": round(client_cores, 2),
        "concurrency": concurrency,
        "window_s": duration,
        "accepted": accepted,
        "rate_per_s": accepted / duration,
        "statuses": dict(statuses),
        "latency": latency_summary(latencies),
    }


# ---- (b) steady submit-and-approve --------------------------------------------------------------

WATCH_INTERVAL = 0.02  # how often the database watcher looks (its resolution)
PROBE_TIMEOUT = 20.0  # a probe still waiting after this counts as not visible

VISIBLE_SQL = """
SELECT o.indicator_code, o.org_unit_code, o.period, o.revision
FROM official_value o
JOIN unnest(%s::text[], %s::text[], %s::text[]) AS k(i, u, p)
  ON o.indicator_code = k.i AND o.org_unit_code = k.u AND o.period = k.p
"""


def steady_pipeline(
    service_url: str,
    gateway_url: str,
    gateway_dsn: str,
    *,
    rate: float,
    warmup: float,
    duration: float,
    probes_per_second: float,
    drain_timeout: float,
    max_inflight: int = 64,
    client: str = "raw",
) -> dict:
    """Submit and approve at `rate` for `warmup` + `duration` seconds; figures cover the window after
    the warm-up (the approvals made in it, and how long each took to become visible).

    At most `max_inflight` reports are in flight: beyond the service's 30 database connections more
    would only queue (and fail after the pool's 30 s timeout), so a slot that finds the cap reached
    is skipped and counted — the rate is then not sustained."""
    return run_loop(
        _steady(
            service_url,
            gateway_url,
            gateway_dsn,
            rate,
            warmup,
            duration,
            probes_per_second,
            drain_timeout,
            max_inflight,
            client,
        )
    )


def _probe_interval(elapsed: float) -> float:
    # Poll every 10 ms at first, then back off to ~10 % of the time waited so far: the resolution
    # stays within 10 % while a lagging gateway is not buried under its own probes.
    return min(0.2, max(0.01, elapsed / 10))


async def _steady(
    service_url: str,
    gateway_url: str,
    gateway_dsn: str,
    rate: float,
    warmup: float,
    duration: float,
    probes_per_second: float,
    drain_timeout: float,
    max_inflight: int,
    client_kind: str,
) -> dict:
    import psycopg

    from bench.data import PROBE_INDICATOR, ProbeStream, ReportStream

    bodies, probe_bodies = ReportStream(exclude=(PROBE_INDICATOR,), seed=7), ProbeStream()
    probe_every = max(1, round(rate / probes_per_second))
    service = make_client(client_kind, service_url, max_inflight)
    gateway = make_client(client_kind, gateway_url, 50)
    watch_db = await psycopg.AsyncConnection.connect(gateway_dsn, autocommit=True)

    statuses: Counter[str] = Counter()
    submit_latency: list[float] = []
    approve_latency: list[float] = []
    approved_at: list[float] = []
    probe_latency: list[tuple[float, float]] = []  # (approved at, seconds until the gateway showed it)
    probe_timeouts = 0
    watched: dict[tuple[str, str, str], tuple[int, float]] = {}  # series → (revision, approved at)
    visible: list[tuple[float, float]] = []  # (approved at, seconds until official_value had it)
    skipped = 0
    inflight: set[asyncio.Task] = set()
    stop_watching = asyncio.Event()

    async def probe(body: dict, approved: float) -> None:
        nonlocal probe_timeouts
        path = f"/api/v1/indicators/{body['indicator']}/progress"
        while (waited := time.perf_counter() - approved) < PROBE_TIMEOUT:
            response = await gateway.get(path, params={"org_unit": body["org_unit"]})
            if response.status_code == 200 and any(
                point["period"] == body["period"] and abs(point["value"] - body["value"]) < 1e-6
                for point in response.json()["series"]
            ):
                probe_latency.append((approved, time.perf_counter() - approved))
                return
            await asyncio.sleep(_probe_interval(waited))
        probe_timeouts += 1

    async def submit_and_approve(index: int) -> None:
        is_probe = index % probe_every == 0
        body = next(probe_bodies) if is_probe else next(bodies)
        sent = time.perf_counter()
        try:
            response = await service.post("/api/v1/reports", json=body, headers=EDU_BUREAU)
            if response.status_code != 201:
                statuses[f"submit {response.status_code}"] += 1
                return
            report = response.json()
            submitted = time.perf_counter()
            submit_latency.append(submitted - sent)
            response = await service.post(f"/api/v1/reports/{report['id']}/approve", headers=CITY_OFFICE)
        except Exception as exc:  # noqa: BLE001 - a failed request is counted, not fatal
            statuses[type(exc).__name__] += 1
            return
        approved = time.perf_counter()
        if response.status_code != 200:
            statuses[f"approve {response.status_code}"] += 1
            return
        statuses["ok"] += 1
        approve_latency.append(approved - submitted)
        approved_at.append(approved)
        watched[(body["indicator"], body["org_unit"], report["period"])] = (report["revision"], approved)
        if is_probe:
            await probe(body, approved)

    async def watch() -> None:
        """Every approved value: when did the gateway's official_value (the table its views read,
        written in the same transaction as the progress rows) first hold it?"""
        while not (stop_watching.is_set() and not watched):
            if watched:
                keys = list(watched)[:5000]
                async with watch_db.cursor() as cursor:
                    await cursor.execute(
                        VISIBLE_SQL, ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
                    )
                    rows = await cursor.fetchall()
                now = time.perf_counter()
                for indicator, unit, period, revision in rows:
                    wanted = watched.get((indicator, unit, period))
                    if wanted is not None and revision >= wanted[0]:
                        visible.append((wanted[1], now - wanted[1]))
                        del watched[(indicator, unit, period)]
            await asyncio.sleep(WATCH_INTERVAL)

    watcher = asyncio.create_task(watch())
    cpu_start = time.process_time()
    started = time.perf_counter() + 0.2
    window_start, window_end = started + warmup, started + warmup + duration
    total = int(rate * (warmup + duration))
    for index in range(total):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(inflight) >= max_inflight:
            # The service is this far behind: the rate is not being sustained.
            skipped += time.perf_counter() >= window_start
            continue
        task = asyncio.create_task(submit_and_approve(index))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    schedule_end = time.perf_counter()
    client_cores = (time.process_time() - cpu_start) / (schedule_end - started)
    if inflight:
        await asyncio.wait(list(inflight), timeout=PROBE_TIMEOUT + 60)
    # Let the gateway catch up with what was approved, for at most drain_timeout.
    drain_started = time.perf_counter()
    while watched and time.perf_counter() - drain_started < drain_timeout:
        await asyncio.sleep(0.05)
    drained_in = time.perf_counter() - drain_started
    unseen = len(watched)
    watched.clear()
    stop_watching.set()
    await watcher
    await service.aclose()
    await gateway.aclose()
    await watch_db.close()

    def trend(samples: list[tuple[float, float]]) -> dict:
        """Latency of the first and the last quarter of the window: a growing backlog shows here."""
        quarter = duration / 4
        first = [s for at, s in samples if window_start <= at < window_start + quarter]
        last = [s for at, s in samples if window_end - quarter <= at <= window_end]
        return {"first_quarter": latency_summary(first), "last_quarter": latency_summary(last)}

    def in_window(samples: list[tuple[float, float]]) -> list[float]:
        return [s for at, s in samples if window_start <= at <= window_end]

    return {
        "target_rate": rate,
        "client_cpu_cores": round(client_cores, 2),
        "warmup_s": warmup,
        "duration_s": duration,
        "scheduled": total,
        "skipped_inflight_cap": skipped,
        "schedule_overran_s": round(schedule_end - window_end, 3),
        "achieved_rate": sum(1 for t in approved_at if window_start <= t <= window_end) / duration,
        "statuses": dict(statuses),
        "submit_latency": latency_summary(submit_latency),
        "approve_latency": latency_summary(approve_latency),
        "probe_every": probe_every,
        "probe": latency_summary(in_window(probe_latency)),
        "probe_timeouts": probe_timeouts,
        "probe_trend": trend(probe_latency),
        "visible": latency_summary(in_window(visible)),
        "visible_trend": trend(visible),
        "visible_in_window_per_s": sum(1 for at, s in visible if window_start <= at + s <= window_end) / duration,
        "unseen_after_drain": unseen,
        "drained_in_s": round(drained_in, 2),
    }
