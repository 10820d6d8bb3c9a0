"""The reporting calendar: what is due when, as plain functions of the date."""

import datetime as dt

import pytest

from minsheng.catalog.document import IndicatorKind, PlanDoc, PlanState, ReportingFrequency
from minsheng.progress.periods import Period, parse_plan_period
from minsheng.reporting.calendar import Relevance, ReportingCalendar

CALENDAR = ReportingCalendar(due_day=10, year_due_day=31)
PLAN = PlanDoc(code="test-three-years", name="三年行动方案", start=dt.date(2022, 1, 1), end=dt.date(2024, 12, 31))
NEXT = PlanDoc(code="test-next-plan", name="下一个三年行动方案", start=dt.date(2025, 1, 1), end=dt.date(2027, 12, 31))


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
    months = CALENDAR.due_periods(ReportingFrequency.month, today, plan=PLAN)
    assert codes(months)[:2] == ["2022-01", "2022-02"] and codes(months)[-1] == "2023-03"
    assert len(months) == 15
    assert codes(CALENDAR.due_periods(ReportingFrequency.quarter, today, plan=PLAN)) == [
        "2022Q1",
        "2022Q2",
        "2022Q3",
        "2022Q4",
        "2023Q1",
    ]
    assert codes(CALENDAR.due_periods(ReportingFrequency.year, today, plan=PLAN)) == ["2022"]
    current = CALENDAR.current(ReportingFrequency.month, today, plan=PLAN)
    assert current.period.code == "2023-03" and not current.overdue(today)  # due 2023-04-10
    assert CALENDAR.due_periods(ReportingFrequency.month, today, plan=PLAN)[-2].overdue(today)  # 2023-02, due 03-10


def test_nothing_is_due_before_the_first_month_ends_nor_after_the_plan():
    assert CALENDAR.due_periods(ReportingFrequency.month, dt.date(2022, 1, 31), plan=PLAN) == []
    assert CALENDAR.current(ReportingFrequency.year, dt.date(2022, 6, 1), plan=PLAN) is None
    after = dt.date(2026, 12, 3)
    assert len(CALENDAR.due_periods(ReportingFrequency.month, after, plan=PLAN)) == 36
    assert CALENDAR.current(ReportingFrequency.quarter, after, plan=PLAN).period.code == "2024Q4"
    assert CALENDAR.current(ReportingFrequency.year, after, plan=PLAN).period.code == "2024"


def test_a_one_year_target_is_owed_only_in_its_year():
    one_year = Relevance.of(IndicatorKind.one_year, 2023, plan=PLAN)
    due = CALENDAR.due_periods(ReportingFrequency.month, dt.date(2024, 3, 1), plan=PLAN, relevance=one_year)
    assert codes(due) == [f"2023-{m:02d}" for m in range(1, 13)]
    whole = Relevance.of(IndicatorKind.cumulative, 2023, plan=PLAN)
    assert len(CALENDAR.due_periods(ReportingFrequency.month, dt.date(2024, 3, 1), plan=PLAN, relevance=whole)) == 26


def test_each_plan_has_its_own_periods_and_current_period():
    today = dt.date(2026, 12, 7)
    assert CALENDAR.current(ReportingFrequency.month, today, plan=NEXT).period.code == "2026-11"
    assert codes(CALENDAR.due_periods(ReportingFrequency.year, today, plan=NEXT)) == ["2025"]
    # The ended plan's last period stays its current one.
    assert CALENDAR.current(ReportingFrequency.month, today, plan=PLAN).period.code == "2024-12"


def test_a_period_is_taken_only_inside_an_open_plan():
    today = dt.date(2026, 12, 7)
    assert parse_plan_period("2026-11", today, plan=NEXT)[0] == Period.parse("2026-11")
    _, code, message = parse_plan_period("2024-11", today, plan=NEXT)
    assert code == "period_outside_plan" and "2025—2027年" in message and "下一个三年行动方案" in message
    assert parse_plan_period("2027-01", today, plan=NEXT)[1] == "period_in_future"
    closed = PLAN.model_copy(update={"state": PlanState.closed})
    _, code, message = parse_plan_period("2024-11", today, plan=closed)
    assert code == "plan_not_open" and "已关闭" in message
    draft = NEXT.model_copy(update={"state": PlanState.draft})
    assert parse_plan_period("2026-11", today, plan=draft)[1] == "plan_not_open"
    # An ended plan that is not closed still takes corrections of its own periods.
    assert parse_plan_period("2024-11", today, plan=PLAN)[1] is None


def test_a_horizon_is_whole_years():
    with pytest.raises(ValueError, match="1 January to 31 December"):
        PlanDoc(code="test-mid-year", name="半年计划", start=dt.date(2025, 7, 1), end=dt.date(2027, 12, 31))
