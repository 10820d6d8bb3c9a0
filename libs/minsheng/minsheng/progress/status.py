"""Is an indicator on track?  Pure arithmetic over one org unit's approved observations.

`compute_progress(spec, observations, as_of)` judges one indicator for one org unit (the city's
observations are already rolled up, see `rollup.py`).  The rules, in the words of the plan office:

Which observations count
    Only periods ending on or before `as_of` — and on or before 31 Dec of the horizon year: a plan
    that says "by its last year" does not count a figure reported for the year after (as_of after the
    horizon judges the plan as it ended).
    cumulative / yearly / one_year values are FLOWS (what was achieved in that period).  Flows before
    the plan's first year are outside it; one_year counts only flows inside its horizon year.  A bureau may
    report the same year monthly, quarterly and yearly; to avoid double counting, per calendar year
    we use the MONTHS if any month of that year was reported, else the QUARTERS, else the YEAR report.
    level values are stock levels at the period end (a level of the year before the plan is a legitimate
    starting point, so it counts).  Several reports ending on the same day say the same thing: the finest one is kept.

What is judged (`current_value`)
    cumulative: running total from the plan's start to as_of.    yearly: total of the year of as_of (after
    the horizon: the horizon year).    one_year: total of the horizon year.    level: latest value.

Time
    Dates are placed on a "plan-year" axis: the end of a day d is d.year + (day of year)/(days in
    year).  So the last day of a three-year plan's first year is one third of the way through it, as a
    planning office counts it ("by the end of the first year, a third of 103 = 34.33"), and 30 September
    of a common year is 273/365 of it.  Each calendar year weighs the same, leap or not.

Annual and quarterly targets (milestones)
    The plan may set an indicator a target for a year, or a quarter of a year, beside its end target
    (seed 002's 2023 年度指标).  Each is due at the end of its period and counts either the figure
    REACHED by then (a cumulative total since the plan's start, a level) or the YEAR'S FLOW from
    1 January to then ("年内新增城镇就业5.5万人" on a cumulative indicator; a yearly indicator's
    year-specific target, which replaces its yearly target for that year).  A target's comparator is
    the indicator's unless the plan words it otherwise ("报销比例提高到60%以上" on a "65%左右").

Trajectory (`expected_value` at as_of)
    cumulative / level: a straight line from the baseline at the plan's start to the target at 31 Dec of
    the horizon year, through the reached milestones (each at its due date).  A year's flow target on a
    cumulative indicator bends it too: the line runs through the planned total on 1 January and that
    total plus the flow at the target's due date.  Flow kinds start at 0 (a catalog baseline is a stock
    and is ignored for flows).  A level without a baseline starts at its first observed value, at that
    period's end.
    yearly: from 0 on 1 Jan of the current year, through its quarterly targets, to the year's target at
    31 Dec (without quarterly targets: the year's target × fraction of the year elapsed at as_of).
    one_year: likewise for the horizon year (from 0 at 1 Jan to the target at 31 Dec).
    ≤ (a ceiling): the ceiling applies all the time, so the line is flat at the target — unless the
    catalog gives a baseline above the ceiling (a planned reduction), then it is the straight line.
    After the horizon the expected value is the target; before the plan's start nothing is expected (None).

Status
    no_target (the org unit has no target of its own) is decided first: a district with no
    target is not chased for data, so it never shows no_data.  Then no_data (nothing counted).
    ≥ : completed as soon as current ≥ target.
    ≈ : completed while within ±approx_tolerance × target of the target ("左右").
    ≤ : within the ceiling → on_track before the horizon end, completed on/after it.
    After the horizon end, not met → behind.
    Otherwise actual progress ÷ expected progress, both measured from the trajectory's start
    (baseline, 0, or first level), is graded: ≥ on_track_ratio → on_track, ≥ at_risk_ratio →
    at_risk, else behind.  Above a ceiling: target ÷ current is graded the same way (or the
    trajectory ratio if a baseline above the ceiling exists).  ≈ below the band: as ≥ against the
    lower edge of the band (the trajectory is re-aimed at that edge); ≈ above the band: as a
    ceiling at the upper edge.
    yearly: completed only when the horizon has ended and every year of the plan up to the horizon met its
    year's target (a year without data did not meet it); after the horizon otherwise behind.  Before that,
    the current year is judged; a current year with nothing reported yet is no_data (the bureau is
    chased for its report rather than called behind); a current year that has closed short of its
    target is behind; a year already met is on_track (the other years are still to come).
    Earlier years that missed their target are mentioned in the reasons.
    Targets of the period (before the horizon end, where the end target is not met yet — for yearly,
    the year's target): the milestones of as_of's year due soonest on or after as_of (a quarter's
    before its year's; a yearly indicator's whole-year targets are its year's target, above) judge
    instead of the line alone.  Met → on_track, "完成年度目标（季度目标）" (a ≤ target before its
    due date: "目前控制在…以内"); due date reached (as_of is its last day) and not met → behind,
    "未完成年度目标"; nothing counted for a year-flow target's year yet → no_data; otherwise graded
    against the line to the target (a year flow: the year's flow against the line from 0 on 1 January
    to the target).  Several due at once: the worst.  Where no target is set for the period, the
    straight line judges as above.  Every target whose period has ended by as_of is reported in the
    reasons with its figure: 完成 or 未完成年度目标（季度目标）.

Projection
    Least-squares line over (date → running total) for cumulative and (date → value) for level,
    evaluated at the horizon end.  A single cumulative point: the line from 0 at the plan's start through
    it; a single level point: the line from the baseline through it, or no projection without a
    baseline.  yearly / one_year: the current year's flow pro-rata to the year end (the line from 0
    at 1 Jan through the latest point).  On/after the horizon end the projection is the actual
    figure.  None when there is no data.

Reasons are Chinese sentences with the numbers, for the monthly dispatch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from minsheng.catalog.document import Comparator, IndicatorKind, MilestoneBasis
from minsheng.progress.model import (
    SEVERITY,
    STATUS_LABELS,
    IndicatorProgress,
    IndicatorSpec,
    Milestone,
    Observation,
    SeriesPoint,
    Status,
    Thresholds,
)
from minsheng.progress.periods import PeriodType

_EPS = 1e-9
_FINENESS = {PeriodType.month: 0, PeriodType.quarter: 1, PeriodType.year: 2}  # lower = finer
_FLOW_KINDS = (IndicatorKind.cumulative, IndicatorKind.yearly, IndicatorKind.one_year)
_REACHED = MilestoneBasis.reached

Point = tuple[float, float]  # (plan time, value)


# ---------------------------------------------------------------------------------------------
# Time


def plan_time(day: dt.date) -> float:
    """The END of `day` on the plan-year axis: 31 Dec of year Y → Y + 1.0, 30 Sep of a common year Y → Y + 273/365."""
    days_in_year = 366 if calendar.isleap(day.year) else 365
    return day.year + day.timetuple().tm_yday / days_in_year


def time_elapsed(first_year: int, last_year: int, day: dt.date) -> float:
    """序时进度: the share of the plan's time passed by the end of `day`, on the same plan-year axis as the
    trajectories (so the grey bar beside a completion share means what the status means)."""
    share = (plan_time(day) - first_year) / (last_year + 1 - first_year)
    return min(max(share, 0.0), 1.0)


def horizon_end(horizon: int) -> dt.date:
    return dt.date(horizon, 12, 31)


def plan_start(spec: IndicatorSpec) -> dt.date:
    return dt.date(spec.first_year, 1, 1)


def _start_time(spec: IndicatorSpec) -> float:
    """The start (not the end) of the plan's first day on the plan-year axis."""
    return float(spec.first_year)


