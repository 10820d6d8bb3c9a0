"""(c) `GET /api/v1/city/summary` with 10 thousand and with 1 million reports stored (target: p99 grows
≤ 1.5× from the small to the large store).

For each size, a fresh gateway database is migrated, given the five catalogs (`apply_catalog`, as the
gateway's catalog sync does) and seeded directly: `report_view` (every revision) and `official_value`
(the latest approved revision per series) by COPY, spread over the catalog's 138 indicators, the 12
org units and the 51 periods 2022-01..2024 (see `data.seed_views`), then ANALYZE as autovacuum would.
`indicator_progress_view` is computed by the product's own `fold.refresh` for every indicator × org
unit that has data, as the consumer would have left it.  Then a gateway process starts on each.

Interleaved rounds: the machine's speed drifts within minutes, so the two sizes are not measured one
after the other but in turns, a quarter of the requests per turn, with only the gateway under test
running (the other stopped with SIGSTOP); each figure is the percentile over all its rounds' requests.

Three states are measured, because the summary uses a stored answer only if it is today's
(`summaries/service.py: statuses_for_unit`):
- warm: rows computed today — the summary reads the stored statuses and, from the headline
  indicators' stored answers, their headline figures.  Most of every day.
- midnight: the city's rows were computed yesterday, and in the hour before midnight each row's
  answer for today was stored beside it (`projection/ahead.py: store_answers_ahead`, run here untimed) —
  a new day's first minute, before the refresher's first run of the day.  The summary reads the
  answers stored ahead as it reads today's.
- cold: the city's rows were computed yesterday and nothing was stored ahead — the first minute
  after a gateway that was down at midnight starts again, and what every new day's first minute
  would be without answers ahead.  The request computes all 138 indicators for today from the inputs
  stored with each row (`ProgressInputs`: the rolled-up series), without reading `official_value` or
  `report_view`, and stores nothing.  Reported beside the target, not judged by it: it lasts one
  refresher interval after such a restart.
The city's rows are marked "yesterday" before each cold and midnight request (untimed), and the
gateways run with their refresher held off (`GATEWAY_PROGRESS_REFRESH_SECONDS`): it would otherwise
renew those rows every minute, a once-a-day run landing in any state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable

import httpx
import psycopg

from bench.data import OFFICIAL_COLUMNS, REPORT_VIEW_COLUMNS, catalogs, seed_views
from bench.infra import (
    BenchResult,
    Databases,
    Outcome,
    free_port,
    gateway_env,
    latency_summary,
    print_table,
    process_env,
    psycopg_dsn,
    running_alone,
    start_broker,
    start_uvicorn,
    wait_ready,
    wait_settled,
)
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.clock import today_in_china
from minsheng.orgunits import CITY_CODE

TARGET_RATIO = 1.5
SUMMARY = "/api/v1/city/summary"
STATES = ("cold", "midnight", "warm")
JUDGED = ("warm", "midnight")  # the states a running gateway is in; cold follows a restart across midnight
ROUNDS = 4


def seed(url: str, reports: int) -> dict:
    """Migrate, load the catalogs, COPY the read models, compute the progress rows. Returns facts."""
    from minsheng.catalog.loader import apply_catalog
    from minsheng.catalog.snapshot import CatalogCache
    from minsheng.clock import today_in_china
    from minsheng.db import Database
    from minsheng.db.migrations import upgrade_to_head
    from minsheng.progress.model import Thresholds
    from minsheng_gateway.migration_plan import migration_plan
    from minsheng_gateway.projection.progress import StaleProgress, refresh
    from minsheng_gateway.settings import GatewaySettings

    timings = {}
    started = time.perf_counter()
    upgrade_to_head(migration_plan, url)
    database, catalog = Database(url), CatalogCache()
    with database.session() as session:
        for doc in catalogs().values():
            apply_catalog(session=session, doc=doc, catalog=catalog)
        session.commit()
    timings["migrate_and_catalog_s"] = time.perf_counter() - started

    started = time.perf_counter()
    views = seed_views(reports)
    timings["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(psycopg_dsn(url), autocommit=True) as connection:
        for table, columns, buffer in (
            ("report_view", REPORT_VIEW_COLUMNS, views.report_view),
            ("official_value", OFFICIAL_COLUMNS, views.official_value),
        ):
            with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
        connection.execute("ANALYZE")
    timings["copy_s"] = time.perf_counter() - started

    started = time.perf_counter()
    with database.session() as session:
        stale = StaleProgress(series=set(views.pairs))
        refreshed = refresh(session, stale, Thresholds.from_settings(GatewaySettings()), catalog, today_in_china())
        session.commit()
    timings["refresh_s"] = time.perf_counter() - started
    database.dispose()
    return {
        "reports": views.reports,
        "series": views.series,
        "official_values": views.official,
        "pending": views.pending,
        "max_revisions_per_series": views.max_revisions,
        "progress_rows": refreshed,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }


def measure(
    client: httpx.Client,
    url: str,
    count: int,
    budget: float,
    warmup: int,
    before_each: Callable[[], None] = lambda: None,
) -> list[float]:
    """Sequential requests (one client, no concurrency): the latency a user sees, not a throughput.
    `before_each` runs before every request, outside the timing.  Returns each request's seconds."""
    for _ in range(warmup):
        before_each()
        client.get(url).raise_for_status()
    latencies: list[float] = []
    started = time.perf_counter()
    while len(latencies) < count and time.perf_counter() - started < budget:
        before_each()
        sent = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - sent)
        response.raise_for_status()
    return latencies


