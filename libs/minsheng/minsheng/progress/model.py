"""Inputs and outputs of the progress computation. Plain dataclasses: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from minsheng.catalog.document import Aggregation, Comparator, IndicatorKind, MilestoneBasis
from minsheng.progress.periods import Period


class Status(str, enum.Enum):
    completed = "completed"  # 已完成
    on_track = "on_track"  # 进度正常
    at_risk = "at_risk"  # 存在风险
    behind = "behind"  # 进度滞后
    no_data = "no_data"  # 暂无数据
    no_target = "no_target"  # 该单位无此项目标（总量指标的区县未分解目标）


STATUS_LABELS = {
    Status.completed: "已完成",
    Status.on_track: "进度正常",
    Status.at_risk: "存在风险",
    Status.behind: "进度滞后",
    Status.no_data: "暂无数据",
    Status.no_target: "未分解目标",
}

# "Worst of its indicators": a task is as bad as its worst indicator.  Missing data is worse than
# being on track: the monthly dispatch must chase a silent bureau.
SEVERITY = {
    Status.behind: 5,
    Status.at_risk: 4,
    Status.no_data: 3,
    Status.on_track: 2,
    Status.completed: 1,
    Status.no_target: 0,
}


@dataclass(frozen=True)
class Milestone:
    """An annual (quarterly) target of the plan (`MilestoneDoc`): due at the end of its year or quarter."""

    year: int
    value: float
    quarter: int | None = None  # None: the whole year
    basis: MilestoneBasis = MilestoneBasis.reached
    comparator: Comparator | None = None  # None: the indicator's
    source: str = ""  # the plan's sentence, for whoever shows the target

    @property
    def period(self) -> Period:
        return Period.parse(f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}")

    @property
    def due(self) -> dt.date:
        return self.period.end


@dataclass(frozen=True)
class IndicatorSpec:
    """What the catalog says about an indicator, for one org unit (the district's own target if it has one)."""

    code: str
    target_value: float | None  # None: this org unit has no target of its own (status no_target)
    comparator: Comparator
    kind: IndicatorKind
    horizon: int
    first_year: int  # the plan's first year: its trajectories start on 1 January of it
    aggregation: Aggregation
    unit: str
    baseline_value: float | None = None
    milestones: tuple[Milestone, ...] = ()
    ratio_scale: float = 1.0  # value = numerator / denominator × ratio_scale (100 for %, 1000 for 每千人 …)


@dataclass(frozen=True)
class Observation:
    """One approved value (the official figure) of an indicator for an org unit and a period."""

    period: Period
    org_unit: str
    value: float
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Thresholds:
    """Configurable in settings: how close to the trajectory counts as on track or at risk."""

    on_track_ratio: float = 0.95  # actual progress ≥ 95 % of expected progress → on track
    at_risk_ratio: float = 0.80  # ≥ 80 % → at risk; below → behind
    approx_tolerance: float = 0.05  # "左右": within ±5 % of the target counts as met

    @classmethod
    def from_settings(cls, settings) -> Thresholds:  # noqa: ANN001 - any ProcessSettings
        return cls(
            on_track_ratio=settings.status_on_track_ratio,
            at_risk_ratio=settings.status_at_risk_ratio,
            approx_tolerance=settings.status_approx_tolerance,
        )


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    end: dt.date
    value: float  # the period's value (a flow for cumulative/yearly/one_year kinds, the level otherwise)
    cumulative: float | None  # running total for cumulative kinds (and within-year total for yearly/one_year)


@dataclass(frozen=True)
class IndicatorProgress:
    code: str
    as_of: dt.date
    status: Status
    current_value: float | None  # the figure judged: running total, this year's flow, or latest level
    target_value: float | None
    completion: float | None  # share of the target reached, respecting the comparator (1.0 = met)
    expected_value: float | None  # where the trajectory says the figure should be at as_of
    projected_value: float | None  # trend extrapolated to the end of the horizon
    projected_reaches_target: bool | None
    series: tuple[SeriesPoint, ...]
    reasons: tuple[str, ...]  # Chinese sentences explaining the status


@dataclass(frozen=True)
class RollUp:
    """The city's (or a parent's) observations built from its children, and which basis each period used."""

    observations: tuple[Observation, ...]
    basis: dict[str, str] = field(default_factory=dict)  # period code → "districts" | "direct"
    contributors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # period code → org unit codes
