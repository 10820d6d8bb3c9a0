"""Status arithmetic, worked by hand.  No database.

Time runs on the plan-year axis (see status.py): the end of 2022-12-31 is 2023.0, one third of the
way from 2022-01-01 (2022.0) to 2024-12-31 (2025.0); 2023-09-30 is 273/365 of 2023.
"""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.catalog.document import Aggregation, Comparator, IndicatorKind, MilestoneBasis
from minsheng.progress.model import IndicatorSpec, Milestone, Observation, Status, Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.status import compute_progress, milestone_on_chart, plan_time

CITY = "370300"
D = dt.date


def obs(code: str, value: float, org_unit: str = CITY) -> Observation:
    return Observation(period=Period.parse(code), org_unit=org_unit, value=value)


def spec(
    *,
    target: float | None,
    comparator: Comparator = Comparator.at_least,
    kind: IndicatorKind = IndicatorKind.cumulative,
    horizon: int = 2024,
    unit: str = "处",
    baseline: float | None = None,
    milestones: tuple[Milestone, ...] = (),
    aggregation: Aggregation = Aggregation.sum,
    code: str = "T000-1",
) -> IndicatorSpec:
    return IndicatorSpec(
        code=code,
        target_value=target,
        comparator=comparator,
        kind=kind,
        horizon=horizon,
        first_year=2022,
        aggregation=aggregation,
        unit=unit,
        baseline_value=baseline,
        milestones=milestones,
    )


# --- the time axis -------------------------------------------------------------------------


def test_plan_time_counts_each_calendar_year_as_one():
    assert plan_time(D(2022, 12, 31)) == 2023.0
    assert plan_time(D(2024, 12, 31)) == 2025.0  # leap year: 366/366
    assert plan_time(D(2023, 9, 30)) == pytest.approx(2023 + 273 / 365)  # 31+28+31+30+31+30+31+31+30


# --- cumulative: 103 kindergartens by 2024 ----------------------------------------------------

KINDERGARTENS = spec(target=103, unit="处")
END_2022 = D(2022, 12, 31)


def test_cumulative_ahead_of_trajectory_is_on_track():
    # Expected at end 2022: 103 × (2023.0 − 2022.0)/(2025.0 − 2022.0) = 103/3 = 34.33.
    # 40 / 34.33 = 1.165 ≥ 0.95 → on track.
    p = compute_progress(KINDERGARTENS, [obs("2022", 40)], END_2022)
    assert p.status is Status.on_track
    assert p.current_value == 40
    assert p.expected_value == pytest.approx(103 / 3)
    assert p.completion == pytest.approx(40 / 103)
    assert "按进度应达到34.33处，实际40处，进度正常" in p.reasons


def test_cumulative_slightly_short_is_at_risk():
    # 30 / 34.33 = 0.874: between 0.80 and 0.95.
    assert compute_progress(KINDERGARTENS, [obs("2022", 30)], END_2022).status is Status.at_risk


def test_cumulative_far_short_is_behind():
    # 20 / 34.33 = 0.583 < 0.80.
    p = compute_progress(KINDERGARTENS, [obs("2022", 20)], END_2022)
    assert p.status is Status.behind
    assert "按进度应达到34.33处，实际20处，进度滞后" in p.reasons


def test_cumulative_target_reached_early_is_completed():
    # 40 + 45 + 18 = 103 by mid-2024: the target is met, no need to wait for the horizon.
    p = compute_progress(
        KINDERGARTENS, [obs("2022", 40), obs("2023", 45), obs("2024Q1", 10), obs("2024Q2", 8)], D(2024, 6, 30)
    )
    assert p.status is Status.completed
    assert p.current_value == 103
    assert p.completion == 1.0


def test_cumulative_short_after_horizon_is_behind_and_expected_is_the_target():
    p = compute_progress(KINDERGARTENS, [obs("2022", 40), obs("2023", 35), obs("2024", 25)], D(2025, 3, 1))
    assert p.status is Status.behind  # 100 < 103 and no time left
    assert p.expected_value == 103
    assert p.projected_value == 100  # the plan is over: the actual figure
    assert p.projected_reaches_target is False


