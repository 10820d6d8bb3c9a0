"""The demo dataset (`make run`): plausible reports over a plan's years by district, as plain functions.

Deterministic (a seeded RNG per indicator), so two runs give the same figures. Some districts and
some indicators lag on purpose, so that the warnings and the rankings have something to say. Where
the city published a result for the plan's first year (`results_2022.yaml`), the districts' figures of that
year add up to it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from minsheng.catalog.document import (
    Aggregation,
    CampaignDoc,
    Comparator,
    IndicatorDoc,
    IndicatorKind,
    MilestoneBasis,
    ReportingFrequency,
)
from minsheng.orgunits import CITY_CODE, districts_named
from minsheng.progress.periods import Period, PeriodType, plan_periods
from minsheng.progress.scale import ratio_scale
from minsheng.reporting.calendar import ReportingCalendar

DEMO_NOTE = "演示数据"
RESULTS_FILE = Path(__file__).with_name("results_2022.yaml")
Years = tuple[int, ...]  # the plan's years, oldest first

# Each reporting unit's share of a city total (roughly its population) and how well it performs
# (1.0: on plan). 博山区 and 高青县 lag, 张店区 and 高新区 lead.
WEIGHTS = {
    "370302": 0.15,
    "370303": 0.20,
    "370304": 0.08,
    "370305": 0.13,
    "370306": 0.09,
    "370321": 0.10,
    "370322": 0.07,
    "370323": 0.10,
    "370390": 0.04,
    "370391": 0.02,
    "370392": 0.02,
}
PERFORMANCE = {
    "370302": 0.98,
    "370303": 1.08,
    "370304": 0.80,
    "370305": 1.04,
    "370306": 0.96,
    "370321": 1.01,
    "370322": 0.76,
    "370323": 0.92,
    "370390": 1.05,
    "370391": 0.95,
    "370392": 0.88,
}
LAGGING_DISTRICTS = frozenset(code for code, p in PERFORMANCE.items() if p < 0.85)
# About this share of the indicators lag everywhere (a bureau behind on its task).
LAGGING_SHARE = 0.2
# In a plan in force, this share of the monthly series (indicator × org unit) has not reported the month that fell
# due last, so the inbox and the warnings show overdue items in red.
LATE_SHARE = 0.2
# Units whose figures are amounts, lengths or areas (one decimal); everything else is counted.
DECIMAL_UNITS = frozenset({"亿元", "万元", "公里", "公顷", "万平方米", "平方米", "岁", "百分点", "%"})


# 数据质量 (decision 0024): a few figures of the 2022–2024 plan entered ten times too large on purpose, so the
# page's outliers have something to find: (indicator, district, month).  The month's other figures, scored the same
# way (against each series' history and the other districts), flag 张店区 alone a few times: the largest district's
# counts stand out among the others' (docs/decisions/0024-data-quality.md says so).
DELIBERATE_OUTLIERS = (
    ("T059-1", "370305", "2024-03"),
    ("T076-1", "370302", "2024-03"),
    ("T035-1", "370321", "2024-03"),
)
OUTLIER_FACTOR = 10


@dataclass(frozen=True)
class DemoResult:
    indicator: str
    value: float
    sentence: str


def load_results(path: Path = RESULTS_FILE) -> dict[str, DemoResult]:
    """The city's published 2022 results (indicator → value with its source sentence)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {r["indicator"]: DemoResult(r["indicator"], float(r["value"]), r["sentence"]) for r in document["results"]}


def months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def _counted(indicator: IndicatorDoc) -> bool:
    return indicator.unit not in DECIMAL_UNITS and float(indicator.target_value).is_integer()


def split(total: float, weights: Sequence[float], *, integer: bool) -> list[float]:
    """`total` shared in proportion to `weights`; integers by largest remainder, so they add up exactly."""
    whole = sum(weights) or 1.0
    raw = [total * w / whole for w in weights]
    if not integer:  # tenths, shared as whole numbers of tenths
        return [t / 10 for t in split(total * 10, weights, integer=True)]
    floors = [int(x) for x in raw]
    left = int(round(total)) - sum(floors)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)[: max(left, 0)]:
        floors[i] += 1
    return [float(f) for f in floors]