def _judged_year(as_of: dt.date, spec: IndicatorSpec) -> int:
    """The year a yearly indicator is judged on: as_of's year, kept inside the plan."""
    return min(max(as_of.year, spec.first_year), spec.horizon)


# ---------------------------------------------------------------------------------------------
# Which observations count


def counted_observations(
    kind: IndicatorKind, observations: Sequence[Observation], *, as_of: dt.date, horizon: int, first_year: int
) -> tuple[Observation, ...]:
    """The observations the computation uses, in date order (see the module docstring)."""
    cutoff = min(as_of, horizon_end(horizon))
    due = [o for o in observations if o.period.end <= cutoff]
    if kind is IndicatorKind.level:
        return _one_per_end_date(due)
    first_year = horizon if kind is IndicatorKind.one_year else first_year
    return _finest_per_year([o for o in due if o.period.year >= first_year])


def _fineness(observation: Observation) -> int:
    return _FINENESS[observation.period.type]


def _chronological(observation: Observation) -> tuple[dt.date, dt.date]:
    return observation.period.end, observation.period.start


def _finest_per_year(flows: list[Observation]) -> tuple[Observation, ...]:
    """Months if the year has any, else quarters, else the year report: never two layers at once."""
    finest: dict[int, int] = {}
    for o in flows:
        finest[o.period.year] = min(finest.get(o.period.year, _fineness(o)), _fineness(o))
    kept = [o for o in flows if _fineness(o) == finest[o.period.year]]
    return tuple(sorted(kept, key=_chronological))


def _one_per_end_date(levels: list[Observation]) -> tuple[Observation, ...]:
    """A level is a fact about a day: of several reports ending that day keep the finest."""
    best: dict[dt.date, Observation] = {}
    for o in levels:
        if o.period.end not in best or _fineness(o) < _fineness(best[o.period.end]):
            best[o.period.end] = o
    return tuple(sorted(best.values(), key=_chronological))


def _year_totals(flows: Sequence[Observation]) -> dict[int, float]:
    totals: dict[int, float] = defaultdict(float)
    for o in flows:
        totals[o.period.year] += o.value
    return dict(totals)