def test_thresholds_are_configurable():
    # 30 / 34.33 = 0.874 is on track when on_track_ratio is 0.85.
    lenient = Thresholds(on_track_ratio=0.85, at_risk_ratio=0.6)
    assert compute_progress(KINDERGARTENS, [obs("2022", 30)], END_2022, lenient).status is Status.on_track


# --- a ceiling: unemployment ≤ 4.5 % -----------------------------------------------------------

UNEMPLOYMENT = spec(
    target=4.5, comparator=Comparator.at_most, kind=IndicatorKind.level, unit="%", aggregation=Aggregation.ratio
)


def test_ceiling_held_before_horizon_is_on_track_not_completed():
    p = compute_progress(UNEMPLOYMENT, [obs("2023", 4.2)], D(2023, 12, 31))
    assert p.status is Status.on_track
    assert p.completion == 1.0
    assert p.expected_value == 4.5  # a ceiling holds every day: the line is flat


def test_ceiling_held_at_horizon_end_is_completed():
    p = compute_progress(UNEMPLOYMENT, [obs("2023", 4.6), obs("2024", 4.2)], D(2024, 12, 31))
    assert p.status is Status.completed
    assert p.reasons[0] == "截至2024-12-31最新值为4.2%（2024），目标控制在4.5%以内（2024年），已完成"


def test_ceiling_exceeded_a_little_is_at_risk():
    # 4.5 / 4.8 = 0.9375: between 0.80 and 0.95.
    p = compute_progress(UNEMPLOYMENT, [obs("2023", 4.8)], D(2023, 12, 31))
    assert p.status is Status.at_risk
    assert p.completion == pytest.approx(0.9375)


def test_ceiling_exceeded_a_lot_is_behind():
    # 4.5 / 5.8 = 0.776 < 0.80.
    assert compute_progress(UNEMPLOYMENT, [obs("2023", 5.8)], D(2023, 12, 31)).status is Status.behind


def test_ceiling_exceeded_at_horizon_end_is_behind():
    assert compute_progress(UNEMPLOYMENT, [obs("2024", 4.8)], D(2024, 12, 31)).status is Status.behind


def test_ceiling_with_baseline_above_it_follows_the_reduction_trajectory():
    # From 5.0 at 2022.0 down to 4.5 at 2025.0: at 2024.0 expected 5.0 − 0.5 × 2/3 = 4.667.
    # 4.8: reduced 0.2 of the 0.333 due = 0.60 → behind;  4.7: 0.3 / 0.333 = 0.90 → at risk.
    reduction = spec(target=4.5, comparator=Comparator.at_most, kind=IndicatorKind.level, unit="%", baseline=5.0)
    slow = compute_progress(reduction, [obs("2023", 4.8)], D(2023, 12, 31))
    assert slow.expected_value == pytest.approx(5.0 - 0.5 * 2 / 3)
    assert slow.status is Status.behind
    assert compute_progress(reduction, [obs("2023", 4.7)], D(2023, 12, 31)).status is Status.at_risk


# --- 左右: income 4.9万元左右 (±5 % → 4.655 … 5.145) -----------------------------------------

INCOME = spec(
    target=4.9, comparator=Comparator.about, kind=IndicatorKind.level, unit="万元", aggregation=Aggregation.ratio
)


def test_about_within_band_at_horizon_is_completed():
    # |4.7 − 4.9| = 0.2 ≤ 0.05 × 4.9 = 0.245.
    p = compute_progress(INCOME, [obs("2022", 4.2), obs("2024", 4.7)], D(2024, 12, 31))
    assert p.status is Status.completed
    assert p.completion == 1.0


