"""预警 of the kind 逾期未报: the reports owed city-wide whose due date has passed without a report that
counts (submitted or approved).  Who owes what and when it is due are the inbox's rules
(`inbox/service.py`); this only takes the union of everyone's scope and groups each series' overdue periods
into one warning."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from minsheng.catalog.models import OrgUnit
from minsheng.catalog.snapshot import plan_of
from minsheng.orgunits import CITY_CODE
from minsheng.progress.model import Status
from minsheng.reporting.calendar import DuePeriod, Relevance, ReportingCalendar
from minsheng_gateway.inbox.service import (
    Series,
    _current_reports,
    active_indicators,
    is_overdue,
    lead_departments,
)
from minsheng_gateway.reads import end_of_day
from minsheng_gateway.warnings.schemas import Warning

OVERDUE_KIND = "overdue"
OVERDUE_LABEL = "逾期未报"


def city_wide_series(session: Session) -> list[Series]:
    """Everyone's scope at once: every indicator for the city (bureaus and the city office between them owe
    them all), and every indicator that is not city-only for each district and zone."""
    indicators = active_indicators(session)
    units = list(session.exec(select(OrgUnit.code).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    return [(i, CITY_CODE) for i in indicators] + [(i, unit) for unit in units for i in indicators if not i.city_only]


def overdue_by_unit(*, session: Session, calendar: ReportingCalendar, day: dt.date) -> dict[str, int]:
    """How many periods each org unit owed and had let pass their due date at the end of `day`, as the reports stood
    then (a league table's deduction)."""
    counts: dict[str, int] = {}
    for _indicator, unit, missed in overdue_series(session=session, calendar=calendar, today=day, replay=True):
        counts[unit] = counts.get(unit, 0) + len(missed)
    return counts


def overdue_series(
    *, session: Session, calendar: ReportingCalendar, today: dt.date, series: list | None = None, replay: bool = False
):
    """Each indicator × org unit with periods past due and not reported (the inbox's rule, `is_overdue`),
    with those periods in order: what the warnings list and the overdue metric both count.  `replay`:
    `today` is a past day, and the reports are as they stood at its end."""
    series = city_wide_series(session) if series is None else series
    reports = _current_reports(session, series, as_of=today if replay else None)
    plan = plan_of(session)
    past_due: dict[tuple[str, Relevance], list[DuePeriod]] = {}
    for indicator, unit in series:
        relevance = Relevance.of(indicator.kind, indicator.horizon, plan=plan)
        key = (indicator.frequency, relevance)
        if key not in past_due:
            due = calendar.due_periods(indicator.frequency, today, plan=plan, relevance=relevance)
            past_due[key] = [d for d in due if d.overdue(today)]
        missed = [d for d in past_due[key] if is_overdue(reports.get((indicator.code, unit, d.period.code)), d, today)]
        if missed:
            yield indicator, unit, missed


def overdue_warnings(
    *,
    session: Session,
    calendar: ReportingCalendar,
    today: dt.date,
    campaign: str | None = None,
    org_unit: str | None = None,
    department: str | None = None,
    replay: bool = False,
) -> list[Warning]:
    """One warning per indicator × org unit with overdue periods, newest missed due date first.

    The inbox's rows are not built (a city-wide list is some 50 000 of them): only the periods past due are
    looked at, with the inbox's own rule (`is_overdue`)."""
    leads = lead_departments(session)
    names = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())
    series = [
        (indicator, unit)
        for indicator, unit in city_wide_series(session)
        if (campaign is None or indicator.campaign_code == campaign)
        and (org_unit is None or unit == org_unit)
        and (department is None or (indicator.task_number is not None and department in leads[indicator.task_number]))
    ]
    result = []
    for indicator, unit, missed in overdue_series(
        session=session, calendar=calendar, today=today, series=series, replay=replay
    ):
        last = missed[-1]
        shown = "、".join(d.period.code for d in missed[-6:])
        more = f"等{len(missed)}期" if len(missed) > 6 else f"共{len(missed)}期"
        task = indicator.task_number
        result.append(
            Warning(
                kind=OVERDUE_KIND,
                id=indicator.code,
                name=indicator.name,
                campaign=indicator.campaign_code,
                task_number=task,
                org_unit=unit,
                org_unit_name=names.get(unit, unit),
                status=Status.behind,
                status_label=OVERDUE_LABEL,
                since=end_of_day(last.due),  # the moment it became overdue
                lead_departments=sorted(leads[task]) if task is not None else [],
                reasons=[f"{shown}{more}逾期未报（最近一期截止{last.due:%Y年%-m月%-d日}）"],
            )
        )
    result.sort(key=lambda w: (w.since, w.campaign, w.id, w.org_unit), reverse=True)
    return result


__all__ = ["OVERDUE_KIND", "city_wide_series", "overdue_series", "overdue_warnings"]
