"""The pending-review list (PendingReportPublic) and its page."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from minsheng.catalog.document import IndicatorKind
from minsheng.pagination import Page


class QualityFlagPublic(BaseModel):
    """A validation rule that failed for the report's org unit and period and is not resolved (decision 0024)."""

    campaign: str
    rule: int
    name: str
    expression: str
    importance: str = Field(description="high | medium | low")
    importance_label: str = Field(description="高 | 中 | 低")
    instruction: str
    indicators: list[str]
    org_unit: str
    org_unit_name: str
    period: str
    indicator: str = Field(description="保存时发现问题的报告的指标")
    report_id: int
    left_value: float
    right_value: float
    explained: str = Field(description="填报人在说明中的解释（高重要程度的规则）")
    failed_at: dt.datetime
    resolved_at: dt.datetime | None


class PendingReportPublic(BaseModel):
    campaign: str
    report_id: int
    indicator: str
    indicator_name: str
    unit: str
    kind: IndicatorKind
    evidence_required: bool = Field(description="须附佐证：该指标的数值须同时附佐证材料（目录数据）")
    task_number: int | None
    lead_departments: list[str]
    org_unit: str
    org_unit_name: str
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    submitted_by: str
    submitted_at: dt.datetime
    revision: int
    # The latest official value of this indicator × org unit for an earlier period of the same type
    # (month, quarter, year): the period before, or the last one approved before it.
    previous_period: str | None
    previous_value: float | None
    # Revision > 1: the value of the revision this one replaces, and that revision's status.
    replaced_value: float | None
    replaced_status: str | None
    # Where the plan's trajectory puts the figure at the period's end (the progress model's 应达值;
    # a running total for cumulative indicators, the year's total so far for yearly ones).
    expected_value: float | None
    change_share: float | None  # |new − previous| / |previous|
    jump: bool  # change_share above the gateway's REVIEW_JUMP_SHARE
    quality: list[QualityFlagPublic] = Field(
        default=[], description="未解决的数据质量规则问题（该指标所在的规则，同一单位、期间）"
    )


class PendingReviewPage(Page[PendingReportPublic]):
    jumps: int  # among all rows matching the filters
    jump_share: float
    summary: str
