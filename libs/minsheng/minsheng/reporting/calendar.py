"""The reporting calendar: which periods of the plan an indicator is owed for, and by when.

A period is due once it has ended: a month by day N of the next month, a quarter by day N of the
month after it, a year by its own day of the following January (a year's rates and shares need the
whole year's statistics, so the city gives them longer).  Plain functions of the date: the inbox asks
them for "today", tests for any day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from minsheng.catalog.document import IndicatorKind, PlanDoc, ReportingFrequency
from minsheng.progress.periods import Period, PeriodType, plan_periods

PERIOD_TYPES = {
    ReportingFrequency.month: PeriodType.month,
    ReportingFrequency.quarter: PeriodType.quarter,
    ReportingFrequency.year: PeriodType.year,
}


@dataclass(frozen=True)
class Relevance:
    """The part of the plan an indicator is reported for: a target for one named year only in that
    year; every other indicator over the whole plan."""

    first: dt.date
    last: dt.date

    @classmethod
    def of(cls, kind: IndicatorKind, horizon: int, *, plan: PlanDoc) -> Relevance:
        if kind is IndicatorKind.one_year:
            return cls(dt.date(horizon, 1, 1), dt.date(horizon, 12, 31))
        return cls.whole(plan)

    @classmethod
    def whole(cls, plan: PlanDoc) -> Relevance:
        return cls(plan.start, plan.end)

    def covers(self, period: Period) -> bool:
        return self.first <= period.start and period.end <= self.last


@dataclass(frozen=True)
class DuePeriod:
    period: Period
    due: dt.date  # the last day it may be reported on time

    def overdue(self, today: dt.date) -> bool:
        return today > self.due


@dataclass(frozen=True)
class ReportingCalendar:
    due_day: int = 10  # day of the month after a month or quarter ends
    year_due_day: int = 31  # day of the January after a year ends

    def __post_init__(self) -> None:
        if not 1 <= self.due_day <= 28 or not 1 <= self.year_due_day <= 31:
            raise ValueError("due days must exist in every month (1–28) and in January (1–31)")

    def due_date(self, period: Period) -> dt.date:
        after = period.end + dt.timedelta(days=1)  # the first day of the next month
        day = self.year_due_day if period.type is PeriodType.year else self.due_day
        return after.replace(day=day)

    def due_periods(
        self,
        frequency: ReportingFrequency,
        today: dt.date,
        *,
        plan: PlanDoc,
        relevance: Relevance | None = None,
    ) -> list[DuePeriod]:
        """The plan's periods of this frequency that have ended by `today` (so may be reported), oldest first."""
        relevance = relevance or Relevance.whole(plan)
        return [
            DuePeriod(period, self.due_date(period))
            for period in plan_periods(plan, PERIOD_TYPES[frequency])
            if period.end < today and relevance.covers(period)
        ]

    def current(self, frequency: ReportingFrequency, today: dt.date, *, plan: PlanDoc) -> DuePeriod | None:
        """The period being reported now: the latest that has ended (after the plan, its last period)."""
        due = self.due_periods(frequency, today, plan=plan)
        return due[-1] if due else None
