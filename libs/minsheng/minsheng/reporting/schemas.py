"""Request and response schemas of reporting (the XCreate / XPublic family)."""

from __future__ import annotations

import datetime as dt

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field, computed_field, field_validator

from minsheng.evidence.schemas import EVIDENCE_DESCRIPTION, MAX_REFS, EvidencePublic, EvidenceRef
from minsheng.params import INDICATOR_CODE, MAX_ROW_ID, ORG_UNIT_CODE, PERIOD_CODE, RowIdField
from minsheng.quality.schemas import FollowUpPublic, RuleFailure
from minsheng.reporting.models import (
    REPORT_STATUS_LABELS,
    ImplementationState,
    ReportBase,
    TaskState,
    TaskStatusBase,
)

# The API names of columns that carry a `_code`/`_number` suffix in the tables.
PUBLIC_NAMES = {"indicator_code": "indicator", "org_unit_code": "org_unit", "task_number": "task"}

# An XPublic answers with the API names, every field always present; it is read from a table row or
# a plain record by attribute.
PUBLIC_CONFIG = ConfigDict(
    from_attributes=True,
    json_schema_serialization_defaults_required=True,
    alias_generator=AliasGenerator(
        validation_alias=lambda name: AliasChoices(name, PUBLIC_NAMES.get(name, name)),
        serialization_alias=lambda name: PUBLIC_NAMES.get(name, name),
    ),
)


class ReportSeries(BaseModel):
    """Which series a report belongs to (indicator × org unit × period) and its note, as a reporter writes them."""

    model_config = ConfigDict(extra="forbid")

    # The formats are checked by the service, which says per row (bulk, upload) what is wrong; the
    # patterns tell generated clients the same.
    indicator: str = Field(
        max_length=20,
        description="指标编号，如 T002-1",
        examples=["T002-1"],
        json_schema_extra={"pattern": INDICATOR_CODE},
    )
    org_unit: str = Field(
        max_length=6,
        description="单位代码，如 370300（全市）、370303（张店区）",
        examples=["370303"],
        json_schema_extra={"pattern": ORG_UNIT_CODE},
    )
    period: str = Field(
        max_length=20,
        description="期间：月 2022-06，季 2022Q2，年 2022",
        examples=["2022-06"],
        json_schema_extra={"pattern": PERIOD_CODE},
    )
    note: str = Field(default="", max_length=1000, description="说明")
    evidence: list[EvidenceRef] = Field(default=[], max_length=MAX_REFS, description=EVIDENCE_DESCRIPTION)


class ReportValues(BaseModel):
    # NaN and infinities are not figures a bureau reports (JSON has no such numbers; some parsers write them).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    value: float | None = Field(default=None, description="本期数值；比率类指标可省略，由分子、分母计算", examples=[2])
    numerator: float | None = Field(default=None, description="比率类指标的分子")
    denominator: float | None = Field(default=None, description="比率类指标的分母")


class ReportCreate(ReportSeries, ReportValues):
    pass


class ReportResubmit(ReportValues):
    note: str = Field(default="", max_length=1000)
    evidence: list[EvidenceRef] = Field(default=[], max_length=MAX_REFS, description=EVIDENCE_DESCRIPTION)


class ReturnRequest(BaseModel):
    reason: str = Field(min_length=2, max_length=1000, description="退回原因（填报人将看到）")


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowIdField] = Field(
        min_length=1, max_length=500, description="要审核通过的报告编号（全部通过或全部不通过）"
    )


class BulkReportRequest(BaseModel):
    rows: list[ReportCreate] = Field(min_length=1, max_length=5000)


class ReportPublic(ReportBase):
    model_config = PUBLIC_CONFIG

    id: int
    evidence: list[EvidencePublic] | None = Field(
        default=None, description="该版本的佐证材料（读取报告、修改记录和填报的答复中列出；审核的答复中为 null）"
    )
    quality: list[RuleFailure] = Field(
        default=[],
        description="数据质量规则：填报的答复中列出未通过的规则（中、低为提醒；高须在说明中解释才能提交）",
    )

    @computed_field
    @property
    def status_label(self) -> str:
        return REPORT_STATUS_LABELS[self.status]


