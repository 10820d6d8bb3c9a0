"""预警 of the kind 逾期未报: the reports owed city-wide whose due date has passed without a report that
counts (submitted or approved).  Who owes what and when it is due are the inbox's rules
(`inbox/service.py`); this only takes the union of everyone's scope and groups each series' overdue periods
into one warning."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, select

from minsheng.catalog.models import OrgUnit
from minsheng.clock import CHINA
from minsheng.orgunits import CITY_CODE
from minsheng.progress.model import Status
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.inbox.models import InboxItemPublic
from minsheng_gateway.inbox.service import Series, _active_indicators, _lead_departments, inbox_items
from minsheng_gateway.views.schemas import Warning

OVERDUE_KIND = "overdue"
OVERDUE_LABEL = "逾期未报"


def city_wide_series(session: Session) -> list[Series]:
    """Everyone's scope at once: every indicator for the city (bureaus and the city office between them owe
    them all), and every indicator that is not city-only for each district and zone."""
    indicators = _active_indicators(session)
    units = list(session.exec(select(OrgUnit.code).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    return [(i, CITY_CODE) for i in indicators] + [(i, unit) for unit in units for i in indicators if not i.city_only]


def _due_moment(day: dt.date) -> dt.datetime:
    """The moment a report became overdue: the end of its due day, Beijing time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA)


def overdue_warnings(
    *,
    session: Session,
    calendar: ReportingCalendar,
    today: dt.date,
    campaign: str | None = None,
    org_unit: str | None = None,
    department: str | None = None,
) -> list[Warning]:
    """One warning per indicator × org unit with overdue periods, newest missed due date first."""
    leads = _lead_departments(session)
    series = [
        (indicator, unit)
        for indicator, unit in city_wide_series(session)
        if (campaign is None or indicator.campaign_code == campaign)
        and (org_unit is None or unit == org_unit)
        and (department is None or (indicator.task_number is not None and department in leads[indicator.task_number]))
    ]
    late: dict[tuple[str, str], list[InboxItemPublic]] = defaultdict(list)
    for item in inbox_items(session=session, series=series, calendar=calendar, today=today):
        if item.overdue:
            late[(item.indicator_id, item.org_unit)].append(item)
    result = []
    for items in late.values():
        items.sort(key=lambda i: i.due_date)
        last = items[-1]
        shown = "、".join(i.period for i in items[-6:])
        more = f"等{len(items)}期" if len(items) > 6 else f"共{len(items)}期"
        result.append(
            Warning(
                kind=OVERDUE_KIND,
                id=last.indicator_id,
                name=last.indicator_name,
                campaign=last.campaign,
                task_number=last.task,
                org_unit=last.org_unit,
                org_unit_name=last.org_unit_name,
                status=Status.behind,
                status_label=OVERDUE_LABEL,
                since=_due_moment(last.due_date),
                lead_departments=sorted(leads.get(last.task, ())) if last.task is not None else [],
                reasons=[f"{shown}{more}逾期未报（最近一期截止{last.due_date:%Y年%-m月%-d日}）"],
            )
        )
    result.sort(key=lambda w: (w.since, w.campaign, w.id, w.org_unit), reverse=True)
    return result


__all__ = ["OVERDUE_KIND", "city_wide_series", "overdue_warnings"]
