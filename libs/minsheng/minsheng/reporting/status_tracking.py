"""Noticing when an indicator's computed status moves, so the move can be announced as an event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlmodel import Field, Session, SQLModel, select

from minsheng.catalog.models import enum_column
from minsheng.progress.model import Status, Thresholds


class IndicatorStatus(SQLModel, table=True):
    """The last computed status of an indicator for an org unit (a campaign service's memory)."""

    __tablename__ = "indicator_status"

    indicator_code: str = Field(foreign_key="indicator.code", primary_key=True, max_length=20)
    org_unit_code: str = Field(foreign_key="org_unit.code", primary_key=True, max_length=6)
    status: Status = Field(sa_type=enum_column(Status))
    as_of: dt.date
    changed_at: dt.datetime


STATUS_TRACKING_TABLES = frozenset({IndicatorStatus.__tablename__})


def track_status_changes(*, session: Session, org_units_by_indicator: Mapping[str, Iterable[str]], as_of: dt.date,
                         thresholds: Thresholds) -> list[tuple[str, str]]:
    """Recompute the status of each indicator for the given org units; where it moved, remember it
    and emit the event.  Reads each indicator's official values and remembered statuses once.
    Returns the (indicator, org unit) pairs that moved."""
    from minsheng.progress.queries import ReportSource, load_facts  # the progress layer reads reports
    from minsheng.progress.assemble import indicator_progress
    from minsheng.reporting.events import INDICATOR_STATUS_CHANGED, IndicatorStatusChanged, write_event

    codes = list(org_units_by_indicator)
    facts_by_code = load_facts(session, codes=codes)
    official = ReportSource(session).official(codes)
    remembered = {(row.indicator_code, row.org_unit_code): row for row in session.exec(
        select(IndicatorStatus).where(IndicatorStatus.indicator_code.in_(codes)))}
    moved = []
    for indicator, org_units in org_units_by_indicator.items():
        facts = facts_by_code[indicator]
        for org_unit in dict.fromkeys(org_units):
            progress = indicator_progress(facts, org_unit, official.get(indicator, []), [], as_of, thresholds)
            row = remembered.get((indicator, org_unit))
            previous = row.status if row else None
            if previous == progress.status:
                continue
            now = dt.datetime.now(dt.UTC)
            if row is None:
                row = IndicatorStatus(indicator_code=indicator, org_unit_code=org_unit, status=progress.status,
                                      as_of=as_of, changed_at=now)
            else:
                row.status, row.as_of, row.changed_at = progress.status, as_of, now
            session.add(row)
            write_event(session, campaign=facts.campaign, key=indicator, event_type=INDICATOR_STATUS_CHANGED,
                        subject=indicator, data=IndicatorStatusChanged(
                            campaign=facts.campaign, indicator=indicator, org_unit=org_unit,
                            previous_status=previous.value if previous else None, status=progress.status.value,
                            as_of=as_of, current_value=progress.current_value,
                            expected_value=progress.expected_value, target_value=progress.target_value,
                            reasons=progress.reasons))
            moved.append((indicator, org_unit))
    return moved
