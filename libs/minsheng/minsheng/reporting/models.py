from __future__ import annotations

import dataclasses
import datetime as dt
import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from minsheng.catalog.models import enum_column


class ReportStatus(str, enum.Enum):
    submitted = "submitted"  # 待审核
    approved = "approved"  # 已通过：counts in official figures
    returned = "returned"  # 被退回：the reporter must resubmit


# One wording per state, everywhere (the inbox, the audit trail, the web app via /api/v1/vocabulary):
# 已通过 rather than 已审核, which a returned report also is; 被退回 as the clerk's pages always said.
REPORT_STATUS_LABELS = {
    ReportStatus.submitted: "待审核",
    ReportStatus.approved: "已通过",
    ReportStatus.returned: "被退回",
}


class TaskState(str, enum.Enum):
    not_started = "not_started"  # 未启动
    in_progress = "in_progress"  # 推进中
    completed = "completed"  # 已完成
    blocked = "blocked"  # 受阻


TASK_STATE_LABELS = {
    TaskState.not_started: "未启动",
    TaskState.in_progress: "推进中",
    TaskState.completed: "已完成",
    TaskState.blocked: "受阻",
}


class ImplementationState(str, enum.Enum):
    """What the city office decided about a task as a whole: carried out, suspended, cancelled or not yet
    decided. Not its progress, which the lead department reports (`TaskState`)."""

    in_progress = "in_progress"  # 执行中: the normal course
    suspended = "suspended"  # 暂缓实施 (e.g. 因政策调整)
    cancelled = "cancelled"  # 已取消
    undecided = "undecided"  # 待确定


IMPLEMENTATION_STATE_LABELS = {
    ImplementationState.in_progress: "执行中",
    ImplementationState.suspended: "暂缓实施",
    ImplementationState.cancelled: "已取消",
    ImplementationState.undecided: "待确定",
}


# Which tasks count, the rule itself (every view asks these two, nothing else decides it): only a task being
# carried out counts in completion shares, rankings, warnings and what is owed; the others are counted apart.
# An undecided task still takes reports (it may go ahead); a suspended or cancelled one takes none.
def counts_in_progress(state: ImplementationState | str) -> bool:
    return ImplementationState(state) is ImplementationState.in_progress


def takes_reports(state: ImplementationState | str) -> bool:
    return ImplementationState(state) not in (ImplementationState.suspended, ImplementationState.cancelled)


class ChangeAction(str, enum.Enum):
    """What a `ChangeRecord` says happened (stored as plain text in `change_record.action`)."""

    submitted = "submitted"
    revised = "revised"
    resubmitted = "resubmitted"
    approved = "approved"
    returned = "returned"
    locked = "locked"
    unlocked = "unlocked"
    state_changed = "state_changed"  # a task's implementation state (`TaskImplementation`)


CHANGE_ACTION_LABELS = {
    ChangeAction.submitted: "填报",
    ChangeAction.revised: "修订",
    ChangeAction.resubmitted: "重新提交",
    ChangeAction.approved: "审核通过",
    ChangeAction.returned: "退回",
    ChangeAction.locked: "锁定期间",
    ChangeAction.unlocked: "解锁期间",
    ChangeAction.state_changed: "调整任务实施状态",
}


class ReportBase(SQLModel):
    """A report revision's fields, declared once: the table (`Report`), its plain record for the
    set-based writers (`ReportRow`) and the API's answer (`schemas.ReportPublic`) derive from them."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_code: str = Field(foreign_key="indicator.code", index=True, max_length=20)
    org_unit_code: str = Field(foreign_key="org_unit.code", index=True, max_length=6)
    period: str = Field(max_length=7, index=True)
    value: float
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""
    status: ReportStatus = Field(sa_type=enum_column(ReportStatus), index=True)
    revision: int = 1
    is_current: bool = True
    return_reason: str | None = None
    submitted_by: str = Field(max_length=100)
    submitted_at: dt.datetime
    reviewed_by: str | None = Field(default=None, max_length=100)
    reviewed_at: dt.datetime | None = None


class Report(ReportBase, table=True):
    """An observed value of an indicator for an org unit and a period: one revision of a series.

    A second report for the same indicator × org unit × period is a new revision; the earlier
    one stays, no longer current.  The official figure is the latest *approved* revision.
    """

    __table_args__ = (
        sa.Index(
            "uq_report_current_revision",
            "indicator_code",
            "org_unit_code",
            "period",
            unique=True,
            postgresql_where=sa.text("is_current"),
        ),
        sa.UniqueConstraint("indicator_code", "org_unit_code", "period", "revision"),
    )

    period_start: dt.date
    period_end: dt.date


def _from_mapping(cls, row):  # noqa: ANN001, ANN202 - a RowMapping of the report table
    return cls(**{**row, "status": ReportStatus(row["status"])})


def _columns(self) -> dict:
    """The row's columns for an INSERT (its id drawn ahead: `bulk.IdBlocks`)."""
    return {name: getattr(self, name) for name in REPORT_COLUMNS}