class CityRows:
    """Marks the city's stored progress rows as computed yesterday (cold, midnight) or today (warm),
    and stores or clears their answers ahead (midnight)."""

    def __init__(self, url: str):
        self.url = url
        self.connection = psycopg.connect(psycopg_dsn(url), autocommit=True)

    def computed_on(self, day: dt.date) -> None:
        self.connection.execute(
            "UPDATE indicator_progress_view SET computed_on = %s WHERE org_unit_code = %s", (day, CITY_CODE)
        )

    def store_answers_ahead(self, day: dt.date) -> int:
        """The product's own function, as the refresher runs it before midnight (only the city's rows are due)."""
        from minsheng.catalog.snapshot import CatalogCache
        from minsheng.db import Database
        from minsheng.progress.model import Thresholds
        from minsheng_gateway.projection.ahead import store_answers_ahead
        from minsheng_gateway.settings import GatewaySettings

        database = Database(self.url)
        try:
            return store_answers_ahead(database, CatalogCache(), day, Thresholds.from_settings(GatewaySettings()))
        finally:
            database.dispose()

    def clear_answers_ahead(self) -> None:
        self.connection.execute(
            "UPDATE indicator_progress_view SET next_on = NULL, next_status = NULL, "
            "next_payload = NULL WHERE next_on IS NOT NULL"
        )

    def vacuum(self) -> None:
        """The cold state's marking rewrites the city's rows before every request, thousands of dead
        row versions a minute that production never makes: cleared (untimed) before the warm state."""
        self.connection.execute("VACUUM (ANALYZE) indicator_progress_view")

    def close(self) -> None:
        self.connection.close()