def test_about_below_band_after_horizon_is_behind():
    # 4.5 < 4.655 and the plan is over.
    p = compute_progress(INCOME, [obs("2024", 4.5)], D(2025, 3, 31))
    assert p.status is Status.behind
    assert p.completion == pytest.approx(4.5 / 4.9)
    assert any("4.655–5.145万元" in r for r in p.reasons)


def test_about_above_band_after_horizon_is_behind():
    assert compute_progress(INCOME, [obs("2024", 5.3)], D(2024, 12, 31)).status is Status.behind


def test_about_below_band_before_horizon_is_judged_against_the_lower_edge():
    # No baseline: the line starts at the first reading, 4.2 at end 2022 (2023.0), and is aimed at
    # the lower band edge 4.655 at 2025.0.  At 2024.0: 4.2 + 0.455 / 2 = 4.4275.
    # Progress 4.4 − 4.2 = 0.2 of 0.2275 due = 0.879 → at risk.
    p = compute_progress(INCOME, [obs("2022", 4.2), obs("2023", 4.4)], D(2023, 12, 31))
    assert p.status is Status.at_risk
    assert p.expected_value == pytest.approx(4.2 + 0.7 / 2)  # the plan's own line still aims at 4.9
    assert any("按目标区间下限4.655万元测算" in r for r in p.reasons)


def test_about_above_band_before_horizon_is_judged_like_a_ceiling_at_the_upper_edge():
    # 5.145 / 5.3 = 0.971 ≥ 0.95 → on track.
    assert compute_progress(INCOME, [obs("2023", 5.3)], D(2023, 12, 31)).status is Status.on_track


# --- yearly: 800 teachers every year -------------------------------------------------------

TEACHERS = spec(target=800, kind=IndicatorKind.yearly, unit="人")


def test_yearly_judges_the_current_year_pro_rata():
    # 2023-09-30: expected 800 × 273/365 = 598.36; 100 + 200 + 300 = 600 → 1.003 → on track.
    # Projection: 600 / (273/365) = 802.2 for the whole of 2023 → reaches 800.
    history = [obs("2022", 850), obs("2023Q1", 100), obs("2023Q2", 200), obs("2023Q3", 300)]
    p = compute_progress(TEACHERS, history, D(2023, 9, 30))
    assert p.status is Status.on_track
    assert p.current_value == 600
    assert p.expected_value == pytest.approx(800 * 273 / 365)
    assert p.projected_value == pytest.approx(600 * 365 / 273)
    assert p.projected_reaches_target is True
    assert [s.cumulative for s in p.series] == [850, 100, 300, 600]  # the within-year total restarts


def test_yearly_every_year_met_is_completed_at_horizon_end():
    p = compute_progress(TEACHERS, [obs("2022", 850), obs("2023", 900), obs("2024", 820)], D(2024, 12, 31))
    assert p.status is Status.completed
    assert p.current_value == 820  # the horizon year's flow


def test_yearly_one_year_missed_is_behind_at_horizon_end():
    p = compute_progress(TEACHERS, [obs("2022", 750), obs("2023", 900), obs("2024", 820)], D(2024, 12, 31))
    assert p.status is Status.behind
    assert any("2022年完成750人" in r for r in p.reasons)


def test_yearly_year_already_met_is_on_track_not_completed():
    # 2023 done by June, but 2024 is still to come.
    p = compute_progress(TEACHERS, [obs("2022", 850), obs("2023Q1", 500), obs("2023Q2", 400)], D(2023, 6, 30))
    assert p.status is Status.on_track


def test_yearly_closed_year_short_of_target_is_behind():
    # 2023 is over with 780 < 800: that year cannot be made up, whatever the ratio (0.975).
    assert compute_progress(TEACHERS, [obs("2022", 850), obs("2023", 780)], D(2023, 12, 31)).status is Status.behind


def test_yearly_without_a_report_this_year_is_no_data():
    p = compute_progress(TEACHERS, [obs("2022", 700)], D(2023, 3, 31))
    assert p.status is Status.no_data
    assert p.current_value == 0
    assert any("2022年未完成年度目标" in r for r in p.reasons)  # the missed year is still mentioned


