"""(a) Reports per second accepted by one service, next to a bare FastAPI POST endpoint.

The education service runs as `make run` runs it (one uvicorn process with its outbox relay child,
PostgreSQL, the real broker receiving its outbox), with the demo users.  The bare app
(`bench/bare_app.py`) runs under the same uvicorn command line.  The same closed-loop client (same
concurrency, same bodies: every indicator × org unit × period the education bureau may report, then
revisions) drives, in turn, the service, the bare app's `def` endpoint (the reference the target was
set against) and its `async def` endpoint (the framework's floor without the thread pool; the
service's submission endpoint is `async def` since group commit).

Interleaved rounds: the machine's speed drifts by a third within minutes (other tenants of the host),
so one long window per endpoint compares the service with the bare app measured at another moment.
Instead each round measures the three one after the other in short windows, and the figure is the
median over the rounds of the round's ratio.  Only the process under test runs: the others are
stopped with SIGSTOP (the service together with its relay child) and resumed with SIGCONT, so the
two never share the CPU and nothing is restarted between rounds.  Target: the service reaches ≥ 50 %
of the bare rate.
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
TARGET_RATIO = 0.5
ENDPOINTS = ("service", "bare", "bare_async")


def run(quick: bool, client: str = "raw") -> BenchResult:
    rounds, warmup, duration = (1, 1.5, 4.0) if quick else (3, 2.0, 6.0)
    print(f"(a) reports/s: education service vs bare FastAPI, concurrency {CONCURRENCY}, {client} client, "
          f"{rounds} interleaved round(s) of {warmup:g} s warm-up + {duration:g} s window per endpoint", flush=True)
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        port = free_port()
        education = start_uvicorn(stack, "a-education", "minsheng_education.main:app",
                                  process_env(**campaign_env("education", databases.make("a_education"), broker,
                                                             port)), port)
        bare_app = start_uvicorn(stack, "a-bare", "bench.bare_app:app", process_env())
        wait_ready(education)
        wait_ready(bare_app, "/healthz")
        for server in (education, bare_app):
            wait_settled(server.process.pid)
        targets = {"service": (education, "/api/v1/reports", EDU_BUREAU),
                   "bare": (bare_app, "/api/v1/reports", None),
                   "bare_async": (bare_app, "/api/v1/reports-async", None)}
        runs: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
        for round_number in range(1, rounds + 1):
            for name in ENDPOINTS:
                server, path, headers = targets[name]
                others = [s for s in (education, bare_app) if s is not server]
                with running_alone(server, others), CpuMeter({"service": server.process.pid}) as cpu:
                    measured = in_subprocess(closed_loop, server.url, path, concurrency=CONCURRENCY, warmup=warmup,
                                             duration=duration, headers=headers, client=client)
                measured["cpu"] = cpu.cores
                runs[name].append(measured)
            ratio = _ratio(runs["service"][-1], runs["bare"][-1])
            print(f"  round {round_number}: service {runs['service'][-1]['rate_per_s']:.0f}/s, bare def "
                  f"{runs['bare'][-1]['rate_per_s']:.0f}/s, bare async def {runs['bare_async'][-1]['rate_per_s']:.0f}/s "
                  f"→ {ratio:.1%}", flush=True)

    ratios = [_ratio(s, b) for s, b in zip(runs["service"], runs["bare"], strict=True)]
    ratios_async = [_ratio(s, b) for s, b in zip(runs["service"], runs["bare_async"], strict=True)]
    ratio, ratio_async = statistics.median(ratios), statistics.median(ratios_async)
    rows = []
    for label, name in (("education POST /api/v1/reports", "service"),
                        ("bare FastAPI POST, def (bench/bare_app.py)", "bare"),
                        ("bare FastAPI POST, async def", "bare_async")):
        measured = runs[name]
        rows.append([label, " / ".join(f"{m['rate_per_s']:.0f}" for m in measured),
                     _median(m["latency"]["p50_ms"] for m in measured), _median(m["latency"]["p99_ms"] for m in measured),
                     sum(_errors(m) for m in measured), _median(m["cpu"]["service"] for m in measured),
                     _median(m["cpu"]["service children"] for m in measured) if name == "service" else "—",
                     _median(m["client_cpu_cores"] for m in measured), _median(m["cpu"]["postgresql"] for m in measured),
                     f"{_median(m['cpu']['machine'] for m in measured)}/{measured[0]['cpu']['machine_of']}"])
    print_table(["endpoint", "accepted/s per round", "p50 ms", "p99 ms", "non-201", "server cores", "its relay",
                 "client cores", "PG cores", "machine busy"], rows)
    print("  (latencies and cores: medians over the rounds)")
    spread = " / ".join(f"{r:.1%}" for r in ratios)
    print(f"ratio service/bare: median {ratio:.1%} vs the def endpoint (rounds: {spread}), median {ratio_async:.1%} "
          f"vs the async def endpoint (target ≥ {TARGET_RATIO:.0%})\n", flush=True)
    result = BenchResult("reports", data={**runs, "ratios": ratios, "ratios_async": ratios_async, "ratio": ratio,
                                          "ratio_async": ratio_async})
    service_rate, bare_rate, bare_async_rate = (statistics.median(m["rate_per_s"] for m in runs[n]) for n in ENDPOINTS)
    rounds_note = f" (rounds: {spread})" if rounds > 1 else ""
    result.outcomes.append(Outcome(
        "(a) reports/s vs bare FastAPI (def)",
        f"median {ratio:.1%}{rounds_note}; {service_rate:.0f}/s vs {bare_rate:.0f}/s",
        f"≥ {TARGET_RATIO:.0%}", ratio >= TARGET_RATIO))
    result.outcomes.append(Outcome(
        "(a) reports/s vs bare FastAPI (async def)",
        f"median {ratio_async:.1%}; {service_rate:.0f}/s vs {bare_async_rate:.0f}/s",
        f"≥ {TARGET_RATIO:.0%}", ratio_async >= TARGET_RATIO))
    return result


def _ratio(service: dict, bare: dict) -> float:
    return service["rate_per_s"] / bare["rate_per_s"] if bare["rate_per_s"] else 0.0


def _median(values) -> float:  # noqa: ANN001 - an iterable of numbers
    return round(statistics.median(list(values)), 2)


def _errors(run: dict) -> int:
    return sum(count for status, count in run["statuses"].items() if status != "201")