# ---------------------------------------------------------------------------------------------
# Series and current value


def build_series(kind: IndicatorKind, counted: Sequence[Observation]) -> tuple[SeriesPoint, ...]:
    points: list[SeriesPoint] = []
    running = 0.0
    within_year: dict[int, float] = defaultdict(float)
    for o in counted:
        total: float | None
        if kind is IndicatorKind.cumulative:
            running += o.value
            total = running
        elif kind is IndicatorKind.level:
            total = None
        else:
            within_year[o.period.year] += o.value
            total = within_year[o.period.year]
        points.append(SeriesPoint(period=o.period.code, end=o.period.end, value=o.value, cumulative=total))
    return tuple(points)


def _current_value(spec: IndicatorSpec, counted: Sequence[Observation], as_of: dt.date) -> float:
    if spec.kind is IndicatorKind.level:
        return counted[-1].value  # one per end date, sorted: the last is the latest
    if spec.kind is IndicatorKind.yearly:
        return _year_totals(counted).get(_judged_year(as_of, spec), 0.0)
    return sum(o.value for o in counted)  # cumulative since the plan's start; one_year within its year


# ---------------------------------------------------------------------------------------------
# Trajectory


@dataclass(frozen=True)
class Trajectory:
    """A piecewise straight line through (plan time, value) anchors; flat before and after."""

    anchors: tuple[Point, ...]

    @property
    def start(self) -> Point:
        return self.anchors[0]

    def at(self, time: float) -> float:
        first, last = self.anchors[0], self.anchors[-1]
        if time <= first[0]:
            return first[1]
        if time >= last[0]:
            return last[1]
        for (t0, v0), (t1, v1) in itertools.pairwise(self.anchors):
            if t0 <= time <= t1:
                return v0 if t1 == t0 else v0 + (v1 - v0) * (time - t0) / (t1 - t0)
        return last[1]  # unreachable: the anchors cover [first, last]

    def aimed_at(self, value: float) -> Trajectory:
        """The same line, ending at another final value (the lower edge of a 左右 band)."""
        return Trajectory(self.anchors[:-1] + ((self.anchors[-1][0], value),))


def trajectory(spec: IndicatorSpec, counted: Sequence[Observation], as_of: dt.date) -> Trajectory:
    """Requires spec.target_value; for a level without baseline, at least one counted observation."""
    target = spec.target_value
    end = float(spec.horizon + 1)  # 31 Dec of the horizon year, end of day
    if spec.kind is IndicatorKind.yearly:
        year = _judged_year(as_of, spec)
        return _year_flow_line(spec, year, (year + 1.0, year_target(spec, year)))
    if spec.kind is IndicatorKind.one_year:
        return _year_flow_line(spec, spec.horizon, (end, target))
    if spec.comparator is Comparator.at_most and not _planned_reduction(spec):
        # A ceiling holds every day of the plan; there is nothing to ramp towards.
        return Trajectory(((_start_time(spec), target), (end, target)))
    return Trajectory(_anchors(spec, _trajectory_start(spec, counted), (end, target)))


def _anchors(spec: IndicatorSpec, start: Point, end: Point) -> tuple[Point, ...]:
    """Start, the milestones due between start and end, end.  A year's flow target (cumulative kind)
    adds two anchors: the planned total on 1 January and that total plus the flow at the target's due
    date (each of the year's quarterly flow targets likewise), so the line rises by the flow in the year."""
    if not spec.milestones:
        return start, end

    def inside(m: Milestone) -> bool:
        return start[0] < plan_time(m.due) < end[0]

    points = sorted(
        [start, end, *((plan_time(m.due), m.value) for m in spec.milestones if m.basis is _REACHED and inside(m))]
    )
    flows = [m for m in spec.milestones if m.basis is MilestoneBasis.year_flow and inside(m)]
    for year in sorted({m.year for m in flows}):
        base = Trajectory(tuple(points)).at(float(year))
        added = [(float(year), base), *((plan_time(m.due), base + m.value) for m in flows if m.year == year)]
        taken = {t for t, _ in points}
        points = sorted(points + [(t, v) for t, v in added if t not in taken])
    return tuple(points)


def _year_flow_line(spec: IndicatorSpec, year: int, until: Point) -> Trajectory:
    """A year's flow: 0 on 1 January, through the year's quarterly flow targets due before `until`."""
    quarters = sorted(
        (plan_time(m.due), m.value)
        for m in spec.milestones
        if m.year == year and m.quarter is not None and m.basis is MilestoneBasis.year_flow
        if plan_time(m.due) < until[0]
    )
    return Trajectory(((float(year), 0.0), *quarters, until))


def _trajectory_start(spec: IndicatorSpec, counted: Sequence[Observation]) -> Point:
    if spec.kind in _FLOW_KINDS:
        return _start_time(spec), 0.0
    if spec.baseline_value is not None:
        return _start_time(spec), spec.baseline_value
    first = counted[0]
    return plan_time(first.period.end), first.value


