"""The catalog file format: what a campaign's `catalog.yaml` may say.

The catalog is data reviewed like code.  These models are the contract between
the YAML files, the idempotent loader, and the gateway (which receives the same
document from each service over HTTP).  Validation here rejects a file whose
numbers do not appear in the sentence they claim to come from.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from minsheng.orgunits import ALL_DISTRICTS

CAMPAIGN_CODES = ("education", "health", "eldercare", "employment", "livability")
INDICATOR_CODE_PATTERN = r"^(T\d{3}-\d{1,2}|H-[A-Z]{3}-\d{1,2})$"
PLAN_CODE_PATTERN = r"^[a-z][a-z0-9-]{2,39}$"


class Comparator(str, enum.Enum):
    """How an observed value is compared with its target (the plan's own wording in comments)."""

    at_least = "≥"  # "以上", "不少于", "不低于", "达到": higher is better
    at_most = "≤"  # "以内", "控制在", "不超过": a ceiling, lower is better
    about = "≈"  # "左右": met within a tolerance on either side

    @classmethod
    def _missing_(cls, value: object) -> Comparator | None:
        # ASCII spellings are accepted in files and query strings.
        return {
            "ge": cls.at_least,
            ">=": cls.at_least,
            "le": cls.at_most,
            "<=": cls.at_most,
            "approx": cls.about,
            "~": cls.about,
        }.get(str(value).lower())


class IndicatorKind(str, enum.Enum):
    cumulative = "cumulative"  # a total built over the plan: "三年新改扩建公办幼儿园103处"
    yearly = "yearly"  # a flow to reach every year: "每年招聘公办幼儿教师800人以上"
    level = "level"  # a level or ratio to reach: "公办园在园幼儿占比达到65%以上"
    one_year = "one_year"  # a target for one named year: "2022年,新建长者食堂300处以上"


class Aggregation(str, enum.Enum):
    """How district values roll up to the city (DHIS2's aggregation type)."""

    sum = "sum"  # counts and amounts add up
    ratio = "ratio"  # rates and per-capita values: sum numerators and denominators, then divide
    none = "none"  # cannot be aggregated (life expectancy, a share of districts ...)


class ReportingFrequency(str, enum.Enum):
    """How often an indicator is reported (tools/CATALOG_GUIDE.md says how it is chosen)."""

    month = "month"  # flows and counts built up over time: what was achieved in the month
    quarter = "quarter"  # stocks checked at the quarter's review (季考评)
    year = "year"  # rates, shares, per-capita levels and ratios: known once the year's statistics are


FREQUENCY_LABELS = {
    ReportingFrequency.month: "月度",
    ReportingFrequency.quarter: "季度",
    ReportingFrequency.year: "年度",
}


def default_frequency(kind: IndicatorKind, aggregation: Aggregation) -> ReportingFrequency:
    """The guide's rule, for documents published before the frequency was catalog data (a rebuild
    replays them); the catalog files state every indicator's frequency themselves."""
    if kind is not IndicatorKind.level and aggregation is not Aggregation.ratio:
        return ReportingFrequency.month
    if kind is IndicatorKind.level and aggregation is Aggregation.sum:
        return ReportingFrequency.quarter
    return ReportingFrequency.year


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)?")


def numbers_in(sentence: str) -> set[float]:
    """Every number written in a sentence, both as written and scaled by 万/亿.

    "新增城乡公益性岗位1.63万个" yields {1.63, 16300.0}: a target may be kept in the
    text's own unit (万元) or in base units (个), and both are faithful.
    """
    found: set[float] = set()
    for digits, scale in _NUMBER.findall(sentence.replace(",", "")):
        value = float(digits)
        found.add(value)
        if scale == "万":
            found.add(round(value * 10_000, 6))
        elif scale == "亿":
            found.add(round(value * 100_000_000, 6))
    return found


def contains_number(sentence: str, value: float) -> bool:
    return any(abs(candidate - value) < 1e-9 for candidate in numbers_in(sentence))


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanState(str, enum.Enum):
    """Where a plan is in its life; whether it is in force on a day also depends on its horizon (`PlanDoc.phase`)."""

    draft = "draft"  # loaded from a 任务分解表, not yet published: nobody reports on it
    published = "published"  # reported on within its horizon; after it, pending reviews may still finish
    closed = "closed"  # closed by the city office after its horizon: read-only


