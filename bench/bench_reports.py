"""(a) Reports per second accepted by one service, next to three FastAPI references.

The education service runs as `make run` runs it (one uvicorn process with its outbox relay child,
PostgreSQL, the real broker receiving its outbox), with the demo users.  The references
(`bench/bare_app.py`) run in one process under the same uvicorn command line: a bare `def` endpoint
(the reference the target was set against), the same as `async def` (the framework's floor without
the thread pool; the service's submission endpoint is `async def`), and the peer a user would
otherwise write, a create-and-commit endpoint as the FastAPI full-stack template writes it, on the
same PostgreSQL server in its own throw-away database.  The same closed-loop client (same bodies:
every indicator × org unit × period the education bureau may report, then revisions) drives each in
turn, at the concurrency where it reaches its capacity.

Interleaved rounds: the machine's speed drifts by a third within minutes (other tenants of the host),
so one long window per endpoint compares the service with a reference measured at another moment.
Instead each round measures the four one after the other in short windows, and each figure is the
median over the rounds of the round's ratio.  Only the process under test runs: the other is
stopped with SIGSTOP (the service together with its relay child) and resumed with SIGCONT, so the
two never share the CPU and nothing is restarted between rounds.  Target: the service reaches ≥ 50 %
of the bare `def` rate; the other two comparisons are reference rows.
"""

from __future__ import annotations

import contextlib
import statistics

from bench.infra import (
    EDU_BUREAU,
    BenchResult,
    CpuMeter,
    Databases,
    Outcome,
    campaign_env,
    free_port,
    print_table,
    process_env,
    running_alone,
    start_broker,
    start_uvicorn,
    wait_ready,
    wait_settled,
)
from bench.loadgen import closed_loop, in_subprocess

# Requests in flight: each endpoint is measured at its capacity, where more clients add no throughput.
# A submission waits for its group's commit (the WAL flush), so the service needs more requests in
# flight than a bare endpoint to stay busy: at 16 its process used 0.62-0.76 of a core, and the rate
# followed the disk's flush latency from run to run (540-770/s); at 32, 1,080-1,140/s; at 64,
# 1,220-1,360/s (p50 47 ms), while the bare endpoints no longer gained from 32 on.
CONCURRENCY = 64
# The template's endpoint holds one of its pool's 5 + 10 connections for a whole request, so more requests in
# flight only queue for one; at 64 its thread pool can also fill with requests waiting for a connection while
# the session closes that would free one wait for a thread (FastAPI issue #3205), until the pool's 30 s timeout.
TEMPLATE_CONCURRENCY = 15
TARGET_RATIO = 0.5
ENDPOINTS = ("service", "bare", "bare_async", "template")
LABELS = {
    "service": "education POST /api/v1/reports",
    "bare": "bare FastAPI POST, def (bench/bare_app.py)",
    "bare_async": "bare FastAPI POST, async def",
    "template": "FastAPI template's create-and-commit",
}


