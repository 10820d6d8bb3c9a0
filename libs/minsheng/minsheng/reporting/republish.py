"""Republishing a service's current state as events, for consumers rebuilding their views after
the broker lost its data (the local broker keeps nothing on disk)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, select

from minsheng.catalog.service import export_catalog
from minsheng.messaging import add_events
from minsheng.reporting.events import (
    CATALOG_PUBLISHED,
    REPORT_SNAPSHOT,
    CatalogPublished,
    ReportSnapshot,
    report_state,
    task_state_changed,
    task_status_reported,
    write_event,
)
from minsheng.reporting.implementation import ENTITY as TASK_STATE
from minsheng.reporting.models import ChangeRecord, Report, ReportStatus, TaskStatusReport


def publish_catalog(*, session: Session, campaign: str) -> None:
    """The catalog as an event: consumers (the gateway) learn it without opening this database."""
    doc = export_catalog(session=session, campaign=campaign)
    write_event(
        session,
        campaign=campaign,
        key=campaign,
        event_type=CATALOG_PUBLISHED,
        subject=campaign,
        data=CatalogPublished(campaign=campaign, catalog=doc.model_dump(mode="json")),
    )


def republish_state(*, session: Session, campaign: str) -> dict[str, int]:
    """One snapshot event per indicator × org unit, the current task statuses, every change of the tasks'
    implementation states (their history is part of the views), and the catalog.  Written to the outbox in
    one transaction, so a consumer sees a complete state or none of it."""
    publish_catalog(session=session, campaign=campaign)
    series: dict[tuple[str, str], list[Report]] = defaultdict(list)
    for report in session.exec(
        select(Report)
        .where((Report.is_current == True) | (Report.status == ReportStatus.approved))  # noqa: E712
        .order_by(Report.id)
    ):
        series[(report.indicator_code, report.org_unit_code)].append(report)
    now = dt.datetime.now(dt.UTC)
    for (indicator, org_unit), reports in series.items():
        write_event(
            session,
            campaign=campaign,
            key=indicator,
            event_type=REPORT_SNAPSHOT,
            subject=indicator,
            data=ReportSnapshot(
                campaign=campaign,
                indicator=indicator,
                org_unit=org_unit,
                reports=[report_state(r) for r in reports],
                taken_at=now,
            ),
        )
    statuses = list(session.exec(select(TaskStatusReport).where(TaskStatusReport.is_current == True)))  # noqa: E712
    add_events(session, [task_status_reported(campaign, row) for row in statuses])
    changes = list(
        session.exec(select(ChangeRecord).where(ChangeRecord.entity == TASK_STATE).order_by(ChangeRecord.id))
    )
    add_events(session, [task_state_changed(campaign, int(change.entity_id), change) for change in changes])
    session.commit()
    return {"snapshots": len(series), "task_statuses": len(statuses), "task_states": len(changes), "catalog": 1}