REPORT_COLUMNS = tuple(Report.model_fields)

# A report revision as a plain record: what the set-based writers (group commit) read and write.
# The table's fields, without the ORM's per-instance bookkeeping: building `Report` instances cost
# the submission writer more than its SQL did.
ReportRow = dataclasses.make_dataclass(
    "ReportRow",
    [(name, field.annotation) for name, field in Report.model_fields.items()],
    slots=True,
    namespace={
        "from_mapping": classmethod(_from_mapping),
        "columns": _columns,
        "__doc__": "A report revision as a plain record (the columns of `Report`).",
    },
)
ReportRow.__module__ = __name__


class TaskStatusBase(SQLModel):
    """A task status revision's fields, declared once: the table and `schemas.TaskStatusPublic`."""

    id: int | None = Field(default=None, primary_key=True)
    task_number: int = Field(foreign_key="task.number", index=True)
    org_unit_code: str = Field(foreign_key="org_unit.code", max_length=6)
    period: str = Field(max_length=7)
    # 协办进展 (decision 0020): the partner department whose own part this is, for the city; "" is the task as a
    # whole (its lead department's report, or a district's for itself).
    partner_department: str = Field(default="", max_length=100)
    state: TaskState = Field(sa_type=enum_column(TaskState))
    narrative: str = ""
    problems: str = ""
    revision: int = 1
    is_current: bool = True
    reported_by: str = Field(max_length=100)
    reported_at: dt.datetime


class TaskStatusReport(TaskStatusBase, table=True):
    """Qualitative progress of a task for an org unit and a period (问题账单 → 履职清单), as a whole or, for a
    partner department, its own part."""

    __tablename__ = "task_status_report"
    __table_args__ = (
        sa.Index(
            "uq_task_status_current_revision",
            "task_number",
            "org_unit_code",
            "period",
            "partner_department",
            unique=True,
            postgresql_where=sa.text("is_current"),
        ),
    )

    period_end: dt.date


class PeriodLock(SQLModel, table=True):
    """The city office froze this period: no report for it (or inside it) may change."""

    __tablename__ = "period_lock"

    period: str = Field(primary_key=True, max_length=7)
    period_start: dt.date
    period_end: dt.date
    locked_by: str = Field(max_length=100)
    locked_at: dt.datetime


class TaskImplementation(SQLModel, table=True):
    """The city office's decision on a task (`ImplementationState`), as it stands; a task without a row is
    being carried out. Each change is a new `revision`, its history in `ChangeRecord` (entity task_state)."""

    __tablename__ = "task_implementation"

    task_number: int = Field(foreign_key="task.number", primary_key=True)
    state: ImplementationState = Field(sa_type=enum_column(ImplementationState))
    reason: str | None = Field(default=None, max_length=500)
    revision: int
    changed_by: str = Field(max_length=200)
    changed_at: dt.datetime


class ChangeRecord(SQLModel, table=True):
    """Who changed what, when, and the previous value: the audit trail behind /history."""

    __tablename__ = "change_record"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=20, index=True)  # report | task_status | period_lock | task_state
    entity_id: str = Field(max_length=40, index=True)
    series_key: str = Field(max_length=60, index=True)  # indicator/org unit/period: links revisions
    action: str = Field(max_length=20)  # submitted | revised | approved | returned | resubmitted | locked …
    actor: str = Field(max_length=200)
    at: dt.datetime
    previous: str | None = None  # JSON of the state before
    current: str | None = None  # JSON of the state after
    reason: str | None = None


REPORTING_TABLES = frozenset(
    m.__tablename__ for m in (Report, TaskStatusReport, PeriodLock, TaskImplementation, ChangeRecord)
)
