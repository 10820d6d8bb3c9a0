"""(a) Reports per second accepted by one service, next to a bare FastAPI POST endpoint.

The education service runs as `make run` runs it (one uvicorn process with its outbox relay child,
PostgreSQL, the real broker receiving its outbox), with the demo users.  The same closed-loop client (same concurrency, same
bodies: every indicator × org unit × period the education bureau may report, then revisions) first
drives the service, then — with the service stopped, so the two never share the CPU — the bare app
(`bench/bare_app.py`) under the same uvicorn command line, on its `def` endpoint (the reference the target
was set against) and on its `async def` endpoint (the framework's floor without the thread pool; the
service's submission endpoint is `async def` since group commit).  Target: the service reaches ≥ 50 % of
the bare rate; both ratios are reported.
"""

from __future__ import annotations

import contextlib

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
    start_broker,
    start_uvicorn,
    wait_ready,
)
from bench.loadgen import closed_loop, in_subprocess

CONCURRENCY = 16  # enough to keep one uvicorn process (GIL-bound) and PostgreSQL busy on 2 cores
TARGET_RATIO = 0.5


def run(quick: bool, client: str = "raw") -> BenchResult:
    warmup, duration = (1.5, 4.0) if quick else (5.0, 20.0)
    print(f"(a) reports/s: education service vs bare FastAPI, concurrency {CONCURRENCY}, {client} client, "
          f"{warmup:g} s warm-up + {duration:g} s window each", flush=True)
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        port = free_port()
        education = start_uvicorn(stack, "a-education", "minsheng_education.main:app",
                                  process_env(**campaign_env("education", databases.make("a_education"), broker,
                                                             port)), port)
        wait_ready(education)
        with CpuMeter({"service": education.process.pid, "broker": broker.process.pid}) as service_cpu:
            service = in_subprocess(closed_loop, education.url, "/api/v1/reports", concurrency=CONCURRENCY,
                                    warmup=warmup, duration=duration, headers=EDU_BUREAU, client=client)
        education.stop()  # the bare app gets the machine to itself, as the service did

        bare_app = start_uvicorn(stack, "a-bare", "bench.bare_app:app", process_env())
        wait_ready(bare_app, "/healthz")
        with CpuMeter({"service": bare_app.process.pid}) as bare_cpu:
            bare = in_subprocess(closed_loop, bare_app.url, "/api/v1/reports", concurrency=CONCURRENCY,
                                 warmup=warmup, duration=duration, client=client)
        with CpuMeter({"service": bare_app.process.pid}) as bare_async_cpu:
            bare_async = in_subprocess(closed_loop, bare_app.url, "/api/v1/reports-async", concurrency=CONCURRENCY,
                                       warmup=warmup, duration=duration, client=client)

    ratio = service["rate_per_s"] / bare["rate_per_s"] if bare["rate_per_s"] else 0.0
    ratio_async = service["rate_per_s"] / bare_async["rate_per_s"] if bare_async["rate_per_s"] else 0.0
    print_table(
        ["endpoint", "accepted/s", "p50 ms", "p99 ms", "non-201", "server cores", "its relay", "client cores",
         "PG cores", "machine busy"],
        [["education POST /api/v1/reports", f"{service['rate_per_s']:.0f}", service["latency"]["p50_ms"],
          service["latency"]["p99_ms"], _errors(service), service_cpu.cores["service"],
          service_cpu.cores["service children"], service["client_cpu_cores"], service_cpu.cores["postgresql"],
          f"{service_cpu.cores['machine']}/{service_cpu.cores['machine_of']}"],
         ["bare FastAPI POST, def (bench/bare_app.py)", f"{bare['rate_per_s']:.0f}", bare["latency"]["p50_ms"],
          bare["latency"]["p99_ms"], _errors(bare), bare_cpu.cores["service"], "—", bare["client_cpu_cores"],
          bare_cpu.cores["postgresql"], f"{bare_cpu.cores['machine']}/{bare_cpu.cores['machine_of']}"],
         ["bare FastAPI POST, async def", f"{bare_async['rate_per_s']:.0f}", bare_async["latency"]["p50_ms"],
          bare_async["latency"]["p99_ms"], _errors(bare_async), bare_async_cpu.cores["service"], "—",
          bare_async["client_cpu_cores"], bare_async_cpu.cores["postgresql"],
          f"{bare_async_cpu.cores['machine']}/{bare_async_cpu.cores['machine_of']}"]])
    print(f"ratio service/bare: {ratio:.1%} vs the def endpoint, {ratio_async:.1%} vs the async def endpoint "
          f"(target ≥ {TARGET_RATIO:.0%})\n", flush=True)
    result = BenchResult("reports", data={"service": service, "bare": bare, "bare_async": bare_async, "ratio": ratio,
                                          "ratio_async": ratio_async,
                                          "cpu": {"service_run": service_cpu.cores, "bare_run": bare_cpu.cores,
                                                  "bare_async_run": bare_async_cpu.cores}})
    result.outcomes.append(Outcome(
        "(a) reports/s vs bare FastAPI (def)",
        f"{service['rate_per_s']:.0f}/s vs {bare['rate_per_s']:.0f}/s = {ratio:.1%}",
        f"≥ {TARGET_RATIO:.0%}", ratio >= TARGET_RATIO))
    result.outcomes.append(Outcome(
        "(a) reports/s vs bare FastAPI (async def)",
        f"{service['rate_per_s']:.0f}/s vs {bare_async['rate_per_s']:.0f}/s = {ratio_async:.1%}",
        f"≥ {TARGET_RATIO:.0%}", ratio_async >= TARGET_RATIO))
    return result


def _errors(run: dict) -> int:
    return sum(count for status, count in run["statuses"].items() if status != "201")