def _planned_reduction(spec: IndicatorSpec) -> bool:
    """A ceiling with a catalog baseline above it: the plan foresees a descent we can track."""
    return (
        spec.kind is IndicatorKind.level
        and spec.baseline_value is not None
        and spec.target_value is not None
        and spec.baseline_value > spec.target_value
    )


def expected_value(spec: IndicatorSpec, counted: Sequence[Observation], as_of: dt.date) -> float | None:
    if spec.target_value is None or as_of < plan_start(spec):
        return None
    if as_of >= horizon_end(spec.horizon):
        return judged_target(spec, as_of)
    return trajectory(spec, counted, as_of).at(plan_time(as_of))


def year_target(spec: IndicatorSpec, year: int) -> float | None:
    """A yearly indicator's target for `year`: the plan's target for that year where it sets one."""
    for m in spec.milestones:
        if m.year == year and m.quarter is None and m.basis is MilestoneBasis.year_flow:
            return m.value
    return spec.target_value


def judged_target(spec: IndicatorSpec, as_of: dt.date) -> float | None:
    """The target the figure of `as_of` is judged against: a yearly indicator's, its year's."""
    if spec.kind is IndicatorKind.yearly:
        return year_target(spec, _judged_year(as_of, spec))
    return spec.target_value


def milestone_on_chart(spec: IndicatorSpec, milestone: Milestone) -> float:
    """Where a target sits on the indicator's chart (running total, the year's total, or the level):
    a cumulative indicator's year flow target at the planned total on 1 January plus the flow."""
    if spec.kind is not IndicatorKind.cumulative or milestone.basis is _REACHED or spec.target_value is None:
        return milestone.value
    line = Trajectory(_anchors(spec, (_start_time(spec), 0.0), (float(spec.horizon + 1), spec.target_value)))
    return line.at(float(milestone.year)) + milestone.value


def projection_end(spec: IndicatorSpec, as_of: dt.date) -> dt.date:
    """The day `projection` projects to: the judged year's end for a yearly indicator, else the horizon's."""
    year = _judged_year(as_of, spec) if spec.kind is IndicatorKind.yearly else spec.horizon
    return horizon_end(year)


# ---------------------------------------------------------------------------------------------
# Meeting the target and completion


def band(target: float, tolerance: float) -> tuple[float, float]:
    """The 左右 band: ±tolerance × target around the target (ordered even for a negative target)."""
    low, high = target * (1 - tolerance), target * (1 + tolerance)
    return min(low, high), max(low, high)


def meets(comparator: Comparator, value: float, target: float, tolerance: float) -> bool:
    if comparator is Comparator.at_least:
        return value >= target - _EPS
    if comparator is Comparator.at_most:
        return value <= target + _EPS
    low, high = band(target, tolerance)
    return low - _EPS <= value <= high + _EPS


def completion(spec: IndicatorSpec, current: float, tolerance: float) -> float | None:
    """Share of the target reached, respecting the comparator (1.0 = met)."""
    target = spec.target_value
    if target is None:
        return None
    if spec.comparator is Comparator.at_least:
        baseline = _stock_baseline(spec)
        if baseline is not None and target != baseline:
            return (current - baseline) / (target - baseline)
        return _share(current, target)
    if spec.comparator is Comparator.at_most:
        # A ceiling: at or under it is 100 %; above it, how far the ceiling is from the figure.
        return 1.0 if current <= target + _EPS else _share(target, current)
    return 1.0 if meets(Comparator.about, current, target, tolerance) else _share(current, target)


def _stock_baseline(spec: IndicatorSpec) -> float | None:
    """Only a level has a baseline: a flow's running total starts from 0 by definition."""
    return spec.baseline_value if spec.kind is IndicatorKind.level else None


def _share(part: float, whole: float) -> float | None:
    return None if whole == 0 else part / whole


# ---------------------------------------------------------------------------------------------
# Judging


@dataclass(frozen=True)
class _Case:
    """Everything a comparator rule needs to judge one figure."""

    current: float
    target: float
    unit: str
    final: bool  # the period to reach the target has ended (no more time)
    time: float | None  # as_of on the plan-year axis; None before the plan started
    line: Trajectory
    measure_from: float  # progress is measured from here (baseline, 0, or the first level)
    tolerance: float
    thresholds: Thresholds


Verdict = tuple[Status, str | None]  # the status and a sentence (None: "已完成" goes on the headline)


def grade(ratio: float, thresholds: Thresholds) -> Status:
    if ratio >= thresholds.on_track_ratio - _EPS:
        return Status.on_track
    if ratio >= thresholds.at_risk_ratio - _EPS:
        return Status.at_risk
    return Status.behind