# --- a milestone on the way: public-welfare jobs ---------------------------------------------

JOBS = spec(target=40000, unit="个", milestones=(Milestone(2022, 16300),))


def test_milestone_bends_the_trajectory():
    # Line 0 (2022.0) → 16300 (2023.0) → 40000 (2025.0).
    # As of 2023-12-31 (2024.0): 16300 + (40000 − 16300) × 1/2 = 28150.
    # 20000 + 6000 = 26000; 26000 / 28150 = 0.924 → at risk.
    p = compute_progress(JOBS, [obs("2022", 20000), obs("2023", 6000)], D(2023, 12, 31))
    assert p.expected_value == pytest.approx(28150)
    assert p.current_value == 26000
    assert p.status is Status.at_risk
    assert "按进度应达到28150个，实际26000个，存在风险" in p.reasons


def test_milestone_value_is_due_at_its_year_end():
    assert compute_progress(JOBS, [obs("2022", 16000)], D(2022, 12, 31)).expected_value == pytest.approx(16300)
    # Mid-2022 (181 of 365 days): 16300 × 181/365.
    mid = compute_progress(JOBS, [obs("2022Q1", 4000), obs("2022Q2", 4100)], D(2022, 6, 30))
    assert mid.expected_value == pytest.approx(16300 * 181 / 365)


# --- annual and quarterly targets (seed 002's 2023 年度指标) ------------------------------------

FLOW = MilestoneBasis.year_flow
# 城镇新增就业: 165000 over the plan (cumulative), "年内新增城镇就业5.5万人" for 2023.
EMPLOYMENT = spec(target=165000, unit="人", milestones=(Milestone(2023, 55000, basis=FLOW),))
EMPLOYED_2022 = obs("2022", 60000)


def test_a_year_that_met_its_annual_flow_target_is_on_track_and_says_so():
    p = compute_progress(EMPLOYMENT, [EMPLOYED_2022, obs("2023", 56000)], D(2023, 12, 31))
    assert p.status is Status.on_track  # the end target (165000) is still to come
    assert "2023年度目标：全年完成55000人，实际56000人，完成年度目标，进度正常" in p.reasons


def test_a_year_that_ended_short_of_its_annual_target_is_behind_though_the_line_is_met():
    # 60000 + 50000 = 110000 is exactly the straight line's 2/3 of 165000, but 2023 added 50000 < 55000.
    p = compute_progress(EMPLOYMENT, [EMPLOYED_2022, obs("2023", 50000)], D(2023, 12, 31))
    assert p.expected_value == pytest.approx(110000)
    assert p.status is Status.behind
    assert "2023年度目标：全年完成55000人，实际50000人，未完成年度目标，进度滞后" in p.reasons


def test_during_the_year_the_years_flow_is_judged_against_its_annual_target_pro_rata():
    # 2023-06-30: 55000 × 181/365 = 27274 due this year, 20000 done: 0.73 → behind, although the running
    # total 80000 is 97 % of the line's 82274.
    p = compute_progress(EMPLOYMENT, [EMPLOYED_2022, obs("2023Q1", 9000), obs("2023Q2", 11000)], D(2023, 6, 30))
    assert p.expected_value == pytest.approx(55000 + 55000 * 181 / 365)
    assert p.status is Status.behind
    assert "2023年度目标：全年完成55000人；按进度应达到27274人，实际20000人，进度滞后" in p.reasons


def test_where_the_year_has_no_target_the_line_judges_and_the_past_target_is_reported():
    # 2024 has no annual target: the line, 110000 + 55000 × 91/366 at 2024-03-31; 124000 is on track.
    history = [EMPLOYED_2022, obs("2023", 50000), obs("2024Q1", 14000)]
    p = compute_progress(EMPLOYMENT, history, D(2024, 3, 31))
    assert p.expected_value == pytest.approx(110000 + 55000 * 91 / 366)
    assert p.status is Status.on_track
    assert any(r.startswith("按进度应达到123675人，实际124000人") for r in p.reasons)
    assert "2023年度目标：全年完成55000人，实际50000人，未完成年度目标" in p.reasons
    # Before the target's year, the line too: 2022-12-31, 60000 of 55000 due.
    assert compute_progress(EMPLOYMENT, [EMPLOYED_2022], D(2022, 12, 31)).status is Status.on_track


