"""Official values: the latest approved revision of every indicator × org unit × period, as the
service holds them (the gateway's consistency check compares its own figures with these).

The rule is stated here once: `OFFICIAL_STATUS` says which revisions count, `replaces_official` which
of two wins, `latest_approved` is the query every reader of a service's reports uses; the gateway's
fold keeps its `official_value` table by the same two rules (`projection/fold.py`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session, func, select

from minsheng.pagination import PageParams
from minsheng.reporting.models import Report, ReportStatus

# Only an approved revision is official; a submitted one is pending, a returned one counts for nothing.
OFFICIAL_STATUS = ReportStatus.approved


def replaces_official(revision: int, held: int | None) -> bool:
    """Whether an approved `revision` of a series replaces the one `held` as its official value: the later
    approval wins (the same revision again changes nothing worth keeping apart)."""
    return held is None or held <= revision


def latest_approved(*columns: Any, where: Iterable[Any] = ()) -> sa.Select:
    """The official value of every indicator × org unit × period (among the reports `where` selects): its
    latest approved revision, as a query of `columns` (columns of `report`) to read, count or join."""
    table = Report.__table__
    return (
        sa.select(*columns)
        .where(table.c.status == OFFICIAL_STATUS.value, *where)
        .order_by(table.c.indicator_code, table.c.org_unit_code, table.c.period, table.c.revision.desc())
        .ext(distinct_on(table.c.indicator_code, table.c.org_unit_code, table.c.period))
    )


class OfficialValue(BaseModel):
    indicator: str
    org_unit: str
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    report_id: int
    revision: int


def official_values(
    *, session: Session, page: PageParams, indicator: str | None = None
) -> tuple[list[OfficialValue], int]:
    """The latest approved revision of every indicator × org unit × period: the official figures."""
    table = Report.__table__
    latest = latest_approved(table.c.id, where=[table.c.indicator_code == indicator] if indicator else []).subquery()
    count = session.exec(select(func.count()).select_from(latest)).one()
    rows = session.exec(
        select(Report)
        .join(latest, Report.id == latest.c.id)
        .order_by(Report.indicator_code, Report.org_unit_code, Report.period_start)
        .offset(page.offset)
        .limit(page.limit)
    )
    return [_official(r) for r in rows], count


def latest_approved_before(
    *, session: Session, org_unit: str, before: dt.date, indicators: Iterable[str]
) -> dict[str, OfficialValue]:
    """Per indicator, the official value of `org_unit` for the latest period that ended before `before`
    (what a clerk reported and the city office approved last time)."""
    codes = list(indicators)
    if not codes:
        return {}
    latest = (
        select(Report)
        .where(
            Report.status == OFFICIAL_STATUS,
            Report.org_unit_code == org_unit,
            Report.period_end < before,
            Report.indicator_code.in_(codes),
        )
        .order_by(Report.indicator_code, Report.period_end.desc(), Report.period_start.desc(), Report.revision.desc())
        .ext(distinct_on(Report.indicator_code))
    )
    return {r.indicator_code: _official(r) for r in session.exec(latest)}


def _official(report: Report) -> OfficialValue:
    """An approved revision as the official value it is."""
    return OfficialValue(
        indicator=report.indicator_code,
        org_unit=report.org_unit_code,
        period=report.period,
        value=report.value,
        numerator=report.numerator,
        denominator=report.denominator,
        report_id=report.id,
        revision=report.revision,
    )
