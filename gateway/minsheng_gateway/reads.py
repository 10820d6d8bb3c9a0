"""A report revision as it stood at the end of a past day (北京时间), for the views that replay the
plan's past (`as_of`): who had reported, what awaited review, what was overdue, a value's history.

The rule, stated once:
- a revision is known from the moment it was handed in (`submitted_at`);
- until it was approved or returned (`reviewed_at`) it was awaiting review (待审核), whatever became of it
  since;
- of a series' revisions known by then, the latest is the one that counted.
A revision whose submission the fold never saw (folded from a snapshot, or before these times were kept)
is known from its last change (`updated_at`), and decided then if it is decided.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from minsheng.clock import CHINA, as_utc
from minsheng.reporting.models import ReportStatus
from minsheng_gateway.projection.models import ReportView

SUBMITTED = ReportStatus.submitted.value


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of `day` in Beijing (the day the city office means): the first moment of the next."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA)


def known_by(day: dt.date) -> sa.ColumnElement[bool]:
    """The revisions handed in by the end of `day` (a query's criterion)."""
    return sa.func.coalesce(ReportView.submitted_at, ReportView.updated_at) < end_of_day(day)


def as_it_stood(row: ReportView, day: dt.date) -> ReportView:
    """`row` (known by the end of `day`) as it stood then: decided later, it was still awaiting review.
    A detached copy where it differs; the row itself where not."""
    if row.status == SUBMITTED or as_utc(row.reviewed_at or row.updated_at) < end_of_day(day):
        return row
    return ReportView.model_validate(row.model_dump() | {"status": SUBMITTED, "return_reason": None})


def current_as_of(rows: list[ReportView], day: dt.date) -> dict[tuple[str, str, str], ReportView]:
    """Of the revisions known by the end of `day`, the one that counted per indicator × org unit × period,
    as it stood then."""
    latest: dict[tuple[str, str, str], ReportView] = {}
    for row in rows:
        key = (row.indicator_code, row.org_unit_code, row.period)
        if key not in latest or latest[key].revision < row.revision:
            latest[key] = row
    return {key: as_it_stood(row, day) for key, row in latest.items()}


__all__ = ["as_it_stood", "current_as_of", "end_of_day", "known_by"]