# 家庭养老床位: 7000 by 2024, 3000 built in 2022 (seed 001), 2000 to build in 2023 (seed 002).
BEDS = spec(target=7000, unit="张", milestones=(Milestone(2022, 3000), Milestone(2023, 2000, basis=FLOW)))


def test_a_year_flow_target_bends_a_cumulative_line_from_the_planned_total():
    # Line 0 (2022.0) → 3000 (2023.0) → 3000 + 2000 (2024.0) → 7000 (2025.0).
    assert compute_progress(BEDS, [obs("2022", 3100)], D(2023, 6, 30)).expected_value == pytest.approx(
        3000 + 2000 * 181 / 365
    )
    assert compute_progress(BEDS, [obs("2022", 3100)], D(2023, 12, 31)).expected_value == pytest.approx(5000)
    assert milestone_on_chart(BEDS, BEDS.milestones[1]) == pytest.approx(5000)  # drawn at the planned total
    assert milestone_on_chart(BEDS, BEDS.milestones[0]) == 3000


def test_a_year_flow_target_with_nothing_reported_in_its_year_is_no_data():
    p = compute_progress(BEDS, [obs("2022", 3100)], D(2023, 2, 28))
    assert p.status is Status.no_data
    assert "2023年度目标：全年完成2000张，2023年截至2023-02-28尚无上报数据" in p.reasons
    assert "2022年度目标：达到3000张，实际3100张，完成年度目标" in p.reasons


# 门诊慢特病报销比例: 65%左右 by 2024; "提高到60%以上" in 2023 (its own comparator).
REIMBURSEMENT = spec(
    target=65,
    comparator=Comparator.about,
    kind=IndicatorKind.level,
    unit="%",
    aggregation=Aggregation.ratio,
    milestones=(Milestone(2023, 60, comparator=Comparator.at_least),),
)


def test_a_level_that_reached_its_annual_target_is_on_track_by_the_targets_own_comparator():
    p = compute_progress(REIMBURSEMENT, [obs("2022", 55), obs("2023", 61)], D(2023, 12, 31))
    assert p.status is Status.on_track  # 61 is below the end band 61.75–68.25, above the year's 60
    assert "2023年度目标：达到60%以上，实际61%，完成年度目标，进度正常" in p.reasons


def test_a_level_short_of_its_annual_target_when_the_year_ends_is_behind():
    p = compute_progress(REIMBURSEMENT, [obs("2022", 55), obs("2023", 58)], D(2023, 12, 31))
    assert p.status is Status.behind
    assert "2023年度目标：达到60%以上，实际58%，未完成年度目标，进度滞后" in p.reasons
    # After the horizon the end target judges; the year is still reported.
    final = compute_progress(REIMBURSEMENT, [obs("2022", 55), obs("2023", 58), obs("2024", 65)], D(2024, 12, 31))
    assert final.status is Status.completed
    assert "2023年度目标：达到60%以上，实际58%，未完成年度目标" in final.reasons


def test_an_annual_target_equal_to_the_end_target_met_early_is_completed():
    places = spec(
        target=3.8,
        kind=IndicatorKind.level,
        unit="个",
        aggregation=Aggregation.ratio,
        milestones=(Milestone(2023, 3.8),),
    )
    assert compute_progress(places, [obs("2022", 3.1), obs("2023", 3.9)], D(2023, 12, 31)).status is Status.completed


QUARTERLY = spec(
    target=165000,
    unit="人",
    milestones=(Milestone(2023, 12000, quarter=1, basis=FLOW), Milestone(2023, 55000, basis=FLOW)),
)


