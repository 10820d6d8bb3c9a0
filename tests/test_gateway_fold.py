"""The gateway's bulk fold on both of its databases and on each of its write paths: PostgreSQL with
a rebuild's large batches (COPY into staging tables) and with a live poll's small ones (executemany),
and SQLite (executemany).  The same events give the same rows; the fold's rules hold on each."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.messaging import IntegrationEvent, ProcessedEvent, event_source
from minsheng.messaging.consumer import parse_typed_event
from minsheng.progress.model import Thresholds
from minsheng.reporting.events import REPORT_EVENT_TYPES, ReportChanged, ReportState
from tests.test_gateway_views import AS_OF, fold_all, gateway, outbox_events, scenario  # noqa: F401 - fixture

T0 = dt.datetime(2022, 7, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["postgresql-staged", "postgresql", "sqlite"])
def gateway_database(request, make_database, tmp_path, monkeypatch):
    import minsheng_gateway.main as gateway_main
    from minsheng_gateway.views import fold

    if request.param == "postgresql-staged":  # every batch staged, as a rebuild's thousands of rows are
        monkeypatch.setattr(fold, "STAGE_FROM_ROWS", 1)
    url = make_database("fold") if request.param.startswith("postgresql") else f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade_to_head(gateway_main.migration_plan, url)
    database = Database(url)
    yield database
    database.dispose()


def report_event(action: str, report_id: int, *, revision: int = 1, value: float = 1.0, minutes: int = 0,
                 supersedes: int | None = None, period: str = "2022-06") -> IntegrationEvent:
    status = {"submitted": "submitted", "revised": "submitted", "approved": "approved", "returned": "returned"}[action]
    state = ReportState(report_id=report_id, indicator="T002-1", org_unit="370302", period=period, value=value,
                        status=status, revision=revision, is_current=True, submitted_by="edu")
    return IntegrationEvent(source=event_source("education"), type=REPORT_EVENT_TYPES[action], subject="T002-1",
                            time=T0 + dt.timedelta(minutes=minutes),
                            data=ReportChanged(campaign="education", report=state, supersedes=supersedes,
                                               actor="edu", occurred_at=T0))


def fold(database: Database, events: list[IntegrationEvent]) -> tuple[int, int]:
    """As the consumer and the rebuild hand them over: parsed into `TypedEvent`s."""
    from minsheng_gateway.views.fold import apply_many

    with database.session() as session:
        counts = apply_many(session, [parse_typed_event(e.to_json_bytes()) for e in events])
        session.commit()
    return counts


def views(database: Database) -> tuple[dict, dict]:
    from minsheng_gateway.views.models import OfficialValue, ReportView

    with database.session() as session:
        reports = {r.report_id: (r.status, r.revision, r.value, r.is_current)
                   for r in session.exec(select(ReportView))}
        official = {(o.indicator_code, o.org_unit_code, o.period): (o.report_id, o.revision, o.value)
                    for o in session.exec(select(OfficialValue))}
    return reports, official


def test_bulk_fold_rules_hold_on_both_databases(gateway_database):
    first = [report_event("submitted", 1, value=5, minutes=0), report_event("approved", 1, value=5, minutes=1),
             report_event("revised", 2, revision=2, value=6, minutes=2, supersedes=1),
             report_event("approved", 2, revision=2, value=6, minutes=3)]
    assert fold(gateway_database, first + first[:1]) == (4, 1)
    # Later batches: an older state of report 2 arriving late and an older approval of the series
    # change nothing; redelivered events change nothing; an unrelated series is added.
    late = [report_event("submitted", 2, revision=2, value=6, minutes=2)]
    assert fold(gateway_database, late + first + [report_event("approved", 3, period="2022-07", minutes=4)]) == (2, 4)
    reports, official = views(gateway_database)
    assert reports == {1: ("approved", 1, 5.0, False), 2: ("approved", 2, 6.0, True), 3: ("approved", 1, 1.0, True)}
    assert official == {("T002-1", "370302", "2022-06"): (2, 2, 6.0), ("T002-1", "370302", "2022-07"): (3, 1, 1.0)}
    # An earlier approved revision delivered after the later one never replaces the official value.
    assert fold(gateway_database, [report_event("approved", 1, value=5, minutes=9)]) == (1, 0)
    assert views(gateway_database)[1][("T002-1", "370302", "2022-06")] == (2, 2, 6.0)
    with gateway_database.session() as session:
        assert len(session.exec(select(ProcessedEvent)).all()) == 7


def test_one_transaction_may_stage_several_report_runs(gateway_database):
    """Runs split by an event folded one by one reuse the staging tables within one transaction."""
    from minsheng_gateway.views.fold import apply_many

    task_status = IntegrationEvent(source=event_source("education"), type="minsheng.task_status.reported.v1",
                                   subject="task-6", data={
                                       "campaign": "education", "task": 6, "org_unit": "370300", "period": "2022Q4",
                                       "state": "blocked", "narrative": "", "problems": "", "revision": 1,
                                       "actor": "edu", "occurred_at": T0.isoformat()})
    with gateway_database.session() as session:
        assert apply_many(session, [report_event("approved", 1), task_status,
                                    report_event("approved", 2, period="2022-07", minutes=1)]) == (3, 0)
        session.commit()
    reports, official = views(gateway_database)
    assert set(reports) == {1, 2} and len(official) == 2


def test_batch_fold_on_sqlite_equals_event_by_event_fold_on_postgresql(campaign_client, gateway, tmp_path):
    """The local run's SQLite gateway: the consumer's bulk fold and the progress refresh give the
    figures the event-by-event fold gives on PostgreSQL."""
    import minsheng_gateway.main as gateway_main
    from minsheng_gateway.views.fold import apply_many, refresh

    education = campaign_client("education")
    scenario(education)
    events = outbox_events(education)
    fold_all(gateway, events)
    path = "/api/v1/indicators/T002-1/progress"
    expected = gateway.get(path, params={"org_unit": "370302", "as_of": AS_OF}).json()

    settings = gateway_main.settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'gateway.db'}", "kafka_bootstrap_servers": "127.0.0.1:1",
        "catalog_retry_seconds": 3600})
    with TestClient(gateway_main.build_app(settings)) as batched:
        with batched.app.state.database.session() as session:
            assert apply_many(session, events) == (len(events), 0)
            refresh(session, Thresholds(), dt.date(2022, 12, 31))
            session.commit()
        with batched.app.state.database.session() as session:  # progress refreshed again: an upsert
            session.info["dirty_progress"] = {("T002-1", "370302")}
            refresh(session, Thresholds(), dt.date(2022, 12, 31))
            session.commit()
        got = batched.get(path, params={"org_unit": "370302", "as_of": AS_OF}).json()
    assert got == expected


def test_a_republished_catalog_is_applied_only_when_it_differs(gateway_database):
    """Folding the catalog the gateway already holds changes nothing; a corrected one is applied."""
    from pathlib import Path

    from minsheng.catalog.loader import read_catalog_file
    from minsheng.catalog.models import Indicator
    from minsheng.catalog.service import export_catalog
    from minsheng.reporting.events import CATALOG_PUBLISHED, CatalogPublished

    doc = read_catalog_file(Path(__file__).parents[1] / "services/education/minsheng_education/catalog.yaml")

    def published(catalog) -> IntegrationEvent:  # noqa: ANN001
        return IntegrationEvent(source=event_source("education"), type=CATALOG_PUBLISHED, subject="education",
                                data=CatalogPublished(campaign="education", catalog=catalog.model_dump(mode="json")))

    assert fold(gateway_database, [published(doc)]) == (1, 0)
    with gateway_database.session() as session:
        assert export_catalog(session=session, campaign="education") == doc
    assert fold(gateway_database, [published(doc)]) == (1, 0)  # the same again: skipped, still the same
    headline = doc.indicators[0]
    corrected = doc.model_copy(update={"indicators": (headline.model_copy(update={"name": "更正后的名称"}),
                                                      *doc.indicators[1:])})
    assert fold(gateway_database, [published(corrected)]) == (1, 0)
    with gateway_database.session() as session:
        assert session.get(Indicator, headline.code).name == "更正后的名称"
        assert export_catalog(session=session, campaign="education") == corrected

    # Rows applied before the digest existed (NULL) are not trusted: the document is applied again.
    from minsheng.catalog.models import Campaign

    with gateway_database.session() as session:
        session.get(Campaign, "education").catalog_digest = None
        session.get(Indicator, headline.code).name = "被改动的名称"
        session.commit()
    assert fold(gateway_database, [published(corrected)]) == (1, 0)
    with gateway_database.session() as session:
        assert export_catalog(session=session, campaign="education") == corrected
    assert fold(gateway_database, [published(doc)]) == (1, 0)  # and back: the digest follows every change
    with gateway_database.session() as session:
        assert export_catalog(session=session, campaign="education") == doc
