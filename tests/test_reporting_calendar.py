"""The reporting calendar: what is due when, as plain functions of the date."""

import datetime as dt

import pytest

from minsheng.catalog.document import IndicatorKind, ReportingFrequency
from minsheng.progress.periods import Period
from minsheng.reporting.calendar import Relevance, ReportingCalendar

CALENDAR = ReportingCalendar(due_day=10, year_due_day=31)


def codes(due) -> list[str]:
    return [d.period.code for d in due]


@pytest.mark.parametrize(
    ("period", "due"),
    [
        ("2022-06", dt.date(2022, 7, 10)),
        ("2022-12", dt.date(2023, 1, 10)),  # across the new year
        ("2023Q2", dt.date(2023, 7, 10)),
        ("2023Q4", dt.date(2024, 1, 10)),
        ("2023", dt.date(2024, 1, 31)),  # a year has its own day of January
    ],
)
def test_a_period_is_due_by_the_set_day_after_it_ends(period, due):
    assert CALENDAR.due_date(Period.parse(period)) == due


def test_the_due_day_is_a_setting():
    assert ReportingCalendar(due_day=5, year_due_day=20).due_date(Period.parse("2022-02")) == dt.date(2022, 3, 5)
    assert ReportingCalendar(due_day=5, year_due_day=20).due_date(Period.parse("2022")) == dt.date(2023, 1, 20)
    with pytest.raises(ValueError):
        ReportingCalendar(due_day=31)


def test_only_ended_periods_are_due_and_the_latest_is_the_current_one():
    today = dt.date(2023, 4, 5)
    months = CALENDAR.due_periods(ReportingFrequency.month, today)
    assert codes(months)[:2] == ["2022-01", "2022-02"] and codes(months)[-1] == "2023-03"
    assert len(months) == 15
    assert codes(CALENDAR.due_periods(ReportingFrequency.quarter, today)) == [
        "2022Q1",
        "2022Q2",
        "2022Q3",
        "2022Q4",
        "2023Q1",
    ]
    assert codes(CALENDAR.due_periods(ReportingFrequency.year, today)) == ["2022"]
    current = CALENDAR.current(ReportingFrequency.month, today)
    assert current.period.code == "2023-03" and not current.overdue(today)  # due 2023-04-10
    assert CALENDAR.due_periods(ReportingFrequency.month, today)[-2].overdue(today)  # 2023-02, due 03-10


def test_nothing_is_due_before_the_first_month_ends_nor_after_the_plan():
    assert CALENDAR.due_periods(ReportingFrequency.month, dt.date(2022, 1, 31)) == []
    assert CALENDAR.current(ReportingFrequency.year, dt.date(2022, 6, 1)) is None
    after = dt.date(2026, 12, 3)
    assert len(CALENDAR.due_periods(ReportingFrequency.month, after)) == 36
    assert CALENDAR.current(ReportingFrequency.quarter, after).period.code == "2024Q4"
    assert CALENDAR.current(ReportingFrequency.year, after).period.code == "2024"


def test_a_one_year_target_is_owed_only_in_its_year():
    one_year = Relevance.of(IndicatorKind.one_year, 2023)
    due = CALENDAR.due_periods(ReportingFrequency.month, dt.date(2024, 3, 1), one_year)
    assert codes(due) == [f"2023-{m:02d}" for m in range(1, 13)]
    whole = Relevance.of(IndicatorKind.cumulative, 2023)
    assert len(CALENDAR.due_periods(ReportingFrequency.month, dt.date(2024, 3, 1), whole)) == 26