def test_a_quarterly_target_judges_its_quarter_then_the_year_takes_over():
    history = [EMPLOYED_2022, obs("2023-01", 5000), obs("2023-02", 3000), obs("2023-03", 3000)]
    p = compute_progress(QUARTERLY, history, D(2023, 3, 31))
    assert p.status is Status.behind
    assert "2023年第1季度目标：当年截至第1季度末完成12000人，实际11000人，未完成季度目标，进度滞后" in p.reasons
    # In May the year's target judges, on the line from 0 through the first quarter's 12000.
    later = compute_progress(QUARTERLY, [*history, obs("2023-04", 6000), obs("2023-05", 6000)], D(2023, 5, 31))
    due = 12000 + (55000 - 12000) * (61 / 365) / (1 - 90 / 365)
    assert any(
        r.startswith(f"2023年度目标：全年完成55000人；按进度应达到{round(due)}人，实际23000人") for r in later.reasons
    )
    assert "2023年第1季度目标：当年截至第1季度末完成12000人，实际11000人，未完成季度目标" in later.reasons


def test_a_yearly_indicators_year_specific_target_replaces_its_yearly_target_that_year():
    teachers = spec(target=800, kind=IndicatorKind.yearly, unit="人", milestones=(Milestone(2023, 1000, basis=FLOW),))
    p = compute_progress(teachers, [obs("2022", 850), obs("2023", 900)], D(2023, 12, 31))
    assert p.status is Status.behind  # 900 ≥ 800, but 2023's target is 1000
    assert p.target_value == 1000
    assert "2023年截至2023-12-31完成900人，年度目标1000人" in p.reasons
    assert compute_progress(teachers, [obs("2022", 850)], D(2022, 12, 31)).status is Status.on_track
    final = compute_progress(teachers, [obs("2022", 850), obs("2023", 1000), obs("2024", 800)], D(2024, 12, 31))
    assert final.status is Status.completed
    assert final.target_value == 800


# --- a level with a baseline: nurses 2000 → 4000 ---------------------------------------------

NURSES = spec(target=4000, kind=IndicatorKind.level, unit="人", baseline=2000)


def test_level_progress_is_measured_from_the_baseline():
    # Expected at 2024.0: 2000 + 2000 × 2/3 = 3333.33.  Progress made 3000 − 2000 = 1000 of
    # 1333.33 due = 0.75 < 0.80 → behind (although 3000/3333 = 0.9 would look fine).
    # Completion (3000 − 2000)/(4000 − 2000) = 0.5.
    p = compute_progress(NURSES, [obs("2022", 2500), obs("2023", 3000)], D(2023, 12, 31))
    assert p.expected_value == pytest.approx(2000 + 2000 * 2 / 3)
    assert p.status is Status.behind
    assert p.completion == pytest.approx(0.5)
    assert p.current_value == 3000
    assert [s.cumulative for s in p.series] == [None, None]
    assert any("为应变化量1333人的75%" in r for r in p.reasons)


def test_level_without_baseline_starts_at_its_first_reading():
    # 59 % at end 2022 (2023.0) → 65 % at 2025.0: at 2024.0 expected 62; 62 reported → ratio 1.
    share = spec(target=65, kind=IndicatorKind.level, unit="%", aggregation=Aggregation.ratio)
    p = compute_progress(share, [obs("2022", 59), obs("2023", 62)], D(2023, 12, 31))
    assert p.expected_value == pytest.approx(62)
    assert p.status is Status.on_track
    assert p.completion == pytest.approx(62 / 65)  # no baseline: plain share of the target


def test_level_with_a_single_reading_compares_the_level_with_the_line():
    # One reading is the start of its own line: compare 60 with the line (≈ 60.05 two days on).
    share = spec(target=65, kind=IndicatorKind.level, unit="%")
    p = compute_progress(share, [obs("2022-06", 60)], D(2022, 7, 2))
    assert p.status is Status.on_track
    assert p.projected_value is None  # one reading and no baseline: no trend to speak of