def unit_factors(indicator: IndicatorDoc, rng: random.Random) -> dict[str, float]:
    """How far each unit gets of its share: its own performance, the indicator's, a little noise."""
    lagging = rng.random() < LAGGING_SHARE
    indicator_factor = rng.uniform(0.68, 0.85) if lagging else rng.uniform(1.03, 1.12)
    return {code: p * indicator_factor * rng.uniform(0.96, 1.04) for code, p in PERFORMANCE.items()}


def unit_targets(indicator: IndicatorDoc) -> dict[str, float]:
    """Each unit's target: its own published share, else its weight of the city's total."""
    own = {t.org_unit: t.target_value for t in indicator.district_targets}
    return {code: own.get(code, indicator.target_value * w) for code, w in WEIGHTS.items()}


def _year_shares(indicator: IndicatorDoc, plan_years: Years) -> dict[int, float]:
    """A cumulative total's share per year, through the plan's year-end milestones where it has them: a
    total reached by the year's end, or a flow the year adds."""
    years = [y for y in plan_years if y <= indicator.horizon]
    whole_years = [m for m in indicator.milestones if m.quarter is None and indicator.target_value]
    totals = {m.year: m.value / indicator.target_value for m in whole_years if m.basis is MilestoneBasis.reached}
    flows = {m.year: m.value / indicator.target_value for m in whole_years if m.basis is MilestoneBasis.year_flow}
    shares, reached = {}, 0.0
    for i, year in enumerate(years):
        straight = reached + (1 - reached) / (len(years) - i)
        goal = totals.get(year, reached + flows[year] if year in flows else straight)
        shares[year] = max(goal - reached, 0.0)
        reached = max(goal, reached)
    return shares


def _flows(indicator: IndicatorDoc, rng: random.Random, years: Years) -> dict[str, dict[int, float]]:
    """Per unit and year, what it achieves (sum indicators reported as flows)."""
    targets, factors = unit_targets(indicator), unit_factors(indicator, rng)
    if indicator.kind is IndicatorKind.cumulative:
        shares = _year_shares(indicator, years)
    elif indicator.kind is IndicatorKind.one_year:
        shares = {indicator.horizon: 1.0}
    else:  # yearly: the target every year
        shares = dict.fromkeys(years, 1.0)
    return {code: {y: targets[code] * factors[code] * s for y, s in shares.items()} for code in WEIGHTS}


def _monthly(total: float, rng: random.Random, *, integer: bool) -> list[float]:
    # Work picks up through the year, with a push before the year-end review.
    weights = [rng.uniform(0.7, 1.3) * (1 + m / 24) * (1.5 if m == 11 else 1.0) for m in range(12)]
    return split(total, weights, integer=integer)


def _row(indicator: IndicatorDoc, org_unit: str, period: str, **figures: float | None) -> dict:
    row = {"indicator": indicator.code, "org_unit": org_unit, "period": period, "note": DEMO_NOTE}
    row.update({k: v for k, v in figures.items() if v is not None})
    return row


def _flow_rows(indicator: IndicatorDoc, rng: random.Random, result: DemoResult | None, years: Years) -> list[dict]:
    integer = _counted(indicator)
    flows = _flows(indicator, rng, years)
    first = years[0]
    if indicator.city_only:
        flows = {CITY_CODE: {y: sum(f[y] for f in flows.values()) for y in next(iter(flows.values()))}}
    if result is not None and first in next(iter(flows.values())):
        # The published first-year total, shared among the units as the model would have it.
        codes = list(flows)
        shares = split(result.value, [flows[c][first] for c in codes], integer=integer)
        for code, share in zip(codes, shares, strict=True):
            flows[code][first] = share
    rows = []
    for org_unit, by_year in flows.items():
        for year, total in by_year.items():
            total = round(total) if integer else round(total, 1)
            for period, value in zip(months(year), _monthly(total, rng, integer=integer), strict=True):
                rows.append(_row(indicator, org_unit, period, value=value))  # a month with nothing done is a 0
    return rows


def _stock_rows(indicator: IndicatorDoc, rng: random.Random, years: Years) -> list[dict]:
    """A level counted at each quarter's end, rising from the baseline towards the unit's target."""
    integer = _counted(indicator)
    targets, factors = unit_targets(indicator), unit_factors(indicator, rng)
    start = indicator.baseline_value if indicator.baseline_value is not None else indicator.target_value * 0.7
    units = {CITY_CODE: 1.0} if indicator.city_only else WEIGHTS
    quarters = [f"{y}Q{q}" for y in years for q in range(1, 5)]
    rows = []
    for org_unit in units:
        if indicator.city_only:
            end = indicator.target_value * sum(factors[c] * w for c, w in WEIGHTS.items())
            begin = start
        else:
            end = targets[org_unit] * factors[org_unit]
            begin = start * WEIGHTS[org_unit]
        for i, period in enumerate(quarters, start=1):
            value = (begin + (end - begin) * i / len(quarters)) * rng.uniform(0.99, 1.01)
            rows.append(_row(indicator, org_unit, period, value=round(value) if integer else round(value, 1)))
    return rows