class ChangePublic(BaseModel):
    id: int
    entity: str
    entity_id: str
    action: str
    actor: str
    at: dt.datetime
    previous: dict | None
    current: dict | None
    reason: str | None


class ReportHistory(BaseModel):
    report: ReportPublic
    revisions: list[ReportPublic]
    changes: list[ChangePublic]
    # issue 30: the value's follow-up marks (待核实) with their threads, the audit trail of the doubts raised
    follow_ups: list[FollowUpPublic] = []


class RowError(BaseModel):
    row: int  # 1-based position among the data rows (CSV: the header is not counted; Excel: the sheet's row)
    field: str
    code: str
    message: str
    column: str | None = Field(default=None, description="Excel 文件：列号，如 J")
    column_name: str | None = Field(default=None, description="Excel 文件：列标题，如 数值")


class PeriodLockPublic(BaseModel):
    period: str
    locked_by: str
    locked_at: dt.datetime


PARTNER_DEPARTMENT_DESCRIPTION = (
    "协办部门：填该部门承担部分的进展（协办进展，按全市 370300 填报）；不填则为任务整体进展（主办单位填报）"
    "或区县本单位的进展"
)


class TaskStatusCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: int = Field(ge=1, le=MAX_ROW_ID, description="任务编号")
    org_unit: str = Field(max_length=6, description="单位代码", json_schema_extra={"pattern": ORG_UNIT_CODE})
    period: str = Field(max_length=20, description="期间", json_schema_extra={"pattern": PERIOD_CODE})
    partner_department: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=PARTNER_DEPARTMENT_DESCRIPTION,
        examples=["市住房城乡建设局"],
    )
    state: TaskState = Field(description="not_started 未启动 | in_progress 推进中 | completed 已完成 | blocked 受阻")
    narrative: str = Field(default="", max_length=4000, description="进展情况")
    problems: str = Field(default="", max_length=4000, description="存在问题（问题账单）")
    evidence: list[EvidenceRef] = Field(default=[], max_length=MAX_REFS, description=EVIDENCE_DESCRIPTION)


class TaskStatusPublic(TaskStatusBase):
    model_config = PUBLIC_CONFIG

    id: int
    partner_department: str | None = Field(default=None, description=PARTNER_DEPARTMENT_DESCRIPTION)

    @field_validator("partner_department", mode="before")
    @classmethod
    def _whole_task(cls, value: str | None) -> str | None:
        return value or None  # stored as "" (the task as a whole)

    evidence: list[EvidencePublic] | None = Field(default=None, description="该版本的佐证材料")


class TaskStateChange(BaseModel):
    """The city office's decision on a task: PUT /api/v1/tasks/{number}/state."""

    model_config = ConfigDict(extra="forbid")

    state: ImplementationState = Field(
        description="in_progress 执行中 | suspended 暂缓实施 | cancelled 已取消 | undecided 待确定"
    )
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="原因，如「因政策调整」；暂缓实施、已取消、待确定须填写",
        examples=["因政策调整"],
    )


class TaskStateChangePublic(BaseModel):
    """One change of a task's implementation state: who, when, from what, to what, why."""

    revision: int
    previous_state: ImplementationState
    previous_state_label: str
    state: ImplementationState
    state_label: str
    reason: str | None
    changed_by: str
    changed_at: dt.datetime


class TaskImplementationPublic(BaseModel):
    """A task's implementation state as it stands (执行中 when never changed), and every change to it."""

    task: int
    campaign: str
    state: ImplementationState
    state_label: str
    reason: str | None
    revision: int = Field(description="变更次数；0 为从未变更（执行中）")
    changed_by: str | None
    changed_at: dt.datetime | None
    history: list[TaskStateChangePublic] = Field(description="变更记录，最早的在前")