def test_level_that_started_above_target_and_fell_is_compared_with_the_line_itself():
    # First reading 90 % (2023.0) already beyond 85 %, so the line runs down to 85 at 2025.0: at
    # 2024.0 it says 87.5.  "Progress since the start" is meaningless here; 80 / 87.5 = 0.914 → at risk.
    share = spec(target=85, kind=IndicatorKind.level, unit="%")
    p = compute_progress(share, [obs("2022", 90), obs("2023", 80)], D(2023, 12, 31))
    assert p.expected_value == pytest.approx(87.5)
    assert p.status is Status.at_risk


def test_level_latest_value_prefers_the_finer_report_on_the_same_day():
    share = spec(target=65, kind=IndicatorKind.level, unit="%")
    p = compute_progress(share, [obs("2022", 60), obs("2022-12", 61), obs("2022Q4", 60.5)], D(2023, 1, 15))
    assert p.current_value == 61
    assert [s.period for s in p.series] == ["2022-12"]


# --- one_year: 300 elder canteens in 2022 -------------------------------------------------------

CANTEENS = spec(target=300, kind=IndicatorKind.one_year, horizon=2022)


def test_one_year_target_exceeded_is_completed():
    p = compute_progress(CANTEENS, [obs("2022-06", 400), obs("2022-12", 270)], D(2022, 12, 31))
    assert p.status is Status.completed
    assert p.current_value == 670
    assert p.reasons[0] == "截至2022-12-31累计完成670处，目标300处（2022年），已完成"


def test_one_year_mid_year_follows_a_line_from_january():
    # 2022-09-30: expected 300 × 273/365 = 224.4; 250 / 224.4 = 1.11 → on track.
    p = compute_progress(CANTEENS, [obs("2022Q1", 100), obs("2022Q2", 50), obs("2022Q3", 100)], D(2022, 9, 30))
    assert p.expected_value == pytest.approx(300 * 273 / 365)
    assert p.status is Status.on_track
    assert p.projected_value == pytest.approx(250 * 365 / 273)


def test_one_year_ignores_other_years():
    p = compute_progress(CANTEENS, [obs("2022", 280), obs("2023", 100)], D(2023, 12, 31))
    assert p.current_value == 280
    assert p.status is Status.behind  # 2022 ended short of 300


# --- which observations count ---------------------------------------------------------------


def test_mixed_granularities_are_not_double_counted():
    # 2022: twelve months of 10 and the year report 120 → the months (120), not 240.
    # 2023: four quarters of 30 and the year report 150 → the quarters (120).
    # 2024: only the year report, 50.  Running total 120 + 120 + 50 = 290.
    history = (
        [obs(f"2022-{m:02d}", 10) for m in range(1, 13)]
        + [obs("2022", 120)]
        + [obs(f"2023Q{q}", 30) for q in range(1, 5)]
        + [obs("2023", 150)]
        + [obs("2024", 50)]
    )
    p = compute_progress(spec(target=300), history, D(2024, 12, 31))
    assert p.current_value == 290
    assert len(p.series) == 12 + 4 + 1
    assert p.series[-1].cumulative == 290
    assert [s.period for s in p.series[11:13]] == ["2022-12", "2023Q1"]


def test_a_year_with_any_month_uses_months_only():
    # Months January–June (6 × 10) and a Q3 report: the months win, Q3 is dropped.
    history = [obs(f"2022-{m:02d}", 10) for m in range(1, 7)] + [obs("2022Q3", 99)]
    assert compute_progress(spec(target=300), history, D(2022, 9, 30)).current_value == 60


def test_observations_after_as_of_are_ignored():
    p = compute_progress(KINDERGARTENS, [obs("2022", 40), obs("2023Q1", 5), obs("2023", 30)], D(2022, 12, 31))
    assert p.current_value == 40
    assert [s.period for s in p.series] == ["2022"]


