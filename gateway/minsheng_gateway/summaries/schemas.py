from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

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
    time_elapsed: float = Field(description="序时进度：截至 as_of 方案实施期已过去的比例 0–1")
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
    scoring_rule: str = Field(description="排出此排名的计分规则（方案数据，可按年度调整）")
    districts: list[DistrictScore]


class DistrictMatrix(BaseModel):
    scoring_rule: str = Field(description="月调度排名的计分规则（各排名的规则见其 scoring_rule）")
    rankings: list[Ranking]
