"""The gateway's fold rules, on each way its rows travel: as a live poll's few rows (statement
parameters) and as a rebuild's thousands (COPY into staging tables).  The same events give the same
rows: a late older state changes nothing, the later approval wins, snapshots replace, duplicates are
ignored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select

from minsheng.catalog.loader import read_catalog_file
from minsheng.catalog.models import Campaign, Indicator
from minsheng.catalog.service import export_catalog
from minsheng.db import Database
from minsheng.messaging import IntegrationEvent, ProcessedEvent, event_source
from minsheng.reporting.events import (
    CATALOG_PUBLISHED,
    REPORT_EVENT_TYPES,
    REPORT_SNAPSHOT,
    TASK_STATUS_REPORTED,
    CatalogPublished,
    ReportChanged,
    ReportSnapshot,
    ReportState,
)
from minsheng_gateway.projection.models import OfficialValue, ReportView, TaskStatusView
from tests.support.views import fold

T0 = dt.datetime(2022, 7, 1, 8, 0, tzinfo=dt.UTC)


def state(
    report_id: int,
    status: str,
    *,
    revision: int = 1,
    value: float = 1.0,
    period: str = "2022-06",
    is_current: bool = True,
) -> ReportState:
    return ReportState(
        report_id=report_id,
        indicator="T002-1",
        org_unit="370302",
        period=period,
        value=value,
        status=status,
        revision=revision,
        is_current=is_current,
        submitted_by="edu",
    )


def report_event(
    action: str,
    report_id: int,
    *,
    revision: int = 1,
    value: float = 1.0,
    minutes: int = 0,
    supersedes: int | None = None,
    period: str = "2022-06",
) -> IntegrationEvent:
    status = {"submitted": "submitted", "revised": "submitted", "approved": "approved", "returned": "returned"}[action]
    return IntegrationEvent(
        source=event_source("education"),
        type=REPORT_EVENT_TYPES[action],
        subject="T002-1",
        time=T0 + dt.timedelta(minutes=minutes),
        data=ReportChanged(
            campaign="education",
            report=state(report_id, status, revision=revision, value=value, period=period),
            supersedes=supersedes,
            actor="edu",
            occurred_at=T0,
        ),
    )


def task_status_event(revision: int, narrative: str) -> IntegrationEvent:
    return IntegrationEvent(
        source=event_source("education"),
        type=TASK_STATUS_REPORTED,
        subject="task-6",
        data={
            "campaign": "education",
            "task": 6,
            "org_unit": "370300",
            "period": "2022Q4",
            "state": "blocked",
            "narrative": narrative,
            "problems": "",
            "revision": revision,
            "actor": "edu",
            "occurred_at": T0.isoformat(),
        },
    )


def snapshot_event(*reports: ReportState) -> IntegrationEvent:
    return IntegrationEvent(
        source=event_source("education"),
        type=REPORT_SNAPSHOT,
        subject="T002-1",
        data=ReportSnapshot(
            campaign="education",
            indicator="T002-1",
            org_unit="370302",
            reports=list(reports),
            taken_at=T0 + dt.timedelta(days=1),
        ),
    )


def views(database: Database) -> tuple[dict, dict]:
    with database.session() as session:
        reports = {r.report_id: (r.status, r.revision, r.value, r.is_current) for r in session.exec(select(ReportView))}
        official = {
            (o.indicator_code, o.org_unit_code, o.period): (o.report_id, o.revision, o.value)
            for o in session.exec(select(OfficialValue))
        }
    return reports, official


def test_a_late_older_state_changes_nothing_and_the_later_approval_wins(gateway_database):
    first = [
        report_event("submitted", 1, value=5, minutes=0),
        report_event("approved", 1, value=5, minutes=1),
        report_event("revised", 2, revision=2, value=6, minutes=2, supersedes=1),
        report_event("approved", 2, revision=2, value=6, minutes=3),
    ]
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


def test_the_same_rules_hold_within_one_batch(gateway_database):
    """Out of order within a poll: the later state and the later approval still win."""
    assert fold(
        gateway_database,
        [
            report_event("approved", 2, revision=2, value=6, minutes=3),
            report_event("approved", 1, value=5, minutes=1),
            report_event("submitted", 2, revision=2, value=6, minutes=2),
        ],
    ) == (3, 0)
    reports, official = views(gateway_database)
    assert reports == {1: ("approved", 1, 5.0, True), 2: ("approved", 2, 6.0, True)}
    assert official == {("T002-1", "370302", "2022-06"): (2, 2, 6.0)}


def test_a_snapshot_replaces_what_the_series_had(gateway_database):
    fold(
        gateway_database,
        [report_event("approved", 1, value=5), report_event("submitted", 7, value=9, minutes=1, period="2022-07")],
    )
    # The service's truth now: report 1 revised and approved as report 2; report 7 is gone.
    assert fold(
        gateway_database,
        [snapshot_event(state(1, "approved", value=5, is_current=False), state(2, "approved", revision=2, value=6))],
    ) == (1, 0)
    reports, official = views(gateway_database)
    assert reports == {1: ("approved", 1, 5.0, False), 2: ("approved", 2, 6.0, True)}
    assert official == {("T002-1", "370302", "2022-06"): (2, 2, 6.0)}
    # Two snapshots of the series in one batch: the later is the truth.
    assert fold(
        gateway_database,
        [
            snapshot_event(state(3, "submitted", value=1)),
            snapshot_event(state(4, "approved", value=4, period="2022-08")),
        ],
    ) == (2, 0)
    assert views(gateway_database) == ({4: ("approved", 1, 4.0, True)}, {("T002-1", "370302", "2022-08"): (4, 1, 4.0)})


def test_a_task_status_keeps_its_latest_revision(gateway_database):
    assert fold(gateway_database, [task_status_event(2, "第二版"), task_status_event(1, "第一版")]) == (2, 0)
    assert fold(gateway_database, [task_status_event(1, "第一版（重发）")]) == (1, 0)
    with gateway_database.session() as session:
        rows = session.exec(select(TaskStatusView)).all()
    assert [(r.task_number, r.period, r.revision, r.narrative) for r in rows] == [(6, "2022Q4", 2, "第二版")]
    assert fold(gateway_database, [task_status_event(3, "第三版")]) == (1, 0)
    with gateway_database.session() as session:
        assert session.exec(select(TaskStatusView.narrative)).all() == ["第三版"]


def test_one_transaction_may_write_several_runs(gateway_database):
    """Runs of reports split by another type's event reuse the staging tables within one transaction."""
    assert fold(
        gateway_database,
        [
            report_event("approved", 1),
            task_status_event(1, ""),
            report_event("approved", 2, period="2022-07", minutes=1),
        ],
    ) == (3, 0)
    reports, official = views(gateway_database)
    assert set(reports) == {1, 2} and len(official) == 2


