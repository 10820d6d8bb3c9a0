"""The drill-down's answers: an indicator's districts, its trajectory, the history of its values and
a task's reported statuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, Field

from minsheng.progress.model import Status
from minsheng.reporting.models import TASK_STATE_LABELS, TaskState

if TYPE_CHECKING:
    from minsheng_gateway.projection.models import TaskPartView, TaskStatusView


class DistrictProgress(BaseModel):
    code: str
    name: str
    kind: str  # district | county | zone
    target_value: float | None
    target_basis: str | None  # "district" (its own), "city" (a rate that applies as it does to the city), None
    current_value: float | None
    completion: float | None
    expected_value: float | None
    latest_period: str | None  # the last period counted
    status: Status
    status_label: str
    reasons: list[str]


class IndicatorDistricts(BaseModel):
    id: str
    name: str
    unit: str
    as_of: dt.date
    districts: list[DistrictProgress]


class TrajectoryPoint(BaseModel):
    date: dt.date
    value: float


class TrajectoryMilestone(BaseModel):
    """An annual (quarterly) target of the plan, as the chart draws it."""

    period: str  # "2023", "2023Q2"
    label: str  # 2023年度目标, 2023年第2季度目标
    description: str  # 2023年度目标：全年完成55000人
    date: dt.date  # due at the end of its period
    value: float  # the target as the plan words it
    plotted: float  # where it sits on the chart: a year's flow on a cumulative indicator at the planned total
    source: str  # the plan's sentence it was read from


class SpanPoint(BaseModel):
    period: str
    end: dt.date
    value: float
    plotted: float  # where the chart draws it: the running total within its plan for a flow, the value for a level


class PlanSpan(BaseModel):
    """One plan's stretch of an indicator's series across plans (接续指标): the plan, its indicator there (codes
    repeat from plan to plan), the org unit's target in that plan and its official values."""

    plan: str
    plan_name: str
    span_label: str = Field(description="方案实施期（PlanDoc.span_label），如「起始年—结束年」")
    start: dt.date
    end: dt.date
    current: bool = Field(description="是否为本页所属方案（其余为所接续的往期方案）")
    indicator: str
    indicator_name: str
    unit: str
    label: str = Field(description="图例和文字说明用：方案实施期、该方案中的指标编号和名称")
    target_value: float | None  # the org unit's target in that plan; None: a total not split to the district
    target_label: str = Field(description="该方案中该单位的目标（比较方式、数值、单位、目标年），文字")
    points: list[SpanPoint] = Field(description="该单位在该方案中的已审核数据，按期间先后")


class IndicatorTrajectory(BaseModel):
    id: str
    org_unit: str
    as_of: dt.date
    target_value: float | None
    horizon: int
    plan_start: dt.date  # the horizon of the plan the indicator belongs to
    plan_end: dt.date
    projection_end: dt.date  # the day the progress answer's projected value is for
    points: list[TrajectoryPoint]  # the expected value at the plan's start and each month end to the horizon
    milestones: list[TrajectoryMilestone]  # the org unit's annual and quarterly targets (the city's only)
    spans: list[PlanSpan] = Field(
        description="接续指标：本指标接续往期方案的指标时，各方案的区间、目标和已审核数据，最早的在前、本方案在最后；"
        "不接续时为空",
    )


class ValueRevision(BaseModel):
    campaign: str
    report_id: int
    org_unit: str
    org_unit_name: str
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    revision: int
    status: str  # submitted | approved | returned
    status_label: str
    official: bool  # the latest approved revision of its period: the figure that counts
    submitted_by: str
    updated_at: dt.datetime
    return_reason: str | None


class TaskStatusEntry(BaseModel):
    org_unit: str
    org_unit_name: str
    period: str
    state: str
    state_label: str
    narrative: str
    problems: str
    revision: int
    reported_by: str
    reported_at: dt.datetime

    @classmethod
    def of(cls, row: TaskStatusView | TaskPartView, names: Mapping[str, str], **extra: str) -> Self:
        """A stored task status or part as answered, its org unit and state named."""
        return cls(
            org_unit=row.org_unit_code,
            org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
            period=row.period,
            state=row.state,
            state_label=TASK_STATE_LABELS.get(TaskState(row.state), row.state),
            narrative=row.narrative,
            problems=row.problems,
            revision=row.revision,
            reported_by=row.reported_by,
            reported_at=row.reported_at,
            **extra,
        )


class TaskPartEntry(TaskStatusEntry):
    """A partner's own part of a task for a period (协办进展): a department's, or a district's own task status."""

    partner: str = Field(description="协办单位：部门或区县名称")


class PartnerProgress(BaseModel):
    """One 协办单位 of a task, as the catalog names it, and where its part stands."""

    partner: str = Field(description="协办单位，如 市住房城乡建设局、张店区、各区县（功能区）")
    units: int = Field(description="承担的单位数：部门、单个区县为 1，「各区县（功能区）」为区县数")
    reported_units: int = Field(description="其中已报送本季度（period）协办进展的单位数")
    latest: TaskPartEntry | None = Field(description="最近一期的协办进展（区县为本单位的任务进展）；尚未报送为空")


class OwnPart(BaseModel):
    """What the signed-in person reports of the task as its partner: where and for which periods."""

    org_unit: str = Field(description="填报单位：部门按全市 370300，区县按本单位")
    partner_department: str | None = Field(description="提交时的 partner_department；区县为空（按本单位填报）")
    periods: list[str] = Field(description="可填报的季度（已结束的，最近的在前）")


class TaskParts(BaseModel):
    """A task's 主办 and 协办 departments and each partner's own part (decision 0020)."""

    task: int
    campaign: str
    lead_departments: list[str] = Field(description="主办单位：填报指标数据和任务整体进展")
    partner_departments: list[str] = Field(description="协办单位：各自填报本单位承担部分的进展（每季度）")
    period: str | None = Field(description="本季度：reported_units 统计的季度（最近结束的季度）")
    partners: list[PartnerProgress]
    parts: list[TaskPartEntry] = Field(description="各协办部门填报的协办进展，最近的期间在前")
    own_part: OwnPart | None = Field(description="当前登录者作为协办单位应填报的部分；不是协办单位为空")
