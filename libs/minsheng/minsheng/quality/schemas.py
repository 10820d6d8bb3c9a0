"""Request and answer schemas of data quality."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, computed_field

from minsheng.quality.expressions import MAX_EXPRESSION_LENGTH
from minsheng.quality.models import IMPORTANCE_LABELS, FollowUpNoteKind, Importance

OPERATOR_PATTERN = r"^(<=|<|=|>=|>)$"


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=60, description="规则名称，如 分子不大于分母")
    left: str = Field(
        max_length=MAX_EXPRESSION_LENGTH,
        description="左边表达式：指标编号、数字、+ - * /、括号，跨层级用 sum_districts(指标编号)",
        examples=["T003-2"],
    )
    operator: str = Field(pattern=OPERATOR_PATTERN, description="比较：<= < = >= >", examples=["<="])
    right: str = Field(max_length=MAX_EXPRESSION_LENGTH, description="右边表达式", examples=["T003-1"])
    importance: Importance = Field(description="重要程度：high 高（阻止提交，除非在说明中解释）、medium 中、low 低")
    instruction: str = Field(min_length=4, max_length=300, description="给填报人的中文说明：不成立时怎样核对")


class RulePublic(RuleCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    revision: int
    changed_by: str
    changed_at: dt.datetime

    @computed_field
    @property
    def importance_label(self) -> str:
        return IMPORTANCE_LABELS[self.importance]


class RuleFailure(BaseModel):
    """A rule that does not hold for a report's org unit and period, as entry and review show it."""

    rule: int = Field(description="规则编号")
    name: str
    expression: str = Field(description="规则，如 T003-2 <= T003-1")
    left_value: float
    right_value: float
    importance: Importance
    importance_label: str
    instruction: str
    indicators: list[str] = Field(description="规则涉及的指标（表单在这些字段旁显示）")
    message: str = Field(description="中文说明：哪条规则、两边的数值、怎样核对")


class BoundSet(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    minimum: float | None = Field(default=None, description="下限（不设为空）")
    maximum: float | None = Field(default=None, description="上限（不设为空）")


class BoundPublic(BoundSet):
    model_config = ConfigDict(from_attributes=True)

    indicator: str
    org_unit: str
    changed_by: str
    changed_at: dt.datetime


class ScorePublic(BaseModel):
    against: str = Field(description="history 本单位历史 | peers 同期其他区县")
    points: int = Field(description="可比数据个数")
    median: float | None
    mad: float | None = Field(description="绝对中位差")
    score: float | None = Field(description="修正 z 分数；可比数据少于 5 个或绝对中位差为 0 时为空")
    threshold: float
    outlier: bool
    explanation: str


class OutlierCheck(BaseModel):
    """A value's outlier checks: against its own history, the other districts, and the office's bounds."""

    indicator: str
    org_unit: str
    period: str
    value: float
    report_id: int
    scores: list[ScorePublic]
    bound: str | None = Field(description="超出上下限的说明；未超出或未设为空")
    flagged: bool


class FollowUpComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=2, max_length=500, description="说明：需要核实什么、怎样答复或核实结果")


class FollowUpOpen(FollowUpComment):
    report_id: int = Field(ge=1, description="要标记的已通过数值（报告修订）编号")


class FollowUpNotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: FollowUpNoteKind
    kind_label: str
    comment: str
    actor: str
    at: dt.datetime


class FollowUpPublic(BaseModel):
    """A follow-up mark (待核实) on an approved value, with its thread: the mark, the answers, the closing."""

    id: int
    report_id: int
    indicator: str
    org_unit: str
    period: str
    open: bool
    state_label: str = Field(description="待核实 | 已核实")
    opened_by: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    notes: list[FollowUpNotePublic]