def _rate(indicator: IndicatorDoc, target: float, factor: float, year: int, years: Years) -> float:
    """A rate or per-capita level in a year: from a start below (or above, for a ceiling) to where the
    unit's performance takes it by the plan's end."""
    progress = (year - years[0] + 1) / len(years)
    # Rates move less than totals; a life expectancy hardly at all.
    factor = 1 + (factor - 1) * (0.1 if indicator.unit == "岁" else 0.5)
    if indicator.kind is IndicatorKind.yearly:
        value = target * factor
    elif indicator.comparator is Comparator.at_most:
        end = target * (2.0 - factor) * 0.97
        value = target * 1.1 + (end - target * 1.1) * progress
    elif indicator.comparator is Comparator.about:
        end = target * (1 + (factor - 1) * 0.5)
        value = target * 0.9 + (end - target * 0.9) * progress
    else:
        begin = target * (0.98 if indicator.unit == "岁" else 0.9)
        value = begin + (target * factor - begin) * progress
    return min(value, 100.0) if indicator.unit == "%" else value


def _rate_rows(indicator: IndicatorDoc, rng: random.Random, plan_years: Years) -> list[dict]:
    targets, factors = unit_targets(indicator), unit_factors(indicator, rng)
    own = {t.org_unit for t in indicator.district_targets}
    units = [CITY_CODE] if indicator.city_only else list(WEIGHTS)
    if indicator.aggregation is Aggregation.none and not indicator.city_only:
        units.append(CITY_CODE)  # no roll-up: the city reports its own figure too
    years = [y for y in plan_years if indicator.kind is not IndicatorKind.one_year or y == indicator.horizon]
    rows = []
    for org_unit in units:
        # A rate's target is the city's for every unit, unless the unit has its own share.
        target = targets[org_unit] if org_unit in own else indicator.target_value
        factor = 1.0 + (sum(factors.values()) / len(factors) - 1.0) if org_unit == CITY_CODE else factors[org_unit]
        for year in years:
            value = _rate(indicator, target, factor, year, plan_years) * rng.uniform(0.995, 1.005)
            if indicator.unit == "%":
                value = min(value, 100.0)
            if indicator.aggregation is Aggregation.ratio:
                denominator = float(max(50, round(1000 * WEIGHTS.get(org_unit, 1.0) * len(WEIGHTS))))
                numerator = round(value / ratio_scale(indicator.unit, indicator.name) * denominator, 4)
                rows.append(_row(indicator, org_unit, str(year), numerator=numerator, denominator=denominator))
            else:
                rows.append(_row(indicator, org_unit, str(year), value=round(value, 2)))
    return rows


def _each_district_rows(indicator: IndicatorDoc, rng: random.Random, years: Years) -> list[dict]:
    """An indicator no roll-up can add, reported by the month (e.g. one per district): each unit that keeps up
    reports it once.  One reported by the quarter or the year is owed every period: rate rows."""
    rows = []
    for org_unit in WEIGHTS:
        if org_unit in LAGGING_DISTRICTS:
            continue
        year = rng.choice(years[:2])
        month = rng.randint(3, 11)
        rows.append(_row(indicator, org_unit, f"{year}-{month:02d}", value=indicator.target_value))
    return rows


def indicator_rows(indicator: IndicatorDoc, result: DemoResult | None = None, *, years: Years) -> list[dict]:
    """Every demo report of one indicator, over the plan's `years`."""
    rng = random.Random(f"minsheng-demo:{indicator.code}")
    if (
        indicator.aggregation is Aggregation.none
        and indicator.kind is not IndicatorKind.level
        and indicator.frequency is ReportingFrequency.month
    ):
        return _each_district_rows(indicator, rng, years)
    if indicator.kind is IndicatorKind.level and indicator.aggregation is Aggregation.sum:
        return _stock_rows(indicator, rng, years)
    if indicator.aggregation is Aggregation.sum:
        return _flow_rows(indicator, rng, result, years)
    return _rate_rows(indicator, rng, years)