class PlanPhase(str, enum.Enum):
    """A plan's state as its users see it on a given day."""

    draft = "draft"
    not_started = "not_started"
    in_force = "in_force"
    ended = "ended"
    closed = "closed"


PLAN_PHASE_LABELS = {
    PlanPhase.draft: "草稿",
    PlanPhase.not_started: "未开始",
    PlanPhase.in_force: "执行中",
    PlanPhase.ended: "已结束",
    PlanPhase.closed: "已关闭",
}


# The statuses a league table scores, in the order the rule is told (progress.model.Status, which the catalog
# cannot import: progress builds on the catalog).
SCORED_STATUSES = {
    "completed": "已完成",
    "on_track": "进度正常",
    "at_risk": "存在风险",
    "behind": "进度滞后",
    "no_data": "暂无数据",
}


class ScoringRuleDoc(_Doc):
    """How the league tables (月调度、季考评、年评价) score the districts, from `from_year` on (a plan may change its
    rule by year; the rule of a ranking is the one in force in the year of its day)."""

    from_year: int | None = None  # None: from the plan's first year
    points: dict[str, float] = Field(
        default_factory=lambda: {"completed": 100, "on_track": 90, "at_risk": 60, "behind": 30, "no_data": 0}
    )
    # A campaign's weight in the total; a campaign not named weighs 1 (all equal: the plain average).
    campaign_weights: dict[str, float] = Field(default_factory=dict)
    # Points off the total per report owed and overdue (逾期未报 or 被退回 not yet resubmitted) on the ranking's day.
    overdue_deduction: float = Field(default=0, ge=0)
    deduction_cap: float = Field(default=20, ge=0)

    @model_validator(mode="after")
    def _known_keys(self) -> ScoringRuleDoc:
        unknown = sorted(set(self.points) - set(SCORED_STATUSES))
        if unknown or not self.points:
            raise ValueError(f"scoring points name unknown statuses {unknown} (known: {sorted(SCORED_STATUSES)})")
        campaigns = sorted(set(self.campaign_weights) - set(CAMPAIGN_CODES))
        if campaigns or any(w <= 0 for w in self.campaign_weights.values()):
            raise ValueError(f"campaign weights must be positive and name campaigns (unknown: {campaigns})")
        return self

    def weight(self, campaign: str) -> float:
        return self.campaign_weights.get(campaign, 1.0)

    def describe(self, campaign_names: dict[str, str]) -> str:
        """The rule in the words a bulletin prints beside the ranking it made."""
        points = "、".join(f"{SCORED_STATUSES[s]}{_num(self.points[s])}分" for s in SCORED_STATUSES if s in self.points)
        text = (
            f"每个区县按其可考核的指标计分：{points}；"
            "可考核指标为该区县有分解目标的指标，以及比率、人均类指标（全市目标同样适用于区县）；"
            "总量指标未分解到该区县的、只统计全市数据的指标不计分，市民生办决定暂缓实施、取消或待确定的任务，"
            "其指标也不计分。各行动得分为其指标得分的平均数，"
        )
        if self.campaign_weights:
            weights = "、".join(f"{campaign_names.get(c, c)}{_num(self.weight(c))}" for c in campaign_names)
            text += f"总分为各行动得分的加权平均数（权重：{weights}）"
        else:
            text += "总分为各行动得分的平均数"
        if self.overdue_deduction:
            text += (
                f"，每有一期逾期未报（含被退回未重报）扣{_num(self.overdue_deduction)}分、"
                f"最多扣{_num(self.deduction_cap)}分"
            )
        return (
            text
            + "，按总分从高到低排名。月调度截至上月末，季考评截至上季度末，年评价截至上年末（均限于方案实施期内）。"
        )


def _num(value: float) -> str:
    return f"{value:g}"