def _against_line(case: _Case, line: Trajectory, *, upward: bool = True, note: str = "") -> Verdict:
    """Actual progress ÷ expected progress, both measured from the start of the line.

    `upward`: the figure should rise (≥, 左右 from below); False for a planned reduction (≤).
    """
    if case.time is None:
        return Status.on_track, "规划期尚未开始，暂不评价进度"
    expected = line.at(case.time)
    sign = 1.0 if upward else -1.0
    due = sign * (expected - case.measure_from)
    done = sign * (case.current - case.measure_from)
    if abs(due) < _EPS:
        return Status.on_track, "按计划目前尚无应完成量，进度正常"
    u = case.unit
    sentence = f"按进度应达到{_num(expected)}{u}{note}，实际{_num(case.current)}{u}"
    if due < 0:
        # The line runs the wrong way (the start was already beyond the target): progress
        # "from the start" means nothing, so compare the figure with the line itself.
        ratio = _plain_ratio(case.current, expected, upward=upward)
    else:
        ratio = done / due
        if abs(case.measure_from) > _EPS:
            # From a non-zero start the two figures alone hide the ratio: spell it out.
            sentence += (
                f"（较起点{_num(case.measure_from)}{u}变化{_num(case.current - case.measure_from)}{u}，"
                f"为应变化量{_num(expected - case.measure_from)}{u}的{ratio:.0%}）"
            )
    status = grade(ratio, case.thresholds)
    return status, f"{sentence}，{STATUS_LABELS[status]}"


def _plain_ratio(current: float, expected: float, *, upward: bool) -> float:
    """How close the figure is to the line, as a share ≤ 1 when short of it."""
    better, worse = (current, expected) if upward else (expected, current)
    if worse <= 0:
        return 1.0 if better >= worse else 0.0
    return better / worse


def _over_ceiling(case: _Case, ceiling: float, label: str) -> Verdict:
    ratio = ceiling / case.current if case.current else 0.0
    status = grade(ratio, case.thresholds)
    u = case.unit
    return status, (
        f"实际{_num(case.current)}{u}，高于{label}{_num(ceiling)}{u}"
        f"（{label}÷实际={ratio:.0%}），{STATUS_LABELS[status]}"
    )


def _judge_at_least(case: _Case) -> Verdict:
    if meets(Comparator.at_least, case.current, case.target, case.tolerance):
        return Status.completed, None
    if case.final:
        return Status.behind, "期限已到，未达到目标，进度滞后"
    return _against_line(case, case.line)


def _judge_at_most(case: _Case, *, planned_reduction: bool) -> Verdict:
    if meets(Comparator.at_most, case.current, case.target, case.tolerance):
        if case.final:
            return Status.completed, None
        # A ceiling is only "done" once the period is over; until then it must keep holding.
        return Status.on_track, f"控制在{_num(case.target)}{case.unit}以内，进度正常"
    if case.final:
        return Status.behind, f"期限已到，仍高于控制目标{_num(case.target)}{case.unit}，进度滞后"
    if planned_reduction:
        return _against_line(case, case.line, upward=False)
    return _over_ceiling(case, case.target, "控制目标")


def _judge_about(case: _Case) -> Verdict:
    low, high = band(case.target, case.tolerance)
    if low - _EPS <= case.current <= high + _EPS:
        return Status.completed, None
    if case.final:
        side = "低于" if case.current < low else "高于"
        return Status.behind, (f"期限已到，{side}目标区间{_num(low)}–{_num(high)}{case.unit}，进度滞后")
    if case.current < low:
        return _against_line(case, case.line.aimed_at(low), note=f"（按目标区间下限{_num(low)}{case.unit}测算）")
    return _over_ceiling(case, high, "目标区间上限")


def _judge(case: _Case, spec: IndicatorSpec) -> Verdict:
    if spec.comparator is Comparator.at_least:
        return _judge_at_least(case)
    if spec.comparator is Comparator.at_most:
        return _judge_at_most(case, planned_reduction=_planned_reduction(spec))
    return _judge_about(case)


# ---------------------------------------------------------------------------------------------
# Projection


def _least_squares(points: Sequence[Point]) -> Callable[[float], float] | None:
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread < _EPS:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    return lambda time: mean_v + slope * (time - mean_t)


def _line_through(origin: Point, point: Point) -> Callable[[float], float] | None:
    (t0, v0), (t1, v1) = origin, point
    if t1 - t0 < _EPS:
        return None
    return lambda time: v0 + (v1 - v0) * (time - t0) / (t1 - t0)


def _trend(points: Sequence[Point], origin: Point | None) -> Callable[[float], float] | None:
    if len(points) >= 2:
        fitted = _least_squares(points)
        if fitted is not None:
            return fitted
    if points and origin is not None:
        return _line_through(origin, points[-1])
    return None


