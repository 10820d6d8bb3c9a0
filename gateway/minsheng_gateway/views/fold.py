"""Folding events into the read models.  Called by the consumer inside the transaction that also
records the event id, so a redelivered event changes nothing.

Folding is split in two: `apply` updates the raw views and notes which indicator × org unit
progress rows became stale; `refresh` recomputes those with the kernel's status functions.  The live
consumer does both per event; a rebuild applies a whole batch and refreshes once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session, delete

from minsheng.catalog.document import CampaignDoc
from minsheng.catalog.loader import apply_catalog
from minsheng.clock import today_in_china
from minsheng.messaging import IntegrationEvent
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import indicator_progress
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.queries import load_facts
from minsheng.reporting.events import (
    CATALOG_PUBLISHED,
    REPORT_EVENT_TYPES,
    REPORT_SNAPSHOT,
    TASK_STATUS_REPORTED,
    CatalogPublished,
    ReportChanged,
    ReportSnapshot,
    ReportState,
    TaskStatusReported,
)
from minsheng_gateway.views.models import IndicatorProgressView, OfficialValue, ReportView, TaskStatusView
from minsheng_gateway.views.source import GatewaySource

log = logging.getLogger(__name__)

REPORT_TYPES = frozenset(REPORT_EVENT_TYPES.values())
DIRTY = "dirty_progress"  # session.info key: {(indicator, org unit)} to recompute


def _dirty(session: Session) -> set[tuple[str, str]]:
    return session.info.setdefault(DIRTY, set())


def _upsert_report(session: Session, campaign: str, state: ReportState, at: dt.datetime) -> None:
    row = session.get(ReportView, (campaign, state.report_id))
    if row is not None and _utc(row.updated_at) > _utc(at):
        return  # an older state arriving late (a retried publish) never moves a report back in time
    values = dict(indicator_code=state.indicator, org_unit_code=state.org_unit, period=state.period,
                  period_end=Period.parse(state.period).end, value=state.value, numerator=state.numerator,
                  denominator=state.denominator, status=state.status, revision=state.revision,
                  is_current=state.is_current, submitted_by=state.submitted_by, updated_at=at)
    if row is None:
        session.add(ReportView(campaign=campaign, report_id=state.report_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
    if state.status == "approved":
        _offer_official(session, campaign, state)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _offer_official(session: Session, campaign: str, state: ReportState) -> None:
    """An approved revision is official unless a later approved revision of the series already is."""
    key = (state.indicator, state.org_unit, state.period)
    row = session.get(OfficialValue, key)
    if row is not None and row.revision > state.revision:
        return
    values = dict(campaign=campaign, value=state.value, numerator=state.numerator, denominator=state.denominator,
                  report_id=state.report_id, revision=state.revision)
    if row is None:
        session.add(OfficialValue(indicator_code=state.indicator, org_unit_code=state.org_unit, period=state.period,
                                  **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    _dirty(session).update({(state.indicator, state.org_unit), (state.indicator, CITY_CODE)})


def _fold_report(session: Session, event: IntegrationEvent) -> None:
    data: ReportChanged = event.typed_data()
    if data.supersedes is not None:
        previous = session.get(ReportView, (data.campaign, data.supersedes))
        if previous is not None and previous.is_current:
            previous.is_current = False
            session.add(previous)
    _upsert_report(session, data.campaign, data.report, event.time)
    session.flush()


def _fold_snapshot(session: Session, event: IntegrationEvent) -> None:
    """A snapshot is the whole truth for its indicator × org unit: replace what we had."""
    data: ReportSnapshot = event.typed_data()
    session.exec(delete(ReportView).where(ReportView.campaign == data.campaign,
                                          ReportView.indicator_code == data.indicator,
                                          ReportView.org_unit_code == data.org_unit))
    session.exec(delete(OfficialValue).where(OfficialValue.indicator_code == data.indicator,
                                             OfficialValue.org_unit_code == data.org_unit))
    session.flush()
    for state in data.reports:
        _upsert_report(session, data.campaign, state, data.taken_at)
        session.flush()
    _dirty(session).update({(data.indicator, data.org_unit), (data.indicator, CITY_CODE)})


def _fold_task_status(session: Session, event: IntegrationEvent) -> None:
    data: TaskStatusReported = event.typed_data()
    period = Period.parse(data.period)
    row = session.get(TaskStatusView, (data.task, data.org_unit, period.code))
    if row is not None and row.revision > data.revision:
        return  # an older revision arriving late (e.g. from a snapshot) never overwrites a newer one
    values = dict(campaign=data.campaign, period_end=period.end, state=data.state, narrative=data.narrative,
                  problems=data.problems, revision=data.revision, reported_by=data.actor,
                  reported_at=data.occurred_at)
    if row is None:
        session.add(TaskStatusView(task_number=data.task, org_unit_code=data.org_unit, period=period.code, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def _fold_catalog(session: Session, event: IntegrationEvent) -> None:
    data: CatalogPublished = event.typed_data()
    apply_catalog(session=session, doc=CampaignDoc.model_validate(data.catalog))


def apply(session: Session, event: IntegrationEvent) -> None:
    """Update the raw read models for one event (types the gateway does not fold are ignored)."""
    if event.type in REPORT_TYPES:
        _fold_report(session, event)
    elif event.type == REPORT_SNAPSHOT:
        _fold_snapshot(session, event)
    elif event.type == TASK_STATUS_REPORTED:
        _fold_task_status(session, event)
    elif event.type == CATALOG_PUBLISHED:
        _fold_catalog(session, event)
    # status_changed and period events: the gateway computes statuses itself from the values.


def refresh(session: Session, thresholds: Thresholds, today: dt.date | None = None) -> int:
    """Recompute the progress rows the applied events made stale."""
    dirty = session.info.pop(DIRTY, set())
    if not dirty:
        return 0
    today = today or today_in_china()
    codes = sorted({code for code, _ in dirty})
    facts = load_facts(session, codes=codes)
    source = GatewaySource(session)
    official, pending = source.official(codes), source.pending(codes)
    now = dt.datetime.now(dt.UTC)
    for code, org_unit in sorted(dirty):
        if code not in facts:
            continue  # the catalog has not arrived yet; the catalog fold will not be long
        progress = indicator_progress(facts[code], org_unit, official.get(code, []), pending.get(code, []), today,
                                      thresholds)
        store_progress(session, progress, now)
    return len(dirty)


def store_progress(session: Session, progress, now: dt.datetime) -> None:  # noqa: ANN001
    row = session.get(IndicatorProgressView, (progress.id, progress.org_unit))
    payload = progress.model_dump_json()
    if row is None:
        session.add(IndicatorProgressView(indicator_code=progress.id, org_unit_code=progress.org_unit,
                                          campaign=progress.campaign, status=progress.status, status_since=now,
                                          computed_on=progress.as_of, payload=payload))
        return
    if row.status != progress.status:
        row.status, row.status_since = progress.status, now
    row.computed_on, row.payload = progress.as_of, payload
    session.add(row)


def mark_pending_dirty(session: Session, event: IntegrationEvent) -> None:
    """Submitted or returned reports change the 'pending' list shown beside the figures."""
    if event.type in REPORT_TYPES:
        data: ReportChanged = event.typed_data()
        _dirty(session).update({(data.report.indicator, data.report.org_unit), (data.report.indicator, CITY_CODE)})


def fold_event(session: Session, event: IntegrationEvent, thresholds: Thresholds,
               today: dt.date | None = None) -> None:
    """The live consumer's handler: apply, then refresh what became stale, in the event's transaction."""
    apply(session, event)
    mark_pending_dirty(session, event)
    refresh(session, thresholds, today)


__all__ = ["apply", "fold_event", "mark_pending_dirty", "refresh"]
