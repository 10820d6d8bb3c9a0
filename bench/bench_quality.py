"""Data quality (decision 0024): reports per second with the validation rules on, as a ratio to the same with none.

Two education services as `make run` runs them (each with its relay child, its own database, the real broker), one
with a rule on every indicator the load reports and one with no rule, driven in turn by (a)'s closed-loop client
(`bench.loadgen.closed_loop`, the same bodies) in interleaved rounds, the other stopped meanwhile (SIGSTOP), as (a)
measures.  The rules compare two indicators of the same org unit and period (`X <= Y * 1000000 + 1000000000`,
importance 低: they never fail, so every request is accepted and each is evaluated with a read of the values it
needs).  Target (issue 30): ≥ 0.9 of the rate without rules.  Nothing is asserted."""

from __future__ import annotations

import contextlib
import statistics

import httpx

from bench.bench_reports import CONCURRENCY, _errors
from bench.data import bureau_indicators
from bench.infra import (
    CITY_OFFICE,
    EDU_BUREAU,
    BenchResult,
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

TARGET_RATIO = 0.9


def seed_rules(url: str) -> int:
    """A never-failing rule on each indicator the load reports, paired with the first other indicator the service
    accepts beside it (same frequency, both flows or both levels); returns how many indicators have one."""
    codes = [i.code for i in bureau_indicators()]
    covered = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for left in codes:
            for right in (c for c in codes if c != left):
                rule = {
                    "name": f"{left} 不超过 {right} 的百万倍",
                    "left": left,
                    "operator": "<=",
                    "right": f"{right} * 1000000 + 1000000000",
                    "importance": "low",
                    "instruction": "基准测试用规则，永远成立",
                }
                answer = client.post("/api/v1/quality/rules", json=rule, headers=dict(CITY_OFFICE))
                if answer.status_code == 201:
                    covered += 1
                    break
                if answer.status_code != 422:
                    answer.raise_for_status()
    return covered


def run(quick: bool, client: str = "raw") -> BenchResult:
    rounds, warmup, duration = (1, 1.5, 4.0) if quick else (3, 2.0, 6.0)
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        servers = {}
        for name in ("rules_off", "rules_on"):
            port = free_port()
            servers[name] = start_uvicorn(
                stack,
                f"quality-{name}",
                "minsheng_education.main:app",
                process_env(**campaign_env("education", databases.make(f"quality_{name}"), broker, port)),
                port,
            )
        for server in servers.values():
            wait_ready(server)
        covered = seed_rules(servers["rules_on"].url)
        for server in servers.values():
            wait_settled(server.process.pid)
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for round_number in range(1, rounds + 1):
            for name, server in servers.items():
                others = [s for s in servers.values() if s is not server]
                with running_alone(server, others):
                    runs[name].append(
                        in_subprocess(
                            closed_loop,
                            server.url,
                            "/api/v1/reports",
                            concurrency=CONCURRENCY,
                            warmup=warmup,
                            duration=duration,
                            headers=dict(EDU_BUREAU),
                            client=client,
                        )
                    )
            print(
                f"  round {round_number}: rules off {runs['rules_off'][-1]['rate_per_s']:.0f}/s, "
                f"rules on {runs['rules_on'][-1]['rate_per_s']:.0f}/s",
                flush=True,
            )

    ratios = [on["rate_per_s"] / off["rate_per_s"] for off, on in zip(runs["rules_off"], runs["rules_on"], strict=True)]
    ratio = statistics.median(ratios)
    print_table(
        ["service", "accepted/s per round", "non-201"],
        [
            [name, " / ".join(f"{m['rate_per_s']:.0f}" for m in measured), sum(_errors(m) for m in measured)]
            for name, measured in runs.items()
        ],
    )
    figure = (
        f"{ratio:.2f}× ({statistics.median(m['rate_per_s'] for m in runs['rules_on']):,.0f}/s with rules on "
        f"{covered} of {len(bureau_indicators())} indicators vs "
        f"{statistics.median(m['rate_per_s'] for m in runs['rules_off']):,.0f}/s without)"
    )
    print(f"rules on / off: {figure}; rounds {' / '.join(f'{r:.2f}' for r in ratios)}\n", flush=True)
    return BenchResult(
        "quality",
        outcomes=[
            Outcome("data quality: reports/s rules on / off", figure, f"≥ {TARGET_RATIO}", ratio >= TARGET_RATIO)
        ],
        data={**runs, "ratios": ratios, "ratio": ratio, "indicators_with_a_rule": covered},
    )