def projection(spec: IndicatorSpec, series: Sequence[SeriesPoint], *, current: float, as_of: dt.date) -> float | None:
    """Where the figure will be at the horizon end (yearly: at the end of the current year)."""
    if not series:
        return None
    if as_of >= horizon_end(spec.horizon):
        return current  # the plan is over: the actual figure is the answer
    end = float(spec.horizon + 1)
    if spec.kind is IndicatorKind.cumulative:
        line = _trend([(plan_time(p.end), p.cumulative) for p in series], origin=(_start_time(spec), 0.0))
        # A running total of non-negative flows cannot fall below what is already achieved.
        return None if line is None else max(line(end), current)
    if spec.kind is IndicatorKind.level:
        baseline = (_start_time(spec), spec.baseline_value) if spec.baseline_value is not None else None
        line = _trend([(plan_time(p.end), p.value) for p in series], origin=baseline)
        return None if line is None else line(end)
    return _pro_rata(spec, series, as_of)


def _pro_rata(spec: IndicatorSpec, series: Sequence[SeriesPoint], as_of: dt.date) -> float | None:
    """This year's flow so far, stretched to the whole year (line from 0 on 1 Jan through it)."""
    year = spec.horizon if spec.kind is IndicatorKind.one_year else _judged_year(as_of, spec)
    this_year = [p for p in series if p.end.year == year]
    if not this_year:
        return None
    latest = this_year[-1]
    elapsed = plan_time(latest.end) - year
    return latest.cumulative / elapsed


# ---------------------------------------------------------------------------------------------
# Sentences


def _num(value: float) -> str:
    """13333.33 → "13333", 34.333 → "34.33", 4.655 → "4.655", 670.0 → "670".

    Small figures keep a third decimal so a 左右 band edge (4.9 × 0.95 = 4.655) is not
    misquoted by rounding.
    """
    if abs(value) >= 100:
        return f"{round(value):d}"
    text = f"{value:.{2 if abs(value) >= 10 else 3}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _target_phrase(spec: IndicatorSpec) -> str:
    value, unit = _num(spec.target_value), spec.unit
    if spec.comparator is Comparator.at_most:
        return f"控制在{value}{unit}以内"
    if spec.comparator is Comparator.about:
        return f"{value}{unit}左右"
    return f"{value}{unit}"


def _headline(spec: IndicatorSpec, *, current: float, as_of: dt.date, counted: Sequence[Observation]) -> str:
    c, u = _num(current), spec.unit
    if spec.kind is IndicatorKind.yearly:
        year = _judged_year(as_of, spec)
        return f"{year}年截至{as_of.isoformat()}完成{c}{u}，年度目标{_target_phrase(spec)}"
    if spec.kind is IndicatorKind.level:
        latest = counted[-1].period.code
        return f"截至{as_of.isoformat()}最新值为{c}{u}（{latest}），目标{_target_phrase(spec)}（{spec.horizon}年）"
    return f"截至{as_of.isoformat()}累计完成{c}{u}，目标{_target_phrase(spec)}（{spec.horizon}年）"


def _projection_sentence(spec: IndicatorSpec, projected: float, reaches: bool, as_of: dt.date) -> str:
    p, u = _num(projected), spec.unit
    if spec.kind is IndicatorKind.yearly:
        year = _judged_year(as_of, spec)
        return f"按当前进度{year}年全年预计完成{p}{u}，{'可以' if reaches else '难以'}完成年度目标"
    if spec.kind is IndicatorKind.one_year:
        return f"按当前进度{spec.horizon}年全年预计完成{p}{u}，{'可以' if reaches else '难以'}完成目标"
    return f"按当前趋势{spec.horizon}年末预计达到{p}{u}，{'可以' if reaches else '难以'}完成目标"


# ---------------------------------------------------------------------------------------------
# Annual and quarterly targets (milestones)


def _own_targets(spec: IndicatorSpec) -> list[Milestone]:
    """The targets judged as such, by due date: all milestones but a yearly indicator's whole-year ones
    (they are its target of that year, `year_target`, and judged with the yearly rules)."""
    yearly = spec.kind is IndicatorKind.yearly
    return sorted(
        (m for m in spec.milestones if not (yearly and m.quarter is None)),
        key=lambda m: (m.due, m.basis.value),
    )


def _due_targets(spec: IndicatorSpec, as_of: dt.date) -> list[Milestone]:
    """The targets of the period as_of falls in: those of its year due soonest on or after it."""
    if not spec.milestones:
        return []
    pending = [m for m in _own_targets(spec) if m.year == as_of.year and m.due >= as_of]
    soonest = min((m.due for m in pending), default=None)
    return [m for m in pending if m.due == soonest]


def milestone_label(m: Milestone) -> tuple[str, str]:
    """("2023年度目标", "年度目标") or ("2023年第2季度目标", "季度目标")."""
    if m.quarter is None:
        return f"{m.year}年度目标", "年度目标"
    return f"{m.year}年第{m.quarter}季度目标", "季度目标"


