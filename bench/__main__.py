"""`uv run python -m bench [NAME …] [--quick]`, NAME one of reports, latency, summary, rebuild, costs, broker, web,
evidence, notifier, webhooks, quality (`make bench` runs them all).

Each benchmark prints its own table and writes `bench/results/<name>-<time>.json`; at the end a final
table lists benchmark, figure, target and whether it was met, and `bench/results/run-<time>.json`
holds it.  Benchmarks measure and report; they assert nothing (exit status 1 only if one crashed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import traceback

from sqlalchemy.engine import make_url

from bench import (
    bench_broker,
    bench_costs,
    bench_evidence,
    bench_latency,
    bench_notifier,
    bench_quality,
    bench_rebuild,
    bench_reports,
    bench_summary,
    bench_web,
    bench_webhooks,
)
from bench.infra import (
    ADMIN_URL,
    MACHINE_SPEED,
    RESULTS,
    BenchResult,
    Outcome,
    machine_speed,
    print_table,
    product_fingerprint,
    wait_for_quiet,
    write_result,
)

BENCHMARKS = {
    "reports": bench_reports.run,  # (a) reports/s vs bare FastAPI and the template's create-and-commit
    "latency": bench_latency.run,  # (b) approve → gateway p50/p99 at 200/s
    "summary": bench_summary.run,  # (c) city summary p99 at 10k vs 1M reports
    "rebuild": bench_rebuild.run,  # (d) rebuild events/s
    "costs": bench_costs.run,  # CPU per batch of (b)'s write paths, each alone (reference rows)
    "broker": bench_broker.run,  # the local broker's CPU as its topic grows (reference rows)
    "web": bench_web.run,  # the web app: time to first render in Chromium, gzipped bytes per route
    "evidence": bench_evidence.run,  # 佐证材料: 1 MB uploads through the platform vs a direct PUT to the store
    "notifier": bench_notifier.run,  # month-end digests of the whole city, work per event, the gateway's owed feed
    "webhooks": bench_webhooks.run,  # deliveries/s to one endpoint, delay behind the event
    "quality": bench_quality.run,  # reports/s with the validation rules on, as a ratio to none
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="BENCHMARK",
        help=f"which to run: {', '.join(BENCHMARKS)} (default: all, in that order)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke version: smaller, shorter (≤ 2 minutes in all)")
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="HTTP client of the load generators of (a) and (b) (default raw; see bench/client.py)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="wait up to this many seconds for other load on the machine to stop before each "
        "benchmark (default 30, quick 0)",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0.0 if args.quick else 30.0)

    MACHINE_SPEED.update(machine_speed(), postgres=make_url(ADMIN_URL).render_as_string(hide_password=True))
    print(
        f"machine: {MACHINE_SPEED['python_loop_ms']} ms for sum(range(10**6)) (best of 5), CPU steal "
        f"{MACHINE_SPEED['cpu_steal_share']} — absolute figures compare across machines only next to these; "
        f"PostgreSQL at {MACHINE_SPEED['postgres']}",
        flush=True,
    )
    started = time.perf_counter()
    code_before = product_fingerprint()
    outcomes: list[Outcome] = []
    background: dict[str, float] = {}
    crashed = False
    for name in names:
        background[name] = wait_for_quiet(quiet_wait)
        benchmark_started = time.perf_counter()
        try:
            result = BENCHMARKS[name](args.quick, args.client)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            crashed = True
            result = BenchResult(
                name, outcomes=[Outcome(name, f"failed: {type(exc).__name__}: {exc}"[:200], "—", None)]
            )
        result.data["background_load_cores"] = background[name]
        result.data["elapsed_s"] = round(time.perf_counter() - benchmark_started, 1)
        path = write_result(result, args.quick)
        print(f"  ({name}: {result.data['elapsed_s']:.0f} s) → {path.relative_to(RESULTS.parent.parent)}\n", flush=True)
        outcomes.extend(result.outcomes)

    elapsed = time.perf_counter() - started
    code_after = product_fingerprint()
    changed = sorted(f for f in set(code_before) | set(code_after) if code_before.get(f) != code_after.get(f))
    newest = max(code_before.items(), key=lambda item: item[1])
    print(f"product code measured: newest file {newest[0]} ({newest[1]})")
    if changed:
        print(f"! product code changed DURING this run (figures before and after differ in code): {', '.join(changed)}")
    print(
        f"=== {'quick ' if args.quick else ''}benchmark summary ({elapsed / 60:.1f} min; background load before each "
        f"benchmark, in cores: {background}; machine {MACHINE_SPEED['python_loop_ms']} ms per reference loop) ==="
    )
    print_table(
        ["benchmark", "figure", "target", "met"],
        [
            [
                o.benchmark,
                o.figure + (f" [{o.note}]" if o.note else ""),
                o.target,
                "reference" if o.reference else "met" if o.met else "not met" if o.met is False else "error",
            ]
            for o in outcomes
        ],
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = RESULTS / f"run-{'quick-' if args.quick else ''}{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    summary.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "benchmarks": names,
                "elapsed_s": round(elapsed, 1),
                "background_load_cores": background,
                "machine": MACHINE_SPEED,
                "product_code": code_before,
                "product_code_changed_during_run": changed,
                "outcomes": [o.__dict__ for o in outcomes],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
