"""Official values: the latest approved revision of every indicator × org unit × period, as the
service holds them (the gateway's consistency check compares its own figures with these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session, func, select

from minsheng.pagination import PageParams
from minsheng.reporting.models import Report, ReportStatus


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
    latest = (
        select(Report.indicator_code, Report.org_unit_code, Report.period, func.max(Report.revision).label("revision"))
        .where(Report.status == ReportStatus.approved)
        .group_by(Report.indicator_code, Report.org_unit_code, Report.period)
    )
    if indicator:
        latest = latest.where(Report.indicator_code == indicator)
    latest = latest.subquery()
    query = select(Report).join(
        latest,
        (Report.indicator_code == latest.c.indicator_code)
        & (Report.org_unit_code == latest.c.org_unit_code)
        & (Report.period == latest.c.period)
        & (Report.revision == latest.c.revision),
    )
    count = session.exec(select(func.count()).select_from(latest)).one()
    rows = session.exec(
        query.order_by(Report.indicator_code, Report.org_unit_code, Report.period_start)
        .offset(page.offset)
        .limit(page.limit)
    )
    return [
        OfficialValue(
            indicator=r.indicator_code,
            org_unit=r.org_unit_code,
            period=r.period,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            report_id=r.id,
            revision=r.revision,
        )
        for r in rows
    ], count


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
            Report.status == ReportStatus.approved,
            Report.org_unit_code == org_unit,
            Report.period_end < before,
            Report.indicator_code.in_(codes),
        )
        .order_by(Report.indicator_code, Report.period_end.desc(), Report.period_start.desc(), Report.revision.desc())
        .ext(distinct_on(Report.indicator_code))
    )
    return {
        r.indicator_code: OfficialValue(
            indicator=r.indicator_code,
            org_unit=r.org_unit_code,
            period=r.period,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            report_id=r.id,
            revision=r.revision,
        )
        for r in session.exec(latest)
    }