def milestone_phrase(spec: IndicatorSpec, m: Milestone) -> str:
    """ "2023年度目标：全年完成55000人", "2023年度目标：达到60%以上"."""
    comparator = m.comparator or spec.comparator
    amount = f"{_num(m.value)}{spec.unit}"
    if comparator is Comparator.at_most:
        goal = f"控制在{amount}以内"
    elif comparator is Comparator.about:
        goal = f"{amount}左右"
    else:
        goal = amount if m.comparator is None else f"{amount}以上"
    if m.basis is MilestoneBasis.year_flow:
        span = "全年" if m.quarter is None else f"当年截至第{m.quarter}季度末"
        goal = f"{span}{goal}" if comparator is Comparator.at_most else f"{span}完成{goal}"
    elif comparator is not Comparator.at_most:
        goal = f"达到{goal}"
    return f"{milestone_label(m)[0]}：{goal}"


def _figure_for(spec: IndicatorSpec, m: Milestone, counted: Sequence[Observation], day: dt.date) -> float | None:
    """What a target is judged on, from the periods counted that ended by `day`: the year's flow, the total
    since the plan's start, or the latest level.  None: nothing counted for it."""
    upto = [o for o in counted if o.period.end <= day]
    if m.basis is MilestoneBasis.year_flow:
        upto = [o for o in upto if o.period.year == m.year]
    if not upto:
        return None
    return upto[-1].value if spec.kind is IndicatorKind.level else sum(o.value for o in upto)


def _judge_target(
    spec: IndicatorSpec, case: _Case, m: Milestone, counted: Sequence[Observation], as_of: dt.date
) -> Verdict:
    """One target of the period as_of falls in (see the module docstring)."""
    phrase, goal = milestone_phrase(spec, m), milestone_label(m)[1]
    figure = _figure_for(spec, m, counted, as_of)
    if figure is None:
        return Status.no_data, f"{phrase}，{m.year}年截至{as_of.isoformat()}尚无上报数据"
    comparator = m.comparator or spec.comparator
    sentence = f"{phrase}，实际{_num(figure)}{spec.unit}"
    if meets(comparator, figure, m.value, case.tolerance):
        if comparator is Comparator.at_most and as_of < m.due:
            return Status.on_track, f"{sentence}，目前控制在{goal}以内，进度正常"
        return Status.on_track, f"{sentence}，完成{goal}，进度正常"
    if as_of >= m.due:
        return Status.behind, f"{sentence}，未完成{goal}，进度滞后"
    if m.basis is MilestoneBasis.year_flow:
        line = _year_flow_line(spec, m.year, (plan_time(m.due), m.value))
        flow = replace(case, current=figure, target=m.value, line=line, measure_from=0.0)
        if comparator is Comparator.at_most:
            status, said = _over_ceiling(flow, m.value, goal)
        else:
            status, said = _against_line(flow, line)
    else:
        status, said = _judge(case, spec)  # the line passes through the target
    return status, f"{phrase}；{said}"


def _judge_due_targets(
    spec: IndicatorSpec, case: _Case, due: Sequence[Milestone], counted: Sequence[Observation], as_of: dt.date
) -> Verdict | None:
    """The worst verdict of the targets due (None: no target set for the period as_of falls in)."""
    verdicts = [_judge_target(spec, case, m, counted, as_of) for m in due]
    return max(verdicts, key=lambda v: SEVERITY[v[0]]) if verdicts else None


def _ended_targets(
    spec: IndicatorSpec, counted: Sequence[Observation], as_of: dt.date, judged: Sequence[Milestone], tolerance: float
) -> list[str]:
    """A sentence for each target whose period has ended by as_of (other than those just judged)."""
    sentences: list[str] = []
    for m in _own_targets(spec) if spec.milestones else ():
        if m.due > as_of or m in judged:
            continue
        phrase, goal = milestone_phrase(spec, m), milestone_label(m)[1]
        figure = _figure_for(spec, m, counted, m.due)
        if figure is None:
            sentences.append(f"{phrase}，没有已审核数据，未完成{goal}")
            continue
        met = meets(m.comparator or spec.comparator, figure, m.value, tolerance)
        sentences.append(f"{phrase}，实际{_num(figure)}{spec.unit}，{'完成' if met else '未完成'}{goal}")
    return sentences


# ---------------------------------------------------------------------------------------------
# Yearly indicators: every year counts


def _judge_yearly(
    spec: IndicatorSpec, case: _Case, counted: Sequence[Observation], as_of: dt.date, due: Sequence[Milestone]
) -> tuple[Verdict, list[str]]:
    """The verdict and extra sentences about earlier years.  `spec` carries the plan's yearly target; each
    year is judged against its own (`year_target`)."""
    totals = _year_totals(counted)
    years = range(spec.first_year, spec.horizon + 1)
    targets = {y: year_target(spec, y) for y in years}
    missed = [y for y in years if y in totals and not meets(spec.comparator, totals[y], targets[y], case.tolerance)]
    if as_of >= horizon_end(spec.horizon):
        return _judge_yearly_at_end(spec, case, years, totals, targets, missed), []

    u = spec.unit
    year = _judged_year(as_of, spec)
    earlier = [
        f"{y}年未完成年度目标（完成{_num(totals[y])}{u}，目标{_num(targets[y])}{u}）" for y in missed if y < year
    ]
    if year not in totals:
        return (Status.no_data, f"{year}年截至{as_of.isoformat()}尚无上报数据"), earlier
    if as_of >= horizon_end(year) and year in missed:
        return (Status.behind, f"{year}年已结束，未完成年度目标，进度滞后"), earlier
    status, sentence = _judge(case, spec)
    if status is Status.completed:
        # One year done, others to come: the indicator as a whole is only on track.
        return (Status.on_track, f"{year}年度目标已完成，进度正常"), earlier
    return _judge_due_targets(spec, case, due, counted, as_of) or (status, sentence), earlier


