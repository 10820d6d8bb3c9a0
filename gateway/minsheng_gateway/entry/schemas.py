from __future__ import annotations

from pydantic import BaseModel, Field

from minsheng.catalog.document import Comparator, IndicatorKind
from minsheng.progress.model import Status


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
        description="累计：累计类为方案首年起至该期间的已审核值合计，年度类为当年合计，水平类为最新水平（同进展计算）"
    )
    running_total_label: str = Field(description="累计值的含义，如「自方案首年起累计」「本年累计」「最新水平」")
    status: Status = Field(description="截至该期间末的进展状态")
    status_label: str


class EntryValues(BaseModel):
    org_unit: str
    org_unit_name: str
    period: str
    data: list[EntryValue]
    count: int
