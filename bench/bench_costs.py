"""Where (b)'s CPU goes, without the platform around it: CPU per batch of the two hot write paths.

(b) runs five processes on two cores, and each of them is a loop that takes whatever CPU is free (the
group-commit writers, the relay, the gateway's consumer): their shares barely move with the rate, and a
change to one shows in (b) only as noise.  This benchmark runs each path alone, in one process, on
PostgreSQL, and reports the process's CPU time per batch (reference rows: there is no target):

- the gateway's live fold (`projection/fold.py`'s handlers then `progress.refresh`, one transaction) for polls
  of 1, 8 and 32 report events, on a gateway that already folded 3,000 events;
- the service's writers (`RevisionWriter.write` and `ApprovalWriter.write` in `reporting/`, each with its
  commit) for batches of 1 and 10 reports, through a sync session (the writers run the same function
  on the event loop through `AsyncSession.run_sync`).
"""

from __future__ import annotations

import contextlib
import os
import time

from bench.infra import BenchResult, Databases, Outcome, print_table, start_broker
from bench.loadgen import in_subprocess

FOLD_SIZES = (1, 8, 32)
WRITER_SIZES = (1, 10)


def fold_costs(url: str, sizes: tuple[int, ...], polls: int) -> dict[int, float]:
    """CPU ms per poll of `size` events, for each size (a fresh gateway database at `url`)."""
    from bench.bench_rebuild import prepare_gateway_db
    from bench.data import report_events
    from minsheng.catalog.snapshot import CatalogCache
    from minsheng.db import Database
    from minsheng.progress.model import Thresholds
    from minsheng_gateway.plans.scope import GatewayPlans
    from minsheng_gateway.projection.fold import view_handlers
    from minsheng_gateway.projection.progress import refresh

    prepare_gateway_db(url)
    database, thresholds, catalog = Database(url), Thresholds(), CatalogCache()
    plans = GatewayPlans(database, catalog)
    handlers = view_handlers(lambda session, stale, slot: refresh(session, stale, thresholds, slot.catalog), plans)
    events = [handlers.parser.parse(value) for _, _, value in report_events(3000 + sum(sizes) * (polls + 20), seed=11)]

    def poll(batch: list) -> None:
        with database.session() as session:
            handlers.apply(session, batch)
            session.commit()

    try:
        for start in range(0, 3000, 500):  # a gateway that has seen some traffic
            poll(events[start : start + 500])
        live, costs = iter(events[3000:]), {}
        for size in sizes:
            for _ in range(20):  # warm: prepared statements, caches
                poll([next(live) for _ in range(size)])
            batches = [[next(live) for _ in range(size)] for _ in range(polls)]
            started = time.process_time()
            for batch in batches:
                poll(batch)
            costs[size] = (time.process_time() - started) / polls * 1000
        return costs
    finally:
        database.dispose()


def writer_costs(url: str, bootstrap: str, sizes: tuple[int, ...], batches: int) -> dict[int, tuple[float, float]]:
    """CPU ms per batch of `size` submissions and of `size` approvals, for each size (an education
    service started in this process on a fresh database at `url`)."""
    os.environ.update(
        {
            "EDUCATION_DATABASE_URL": url,
            "EDUCATION_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "EDUCATION_LOG_LEVEL": "WARNING",
        }
    )
    from fastapi.testclient import TestClient

    import minsheng_education.main as education
    from bench.data import ReportStream
    from minsheng.auth.demo import DEMO_BY_USERNAME
    from minsheng.clock import today_in_china
    from minsheng.reporting.review import Approval
    from minsheng.reporting.schemas import ReportCreate
    from minsheng.reporting.submissions import Submission
    from minsheng.reporting.validation import ReportContext, check_report

    with TestClient(education.app) as client:  # start-up: migrations, catalog
        database, today = client.app.state.database, today_in_china()
        revisions, approvals = client.app.state.revisions, client.app.state.approvals
        stream = ReportStream(seed=5)
        bureau = DEMO_BY_USERNAME["demo-education-bureau"].principal()
        office = DEMO_BY_USERNAME["demo-city-office"].principal()

        def batch(size: int) -> tuple[float, float]:
            with database.session() as session:
                context = ReportContext(session, today, client.app.state.catalog.snapshot(session))
                submissions = []
                for _ in range(size):
                    checked, errors, refused = check_report(context, ReportCreate(**next(stream)), bureau)
                    if errors or refused:
                        raise RuntimeError(f"a bench report was refused: {errors or refused}")
                    submissions.append(Submission(checked=checked, submitted_by=bureau.label))
            started = time.process_time()
            with database.session() as session:
                reports = revisions.write(session, submissions)
                session.commit()
            submitted = time.process_time()
            with database.session() as session:
                approvals.write(
                    session,
                    [Approval(report_ids=(r.id,), reviewed_by=office.label) for r in reports],
                )
                session.commit()
            return submitted - started, time.process_time() - submitted

        for _ in range(40):  # some history
            batch(10)
        costs = {}
        for size in sizes:
            for _ in range(20):
                batch(size)
            spent = [batch(size) for _ in range(batches)]
            costs[size] = (sum(s for s, _ in spent) / batches * 1000, sum(a for _, a in spent) / batches * 1000)
        return costs


def run(quick: bool, client: str = "raw") -> BenchResult:  # noqa: ARG001 - no load generator
    polls, batches = (40, 40) if quick else (200, 200)
    print(
        f"costs: CPU per batch of (b)'s write paths, each alone in one process on PostgreSQL ({polls} polls, "
        f"{batches} batches per size)",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        fold = in_subprocess(fold_costs, databases.make("costs_gateway"), FOLD_SIZES, polls)
        writers = in_subprocess(
            writer_costs, databases.make("costs_education"), broker.bootstrap_servers, WRITER_SIZES, batches
        )
    rows = [[f"gateway fold, poll of {size} event(s)", f"{ms:.2f}", f"{ms / size:.2f}"] for size, ms in fold.items()]
    for size, (submit_ms, approve_ms) in writers.items():
        rows.append([f"service, batch of {size} submission(s)", f"{submit_ms:.2f}", f"{submit_ms / size:.2f}"])
        rows.append([f"service, batch of {size} approval(s)", f"{approve_ms:.2f}", f"{approve_ms / size:.2f}"])
    print_table(["path", "CPU ms per batch", "per item"], rows)
    print()
    result = BenchResult(
        "costs",
        data={
            "fold_cpu_ms_per_poll": fold,
            "writer_cpu_ms_per_batch": {size: {"submissions": s, "approvals": a} for size, (s, a) in writers.items()},
        },
    )
    result.outcomes.append(
        Outcome(
            "costs: gateway fold CPU per poll",
            " / ".join(f"{size} event(s) {ms:.1f} ms" for size, ms in fold.items()),
            "—",
            None,
            reference=True,
        )
    )
    result.outcomes.append(
        Outcome(
            "costs: service writers CPU per batch",
            "; ".join(f"{size} submission(s) {s:.1f} ms, approval(s) {a:.1f} ms" for size, (s, a) in writers.items()),
            "—",
            None,
            reference=True,
        )
    )
    return result