def test_observations_beyond_the_horizon_do_not_count_towards_it():
    p = compute_progress(
        KINDERGARTENS, [obs("2022", 40), obs("2023", 40), obs("2024", 20), obs("2025", 10)], D(2025, 12, 31)
    )
    assert p.current_value == 100
    assert p.status is Status.behind


def test_flows_before_the_plan_do_not_count():
    assert compute_progress(KINDERGARTENS, [obs("2021", 50), obs("2022", 40)], END_2022).current_value == 40


def test_no_data():
    p = compute_progress(KINDERGARTENS, [obs("2023", 40)], END_2022)
    assert p.status is Status.no_data
    assert p.current_value is None
    assert p.expected_value is None and p.projected_value is None and p.completion is None
    assert p.series == ()
    assert p.reasons == ("截至2022-12-31暂无已审核数据",)


def test_no_target_keeps_the_figures_but_judges_nothing():
    p = compute_progress(spec(target=None), [obs("2022", 40, "370303")], END_2022)
    assert p.status is Status.no_target
    assert p.current_value == 40
    assert p.expected_value is None and p.completion is None


def test_no_target_wins_over_no_data():
    # A district without its own target is not chased for data.
    assert compute_progress(spec(target=None), [], END_2022).status is Status.no_target


def test_nothing_is_expected_before_the_plan():
    share = spec(target=65, kind=IndicatorKind.level, unit="%")
    p = compute_progress(share, [obs("2021", 58)], D(2021, 12, 31))
    assert p.expected_value is None
    assert p.status is Status.on_track


# --- series and projection ---------------------------------------------------------------------


def test_series_has_running_totals_for_cumulative():
    p = compute_progress(KINDERGARTENS, [obs("2023", 35), obs("2022", 40)], D(2023, 12, 31))
    assert [(s.period, s.value, s.cumulative) for s in p.series] == [("2022", 40, 40), ("2023", 35, 75)]


def test_projection_reaches_the_target():
    # Running totals (2023.0, 30) and (2024.0, 70): slope 40 a year → 70 + 40 = 110 at 2025.0 ≥ 103.
    p = compute_progress(KINDERGARTENS, [obs("2022", 30), obs("2023", 40)], D(2023, 12, 31))
    assert p.projected_value == pytest.approx(110)
    assert p.projected_reaches_target is True
    assert "按当前趋势2024年末预计达到110处，可以完成目标" in p.reasons


def test_projection_falls_short_of_the_target():
    # Least squares over the levels 50, 54, 55, 61 at 2021.0 … 2024.0 (readings of 2020 … 2023):
    # mean t 2022.5, mean v 55; slope = (−1.5·−5 − 0.5·−1 + 0.5·0 + 1.5·6) / (2.25+0.25+0.25+2.25) = 17/5 = 3.4
    # at 2025.0: 55 + 3.4 × 2.5 = 63.5 < 65.
    share = spec(target=65, kind=IndicatorKind.level, unit="%")
    p = compute_progress(share, [obs("2020", 50), obs("2021", 54), obs("2022", 55), obs("2023", 61)], D(2023, 12, 31))
    assert p.projected_value == pytest.approx(63.5)
    assert p.projected_reaches_target is False
    assert "按当前趋势2024年末预计达到63.5%，难以完成目标" in p.reasons


def test_single_cumulative_point_projects_from_zero_at_plan_start():
    # 40 by 2023.0 → 40 a year → 120 by 2025.0.
    p = compute_progress(KINDERGARTENS, [obs("2022", 40)], END_2022)
    assert p.projected_value == pytest.approx(120)
    assert p.projected_reaches_target is True


def test_single_level_point_projects_from_the_baseline():
    # 2000 at 2022.0 → 2600 at 2023.0: 600 a year → 3800 at 2025.0 < 4000.
    p = compute_progress(NURSES, [obs("2022", 2600)], END_2022)
    assert p.projected_value == pytest.approx(3800)
    assert p.projected_reaches_target is False