def run(quick: bool, client: str = "raw") -> BenchResult:
    rounds, warmup, duration = (1, 1.5, 4.0) if quick else (3, 2.0, 6.0)
    print(
        f"(a) reports/s: education service vs FastAPI references, concurrency {CONCURRENCY} (template "
        f"{TEMPLATE_CONCURRENCY}), {client} client, "
        f"{rounds} interleaved round(s) of {warmup:g} s warm-up + {duration:g} s window per endpoint",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        port = free_port()
        education = start_uvicorn(
            stack,
            "a-education",
            "minsheng_education.main:app",
            process_env(**campaign_env("education", databases.make("a_education"), broker, port)),
            port,
        )
        references = start_uvicorn(
            stack,
            "a-references",
            "bench.bare_app:app",
            process_env(BENCH_DATABASE_URL=databases.make("a_template")),
            entry="uvicorn",
        )
        wait_ready(education)
        wait_ready(references, "/healthz")
        for server in (education, references):
            wait_settled(server.process.pid)
        targets = {
            "service": (education, "/api/v1/reports", EDU_BUREAU),
            "bare": (references, "/api/v1/reports", None),
            "bare_async": (references, "/api/v1/reports-async", None),
            "template": (references, "/api/v1/reports-template", None),
        }
        runs: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
        for round_number in range(1, rounds + 1):
            for name in ENDPOINTS:
                server, path, headers = targets[name]
                others = [s for s in (education, references) if s is not server]
                with running_alone(server, others), CpuMeter({"service": server.process.pid}) as cpu:
                    concurrency = TEMPLATE_CONCURRENCY if name == "template" else CONCURRENCY
                    measured = in_subprocess(
                        closed_loop,
                        server.url,
                        path,
                        concurrency=concurrency,
                        warmup=warmup,
                        duration=duration,
                        headers=dict(headers) if headers else None,  # a token valid for the round
                        client=client,
                    )
                measured["cpu"] = cpu.cores
                runs[name].append(measured)
            rates = {name: runs[name][-1]["rate_per_s"] for name in ENDPOINTS}
            print(
                f"  round {round_number}: service {rates['service']:.0f}/s, bare def {rates['bare']:.0f}/s, "
                f"bare async def {rates['bare_async']:.0f}/s, template {rates['template']:.0f}/s "
                f"→ {_ratio(runs['service'][-1], runs['bare'][-1]):.1%} of bare def",
                flush=True,
            )

    # The service against each reference: the median over the rounds of the round's ratio.
    ratios = {name: [_ratio(s, r) for s, r in zip(runs["service"], runs[name], strict=True)] for name in ENDPOINTS[1:]}
    ratio = {name: statistics.median(values) for name, values in ratios.items()}
    rate = {name: statistics.median(m["rate_per_s"] for m in runs[name]) for name in ENDPOINTS}
    rows = []
    for name in ENDPOINTS:
        measured = runs[name]
        rows.append(
            [
                LABELS[name],
                " / ".join(f"{m['rate_per_s']:.0f}" for m in measured),
                _median(m["latency"]["p50_ms"] for m in measured),
                _median(m["latency"]["p99_ms"] for m in measured),
                sum(_errors(m) for m in measured),
                _median(m["cpu"]["service"] for m in measured),
                _median(m["cpu"]["service children"] for m in measured) if name == "service" else "—",
                _median(m["client_cpu_cores"] for m in measured),
                _median(m["cpu"]["postgresql"] for m in measured),
                f"{_median(m['cpu']['machine'] for m in measured)}/{measured[0]['cpu']['machine_of']}",
            ]
        )
    print_table(
        [
            "endpoint",
            "accepted/s per round",
            "p50 ms",
            "p99 ms",
            "non-201",
            "server cores",
            "its relay",
            "client cores",
            "PG cores",
            "machine busy",
        ],
        rows,
    )
    print("  (latencies and cores: medians over the rounds)")
    spread = {name: " / ".join(_share(r) for r in values) for name, values in ratios.items()}
    statement = (
        f"service {rate['service']:,.0f}/s = {ratio['bare']:.1%} of bare def ({rate['bare']:,.0f}/s), "
        f"{ratio['bare_async']:.1%} of async def ({rate['bare_async']:,.0f}/s), {ratio['template']:.2f}× "
        f"the template's create-and-commit ({rate['template']:,.0f}/s)"
    )
    print(
        f"{statement} (medians of the rounds' ratios; rounds vs def: {spread['bare']}, vs async def: "
        f"{spread['bare_async']}, vs template: {spread['template']}; target ≥ {TARGET_RATIO:.0%} of bare def)\n",
        flush=True,
    )
    result = BenchResult(
        "reports",
        data={
            **runs,
            "ratios": ratios["bare"],
            "ratios_async": ratios["bare_async"],
            "ratios_template": ratios["template"],
            "ratio": ratio["bare"],
            "ratio_async": ratio["bare_async"],
            "ratio_template": ratio["template"],
            "statement": statement,
        },
    )
    rounds_note = f" (rounds vs def: {spread['bare']})" if rounds > 1 else ""
    result.outcomes.append(
        Outcome(
            "(a) reports/s vs bare FastAPI (def)",
            f"{statement}{rounds_note}",
            f"≥ {TARGET_RATIO:.0%}",
            ratio["bare"] >= TARGET_RATIO,
        )
    )
    result.outcomes.append(
        Outcome(
            "(a) reports/s vs bare FastAPI (async def)",
            f"median {ratio['bare_async']:.1%}; {rate['service']:.0f}/s vs {rate['bare_async']:.0f}/s",
            "—",
            None,
            reference=True,
        )
    )
    result.outcomes.append(
        Outcome(
            "(a) reports/s vs the template's create-and-commit",
            f"median {ratio['template']:.2f}×; {rate['service']:.0f}/s vs {rate['template']:.0f}/s",
            "—",
            None,
            reference=True,
        )
    )
    return result


def _ratio(service: dict, bare: dict) -> float:
    return service["rate_per_s"] / bare["rate_per_s"] if bare["rate_per_s"] else 0.0


def _share(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio >= 1 else f"{ratio:.1%}"


def _median(values) -> float | None:  # noqa: ANN001 - an iterable of numbers, None where a round had no answer
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def _errors(run: dict) -> int:
    return sum(count for status, count in run["statuses"].items() if status != "201")
