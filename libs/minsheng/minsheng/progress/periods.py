"""Reporting periods: month `2022-06`, quarter `2022Q2`, year `2022` (DHIS2-style typed periods)."""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass

from minsheng.catalog.document import PlanDoc, PlanPhase
from minsheng.errors import Unprocessable


class PeriodType(str, enum.Enum):
    month = "month"
    quarter = "quarter"
    year = "year"


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_parsed: dict[str, Period] = {}


@dataclass(frozen=True, order=True)
class Period:
    """A closed date range with its canonical code. Ordered by start, then end."""

    start: dt.date
    end: dt.date
    code: str
    type: PeriodType

    @property
    def year(self) -> int:
        return self.start.year

    @classmethod
    def parse(cls, code: str) -> Period:
        """Raises ValueError with a message a clerk can act on."""
        # Every stored value carries its period as a code, and there are few of them: parse each once.
        known = _parsed.get(code)
        if known is not None:
            return known
        period = cls._parse(code)
        if len(_parsed) < 10_000:
            _parsed[code] = period
        return period

    @classmethod
    def _parse(cls, code: str) -> Period:
        text = (code or "").strip().upper()
        if m := _MONTH.match(text):
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12:
                raise ValueError(f"月份「{code}」无效，月份应为 01–12")
            last = calendar.monthrange(year, month)[1]
            return cls(dt.date(year, month, 1), dt.date(year, month, last), f"{year}-{month:02d}", PeriodType.month)
        if m := _QUARTER.match(text):
            year, quarter = int(m.group(1)), int(m.group(2))
            first_month = 3 * quarter - 2
            last_day = calendar.monthrange(year, first_month + 2)[1]
            return cls(
                dt.date(year, first_month, 1),
                dt.date(year, first_month + 2, last_day),
                f"{year}Q{quarter}",
                PeriodType.quarter,
            )
        if m := _YEAR.match(text):
            year = int(m.group(1))
            return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}", PeriodType.year)
        raise ValueError(f"期间「{code}」格式不对：月报写“四位年份-两位月份”，季报写“四位年份Q季度”，年报只写四位年份")


def requested_period(code: str) -> Period:
    """A period named in a request; not one: a 422 `invalid_period` saying how to write it."""
    try:
        return Period.parse(code)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_period") from exc


def parse_plan_period(code: str, today: dt.date, *, plan: PlanDoc) -> tuple[Period | None, str | None, str | None]:
    """(period, error code, message): a period of `plan` that has begun by `today`, of a plan that takes reports."""
    try:
        period = Period.parse(code)
    except ValueError as exc:
        return None, "invalid_period", str(exc)
    if not plan.covers_year(period.year):
        return None, "period_outside_plan", f"期间 {period.code} 不在《{plan.name}》的实施期（{plan.span_label}）内"
    if plan.phase(today) in (PlanPhase.draft, PlanPhase.closed):
        state = "尚未发布" if plan.phase(today) is PlanPhase.draft else "已关闭，只能查看"
        return None, "plan_not_open", f"《{plan.name}》{state}，不能填报或修改"
    if period.start > today:
        return None, "period_in_future", f"期间 {period.code} 尚未开始（今天是 {today:%Y-%m-%d}），不能提前填报"
    return period, None, None


def period_examples(plan: PlanDoc) -> str:
    """How each type of period is written, with examples from the plan's own last year."""
    year = plan.last_year
    return f"月 {year}-05，季 {year}Q2，年 {year}"


def plan_periods(plan: PlanDoc, period_type: PeriodType) -> tuple[Period, ...]:
    """Every period of this type in the plan's horizon, oldest first."""
    if period_type is PeriodType.month:
        codes = [f"{y}-{m:02d}" for y in plan.years for m in range(1, 13)]
    elif period_type is PeriodType.quarter:
        codes = [f"{y}Q{q}" for y in plan.years for q in range(1, 5)]
    else:
        codes = [str(y) for y in plan.years]
    return tuple(Period.parse(code) for code in codes)