class PlanDoc(_Doc):
    """A plan the campaigns work to: its document, its horizon and its state.

    Horizons are whole calendar years (every plan the city runs is: three-year plans, five-year plans, a year's
    target list), so the plan's periods are its years' months, quarters and years."""

    code: str = Field(pattern=PLAN_CODE_PATTERN)
    name: str = Field(min_length=2)
    document_number: str | None = None  # 文号
    start: dt.date
    end: dt.date
    state: PlanState = PlanState.published
    legacy: bool = False  # catalog documents published before plans were data belong to this plan
    # The league tables' rules, oldest first; the first applies from the plan's start.
    scoring: tuple[ScoringRuleDoc, ...] = (ScoringRuleDoc(),)

    @model_validator(mode="after")
    def _whole_years(self) -> PlanDoc:
        if (self.start.month, self.start.day) != (1, 1) or (self.end.month, self.end.day) != (12, 31):
            raise ValueError(f"plan {self.code}: a horizon runs from 1 January to 31 December")
        if self.end < self.start:
            raise ValueError(f"plan {self.code}: the horizon ends before it starts")
        years = [rule.from_year or self.first_year for rule in self.scoring]
        if not self.scoring or years != sorted(set(years)) or years[0] != self.first_year:
            raise ValueError(f"plan {self.code}: scoring rules start at the plan's first year, one per year, in order")
        if any(not self.covers_year(year) for year in years):
            raise ValueError(f"plan {self.code}: a scoring rule starts outside the horizon")
        return self

    def scoring_rule(self, day: dt.date) -> ScoringRuleDoc:
        """The rule in force in the year of `day` (kept inside the horizon)."""
        year = min(max(day.year, self.first_year), self.last_year)
        return [rule for rule in self.scoring if (rule.from_year or self.first_year) <= year][-1]

    @property
    def first_year(self) -> int:
        return self.start.year

    @property
    def last_year(self) -> int:
        return self.end.year

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def span_label(self) -> str:
        return f"{self.first_year}—{self.last_year}年"

    def covers_year(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def clamp(self, day: dt.date) -> dt.date:
        """The day kept inside the horizon (a view of an ended plan shows its last day)."""
        return min(max(day, self.start), self.end)

    def phase(self, today: dt.date) -> PlanPhase:
        if self.state is PlanState.draft:
            return PlanPhase.draft
        if self.state is PlanState.closed:
            return PlanPhase.closed
        if today < self.start:
            return PlanPhase.not_started
        return PlanPhase.in_force if today <= self.end else PlanPhase.ended


@functools.cache
def plans_from_documents() -> tuple[PlanDoc, ...]:
    """The plans read from a document (`plans.yaml` beside this module)."""
    with (Path(__file__).with_name("plans.yaml")).open(encoding="utf-8") as f:
        return tuple(PlanDoc.model_validate(entry) for entry in yaml.safe_load(f))


def plan_from_documents(code: str) -> PlanDoc:
    for plan in plans_from_documents():
        if plan.code == code:
            return plan
    raise ValueError(f"unknown plan {code!r} (plans.yaml lists the plans read from a document)")


def legacy_plan() -> PlanDoc:
    return next(plan for plan in plans_from_documents() if plan.legacy)


class MilestoneBasis(str, enum.Enum):
    """What a milestone's value counts (tools/CATALOG_GUIDE.md says how it is read from a plan's sentence)."""

    reached = "reached"  # the figure at the period's end: a cumulative total since the plan's start, or a level
    year_flow = "year_flow"  # what the year adds, from 1 January to the period's end ("年内新增城镇就业5.5万人")


class MilestoneDoc(_Doc):
    """A planned value for a year, or a quarter of a year, inside the plan: an annual (quarterly) target.

    Where one is set for the period being judged, status judges against it (完成/未完成年度目标,
    `progress/status.py`).  A milestone written before annual targets (year, value, source, seed) reads
    as it did: a value reached by the end of the year."""

    year: int
    quarter: int | None = Field(default=None, ge=1, le=4)  # None: the whole year
    value: float
    basis: MilestoneBasis = MilestoneBasis.reached
    comparator: Comparator | None = None  # the target's own wording where it differs from the end target's
    source: str
    seed: str = "003"

    @model_validator(mode="after")
    def _number_in_source(self) -> MilestoneDoc:
        if not contains_number(self.source, self.value):
            raise ValueError(f"milestone {self.value} does not appear in its source sentence")
        return self

    @property
    def period_code(self) -> str:
        """The period the target is for, as a reporting period's code: "2023" or "2023Q2"."""
        return f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}"