def test_a_republished_catalog_is_applied_only_when_it_differs(gateway_database):
    """Folding the catalog the gateway already holds changes nothing; a corrected one is applied."""
    doc = read_catalog_file(Path(__file__).parents[2] / "services/education/minsheng_education/catalog.yaml")

    def published(catalog) -> IntegrationEvent:  # noqa: ANN001
        return IntegrationEvent(
            source=event_source("education"),
            type=CATALOG_PUBLISHED,
            subject="education",
            data=CatalogPublished(campaign="education", catalog=catalog.model_dump(mode="json")),
        )

    assert fold(gateway_database, [published(doc)]) == (1, 0)
    with gateway_database.session() as session:
        assert export_catalog(session=session, campaign="education") == doc
    assert fold(gateway_database, [published(doc)]) == (1, 0)  # the same again: skipped, still the same
    headline = doc.indicators[0]
    corrected = doc.model_copy(
        update={"indicators": (headline.model_copy(update={"name": "更正后的名称"}), *doc.indicators[1:])}
    )
    assert fold(gateway_database, [published(corrected)]) == (1, 0)
    with gateway_database.session() as session:
        assert session.get(Indicator, headline.code).name == "更正后的名称"
        assert export_catalog(session=session, campaign="education") == corrected

    # Rows applied before the digest existed (NULL) are not trusted: the document is applied again.
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