def demo_rows(
    catalogs: Iterable[CampaignDoc], *, today: dt.date, results: Mapping[str, DemoResult] | None = None
) -> dict[str, list[dict]]:
    """Per campaign, the rows to submit (`POST /reports/bulk`).  A plan that has ended: every period ended before
    `today`.  A plan in force: what has fallen due (the default reporting calendar), less the latest of it for a
    few series (LATE_SHARE) — what is owed now and what is late are left for people, as are the indicators whose
    figures need 佐证材料 (须附佐证).  The city's published
    2022 results belong to the 2022–2024 plan alone (the legacy plan)."""
    results = load_results() if results is None else results
    answer: dict[str, list[dict]] = {}
    for catalog in catalogs:
        rows = []
        years = tuple(catalog.plan.years)
        in_force = catalog.plan.end >= today
        for indicator in catalog.all_indicators():
            if indicator.evidence_required:
                continue  # its figures need 佐证材料: the demo does not make up proof, they are left for people
            result = results.get(indicator.code) if catalog.plan.legacy else None
            generated = indicator_rows(indicator, result, years=years)
            rows.extend(_fallen_due(generated, today) if in_force else _ended(generated, today))
        answer[catalog.code] = _with_outliers(rows) if catalog.plan.legacy else rows
    return answer


def _with_outliers(rows: list[dict]) -> list[dict]:
    wanted = set(DELIBERATE_OUTLIERS)
    return [
        r | {"value": r["value"] * OUTLIER_FACTOR}
        if (r["indicator"], r["org_unit"], r["period"]) in wanted and r.get("value") is not None
        else r
        for r in rows
    ]


def _ended(rows: list[dict], today: dt.date) -> list[dict]:
    # The 2022–2024 plan's dataset as it always was: months with nothing done were not reported.
    return [r for r in rows if Period.parse(r["period"]).end < today and r.get("value") != 0]


def _fallen_due(rows: list[dict], today: dt.date) -> list[dict]:
    calendar = ReportingCalendar()
    due = [r for r in rows if calendar.due_date(Period.parse(r["period"])) < today]
    latest: dict[tuple[str, str], dict] = {}
    for row in due:
        key = (row["indicator"], row["org_unit"])
        if key not in latest or Period.parse(row["period"]).end > Period.parse(latest[key]["period"]).end:
            latest[key] = row
    # Late with a month's figure only: a quarter's or a year's level missing would pull the city's sums down.
    late = {
        id(row)
        for key, row in latest.items()
        if Period.parse(row["period"]).type is PeriodType.month
        and random.Random(f"minsheng-demo-late:{key}").random() < LATE_SHARE
    }
    return [r for r in due if id(r) not in late]


def part_rows(catalog: CampaignDoc, *, today: dt.date) -> list[dict]:
    """The partners' own parts of the tasks (协办进展, decision 0020) of a plan in force, as task-status bodies
    (`POST /task-status`): each partner's quarters up to its task's deadline once they have fallen due, less the
    latest for a few partners (LATE_SHARE), so 我的待办 shows one late here and there; a department's part for the
    city, a district's as its own task status.  None of a task whose progress needs 佐证材料 (left for people)."""
    if catalog.plan.end < today:
        return []
    calendar = ReportingCalendar()
    quarters = [q for q in plan_periods(catalog.plan, PeriodType.quarter) if calendar.due_date(q) < today]
    rows = []
    for task in catalog.tasks():
        if task.evidence_required:
            continue
        last = Period.parse(f"{task.deadline.year}Q{(task.deadline.month - 1) // 3 + 1}").end
        for partner in task.partner_departments:
            units = sorted(districts_named((partner,)))
            for org_unit, department in [(unit, None) for unit in units] or [(CITY_CODE, partner)]:
                due = [q for q in quarters if q.end <= last]
                late = random.Random(f"minsheng-demo-late-part:{task.number}:{org_unit}:{department}")
                if due and late.random() < LATE_SHARE:
                    due = due[:-1]
                for quarter in due:
                    row = {
                        "task": task.number,
                        "org_unit": org_unit,
                        "period": quarter.code,
                        "state": "in_progress",
                        "narrative": f"本单位承担部分按计划推进（{DEMO_NOTE}）",
                    }
                    rows.append(row | ({"partner_department": department} if department else {}))
    return rows