def run(quick: bool, client: str = "raw") -> BenchResult:  # noqa: ARG001 - no load generator
    sizes = (10_000, 100_000) if quick else (10_000, 1_000_000)
    # A p99 of n requests is their (n/100)-th slowest: 600 warm requests (25 ms each) so that a couple of
    # stray pauses do not make the figure; cold ones cost four times as much, 200 of them.
    counts, budgets = (
        ({"cold": 20, "midnight": 20, "warm": 20}, {"cold": 4.0, "midnight": 4.0, "warm": 4.0})
        if quick
        else ({"cold": 200, "midnight": 600, "warm": 600}, {"cold": 25.0, "midnight": 60.0, "warm": 60.0})
    )
    rounds = 1 if quick else ROUNDS
    print(
        f"(c) city summary latency with {sizes[0]:,} vs {sizes[1]:,} reports stored (up to {counts['warm']} warm, "
        f"{counts['midnight']} midnight and {counts['cold']} cold sequential requests, in {rounds} interleaved "
        f"round(s))",
        flush=True,
    )
    per_size: dict[int, dict] = {}
    latencies: dict[tuple[int, str], list[float]] = {(size, state): [] for size in sizes for state in STATES}
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        stub = start_uvicorn(stack, "c-catalog-stub", "bench.catalog_stub:app", process_env())
        wait_ready(stub, "/healthz")
        gateways, city_rows = {}, {}
        for size in sizes:
            url = databases.make(f"c_gateway_{size}")
            facts = seed(url, size)
            print(
                f"  seeded {size:,} reports: {facts['series']:,} series, {facts['official_values']:,} official "
                f"values, {facts['pending']:,} pending, {facts['progress_rows']:,} progress rows "
                f"({facts['timings_s']})",
                flush=True,
            )
            # Each gateway has a broker of its own: the consumer needs one (no events are sent), and a
            # stopped gateway must not hold up the other's consumer group.
            broker = start_broker(stack)
            port = free_port()
            # The refresher would renew the city's rows each minute, since the cold state marks them as of
            # yesterday before every request: a once-a-day run, made every minute, landing in either
            # state.  Both states are the gateway between its refresher's runs, so it runs not at all.
            gateways[size] = start_uvicorn(
                stack,
                f"c-gateway-{size}",
                "minsheng_gateway.main:app",
                process_env(
                    **gateway_env(url, broker, port, {c: f"{stub.url}/{c}" for c in CAMPAIGN_CODES}),
                    GATEWAY_PROGRESS_REFRESH_SECONDS="86400",
                ),
                port,
            )
            city_rows[size] = CityRows(url)
            stack.callback(city_rows[size].close)
            per_size[size] = {"seed": facts}
        for gateway in gateways.values():
            wait_ready(gateway)
            wait_settled(gateway.process.pid)
        today = today_in_china()
        clients = {
            size: stack.enter_context(httpx.Client(base_url=gateway.url, timeout=120.0))
            for size, gateway in gateways.items()
        }
        for round_number in range(rounds):
            for size in sizes:
                others = [g for s, g in gateways.items() if s != size]
                with running_alone(gateways[size], others):
                    wait_settled(gateways[size].process.pid, max_wait=3.0)
                    if round_number == 0:
                        sent = time.perf_counter()
                        first = clients[size].get(SUMMARY)
                        per_size[size]["first_request_ms"] = round((time.perf_counter() - sent) * 1000, 1)
                        per_size[size]["response_bytes"] = len(first.content)
                        first.raise_for_status()
                    rows = city_rows[size]
                    yesterday = functools.partial(rows.computed_on, today - dt.timedelta(days=1))
                    latencies[size, "cold"] += measure(
                        clients[size],
                        SUMMARY,
                        counts["cold"] // rounds,
                        budgets["cold"] / rounds,
                        warmup=1,
                        before_each=yesterday,
                    )
                    stored = rows.store_answers_ahead(today)
                    assert stored, "no answer was stored ahead"
                    rows.vacuum()
                    latencies[size, "midnight"] += measure(
                        clients[size],
                        SUMMARY,
                        counts["midnight"] // rounds,
                        budgets["midnight"] / rounds,
                        warmup=5,
                        before_each=yesterday,
                    )
                    rows.clear_answers_ahead()
                    rows.computed_on(today)
                    rows.vacuum()
                    latencies[size, "warm"] += measure(
                        clients[size], SUMMARY, counts["warm"] // rounds, budgets["warm"] / rounds, warmup=5
                    )
    for size in sizes:
        for state in STATES:
            per_size[size][state] = latency_summary(latencies[size, state])
        print(
            f"    {size:,} reports: first request {per_size[size]['first_request_ms']:.0f} ms; "
            + "; ".join(
                f"{state} p50 {per_size[size][state]['p50_ms']} / p99 {per_size[size][state]['p99_ms']} ms "
                f"(n={per_size[size][state]['n']})"
                for state in STATES
            ),
            flush=True,
        )

    small, large = (per_size[s] for s in sizes)
    ratios = {state: (large[state]["p99_ms"] / small[state]["p99_ms"]) for state in STATES}
    shown = ("warm", "midnight", "cold")
    print_table(
        ["reports stored", "series", "first req ms"]
        + [f"{state} {what}" for state in shown for what in ("p50", "p99", "n")],
        [
            [f"{s:,}", f"{per_size[s]['seed']['series']:,}", per_size[s]["first_request_ms"]]
            + [per_size[s][state][key] for state in shown for key in ("p50_ms", "p99_ms", "n")]
            for s in sizes
        ],
    )
    label = f"{sizes[1] // sizes[0]}×"
    print(
        f"p99 ratio {sizes[1]:,} / {sizes[0]:,} reports: warm {ratios['warm']:.2f}×, midnight "
        f"{ratios['midnight']:.2f}× (target ≤ {TARGET_RATIO}×); cold, after a restart across midnight, "
        f"{ratios['cold']:.2f}×\n",
        flush=True,
    )
    result = BenchResult("summary", data={"sizes": {str(s): v for s, v in per_size.items()}, "p99_ratio": ratios})
    quick_note = "" if sizes[1] == 1_000_000 else "quick: 100k instead of 1M"
    for state in shown:
        judged = state in JUDGED
        result.outcomes.append(
            Outcome(
                f"(c) city summary p99, {state} ({label} reports)",
                f"{small[state]['p99_ms']} → {large[state]['p99_ms']} ms = {ratios[state]:.2f}×",
                f"≤ {TARGET_RATIO}×" if judged else "— (reference)",
                ratios[state] <= TARGET_RATIO if judged else None,
                note=quick_note
                if judged
                else "; ".join(filter(None, ["first minute after a restart across midnight", quick_note])),
                reference=not judged,
            )
        )
    return result