def _judge_yearly_at_end(
    spec: IndicatorSpec,
    case: _Case,
    years: range,
    totals: Mapping[int, float],
    targets: Mapping[int, float | None],
    missed: Sequence[int],
) -> Verdict:
    """Once the plan has ended: completed only if every year met its own target, with a figure for each."""
    u = spec.unit
    silent = [y for y in years if y not in totals]
    if len(set(targets.values())) == 1:
        target = f"年度目标{_num(case.target)}{u}"
        done = "、".join(f"{y}年{_num(totals.get(y, 0))}{u}" for y in years)
    else:
        target = "各年度目标"
        done = "、".join(f"{y}年{_num(totals.get(y, 0))}{u}（目标{_num(targets[y])}{u}）" for y in years)
    if not missed and not silent:
        return Status.completed, f"{years[0]}—{years[-1]}年每年均完成{target}（{done}），已完成"
    gaps = [f"{y}年完成{_num(totals[y])}{u}" for y in missed] + [f"{y}年无数据" for y in silent]
    return Status.behind, f"规划期已结束，未做到每年完成{target}（{'、'.join(gaps)}），进度滞后"


# ---------------------------------------------------------------------------------------------
# The entry point


def compute_progress(
    spec: IndicatorSpec, observations: Sequence[Observation], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> IndicatorProgress:
    counted = counted_observations(
        spec.kind, observations, as_of=as_of, horizon=spec.horizon, first_year=spec.first_year
    )
    series = build_series(spec.kind, counted)
    current = _current_value(spec, counted, as_of) if counted else None

    def result(status: Status, reasons: list[str], **computed) -> IndicatorProgress:
        fields = dict(completion=None, expected_value=None, projected_value=None, projected_reaches_target=None)
        fields.update(computed)
        return IndicatorProgress(
            code=spec.code,
            as_of=as_of,
            status=status,
            current_value=current,
            target_value=spec.target_value,
            series=series,
            reasons=tuple(reasons),
            **fields,
        )

    if spec.target_value is None:
        return result(Status.no_target, ["该单位未分解此项目标，不评价进度"])
    if not counted:
        return result(Status.no_data, [f"截至{as_of.isoformat()}暂无已审核数据"])

    tolerance = thresholds.approx_tolerance
    line = trajectory(spec, counted, as_of)
    # A level with a single reading and no baseline: the reading *is* the start of the line,
    # so "progress since the start" is zero by construction. Compare the level itself instead.
    single_level = spec.kind is IndicatorKind.level and spec.baseline_value is None and len(counted) == 1
    final = as_of >= horizon_end(spec.horizon)
    case = _Case(
        current=current,
        target=judged_target(spec, as_of),
        unit=spec.unit,
        final=final,
        time=plan_time(as_of) if as_of >= plan_start(spec) else None,
        line=line,
        measure_from=0.0 if single_level else line.start[1],
        tolerance=tolerance,
        thresholds=thresholds,
    )

    due = [] if final else _due_targets(spec, as_of)
    plan_spec = spec
    if case.target != spec.target_value:  # a yearly indicator's year with a target of its own
        spec = replace(spec, target_value=case.target)
    headline = _headline(spec, current=current, as_of=as_of, counted=counted)
    extra: list[str] = []
    if spec.kind is IndicatorKind.yearly:
        (status, sentence), extra = _judge_yearly(plan_spec, case, counted, as_of, due)
    else:
        status, sentence = _judge(case, spec)
        if status is not Status.completed:
            status, sentence = _judge_due_targets(spec, case, due, counted, as_of) or (status, sentence)
    extra += _ended_targets(spec, counted, as_of, due, tolerance)
    reasons = [f"{headline}，已完成" if sentence is None else headline]
    reasons += [s for s in (sentence,) if s] + extra

    projected = projection(spec, series, current=current, as_of=as_of)
    reaches = None if projected is None else meets(spec.comparator, projected, spec.target_value, tolerance)
    if projected is not None and not case.final and status is not Status.completed:
        reasons.append(_projection_sentence(spec, projected, reaches, as_of))

    return result(
        status,
        reasons,
        completion=completion(spec, current, tolerance),
        expected_value=expected_value(spec, counted, as_of),
        projected_value=projected,
        projected_reaches_target=reaches,
    )
