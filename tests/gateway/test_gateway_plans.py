"""Several plans side by side in the gateway (decision 0017, step 4): each event folded into its plan's read models
(`data.plan`; absent: the legacy plan, in public), a new plan's schema made when its first catalog arrives, every
plan-dependent read taking `?plan=`.  Two plans with the same indicator codes and the same report ids: each plan's
figures are its own, nothing counted twice, the legacy plan's figures as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from minsheng.catalog.document import CampaignDoc, PlanDoc, legacy_plan
from minsheng.catalog.loader import read_catalog_file
from minsheng.db import Database
from minsheng.messaging import IntegrationEvent, event_source
from minsheng.progress.model import Thresholds
from minsheng.reporting.events import CATALOG_PUBLISHED, REPORT_EVENT_TYPES, ReportChanged
from minsheng_gateway.migration_plan import PLAN_TABLES
from minsheng_gateway.plans.scope import GatewayPlans
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.progress import refresh
from minsheng_gateway.projection.rebuild import drop_read_models, fold_batch, rebuild_handlers, refresh_all
from minsheng_gateway.settings import GatewaySettings
from minsheng_gateway.warnings.overdue import overdue_series
from tests.support.metrics_stack import scrape_client, value

needs_event_plans = pytest.mark.skipif(
    "plan" not in ReportChanged.model_fields,
    reason="the events' data.plan (decision 0017, the campaign services' half of step 4) is not in this build",
)

LEGACY = legacy_plan()
NEXT = PlanDoc(
    code="zibo-minsheng-next",
    name="民生实事接续方案（演示）",
    start=dt.date(LEGACY.last_year + 1, 1, 1),
    end=dt.date(LEGACY.last_year + 3, 12, 31),
)
NEXT_SCHEMA = "plan_zibo_minsheng_next"
TODAY = dt.date(LEGACY.last_year + 2, 12, 7)  # the next plan is in force, the legacy one has ended
T0 = dt.datetime(LEGACY.last_year, 7, 1, 8, 0, tzinfo=dt.UTC)
EDUCATION_CATALOG = Path(__file__).resolve().parents[2] / "services/education/minsheng_education/catalog.yaml"


def catalogs() -> tuple[CampaignDoc, CampaignDoc]:
    legacy = read_catalog_file(EDUCATION_CATALOG)
    # The next plan reuses the indicator codes (T002-1 …): its own tables keep them apart.  Horizons and milestones
    # are the legacy plan's years: the next plan's indicators end with it.
    raw = legacy.model_dump(mode="json")
    indicators = [
        *raw["indicators"],
        *(i for item in raw["items"] for task in item["tasks"] for i in task["indicators"]),
    ]
    for indicator in indicators:
        indicator["milestones"] = []
        indicator["horizon"] = NEXT.last_year
    raw["plan"] = NEXT.model_dump(mode="json")
    return legacy, CampaignDoc.model_validate(raw)


def catalog_event(doc: CampaignDoc, plan: str | None) -> IntegrationEvent:
    data = {"campaign": "education", "catalog": doc.model_dump(mode="json")}
    return IntegrationEvent(
        source=event_source("education"),
        type=CATALOG_PUBLISHED,
        subject="education",
        time=T0,
        data=data if plan is None else {**data, "plan": plan},
    )


def approved(report_id: int, period: str, value: float, plan: str | None, *, org_unit: str = "370302"):
    return report_event("approved", report_id, period, value, plan, org_unit=org_unit)


def report_event(
    status: str, report_id: int, period: str, value: float, plan: str | None, *, org_unit: str = "370302"
) -> IntegrationEvent:
    data = {
        "campaign": "education",
        "report": {
            "report_id": report_id,
            "indicator": "T002-1",
            "org_unit": org_unit,
            "period": period,
            "value": value,
            "status": status,
            "revision": 1,
            "is_current": True,
            "submitted_by": "edu",
        },
        "actor": "edu",
        "occurred_at": T0.isoformat(),
    }
    return IntegrationEvent(
        source=event_source("education"),
        type=REPORT_EVENT_TYPES[status],
        subject="T002-1",
        time=T0 + dt.timedelta(minutes=report_id),
        data=data if plan is None else {**data, "plan": plan},
    )


def legacy_events() -> list[IntegrationEvent]:
    return [
        catalog_event(catalogs()[0], None),
        approved(1, f"{LEGACY.first_year}-06", 2, None),
        approved(2, f"{LEGACY.first_year}-06", 3, None, org_unit="370303"),
    ]


def next_events() -> list[IntegrationEvent]:
    """The same report ids as the legacy plan's (another service database's sequence, as after publishing a plan)."""
    return [
        catalog_event(catalogs()[1], NEXT.code),
        approved(1, f"{NEXT.first_year}-06", 7, NEXT.code),
        approved(2, f"{NEXT.first_year + 1}-03", 11, NEXT.code, org_unit="370303"),
    ]


@pytest.fixture
def gateway(make_database):
    import minsheng_gateway.main as gateway_main

    url = make_database("gateway_plans")
    settings = GatewaySettings().model_copy(
        update={"database_url": url, "kafka_bootstrap_servers": "127.0.0.1:1", "catalog_retry_seconds": 3600}
    )
    client = TestClient(gateway_main.build_app(settings))
    client.__enter__()
    client.app.state.clock = lambda: TODAY
    yield client
    client.__exit__(None, None, None)


def fold(app, events: list[IntegrationEvent]) -> None:
    handlers = view_handlers(
        lambda session, stale, slot: refresh(session, stale, Thresholds(), slot.catalog, TODAY), app.state.plans
    )
    for event in events:  # each its own poll, the way a live consumer sees a quiet topic
        with app.state.database.session() as session:
            handlers.apply(session, [handlers.parser.parse(event.to_json_bytes())])
            session.commit()


def progress(gateway, plan: str | None, org_unit: str = "370302") -> dict:
    params = {"org_unit": org_unit} | ({"plan": plan} if plan else {})
    answer = gateway.get("/api/v1/indicators/T002-1/progress", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def tables(database: Database, schema: str) -> dict[str, int]:
    with database.session() as session:
        names = session.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        ).scalars()
        return {
            name: session.execute(sa.text(f"SELECT count(*) FROM {schema}.{name}")).scalar()
            for name in names
            if name != "alembic_version"
        }


@needs_event_plans
def test_each_plan_reads_its_own_figures_and_the_legacy_plans_are_unchanged(gateway):
    fold(gateway.app, legacy_events())
    legacy_before = {
        "progress": progress(gateway, LEGACY.code),
        "summary": gateway.get("/api/v1/city/summary", params={"plan": LEGACY.code}).json(),
        "districts": gateway.get("/api/v1/districts", params={"plan": LEGACY.code}).json(),
    }
    assert legacy_before["progress"]["current_value"] == 2

    fold(gateway.app, next_events())
    database = gateway.app.state.database
    # The next plan's tables are in its schema: its catalog and views, nothing shared (identity, processed events).
    assert set(tables(database, NEXT_SCHEMA)) == PLAN_TABLES
    assert tables(database, NEXT_SCHEMA)["official_value"] == 2
    assert tables(database, "public")["official_value"] == 2  # the legacy plan's two, not four

    listed = {p["code"]: p for p in gateway.get("/api/v1/plans").json()}
    assert set(listed) == {LEGACY.code, NEXT.code}
    assert listed[NEXT.code]["current"] and not listed[LEGACY.code]["current"]

    # The same indicator code, each plan's value; no plan named: the plan in force.
    assert progress(gateway, NEXT.code)["current_value"] == 7
    assert progress(gateway, None)["current_value"] == 7
    assert progress(gateway, LEGACY.code)["current_value"] == 2
    assert progress(gateway, NEXT.code, "370303")["current_value"] == 11
    assert progress(gateway, LEGACY.code, "370303")["current_value"] == 3

    legacy_after = {
        "progress": progress(gateway, LEGACY.code),
        "summary": gateway.get("/api/v1/city/summary", params={"plan": LEGACY.code}).json(),
        "districts": gateway.get("/api/v1/districts", params={"plan": LEGACY.code}).json(),
    }
    assert legacy_after == legacy_before

    # Each summary counts its plan's tasks once (27 education tasks each, not 54).
    for plan in (LEGACY.code, NEXT.code):
        summary = gateway.get("/api/v1/city/summary", params={"plan": plan}).json()
        education = next(c for c in summary["campaigns"] if c["campaign"] == "education")
        assert sum(education["tasks_by_status"].values()) == 27, plan


@needs_event_plans
def test_the_operators_backlog_counts_the_reports_of_every_plan(gateway):
    """Reports awaiting review in two plans, with the same report ids and org units: the backlog is their sum, per
    campaign, org unit and lead department; the overdue count is each plan's calendar's, summed."""
    fold(gateway.app, legacy_events() + next_events())
    fold(
        gateway.app,
        [
            report_event("submitted", 3, f"{LEGACY.first_year}-07", 4, None),
            report_event("submitted", 3, f"{NEXT.first_year}-07", 5, NEXT.code),
            report_event("submitted", 4, f"{NEXT.first_year}-08", 6, NEXT.code, org_unit="370303"),
        ],
    )
    samples = scrape_client(gateway)
    assert value(samples, "minsheng_reports_awaiting_review", campaign="education") == 3
    by_unit = "minsheng_reports_awaiting_review_by_org_unit"
    assert value(samples, by_unit, campaign="education", org_unit="370302") == 2  # one series per org unit
    assert value(samples, by_unit, campaign="education", org_unit="370303") == 1
    assert len([key for key in samples if key[0] == by_unit]) == 2
    departments = [v for (name, _), v in samples.items() if name == "minsheng_reports_awaiting_review_by_department"]
    assert departments and all(v == 3 for v in departments)  # T002-1's lead departments, each once

    plans = gateway.app.state.plans
    owed = {}
    for slot in plans.slots():
        with slot.database.session() as session:
            owed[slot.code] = sum(
                len(missed)
                for _, _, missed in overdue_series(
                    session=session, calendar=gateway.app.state.settings.reporting_calendar(), today=TODAY
                )
            )
    assert set(owed) == {None, NEXT.code} and all(owed.values())  # the next plan's periods past due count too
    assert value(samples, "minsheng_reports_overdue", campaign="education") == sum(owed.values())


def test_an_unknown_plan_is_refused_with_a_chinese_message(gateway):
    fold(gateway.app, legacy_events())
    for path in ("/api/v1/city/summary", "/api/v1/warnings", "/api/v1/inbox", "/api/v1/plans", "/api/v1/indicators"):
        answer = gateway.get(path, params={"plan": "no-such-plan"})
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["code"] == "plan_not_found"
        assert "方案" in answer.json()["detail"]


@needs_event_plans
def test_the_rebuilds_batches_reproduce_each_plans_views(gateway, make_database):
    """The rebuild's handlers (one transaction per batch, progress refreshed at the end) give the same rows per plan
    as the live fold, event by event."""
    fold(gateway.app, legacy_events() + next_events())
    url = make_database("gateway_plans_rebuilt")
    from minsheng.catalog.snapshot import CatalogCache
    from minsheng.db.migrations import upgrade_to_head
    from minsheng_gateway.migration_plan import migration_plan

    upgrade_to_head(migration_plan, url)
    rebuilt = Database(url)
    try:
        drop_read_models(rebuilt)
        plans = GatewayPlans(rebuilt, CatalogCache())
        stale: dict = {}
        handlers = rebuild_handlers(stale, plans)
        fold_batch(
            rebuilt, handlers, [handlers.parser.parse(e.to_json_bytes()) for e in next_events() + legacy_events()]
        )
        refresh_all(plans, stale, Thresholds())
        for schema in ("public", NEXT_SCHEMA):
            for table in ("official_value", "report_view", "indicator_progress_view"):
                ours, theirs = rows(gateway.app.state.database, schema, table), rows(rebuilt, schema, table)
                assert ours == theirs, (schema, table)
        plans.dispose()
    finally:
        rebuilt.dispose()


def rows(database: Database, schema: str, table: str) -> list:
    # What depends on the day a row was computed, not on the events.
    ignored = {"updated_at", "status", "status_since", "computed_on", "payload", "inputs", "next_on", "next_status"}
    ignored -= {"status"} if table == "report_view" else set()
    with database.session() as session:
        result = session.execute(sa.text(f"SELECT * FROM {schema}.{table}"))
        keys = [k for k in result.keys() if k not in ignored]
        return sorted(tuple(str(row._mapping[k]) for k in keys) for row in result)
