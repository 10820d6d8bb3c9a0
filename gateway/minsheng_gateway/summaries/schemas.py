from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from minsheng.catalog.document import Comparator, IndicatorKind
from minsheng.progress.model import Status


class HeadlineFigure(BaseModel):
    id: str
    name: str
    unit: str
    current_value: float | None
    target_value: float | None
    completion: float | None
    expected_value: float | None
    status: Status
    status_label: str


class CampaignSummary(BaseModel):
    campaign: str
    name: str
    tasks_by_status: dict[str, int]
    indicators_by_status: dict[str, int]
    headline: list[HeadlineFigure]


class Summary(BaseModel):
    org_unit: str
    org_unit_name: str
    as_of: dt.date
    tasks_by_status: dict[str, int]
    indicators_by_status: dict[str, int]
    campaigns: list[CampaignSummary]
    own_targets: int  # indicators with a target of this org unit's own (the city: all)


class DistrictScore(BaseModel):
    code: str
    name: str
    campaigns: dict[str, float | None]  # campaign → score 0–100 (None: nothing to judge)
    score: float | None
    rank: int | None
    judged_indicators: int
    # The same routine's previous period (None: none before, or nothing to judge then).
    previous_score: float | None = None
    previous_rank: int | None = None
    rank_change: int | None = None  # previous_rank − rank: positive moved up (↑), negative down (↓)


class Ranking(BaseModel):
    routine: str  # monthly_dispatch | quarterly_assessment | yearly_evaluation
    label: str  # 月调度 | 季考评 | 年评价
    as_of: dt.date
    previous_as_of: dt.date | None = None  # the previous period the changes are measured from
    districts: list[DistrictScore]


class DistrictMatrix(BaseModel):
    scoring_rule: str
    rankings: list[Ranking]


class Warning(BaseModel):
    kind: str  # indicator | task | overdue (逾期未报, views/overdue.py)
    id: str  # indicator code or task number
    name: str
    campaign: str
    task_number: int | None
    org_unit: str
    org_unit_name: str
    status: Status
    status_label: str
    since: dt.datetime
    lead_departments: list[str]
    reasons: list[str]


class EntryValue(BaseModel):
    """One indicator's figures beside the entry form's row, for an org unit up to a period."""

    indicator: str = Field(description="指标编号")
    unit: str = Field(description="计量单位")
    kind: IndicatorKind = Field(description="指标类型：cumulative 累计、yearly 年度、level 水平、one_year 单年")
    comparator: Comparator
    target_value: float | None = Field(description="该单位的目标（区县有分解目标的用区县目标；总量指标未分解的为空）")
    target_basis: str | None = Field(description="目标来源：city 全市目标，district 本单位分解目标，空为无目标")
    last_value: float | None = Field(description="截至该期间（含）最近一期的已审核值，无则为空")
    last_period: str | None = Field(description="该已审核值所属期间")
    running_total: float | None = Field(
        description="累计：累计类为2022年起至该期间的已审核值合计，年度类为当年合计，水平类为最新水平（同进展计算）"
    )
    running_total_label: str = Field(description="累计值的含义，如「自2022年起累计」「本年累计」「最新水平」")
    status: Status = Field(description="截至该期间末的进展状态")
    status_label: str


class EntryValues(BaseModel):
    org_unit: str
    org_unit_name: str
    period: str
    data: list[EntryValue]
    count: int