class DistrictTargetDoc(_Doc):
    """A district's own published share of an indicator."""

    org_unit: str = Field(pattern=r"^\d{6}$")
    target_value: float
    source: str
    seed: str

    @model_validator(mode="after")
    def _number_in_source(self) -> DistrictTargetDoc:
        if not contains_number(self.source, self.target_value):
            raise ValueError(f"district target {self.target_value} does not appear in its source sentence")
        return self


class ContinuesDoc(_Doc):
    """接续指标: the indicator of an older plan that this one continues (the same measure, e.g. 城镇新增就业), so a
    series runs on across plans. It names the plan as well: indicator codes repeat from plan to plan (T001-1)."""

    plan: str = Field(pattern=PLAN_CODE_PATTERN)
    indicator: str = Field(pattern=INDICATOR_CODE_PATTERN)


class IndicatorDoc(_Doc):
    code: str = Field(pattern=INDICATOR_CODE_PATTERN)
    name: str = Field(min_length=2)
    unit: str = Field(min_length=1)
    target_value: float
    comparator: Comparator
    kind: IndicatorKind
    horizon: int  # the year the target is for, inside the plan (CampaignDoc checks)
    aggregation: Aggregation
    frequency: ReportingFrequency
    baseline_value: float | None = None
    baseline_year: int | None = None
    city_only: bool = False
    # 须附佐证: a value is accepted only with evidence attached (reporting/validation.py refuses it without).
    evidence_required: bool = False
    source: str = Field(min_length=4)
    seed: str = "003"
    milestones: tuple[MilestoneDoc, ...] = ()
    district_targets: tuple[DistrictTargetDoc, ...] = ()
    # Left out of the document when absent, so a document without links is written (and fingerprinted) as before
    # and a consumer written before the field reads it.
    continues: ContinuesDoc | None = Field(default=None, exclude_if=lambda link: link is None)

    @model_validator(mode="before")
    @classmethod
    def _frequency_of_older_documents(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("frequency") is None and "kind" in data and "aggregation" in data:
            try:
                frequency = default_frequency(IndicatorKind(data["kind"]), Aggregation(data["aggregation"]))
            except ValueError:
                return data  # the field validators name what is wrong
            return {**data, "frequency": frequency}
        return data

    @model_validator(mode="after")
    def _faithful(self) -> IndicatorDoc:
        if not contains_number(self.source, self.target_value):
            raise ValueError(
                f"indicator {self.code}: target {self.target_value} does not appear in its source sentence"
            )
        if self.baseline_value is not None and not contains_number(self.source, self.baseline_value):
            raise ValueError(
                f"indicator {self.code}: baseline {self.baseline_value} does not appear in its source sentence"
            )
        if self.city_only and self.district_targets:
            raise ValueError(f"indicator {self.code}: a city-only indicator cannot have district targets")
        return self

    @model_validator(mode="after")
    def _milestones_fit_the_kind(self) -> IndicatorDoc:
        seen: set[tuple[str, MilestoneBasis]] = set()
        for m in self.milestones:
            where = f"indicator {self.code}: milestone {m.period_code}"
            if (m.period_code, m.basis) in seen:
                raise ValueError(f"{where} is given twice")
            seen.add((m.period_code, m.basis))
            if m.year > self.horizon:
                raise ValueError(f"{where} is after the indicator's horizon {self.horizon}")
            if self.kind is IndicatorKind.level and m.basis is not MilestoneBasis.reached:
                raise ValueError(f"{where}: a level has no flow, its milestones are levels to reach")
            if self.kind in (IndicatorKind.yearly, IndicatorKind.one_year) and m.basis is not MilestoneBasis.year_flow:
                raise ValueError(f"{where}: a {self.kind.value} indicator counts the year's flow (basis year_flow)")
            if self.kind is IndicatorKind.one_year and m.year != self.horizon:
                raise ValueError(f"{where}: a one-year target has milestones in its own year only")
            whole_horizon_year = m.year == self.horizon and m.quarter is None
            if whole_horizon_year and (m.basis is MilestoneBasis.reached or self.kind is IndicatorKind.one_year):
                raise ValueError(f"{where} is the end target itself")
        return self


PARTNER_NAME_MAX = 30


class TaskDoc(_Doc):
    number: int = Field(ge=1)
    title: str = Field(min_length=2, max_length=40)
    text: str = Field(min_length=10)
    lead_departments: tuple[str, ...] = Field(min_length=1)  # 主办 (牵头): answer for the whole task
    # 协办 (配合): each reports its own part (decision 0020): departments, districts by name, or ALL_DISTRICTS.
    # Left out of the document when there are none, so a catalog without partners reads as it always did.
    partner_departments: tuple[str, ...] = Field(default=(), exclude_if=lambda value: not value)
    deadline: dt.date
    # 须附佐证: a task-status report is accepted only with evidence attached.
    evidence_required: bool = False
    indicators: tuple[IndicatorDoc, ...] = ()

    @field_validator("lead_departments", "partner_departments")
    @classmethod
    def _no_blank_department(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not d.strip() for d in value):
            raise ValueError("a lead or partner department is blank")
        if len(set(value)) != len(value):
            raise ValueError("a department is named twice")
        return value

    @field_validator("partner_departments")
    @classmethod
    def _partner_names_fit(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A partner's part is keyed by its name (task_status.task_series, in a 60-character history key).
        long = [name for name in value if len(name) > PARTNER_NAME_MAX]
        if long:
            raise ValueError(f"partner names longer than {PARTNER_NAME_MAX} characters: {long}")
        return value

    @model_validator(mode="after")
    def _lead_or_partner(self) -> TaskDoc:
        both = sorted(set(self.lead_departments) & set(self.partner_departments))
        if both:
            raise ValueError(f"task {self.number}: {both} both lead and partner the task")
        if ALL_DISTRICTS in self.lead_departments:
            raise ValueError(f"task {self.number}: the districts are partners of a task, not its lead")
        return self

    @model_validator(mode="after")
    def _codes_match_task(self) -> TaskDoc:
        for indicator in self.indicators:
            if not indicator.code.startswith(f"T{self.number:03d}-"):
                raise ValueError(f"indicator {indicator.code} is filed under task {self.number}")
        return self


class WorkItemDoc(_Doc):
    number: int = Field(ge=1)
    title: str
    tasks: tuple[TaskDoc, ...] = Field(min_length=1)


class CampaignDoc(_Doc):
    """One campaign's whole catalog: what `catalog.yaml` holds and `GET /api/v1/catalog` returns."""

    code: str
    number: int = Field(ge=1, le=5)
    name: str
    title: str
    plan: PlanDoc
    indicators: tuple[IndicatorDoc, ...] = ()  # headline (campaign-level) indicators, no task
    items: tuple[WorkItemDoc, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _plan_by_code(cls, data: object) -> object:
        # A catalog.yaml names its plan by code; a document published before plans were data names none.
        if isinstance(data, dict):
            plan = data.get("plan")
            if plan is None:
                return {**data, "plan": legacy_plan()}
            if isinstance(plan, str):
                return {**data, "plan": plan_from_documents(plan)}
        return data

    @field_validator("code")
    @classmethod
    def _known_campaign(cls, value: str) -> str:
        if value not in CAMPAIGN_CODES:
            raise ValueError(f"unknown campaign {value!r}")
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> CampaignDoc:
        codes = [i.code for i in self.all_indicators()]
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        if duplicated:
            raise ValueError(f"indicator codes used twice: {duplicated}")
        for indicator in self.indicators:
            if not indicator.code.startswith("H-"):
                raise ValueError(f"headline indicator {indicator.code} must have an H- code")
        return self

    @model_validator(mode="after")
    def _years_inside_plan(self) -> CampaignDoc:
        for indicator in self.all_indicators():
            years = [indicator.horizon, *(m.year for m in indicator.milestones)]
            outside = sorted({y for y in years if not self.plan.covers_year(y)})
            if outside:
                raise ValueError(f"indicator {indicator.code}: years {outside} are outside plan {self.plan.code}")
            if indicator.continues is not None and indicator.continues.plan == self.plan.code:
                raise ValueError(f"indicator {indicator.code} continues an indicator of its own plan")
        return self

    def tasks(self) -> list[TaskDoc]:
        return [task for item in self.items for task in item.tasks]

    def all_indicators(self) -> list[IndicatorDoc]:
        return list(self.indicators) + [ind for task in self.tasks() for ind in task.indicators]
